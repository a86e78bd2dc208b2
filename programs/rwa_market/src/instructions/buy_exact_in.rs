use anchor_lang::prelude::*;
use rwa_math::fees::{fee_on, max_net_for_gross};

use crate::errors::MarketError;
use crate::instructions::trade::{math, Trade};

/// Spend at most `quote_in` quote base units (fee included) on as many RWA base units as they buy,
/// receiving at least `min_amount_out`. Unspent rounding dust stays with the trader.
pub fn validate_buy_exact_in(ctx: &Context<Trade>, quote_in: u64) -> Result<()> {
    ctx.accounts.validate_trade(quote_in)?;
    let market = &ctx.accounts.market;
    require_gt!(
        market.max_supply,
        market.supply,
        MarketError::MaxSupplyExceeded
    );
    Ok(())
}

pub fn handle_buy_exact_in(ctx: Context<Trade>, quote_in: u64, min_amount_out: u64) -> Result<()> {
    validate_buy_exact_in(&ctx, quote_in)?;
    let market = &ctx.accounts.market;
    let budget = math(max_net_for_gross(quote_in, market.fee_bps))?;
    let headroom = market.max_supply - market.supply;
    let (amount, cost) = math(ctx.accounts.curve()?.buy_amount_for_quote(
        market.supply,
        budget,
        headroom,
    ))?;
    require!(amount > 0, MarketError::TradeTooSmall);
    require_gte!(amount, min_amount_out, MarketError::SlippageExceeded);
    let fee = math(fee_on(cost, market.fee_bps))?;
    let (event, tripped) = ctx.accounts.settle_buy(amount, cost, fee)?;
    emit_cpi!(event);
    if let Some(tripped) = tripped {
        emit_cpi!(tripped);
    }
    Ok(())
}
