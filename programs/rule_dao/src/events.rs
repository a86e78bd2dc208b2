use anchor_lang::prelude::*;
use rwa_rules::RuleValues;

use crate::state::{DaoConfig, ProposalState, VoteChoice};

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaoCreated {
    pub dao: Pubkey,
    pub stake_mint: Pubkey,
    pub rule_set: Pubkey,
    pub authority: Pubkey,
    pub veto_authority: Pubkey,
    pub config: DaoConfig,
    pub rules: RuleValues,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StakeChanged {
    pub dao: Pubkey,
    pub owner: Pubkey,
    /// "stake", "unstake_requested" or "withdrawn".
    pub action: String,
    pub amount: u64,
    pub position_amount: u64,
    pub unstaking_amount: u64,
    pub total_staked: u64,
    pub slot: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposalCreated {
    pub dao: Pubkey,
    pub proposal: Pubkey,
    pub index: u64,
    pub proposer: Pubkey,
    pub created_slot: u64,
    pub voting_ends_slot: u64,
    pub total_stake_snapshot: u64,
    pub description_uri: String,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteCast {
    pub proposal: Pubkey,
    pub voter: Pubkey,
    pub choice: VoteChoice,
    pub weight: u64,
    pub yes: u64,
    pub no: u64,
    pub abstain: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposalStateChanged {
    pub proposal: Pubkey,
    pub state: ProposalState,
    pub slot: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesUpdated {
    pub dao: Pubkey,
    pub rule_set: Pubkey,
    pub version: u64,
    pub rules: RuleValues,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigUpdated {
    pub dao: Pubkey,
    pub config_version: u64,
    pub config: DaoConfig,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VetoAuthorityChanged {
    pub dao: Pubkey,
    pub veto_authority: Pubkey,
}
