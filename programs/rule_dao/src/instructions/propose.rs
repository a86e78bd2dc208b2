use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::DaoError;
use crate::events::ProposalCreated;
use crate::state::{validate_rules, Dao, Proposal, ProposalKind, ProposalState, StakePosition};

/// Opens a proposal; the total stake is snapshotted now as the quorum base.
#[event_cpi]
#[derive(Accounts)]
pub struct Propose<'info> {
    #[account(mut)]
    pub proposer: Signer<'info>,
    #[account(mut, seeds = [DAO_SEED, dao.stake_mint.as_ref(), &dao.id.to_le_bytes()], bump = dao.bump)]
    pub dao: Box<Account<'info, Dao>>,
    #[account(
        seeds = [POSITION_SEED, dao.key().as_ref(), proposer.key().as_ref()],
        bump = position.bump,
        constraint = position.owner == proposer.key() @ DaoError::NotPositionOwner,
    )]
    pub position: Box<Account<'info, StakePosition>>,
    #[account(
        init,
        payer = proposer,
        space = Proposal::SPACE,
        seeds = [PROPOSAL_SEED, dao.key().as_ref(), &dao.proposal_count.to_le_bytes()],
        bump,
    )]
    pub proposal: Box<Account<'info, Proposal>>,
    pub system_program: Program<'info, System>,
}

impl Propose<'_> {
    pub fn validate(&self, kind: &ProposalKind, description_uri: &str, slot: u64) -> Result<()> {
        require!(description_uri.len() <= MAX_URI_LEN, DaoError::UriTooLong);
        let position = &self.position;
        require_gte!(
            position.amount,
            self.dao.config.min_proposal_stake.max(1),
            DaoError::ProposerStakeTooLow
        );
        // No proposing with stake that arrived in this very slot.
        require_gt!(
            slot,
            position.last_increase_slot,
            DaoError::StakeAfterSnapshot
        );
        match kind {
            ProposalKind::Rules { rules } => validate_rules(rules),
            ProposalKind::Config { config } => config.validate(),
            ProposalKind::LendingParams { params, .. } => params.validate(),
            ProposalKind::MarketParams { .. }
            | ProposalKind::VetoAuthority { .. }
            | ProposalKind::LendingPause { .. } => Ok(()),
        }
    }
}

pub fn handle_propose(
    ctx: Context<Propose>,
    kind: ProposalKind,
    description_uri: String,
) -> Result<()> {
    let slot = Clock::get()?.slot;
    ctx.accounts.validate(&kind, &description_uri, slot)?;
    let dao = &mut ctx.accounts.dao;
    let index = dao.proposal_count;
    dao.proposal_count += 1;
    let voting_ends_slot = slot
        .checked_add(dao.config.voting_period_slots)
        .ok_or(DaoError::MathOverflow)?;
    let proposal_key = ctx.accounts.proposal.key();
    let event = ProposalCreated {
        dao: dao.key(),
        proposal: proposal_key,
        index,
        proposer: ctx.accounts.proposer.key(),
        created_slot: slot,
        voting_ends_slot,
        total_stake_snapshot: dao.total_staked,
        description_uri: description_uri.clone(),
    };
    ctx.accounts.proposal.set_inner(Proposal {
        bump: ctx.bumps.proposal,
        dao: dao.key(),
        index,
        proposer: ctx.accounts.proposer.key(),
        kind,
        description_uri,
        created_slot: slot,
        voting_ends_slot,
        config_version: dao.config_version,
        total_stake_snapshot: dao.total_staked,
        yes: 0,
        no: 0,
        abstain: 0,
        state: ProposalState::Voting,
        executed_slot: 0,
    });
    emit_cpi!(event);
    Ok(())
}
