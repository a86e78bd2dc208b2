use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::MarketError;
use crate::events::ParticipantChanged;
use crate::state::{Market, NavAttestation, Participant};

#[event_cpi]
#[derive(Accounts)]
#[instruction(wallet: Pubkey)]
pub struct AddParticipant<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
    pub authority: Signer<'info>,
    #[account(
        seeds = [MARKET_SEED, market.rwa_mint.as_ref()],
        bump = market.bump,
        has_one = authority @ MarketError::Unauthorized,
    )]
    pub market: Box<Account<'info, Market>>,
    /// The market must have a primary market.
    #[account(
        seeds = [NAV_SEED, market.key().as_ref()],
        bump = nav.bump,
        has_one = market @ MarketError::InvalidNavAccount,
    )]
    pub nav: Box<Account<'info, NavAttestation>>,
    #[account(
        init,
        payer = payer,
        space = 8 + Participant::INIT_SPACE,
        seeds = [PARTICIPANT_SEED, market.key().as_ref(), wallet.as_ref()],
        bump,
    )]
    pub participant: Box<Account<'info, Participant>>,
    pub system_program: Program<'info, System>,
}

impl AddParticipant<'_> {
    pub fn validate(&self, wallet: &Pubkey) -> Result<()> {
        require!(*wallet != Pubkey::default(), MarketError::NotParticipant);
        Ok(())
    }
}

/// Allows `wallet` to subscribe and redeem (the market authority's allow-list).
pub fn handle_add_participant(ctx: Context<AddParticipant>, wallet: Pubkey) -> Result<()> {
    ctx.accounts.validate(&wallet)?;
    let participant = &mut ctx.accounts.participant;
    participant.bump = ctx.bumps.participant;
    participant.market = ctx.accounts.market.key();
    participant.wallet = wallet;
    participant.added_slot = Clock::get()?.slot;
    let market = participant.market;
    emit_cpi!(ParticipantChanged {
        market,
        wallet,
        allowed: true,
    });
    Ok(())
}
