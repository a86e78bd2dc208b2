use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::DaoError;
use crate::events::ProposalStateChanged;
use crate::state::{Dao, Proposal, ProposalState};

/// The veto authority stops a proposal during voting or its hold-up.
#[event_cpi]
#[derive(Accounts)]
pub struct VetoProposal<'info> {
    pub veto_authority: Signer<'info>,
    #[account(
        seeds = [DAO_SEED, dao.stake_mint.as_ref(), &dao.id.to_le_bytes()],
        bump = dao.bump,
        has_one = veto_authority @ DaoError::NotVetoAuthority,
    )]
    pub dao: Box<Account<'info, Dao>>,
    #[account(mut, seeds = [PROPOSAL_SEED, dao.key().as_ref(), &proposal.index.to_le_bytes()], bump = proposal.bump, has_one = dao)]
    pub proposal: Box<Account<'info, Proposal>>,
}

impl VetoProposal<'_> {
    pub fn validate(&self, slot: u64) -> Result<()> {
        let proposal = &self.proposal;
        require!(
            proposal.state == ProposalState::Voting,
            DaoError::InvalidProposalState
        );
        let window_end = proposal
            .voting_ends_slot
            .saturating_add(self.dao.config.hold_up_slots);
        require_gte!(window_end, slot, DaoError::VetoWindowClosed);
        Ok(())
    }
}

pub fn handle_veto_proposal(ctx: Context<VetoProposal>) -> Result<()> {
    let slot = Clock::get()?.slot;
    ctx.accounts.validate(slot)?;
    ctx.accounts.proposal.state = ProposalState::Vetoed;
    let event = ProposalStateChanged {
        proposal: ctx.accounts.proposal.key(),
        state: ProposalState::Vetoed,
        slot,
    };
    emit_cpi!(event);
    Ok(())
}
