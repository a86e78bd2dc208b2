//! The glue between `rwa-agent-core` (pure strategies) and the programs: chain state in, a
//! strategy's `MarketView` out; a strategy's `Intent` in, program instructions out. The daemon
//! (over JSON-RPC) and the simulator (over the in-process bank) both go through these two
//! functions, so a strategy sees and does exactly the same thing in both.

use rwa_agent_core::intent::{Intent, Side};
use rwa_agent_core::view::{MarketView, Position, QuoteView, RulesView};
use rwa_market::events::TradeSide;
use rwa_market::instructions::QuoteParams;
use rwa_market::state::{Maker, Market, PriceOracle};
use rwa_math::Decimal;
use solana_address::Address;
use solana_instruction::Instruction;

use crate::market::{
    cancel_quote_ix, post_quote_ix, swap_ix, update_oracle_ix, MakerAddresses, MarketAddresses,
    SwapKind, TraderAccounts,
};

/// What the view builder needs besides the market's own accounts.
#[derive(Clone, Copy, Debug, Default)]
pub struct Holder {
    /// The agent's maker account on this market, if it makes.
    pub own_maker: Option<Address>,
    /// Wallet balances (RWA, quote) in base units; used when the agent has no maker.
    pub wallet_rwa: u64,
    pub wallet_quote: u64,
    /// Mid of the agent's last posted quote (the shell remembers it).
    pub resting_mid: Option<f64>,
}

/// The strategy's view of one market from decoded chain state. `makers` are every maker account
/// of the market (address, state); the agent's own maker, if any, is among them.
pub fn market_view(
    slot: u64,
    market: &Market,
    oracle: &PriceOracle,
    makers: &[(Address, Maker)],
    holder: Holder,
    rules: RulesView,
) -> Result<MarketView, String> {
    let curve = market.curve_market().map_err(|e| e.to_string())?;
    let spot = market.spot_price().map_err(|e| e.to_string())?.to_f64();
    let twap = oracle.twap(slot).map(|p| p.to_f64()).unwrap_or(spot);
    let volatility = oracle.volatility_per_slot(slot).to_f64();
    // The band post_quote enforces: the market's, tightened by the RuleSet's.
    let quote_band_bps = match rules.max_quote_band_bps {
        0 => market.quote_band_bps,
        ruled => market.quote_band_bps.min(ruled),
    };
    let quotes = makers
        .iter()
        .enumerate()
        .map(|(index, (address, maker))| QuoteView {
            maker: index,
            own: Some(*address) == holder.own_maker,
            bid_price: Decimal::from_raw(maker.bid_price).to_f64(),
            bid_size: maker.bid_size,
            ask_price: Decimal::from_raw(maker.ask_price).to_f64(),
            ask_size: maker.ask_size,
            expiry_slot: if maker.is_live(slot) {
                maker.expiry_slot
            } else {
                0
            },
        })
        .collect();
    let own = makers
        .iter()
        .find(|(address, _)| Some(*address) == holder.own_maker)
        .map(|(_, maker)| maker);
    let (rwa, quote, sequence) = match own {
        Some(maker) => (maker.rwa_inventory, maker.quote_inventory, maker.sequence),
        None => (holder.wallet_rwa, holder.wallet_quote, 0),
    };
    Ok(MarketView {
        slot,
        curve,
        supply: market.supply,
        max_supply: market.max_supply,
        fee_bps: market.fee_bps,
        spot,
        twap,
        volatility,
        quote_band_bps,
        paused: market.paused,
        halted_until_slot: market.halted_until(&rwa_rules::RuleValues {
            circuit_breaker_bps: rules.circuit_breaker_bps,
            circuit_breaker_halt_slots: rules.circuit_breaker_halt_slots,
            ..Default::default()
        }),
        quotes,
        position: Position {
            rwa,
            quote,
            sequence,
            resting_mid: holder.resting_mid,
        },
        rules,
        primary: None,
    })
}

/// A price as the program's 18-digit fixed point (0 for a price that does not fit).
pub fn price_raw(price: f64) -> u128 {
    Decimal::from_f64(price).map(|d| d.raw()).unwrap_or(0)
}

/// The makers a swap passes: at most 8 (the program's limit), never the agent's own.
fn routed_makers(makers: &[MakerAddresses], own: Option<MakerAddresses>) -> Vec<MakerAddresses> {
    makers
        .iter()
        .filter(|m| Some(m.maker) != own.map(|x| x.maker))
        .copied()
        .take(8)
        .collect()
}

