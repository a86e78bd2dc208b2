use anchor_lang::prelude::*;
use rwa_lending::instructions::LendingMarketParams;
use rwa_market::instructions::MarketParamsUpdate;
use rwa_rules::RuleValues;

use crate::state::DaoConfig;

/// What a proposal changes when executed.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub enum ProposalKind {
    /// Replace the RuleSet values.
    Rules { rules: RuleValues },
    /// Replace the DAO configuration (invalidates proposals opened under the old one).
    Config { config: DaoConfig },
    /// Call rwa_market::set_market_params on a market whose authority is this DAO.
    MarketParams {
        market: Pubkey,
        update: MarketParamsUpdate,
    },
    /// Replace the veto authority (default key: no one can veto).
    VetoAuthority { veto_authority: Pubkey },
    /// Call rwa_lending::update_lending_params on a lending market governed by this DAO.
    LendingParams {
        lending_market: Pubkey,
        params: LendingMarketParams,
    },
    /// Call rwa_lending::set_lending_pause on a lending market governed by this DAO.
    LendingPause {
        lending_market: Pubkey,
        paused: bool,
    },
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProposalState {
    Voting,
    Executed,
    Cancelled,
    Vetoed,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoteChoice {
    Yes,
    No,
    Abstain,
}

#[account]
#[derive(Debug)]
pub struct Proposal {
    pub bump: u8,
    pub dao: Pubkey,
    pub index: u64,
    pub proposer: Pubkey,
    pub kind: ProposalKind,
    pub description_uri: String,
    pub created_slot: u64,
    pub voting_ends_slot: u64,
    /// DAO config version the proposal was opened under.
    pub config_version: u64,
    /// Total stake at creation: the quorum base.
    pub total_stake_snapshot: u64,
    pub yes: u64,
    pub no: u64,
    pub abstain: u64,
    pub state: ProposalState,
    pub executed_slot: u64,
}

impl Proposal {
    /// Generous fixed size: discriminator, fixed fields, the largest kind, a 200-byte uri.
    pub const SPACE: usize =
        8 + 1 + 32 + 8 + 32 + 256 + (4 + crate::constants::MAX_URI_LEN) + 8 * 8 + 1 + 64;

    pub fn votes_cast(&self) -> u64 {
        self.yes
            .saturating_add(self.no)
            .saturating_add(self.abstain)
    }
}

/// One position's vote on one proposal.
#[account]
#[derive(InitSpace, Debug)]
pub struct VoteRecord {
    pub bump: u8,
    pub proposal: Pubkey,
    pub position: Pubkey,
    pub choice_index: u8,
    pub weight: u64,
    pub slot: u64,
}
