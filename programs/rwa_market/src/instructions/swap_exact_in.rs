use anchor_lang::prelude::*;
use rwa_math::fees::{fee_on, max_net_for_gross};
use rwa_math::route::Target;

use crate::errors::{MarketError, MathResultExt};
use crate::events::TradeSide;
use crate::instructions::swap::{execute, load_makers, plan};
use crate::instructions::trade::Trade;

/// Exact input across maker quotes (remaining accounts) and the curve, best price first.
/// Buy: spend at most `amount_in` quote base units (fee included), receive at least `min_amount_out`
/// RWA. Sell: sell exactly `amount_in` RWA, receive at least `min_amount_out` quote after the fee.
pub fn validate_swap_exact_in(ctx: &Context<Trade>, amount_in: u64) -> Result<()> {
    ctx.accounts.validate_trade(amount_in)
}

pub fn handle_swap_exact_in<'info>(
    ctx: Context<'info, Trade<'info>>,
    side: TradeSide,
    amount_in: u64,
    min_amount_out: u64,
) -> Result<()> {
    validate_swap_exact_in(&ctx, amount_in)?;
    let slot = Clock::get()?.slot;
    let fee_bps = ctx.accounts.market.fee_bps;
    let mut makers = load_makers(&ctx.accounts.market.key(), ctx.remaining_accounts)?;
    let target = match side {
        TradeSide::Buy => Target::Quote(max_net_for_gross(amount_in, fee_bps).or_market_err()?),
        TradeSide::Sell => Target::Amount(amount_in),
    };
    let route = plan(ctx.accounts, &makers, side, target, slot)?;
    let fee = fee_on(route.total_quote, fee_bps).or_market_err()?;
    match side {
        TradeSide::Buy => require_gte!(
            route.total_amount,
            min_amount_out.max(1),
            MarketError::SlippageExceeded
        ),
        TradeSide::Sell => {
            require_eq!(
                route.total_amount,
                amount_in,
                MarketError::InsufficientLiquidity
            );
            require_gte!(
                route.total_quote - fee,
                min_amount_out,
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
