use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::DaoError;

/// Voting parameters; changing them is itself a proposal.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct DaoConfig {
    /// Slots a proposal is open for votes.
    pub voting_period_slots: u64,
    /// Slots between the end of voting and the earliest execution (the veto window).
    pub hold_up_slots: u64,
    /// Slots between `request_unstake` and `withdraw`.
    pub unstake_cooldown_slots: u64,
    /// Votes cast (incl. abstain) needed, in bps of the stake snapshotted at proposal creation.
    pub quorum_bps: u16,
    /// Yes needed, in bps of yes + no (6_667 = the 66.67% supermajority).
    pub threshold_bps: u16,
    /// Stake a position needs to propose (stake-mint base units).
    pub min_proposal_stake: u64,
}

impl DaoConfig {
    pub fn validate(&self) -> Result<()> {
        require!(
            (1..=MAX_PERIOD_SLOTS).contains(&self.voting_period_slots)
                && self.hold_up_slots <= MAX_PERIOD_SLOTS
                && self.unstake_cooldown_slots <= MAX_PERIOD_SLOTS
                && self.quorum_bps <= MAX_BPS
                && (MIN_THRESHOLD_BPS..=MAX_BPS).contains(&self.threshold_bps),
            DaoError::InvalidConfig
        );
        Ok(())
    }
}

/// One rule domain: a stake mint, its vault, one RuleSet and the voting configuration.
#[account]
#[derive(InitSpace, Debug)]
pub struct Dao {
    pub bump: u8,
    pub authority_bump: u8,
    pub stake_vault_bump: u8,
    pub rule_set_bump: u8,
    pub id: u64,
    pub creator: Pubkey,
    pub stake_mint: Pubkey,
    pub stake_vault: Pubkey,
    pub rule_set: Pubkey,
    /// May veto proposals during voting and hold-up.
    pub veto_authority: Pubkey,
    pub config: DaoConfig,
    /// Increments with every executed config change; older proposals become stale.
    pub config_version: u64,
    /// Stake currently counting for votes (excludes stake in cooldown).
    pub total_staked: u64,
    pub proposal_count: u64,
    pub reserved: [u64; 8],
}
