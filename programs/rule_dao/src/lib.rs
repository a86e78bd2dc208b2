//! rule_dao: stake-weighted voting on the trading rules that rwa_market and rwa_lending obey.
//!
//! Stake an RWA (or governance) mint, propose a RuleSet, config or market-parameter change, vote
//! yes/no/abstain by stake, pass at a supermajority of votes cast with quorum, wait out a hold-up
//! (veto window), execute. Voting weight is fixed before a proposal opens (see
//! `state::StakePosition`), so flash stake cannot vote.

use anchor_lang::prelude::*;

pub mod constants;
pub mod errors;
pub mod events;
pub mod instructions;
pub mod state;

use instructions::*;
use rwa_rules::RuleValues;
use state::{DaoConfig, ProposalKind, VoteChoice};

declare_id!("GYgcQeHe92d7zCReHg1PjWfiexce5Yo4XSzZbye1gDfN");

#[program]
pub mod rule_dao {
    use super::*;

    pub fn create_dao(
        ctx: Context<CreateDao>,
        id: u64,
        config: DaoConfig,
        rules: RuleValues,
        veto_authority: Pubkey,
    ) -> Result<()> {
        instructions::create_dao::handle_create_dao(ctx, id, config, rules, veto_authority)
    }

    pub fn stake(ctx: Context<Staking>, amount: u64) -> Result<()> {
        instructions::stake::handle_stake(ctx, amount)
    }

    pub fn request_unstake(ctx: Context<Staking>, amount: u64) -> Result<()> {
        instructions::request_unstake::handle_request_unstake(ctx, amount)
    }

    pub fn withdraw_unstaked(ctx: Context<Staking>) -> Result<()> {
        instructions::withdraw_unstaked::handle_withdraw_unstaked(ctx)
    }

    pub fn propose(
        ctx: Context<Propose>,
        kind: ProposalKind,
        description_uri: String,
    ) -> Result<()> {
        instructions::propose::handle_propose(ctx, kind, description_uri)
    }

    pub fn cast_vote(ctx: Context<CastVote>, choice: VoteChoice) -> Result<()> {
        instructions::cast_vote::handle_cast_vote(ctx, choice)
    }

    pub fn cancel_proposal(ctx: Context<CancelProposal>) -> Result<()> {
        instructions::cancel_proposal::handle_cancel_proposal(ctx)
    }

    pub fn veto_proposal(ctx: Context<VetoProposal>) -> Result<()> {
        instructions::veto_proposal::handle_veto_proposal(ctx)
    }

    pub fn execute_proposal<'info>(ctx: Context<'info, ExecuteProposal<'info>>) -> Result<()> {
        instructions::execute_proposal::handle_execute_proposal(ctx)
    }
}