/// The instructions (one transaction) that carry out `intent`. `makers` are the market's makers
/// in view order; an intent the agent cannot carry out (a quote without a maker) gives none.
pub fn instructions_for(
    intent: &Intent,
    market: &MarketAddresses,
    accounts: &TraderAccounts,
    own_maker: Option<MakerAddresses>,
    makers: &[MakerAddresses],
) -> Vec<Instruction> {
    match intent {
        Intent::PostQuote {
            bid_price,
            bid_size,
            ask_price,
            ask_size,
            expiry_slot,
            sequence,
        } => {
            let Some(maker) = own_maker else {
                return vec![];
            };
            let quote = QuoteParams {
                bid_price: price_raw(*bid_price),
                bid_size: *bid_size,
                ask_price: price_raw(*ask_price),
                ask_size: *ask_size,
                expiry_slot: *expiry_slot,
                sequence: *sequence,
            };
            vec![post_quote_ix(market, &maker, quote)]
        }
        Intent::CancelQuote => own_maker
            .map(|maker| vec![cancel_quote_ix(market, &maker)])
            .unwrap_or_default(),
        Intent::Arbitrage {
            buy_amount,
            max_quote_in,
            min_quote_out,
            ..
        } => {
            let others = routed_makers(makers, own_maker);
            vec![
                swap_ix(
                    market,
                    accounts,
                    TradeSide::Buy,
                    SwapKind::ExactOut {
                        amount_out: *buy_amount,
                        max_amount_in: *max_quote_in,
                    },
                    &others,
                ),
                swap_ix(
                    market,
                    accounts,
                    TradeSide::Sell,
                    SwapKind::ExactIn {
                        amount_in: *buy_amount,
                        min_amount_out: *min_quote_out,
                    },
                    &others,
                ),
            ]
        }
        Intent::Swap {
            side,
            amount,
            limit_quote,
        } => {
            let (side, kind) = match side {
                Side::Buy => (
                    TradeSide::Buy,
                    SwapKind::ExactOut {
                        amount_out: *amount,
                        max_amount_in: *limit_quote,
                    },
                ),
                Side::Sell => (
                    TradeSide::Sell,
                    SwapKind::ExactIn {
                        amount_in: *amount,
                        min_amount_out: *limit_quote,
                    },
                ),
            };
            vec![swap_ix(
                market,
                accounts,
                side,
                kind,
                &routed_makers(makers, own_maker),
            )]
        }
        Intent::UpdateOracle => vec![update_oracle_ix(market)],
        Intent::PrimaryArbitrage {
            subscribe_first,
            amount,
            quote_limit,
            min_quote_back,
            ..
        } => {
            if *subscribe_first {
                vec![
                    crate::primary::subscribe_ix(market, accounts, *quote_limit, *amount),
                    crate::market::trade_ix(
                        market,
                        accounts,
                        crate::market::TradeKind::SellExactIn {
                            amount: *amount,
                            min_quote_out: *min_quote_back,
                        },
                    ),
                ]
            } else {
                vec![
                    crate::market::trade_ix(
                        market,
                        accounts,
                        crate::market::TradeKind::BuyExactOut {
                            amount: *amount,
                            max_quote_in: *quote_limit,
                        },
                    ),
                    crate::primary::redeem_ix(market, accounts, *amount, *min_quote_back),
                ]
            }
        }
    }
}

/// A participant's view of a market's primary market from its NAV account and the redemption
/// vault's balance (see `rwa_market::state::NavAttestation::usable_nav`).
pub fn primary_view(
    nav: &rwa_market::state::NavAttestation,
    redemption_vault: u64,
    slot: u64,
) -> rwa_agent_core::view::PrimaryView {
    let window_open = slot
        >= nav
            .window_start_slot
            .saturating_add(nav.redemption_window_slots);
    let used = if window_open {
        0
    } else {
        nav.redeemed_in_window
    };
    rwa_agent_core::view::PrimaryView {
        nav_raw: nav.nav,
        usable: nav.usable_nav(slot).is_ok(),
        subscribe_fee_bps: nav.subscribe_fee_bps,
        redeem_fee_bps: nav.redeem_fee_bps,
        redeemable: nav.redemption_cap_per_window.saturating_sub(used),
        redemption_vault,
    }
}

/// A routed swap for one rebalancing leg of up to `amount` base units, with slippage bounds from
/// the program's own curve math (price impact included) plus 1% for drift before it lands. A buy
/// is shrunk until its bound fits in `cash` (quote base units), so a leg never fails for funds
/// (say when an earlier sell did not land). `None` when nothing fits or the curve cannot quote.
pub fn rebalance_leg(
    curve: &rwa_math::CurveMarket,
    supply: u64,
    fee_bps: u16,
    side: Side,
    amount: u64,
    cash: u64,
) -> Option<(TradeSide, SwapKind)> {
    let buy_bound = |amount: u64| -> Option<u64> {
        let cost = curve.buy_cost(supply, amount).ok()?;
        let total = cost.saturating_add(rwa_math::fees::fee_on(cost, fee_bps).unwrap_or(0));
        Some(total.saturating_add(total / 100))
    };
    match side {
        Side::Buy => {
            let mut amount = amount;
            if buy_bound(amount)? > cash {
                // Largest affordable amount: the bound grows with the amount, so bisect.
                let (mut low, mut high) = (0u64, amount);
                while low < high {
                    let mid = low + (high - low).div_ceil(2);
                    match buy_bound(mid) {
                        Some(bound) if bound <= cash => low = mid,
                        _ => high = mid - 1,
                    }
                }
                amount = low;
            }
            if amount == 0 {
                return None;
            }
            Some((
                TradeSide::Buy,
                SwapKind::ExactOut {
                    amount_out: amount,
                    max_amount_in: buy_bound(amount)?,
                },
            ))
        }
        Side::Sell => {
            if amount == 0 {
                return None;
            }
            let proceeds = curve.sell_proceeds(supply, amount).ok()?;
            let net =
                proceeds.saturating_sub(rwa_math::fees::fee_on(proceeds, fee_bps).unwrap_or(0));
            Some((
                TradeSide::Sell,
                SwapKind::ExactIn {
                    amount_in: amount,
                    min_amount_out: net.saturating_sub(net / 100),
                },
            ))
        }
    }
}

