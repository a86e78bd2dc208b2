use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::DaoError;
use crate::events::VoteCast;
use crate::state::{Dao, Proposal, ProposalState, StakePosition, VoteChoice, VoteRecord};

/// One vote per position per proposal, final (no changing it), weighted by the position's stake.
#[event_cpi]
#[derive(Accounts)]
pub struct CastVote<'info> {
    #[account(mut)]
    pub voter: Signer<'info>,
    #[account(seeds = [DAO_SEED, dao.stake_mint.as_ref(), &dao.id.to_le_bytes()], bump = dao.bump)]
    pub dao: Box<Account<'info, Dao>>,
    #[account(mut, seeds = [PROPOSAL_SEED, dao.key().as_ref(), &proposal.index.to_le_bytes()], bump = proposal.bump, has_one = dao)]
    pub proposal: Box<Account<'info, Proposal>>,
    #[account(
        mut,
        seeds = [POSITION_SEED, dao.key().as_ref(), voter.key().as_ref()],
        bump = position.bump,
        constraint = position.owner == voter.key() @ DaoError::NotPositionOwner,
    )]
    pub position: Box<Account<'info, StakePosition>>,
    #[account(
        init_if_needed,
        payer = voter,
        space = 8 + VoteRecord::INIT_SPACE,
        seeds = [VOTE_SEED, proposal.key().as_ref(), position.key().as_ref()],
        bump,
    )]
    pub vote_record: Box<Account<'info, VoteRecord>>,
    pub system_program: Program<'info, System>,
}

impl CastVote<'_> {
    pub fn validate(&self, slot: u64) -> Result<()> {
        let proposal = &self.proposal;
        require!(
            proposal.state == ProposalState::Voting,
            DaoError::InvalidProposalState
        );
        require_eq!(
            proposal.config_version,
            self.dao.config_version,
            DaoError::ProposalStale
        );
        require_gte!(proposal.voting_ends_slot, slot, DaoError::VotingClosed);
        require!(self.vote_record.weight == 0, DaoError::AlreadyVoted);
        require_gt!(
            proposal.created_slot,
            self.position.last_increase_slot,
            DaoError::StakeAfterSnapshot
        );
        require!(self.position.amount > 0, DaoError::NoVotingWeight);
        Ok(())
    }
}

pub fn handle_cast_vote(ctx: Context<CastVote>, choice: VoteChoice) -> Result<()> {
    let slot = Clock::get()?.slot;
    ctx.accounts.validate(slot)?;
    let weight = ctx.accounts.position.amount;
    let proposal = &mut ctx.accounts.proposal;
    let tally = match choice {
        VoteChoice::Yes => &mut proposal.yes,
        VoteChoice::No => &mut proposal.no,
        VoteChoice::Abstain => &mut proposal.abstain,
    };
    *tally = tally.checked_add(weight).ok_or(DaoError::MathOverflow)?;
    let position = &mut ctx.accounts.position;
    position.votes_locked_until_slot = position
        .votes_locked_until_slot
        .max(proposal.voting_ends_slot);
    position.votes_cast = position.votes_cast.saturating_add(1);
    let position_key = position.key();
    ctx.accounts.vote_record.set_inner(VoteRecord {
        bump: ctx.bumps.vote_record,
        proposal: proposal.key(),
        position: position_key,
        choice_index: choice as u8,
        weight,
        slot,
    });
    let event = VoteCast {
        proposal: proposal.key(),
        voter: ctx.accounts.voter.key(),
        choice,
        weight,
        yes: proposal.yes,
        no: proposal.no,
        abstain: proposal.abstain,
    };
    emit_cpi!(event);
    Ok(())
}
