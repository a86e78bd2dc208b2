use anchor_lang::prelude::*;

use crate::errors::MarketError;
use crate::events::QuoteCancelled;
use crate::instructions::post_quote::UpdateQuote;

/// Pulls the maker's quote (allowed while the market is paused, so makers can always step back).
pub fn validate_cancel_quote(ctx: &Context<UpdateQuote>) -> Result<()> {
    let maker = &ctx.accounts.maker;
    require!(
        maker.bid_size > 0 || maker.ask_size > 0,
        MarketError::ZeroAmount
    );
    Ok(())
}

pub fn handle_cancel_quote(ctx: Context<UpdateQuote>) -> Result<()> {
    validate_cancel_quote(&ctx)?;
    let slot = Clock::get()?.slot;
    let maker = &mut ctx.accounts.maker;
    maker.bid_size = 0;
    maker.ask_size = 0;
    let event = QuoteCancelled {
        market: maker.market,
        maker: maker.key(),
        sequence: maker.sequence,
        slot,
    };
    emit_cpi!(event);
    Ok(())
}
