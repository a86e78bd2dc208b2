use anchor_lang::prelude::*;
use rwa_math::fees::fee_on;

use crate::errors::MarketError;
use crate::instructions::trade::{math, Trade};

/// Sell exactly `amount` RWA base units, receiving at least `min_quote_out` quote base units after fee.
pub fn validate_sell_exact_in(ctx: &Context<Trade>, amount: u64) -> Result<()> {
    ctx.accounts.validate_trade(amount)?;
    require_gte!(
        ctx.accounts.market.supply,
        amount,
        MarketError::InsufficientSupply
    );
    Ok(())
}

pub fn handle_sell_exact_in(ctx: Context<Trade>, amount: u64, min_quote_out: u64) -> Result<()> {
    validate_sell_exact_in(&ctx, amount)?;
    let market = &ctx.accounts.market;
    let proceeds = math(ctx.accounts.curve()?.sell_proceeds(market.supply, amount))?;
    let fee = math(fee_on(proceeds, market.fee_bps))?;
    let net = proceeds - fee;
    require_gte!(net, min_quote_out, MarketError::SlippageExceeded);
    let (event, tripped) = ctx.accounts.settle_sell(amount, proceeds, fee)?;
    emit_cpi!(event);
    if let Some(tripped) = tripped {
        emit_cpi!(tripped);
    }
    Ok(())
}
