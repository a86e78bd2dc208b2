use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::DaoError;
use crate::events::ProposalStateChanged;
use crate::state::{Dao, Proposal, ProposalState};

/// The proposer withdraws a proposal nobody has voted on yet.
#[event_cpi]
#[derive(Accounts)]
pub struct CancelProposal<'info> {
    pub proposer: Signer<'info>,
    #[account(seeds = [DAO_SEED, dao.stake_mint.as_ref(), &dao.id.to_le_bytes()], bump = dao.bump)]
    pub dao: Box<Account<'info, Dao>>,
    #[account(mut, seeds = [PROPOSAL_SEED, dao.key().as_ref(), &proposal.index.to_le_bytes()], bump = proposal.bump, has_one = dao)]
    pub proposal: Box<Account<'info, Proposal>>,
}

impl CancelProposal<'_> {
    pub fn validate(&self) -> Result<()> {
        let proposal = &self.proposal;
        require!(
            proposal.state == ProposalState::Voting,
            DaoError::InvalidProposalState
        );
        require!(
            proposal.proposer == self.proposer.key() && proposal.votes_cast() == 0,
            DaoError::CannotCancel
        );
        Ok(())
    }
}

pub fn handle_cancel_proposal(ctx: Context<CancelProposal>) -> Result<()> {
    ctx.accounts.validate()?;
    ctx.accounts.proposal.state = ProposalState::Cancelled;
    let event = ProposalStateChanged {
        proposal: ctx.accounts.proposal.key(),
        state: ProposalState::Cancelled,
        slot: Clock::get()?.slot,
    };
    emit_cpi!(event);
    Ok(())
}
