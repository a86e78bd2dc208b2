use anchor_lang::prelude::*;
use rwa_math::fees::{fee_on, min_gross_for_net};
use rwa_math::route::Target;

use crate::errors::{MarketError, MathResultExt};
use crate::events::TradeSide;
use crate::instructions::swap::{execute, load_makers, plan};
use crate::instructions::trade::Trade;

/// Exact output across maker quotes (remaining accounts) and the curve, best price first.
/// Buy: receive exactly `amount_out` RWA, paying at most `max_amount_in` quote (fee included).
/// Sell: receive at least `amount_out` quote after the fee, selling at most `max_amount_in` RWA.
pub fn validate_swap_exact_out(ctx: &Context<Trade>, amount_out: u64) -> Result<()> {
    ctx.accounts.validate_trade(amount_out)
}

pub fn handle_swap_exact_out<'info>(
    ctx: Context<'info, Trade<'info>>,
    side: TradeSide,
    amount_out: u64,
    max_amount_in: u64,
) -> Result<()> {
    validate_swap_exact_out(&ctx, amount_out)?;
    let slot = Clock::get()?.slot;
    let fee_bps = ctx.accounts.market.fee_bps;
    let mut makers = load_makers(&ctx.accounts.market.key(), ctx.remaining_accounts)?;
    let target = match side {
        TradeSide::Buy => Target::Amount(amount_out),
        TradeSide::Sell => Target::Quote(min_gross_for_net(amount_out, fee_bps).or_market_err()?),
    };
    let route = plan(ctx.accounts, &makers, side, target, slot)?;
    let fee = fee_on(route.total_quote, fee_bps).or_market_err()?;
    match side {
        TradeSide::Buy => {
            require_eq!(
                route.total_amount,
                amount_out,
                MarketError::InsufficientLiquidity
            );
            let total = route
                .total_quote
                .checked_add(fee)
                .ok_or(MarketError::MathOverflow)?;
            require_gte!(max_amount_in, total, MarketError::SlippageExceeded);
        }
        TradeSide::Sell => {
            require_gte!(
                route.total_quote - fee,
                amount_out,
                MarketError::InsufficientLiquidity
            );
            require_gte!(
                max_amount_in,
                route.total_amount,
                MarketError::SlippageExceeded
            );
        }
    }
    let (fills, summary, tripped) = execute(ctx.accounts, &mut makers, side, &route, fee)?;
    for fill in fills {
        emit_cpi!(fill);
    }
    emit_cpi!(summary);
    if let Some(tripped) = tripped {
        emit_cpi!(tripped);
    }
    Ok(())
}
