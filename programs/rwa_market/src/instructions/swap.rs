//! Taker swaps routed across maker quotes (passed as remaining accounts) and the curve. Shared by
//! `swap_exact_in` and `swap_exact_out`, which only fix the target and the slippage bound.

use anchor_lang::prelude::*;
use rwa_math::route::{route_buy, route_sell, Level, Route, Target, MAX_ROUTE_MAKERS};

use crate::errors::{MarketError, MathResultExt};
use crate::events::{CircuitBreakerTripped, QuoteFilled, SwapExecuted, TradeSide};
use crate::instructions::maker_inventory::maker_transfer;
use crate::instructions::trade::{Settlement, Trade};
use crate::state::Maker;

/// Remaining accounts per maker, in this order: maker (writable), its RWA vault, its quote vault.
pub const ACCOUNTS_PER_MAKER: usize = 3;

pub struct MakerSlot<'info> {
    pub maker: Account<'info, Maker>,
    pub rwa_vault: AccountInfo<'info>,
    pub quote_vault: AccountInfo<'info>,
}

/// Loads and checks the maker accounts: program-owned `Maker` (owner and discriminator checked by
/// `Account`), same market, its own vaults, writable, no maker twice.
pub fn load_makers<'info>(
    market: &Pubkey,
    remaining: &'info [AccountInfo<'info>],
) -> Result<Vec<MakerSlot<'info>>> {
    require!(
        remaining.len().is_multiple_of(ACCOUNTS_PER_MAKER),
        MarketError::InvalidMakerAccount
    );
    require!(
        remaining.len() / ACCOUNTS_PER_MAKER <= MAX_ROUTE_MAKERS,
        MarketError::TooManyMakers
    );
    let mut slots: Vec<MakerSlot<'info>> = Vec::with_capacity(remaining.len() / ACCOUNTS_PER_MAKER);
    for chunk in remaining.chunks(ACCOUNTS_PER_MAKER) {
        let maker: Account<'info, Maker> = Account::try_from(&chunk[0])?;
        require_keys_eq!(maker.market, *market, MarketError::InvalidMakerAccount);
        require_keys_eq!(
            maker.rwa_vault,
            chunk[1].key(),
            MarketError::InvalidMakerAccount
        );
        require_keys_eq!(
            maker.quote_vault,
            chunk[2].key(),
            MarketError::InvalidMakerAccount
        );
        require!(
            chunk.iter().all(|info| info.is_writable),
            MarketError::InvalidMakerAccount
        );
        require!(
            slots.iter().all(|slot| slot.maker.key() != maker.key()),
            MarketError::InvalidMakerAccount
        );
        slots.push(MakerSlot {
            maker,
            rwa_vault: chunk[1].clone(),
            quote_vault: chunk[2].clone(),
        });
    }
    Ok(slots)
}

/// Plans the route for `side` and `target` against the live quotes and the curve.
pub fn plan(
    trade: &Trade,
    makers: &[MakerSlot],
    side: TradeSide,
    target: Target,
    slot: u64,
) -> Result<Route> {
    let market = &trade.market;
    let curve = market.curve_market()?;
    // Quotes outside the band around the curve's spot are skipped, like expired ones: the curve
    // may have moved since they were posted.
    let spot = market.spot_price()?;
    let rules = trade.rules()?;
    let in_band = |level: Level| {
        if market.within_quote_band(level.price, spot, rules.as_ref()) {
            level
        } else {
            Level { size: 0, ..level }
        }
    };
    match side {
        TradeSide::Buy => {
            let asks: Vec<Level> = makers.iter().map(|m| in_band(m.maker.ask(slot))).collect();
            route_buy(&curve, market.supply, market.max_supply, &asks, target).or_market_err()
        }
        TradeSide::Sell => {
            let bids: Vec<Level> = makers.iter().map(|m| in_band(m.maker.bid(slot))).collect();
            route_sell(&curve, market.supply, &bids, target).or_market_err()
        }
    }
}

