use anchor_lang::prelude::*;

use crate::constants::MARKET_SEED;
use crate::errors::MarketError;
use crate::events::MarketPauseChanged;
use crate::state::Market;

/// Authority switch for the pause flag; shared by `pause_market` and `unpause_market`.
#[event_cpi]
#[derive(Accounts)]
pub struct SetPaused<'info> {
    pub authority: Signer<'info>,
    #[account(
        mut,
        seeds = [MARKET_SEED, market.rwa_mint.as_ref()],
        bump = market.bump,
        has_one = authority @ MarketError::Unauthorized,
    )]
    pub market: Box<Account<'info, Market>>,
}

impl SetPaused<'_> {
    pub fn validate(&self, paused: bool) -> Result<()> {
        require!(
            self.market.paused != paused,
            MarketError::PauseStateUnchanged
        );
        Ok(())
    }

    pub fn apply(&mut self, paused: bool) -> Result<MarketPauseChanged> {
        self.validate(paused)?;
        self.market.paused = paused;
        Ok(MarketPauseChanged {
            market: self.market.key(),
            paused,
            slot: Clock::get()?.slot,
        })
    }
}

/// Halts all trading on the market.
pub fn handle_pause_market(ctx: Context<SetPaused>) -> Result<()> {
    let event = ctx.accounts.apply(true)?;
    emit_cpi!(event);
    Ok(())
}