/// The keeper's view of a collateral: its parameters, priced at `twap` (the market oracle's,
/// when there is one; otherwise the price the config recorded at its last refresh).
pub fn collateral_info(
    config: &rwa_lending::state::CollateralConfig,
    twap: Option<f64>,
) -> rwa_agent_core::strategies::keeper::CollateralInfo {
    rwa_agent_core::strategies::keeper::CollateralInfo {
        price: twap.unwrap_or(Decimal::from_raw(config.price).to_f64()),
        decimals: config.rwa_decimals,
        liquidation_cr_bps: config.params.liquidation_cr_bps,
        liquidation_bonus_bps: config.params.liquidation_bonus_bps,
        close_factor_bps: config.params.close_factor_bps,
    }
}

/// The keeper's view of an obligation; `configs` are the collateral config addresses in the
/// order of the keeper's `CollateralInfo` list.
pub fn obligation_view(
    obligation: &rwa_lending::state::Obligation,
    configs: &[Address],
) -> rwa_agent_core::strategies::keeper::ObligationView {
    rwa_agent_core::strategies::keeper::ObligationView {
        debt: obligation.debt,
        liquidation_limit: obligation.liquidation_limit,
        collaterals: obligation
            .active()
            .filter_map(|entry| {
                configs
                    .iter()
                    .position(|address| *address == entry.config)
                    .map(|i| (i, entry.amount))
            })
            .collect(),
    }
}

/// The circuit breaker a rule set holds, as the governance model sees it.
pub fn breaker_of(
    rules: &rwa_rules::RuleValues,
) -> rwa_agent_core::strategies::governance::Breaker {
    rwa_agent_core::strategies::governance::Breaker {
        band_bps: rules.circuit_breaker_bps,
        window_slots: rules.circuit_breaker_window_slots,
        halt_slots: rules.circuit_breaker_halt_slots,
    }
}

/// The rules a governance agent proposes: tighten halves the baseline breaker band (with at least
/// a 150-slot window and a 300-slot halt); relax restores the baseline band.
pub fn proposed_rules(
    current: rwa_rules::RuleValues,
    proposal: rwa_agent_core::strategies::governance::RuleProposal,
    baseline_breaker_bps: u16,
) -> rwa_rules::RuleValues {
    use rwa_agent_core::strategies::governance::RuleProposal;
    let mut rules = current;
    match proposal {
        RuleProposal::Tighten => {
            rules.circuit_breaker_bps = baseline_breaker_bps / 2;
            rules.circuit_breaker_window_slots = rules.circuit_breaker_window_slots.max(150);
            rules.circuit_breaker_halt_slots = rules.circuit_breaker_halt_slots.max(300);
        }
        RuleProposal::Relax => rules.circuit_breaker_bps = baseline_breaker_bps,
    }
    rules
}

#[cfg(test)]
mod tests {
    use super::*;
    use rwa_math::{Curve, CurveMarket};

    #[test]
    fn a_buy_leg_shrinks_to_the_cash_held() {
        let curve = CurveMarket::new(
            Curve::Linear {
                slope: Decimal::from_raw(1_000_000_000_000),
                intercept: Decimal::ONE,
            },
            6,
            6,
        )
        .unwrap();
        let bound = |leg: Option<(TradeSide, SwapKind)>| match leg {
            Some((
                _,
                SwapKind::ExactOut {
                    amount_out,
                    max_amount_in,
                },
            )) => (amount_out, max_amount_in),
            other => panic!("{other:?}"),
        };
        let (full, needed) = bound(rebalance_leg(
            &curve,
            1_000_000_000,
            30,
            Side::Buy,
            50_000_000,
            u64::MAX,
        ));
        assert_eq!(full, 50_000_000);
        let (shrunk, spent) = bound(rebalance_leg(
            &curve,
            1_000_000_000,
            30,
            Side::Buy,
            50_000_000,
            needed / 2,
        ));
        assert!(shrunk < full && spent <= needed / 2);
        // one more base unit would not fit
        let (_, over) = bound(rebalance_leg(
            &curve,
            1_000_000_000,
            30,
            Side::Buy,
            shrunk + 1,
            u64::MAX,
        ));
        assert!(over > needed / 2);
        assert!(rebalance_leg(&curve, 1_000_000_000, 30, Side::Buy, 50_000_000, 0).is_none());
    }
}
