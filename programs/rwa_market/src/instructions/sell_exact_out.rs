use anchor_lang::prelude::*;
use rwa_math::fees::{fee_on, min_gross_for_net};

use crate::errors::MarketError;
use crate::instructions::trade::{math, Trade};

/// Receive at least `quote_out` quote base units after fee by selling the fewest RWA base units that
/// yield it, at most `max_amount_in`. Rounding can pay out marginally more than `quote_out`, never less.
pub fn validate_sell_exact_out(ctx: &Context<Trade>, quote_out: u64) -> Result<()> {
    ctx.accounts.validate_trade(quote_out)
}

pub fn handle_sell_exact_out(
    ctx: Context<Trade>,
    quote_out: u64,
    max_amount_in: u64,
) -> Result<()> {
    validate_sell_exact_out(&ctx, quote_out)?;
    let market = &ctx.accounts.market;
    let gross = math(min_gross_for_net(quote_out, market.fee_bps))?;
    let (amount, proceeds) = math(
        ctx.accounts
            .curve()?
            .sell_amount_for_quote(market.supply, gross),
    )?
    .ok_or(MarketError::InsufficientSupply)?;
    require_gte!(max_amount_in, amount, MarketError::SlippageExceeded);
    let fee = math(fee_on(proceeds, market.fee_bps))?;
    let (event, tripped) = ctx.accounts.settle_sell(amount, proceeds, fee)?;
    emit_cpi!(event);
    if let Some(tripped) = tripped {
        emit_cpi!(tripped);
    }
    Ok(())
}
