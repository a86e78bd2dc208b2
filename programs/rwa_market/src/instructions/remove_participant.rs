use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::MarketError;
use crate::events::ParticipantChanged;
use crate::state::{Market, Participant};

#[event_cpi]
#[derive(Accounts)]
pub struct RemoveParticipant<'info> {
    pub authority: Signer<'info>,
    #[account(
        seeds = [MARKET_SEED, market.rwa_mint.as_ref()],
        bump = market.bump,
        has_one = authority @ MarketError::Unauthorized,
    )]
    pub market: Box<Account<'info, Market>>,
    #[account(
        mut,
        close = rent_recipient,
        seeds = [PARTICIPANT_SEED, market.key().as_ref(), participant.wallet.as_ref()],
        bump = participant.bump,
        has_one = market @ MarketError::NotParticipant,
    )]
    pub participant: Box<Account<'info, Participant>>,
    /// CHECK: receives the allow-list entry's rent; any account.
    #[account(mut)]
    pub rent_recipient: UncheckedAccount<'info>,
}

impl RemoveParticipant<'_> {
    pub fn validate(&self) -> Result<()> {
        Ok(())
    }
}

/// Takes `participant.wallet` off the allow-list (its tokens stay its own).
pub fn handle_remove_participant(ctx: Context<RemoveParticipant>) -> Result<()> {
    ctx.accounts.validate()?;
    emit_cpi!(ParticipantChanged {
        market: ctx.accounts.market.key(),
        wallet: ctx.accounts.participant.wallet,
        allowed: false,
    });
    Ok(())
}
