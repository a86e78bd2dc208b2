use anchor_lang::prelude::*;
use rwa_math::fees::fee_on;

use crate::errors::MarketError;
use crate::instructions::trade::{math, Trade};

/// Buy exactly `amount` RWA base units, paying at most `max_quote_in` quote base units (fee included).
pub fn validate_buy_exact_out(ctx: &Context<Trade>, amount: u64) -> Result<()> {
    ctx.accounts.validate_trade(amount)?;
    let market = &ctx.accounts.market;
    let new_supply = market
        .supply
        .checked_add(amount)
        .ok_or(MarketError::MaxSupplyExceeded)?;
    require_gte!(
        market.max_supply,
        new_supply,
        MarketError::MaxSupplyExceeded
    );
    Ok(())
}

pub fn handle_buy_exact_out(ctx: Context<Trade>, amount: u64, max_quote_in: u64) -> Result<()> {
    validate_buy_exact_out(&ctx, amount)?;
    let market = &ctx.accounts.market;
    let cost = math(ctx.accounts.curve()?.buy_cost(market.supply, amount))?;
    let fee = math(fee_on(cost, market.fee_bps))?;
    let total = cost.checked_add(fee).ok_or(MarketError::MathOverflow)?;
    require_gte!(max_quote_in, total, MarketError::SlippageExceeded);
    let (event, tripped) = ctx.accounts.settle_buy(amount, cost, fee)?;
    emit_cpi!(event);
    if let Some(tripped) = tripped {
        emit_cpi!(tripped);
    }
    Ok(())
}
