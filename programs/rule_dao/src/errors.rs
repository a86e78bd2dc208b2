use anchor_lang::prelude::*;

/// rule_dao errors. Codes are stable: never renumber, only append.
#[error_code]
pub enum DaoError {
    #[msg("Amount must be greater than zero")]
    ZeroAmount, // 6000
    #[msg("DAO configuration out of bounds")]
    InvalidConfig, // 6001
    #[msg("Rule values out of bounds")]
    InvalidRules, // 6002
    #[msg("Stake is locked by votes on open proposals")]
    VotesLocked, // 6003
    #[msg("Not enough stake")]
    InsufficientStake, // 6004
    #[msg("Nothing is ready to withdraw yet")]
    CooldownNotElapsed, // 6005
    #[msg("Proposer stake below the minimum")]
    ProposerStakeTooLow, // 6006
    #[msg("Stake added at or after the proposal's snapshot cannot vote on it")]
    StakeAfterSnapshot, // 6007
    #[msg("This position already voted on this proposal")]
    AlreadyVoted, // 6008
    #[msg("Voting is closed")]
    VotingClosed, // 6009
    #[msg("Voting is still open")]
    VotingOpen, // 6010
    #[msg("The proposal did not pass")]
    ProposalDefeated, // 6011
    #[msg("Hold-up time has not elapsed")]
    HoldUpNotElapsed, // 6012
    #[msg("Proposal is not in a state that allows this")]
    InvalidProposalState, // 6013
    #[msg("Proposal was opened under an older DAO configuration")]
    ProposalStale, // 6014
    #[msg("Only the proposer can cancel, and only before any vote")]
    CannotCancel, // 6015
    #[msg("Signer is not the veto authority")]
    NotVetoAuthority, // 6016
    #[msg("Veto window has passed")]
    VetoWindowClosed, // 6017
    #[msg("Description uri too long")]
    UriTooLong, // 6018
    #[msg("Rule changes come faster than the update cadence allows")]
    RuleCadence, // 6019
    #[msg("Accounts for the market call do not match the proposal")]
    InvalidMarketAccounts, // 6020
    #[msg("Position has no voting weight")]
    NoVotingWeight, // 6021
    #[msg("Signer does not own this position")]
    NotPositionOwner, // 6022
    #[msg("Arithmetic overflow")]
    MathOverflow, // 6023
}