/// Executes a planned route: maker fills first (in route order), then the curve leg, then the fee.
/// Returns the events to emit.
pub fn execute<'info>(
    trade: &mut Trade<'info>,
    makers: &mut [MakerSlot<'info>],
    side: TradeSide,
    route: &Route,
    fee: u64,
) -> Result<(
    Vec<QuoteFilled>,
    SwapExecuted,
    Option<CircuitBreakerTripped>,
)> {
    require!(route.total_amount > 0, MarketError::TradeTooSmall);
    let spot_before = trade.market.spot_price()?;
    let mut fills = Vec::with_capacity(route.maker_fills.len());
    for fill in &route.maker_fills {
        let slot = &mut makers[fill.maker];
        match side {
            TradeSide::Buy => {
                trade.transfer_from_trader(slot.quote_vault.clone(), fill.quote)?;
                maker_transfer(
                    &slot.maker,
                    &trade.token_program,
                    slot.rwa_vault.clone(),
                    trade.trader_rwa_account.to_account_info(),
                    fill.amount,
                )?;
                let maker = &mut slot.maker;
                maker.rwa_inventory = maker
                    .rwa_inventory
                    .checked_sub(fill.amount)
                    .ok_or(MarketError::InsufficientInventory)?;
                maker.quote_inventory = maker
                    .quote_inventory
                    .checked_add(fill.quote)
                    .ok_or(MarketError::MathOverflow)?;
                maker.ask_size = maker
                    .ask_size
                    .checked_sub(fill.amount)
                    .ok_or(MarketError::InsufficientInventory)?;
                maker.sold = maker.sold.saturating_add(fill.amount);
            }
            TradeSide::Sell => {
                trade.transfer_rwa_from_trader(slot.rwa_vault.clone(), fill.amount)?;
                maker_transfer(
                    &slot.maker,
                    &trade.token_program,
                    slot.quote_vault.clone(),
                    trade.trader_quote_account.to_account_info(),
                    fill.quote,
                )?;
                let maker = &mut slot.maker;
                maker.quote_inventory = maker
                    .quote_inventory
                    .checked_sub(fill.quote)
                    .ok_or(MarketError::InsufficientInventory)?;
                maker.rwa_inventory = maker
                    .rwa_inventory
                    .checked_add(fill.amount)
                    .ok_or(MarketError::MathOverflow)?;
                maker.bid_size = maker
                    .bid_size
                    .checked_sub(fill.amount)
                    .ok_or(MarketError::InsufficientInventory)?;
                maker.bought = maker.bought.saturating_add(fill.amount);
            }
        }
        let maker = &mut slot.maker;
        maker.fill_count = maker.fill_count.saturating_add(1);
        fills.push(QuoteFilled {
            market: maker.market,
            maker: maker.key(),
            taker: trade.trader.key(),
            side,
            price: fill.price.raw(),
            size: fill.amount,
            quote_amount: fill.quote,
            bid_size_left: maker.bid_size,
            ask_size_left: maker.ask_size,
        });
        maker.exit(&crate::ID)?;
    }
    match side {
        TradeSide::Buy => trade.curve_buy_leg(route.curve_amount, route.curve_quote)?,
        TradeSide::Sell => trade.curve_sell_leg(route.curve_amount, route.curve_quote)?,
    }
    let (referrer, referrer_fee) = trade.pay_fee(fee)?;
    let Settlement { slot, tripped, .. } =
        trade.finish(fee, route.total_amount, route.total_quote, spot_before)?;
    let summary = SwapExecuted {
        market: trade.market.key(),
        taker: trade.trader.key(),
        side,
        amount: route.total_amount,
        quote_amount: route.total_quote,
        fee,
        referrer,
        referrer_fee,
        curve_amount: route.curve_amount,
        curve_quote_amount: route.curve_quote,
        maker_fills: route.maker_fills.len() as u8,
        last_price: route.last_price.raw(),
        supply: trade.market.supply,
        reserve: trade.market.reserve,
        slot,
    };
    Ok((fills, summary, tripped))
}
