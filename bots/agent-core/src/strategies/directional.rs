//! Directional traders driven by one signal, an expected log return of the token: value traders
//! (signal = ln(NAV / spot)), momentum traders (signal = the recent log return) and herding
//! traders (a signal shared by many agents). The size grows with the signal, capped by
//! `max_size` and by what the agent holds; nothing is traded inside the `threshold` dead band.

use crate::intent::{Intent, Side};
use crate::view::MarketView;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DirectionalParams {
    /// Signals smaller than this (absolute log return) are ignored.
    pub threshold: f64,
    /// Base units traded per unit of signal beyond the threshold...
    pub size_per_signal: f64,
    /// ...up to this many base units per trade...
    pub max_size: u64,
    /// ...and not below this many (smaller trades cost more in fees and rounding than they move).
    pub min_size: u64,
    /// Slippage bound from the spot price.
    pub max_slippage: f64,
    /// A trade may move the curve price by at most this share of the signal (0: no cap). An
    /// informed trader who expects +2% does not push the price up 9% in one go.
    pub max_impact: f64,
}

impl Default for DirectionalParams {
    fn default() -> Self {
        DirectionalParams {
            threshold: 0.005,
            size_per_signal: 2_000_000_000.0,
            max_size: 50_000_000,
            min_size: 100_000,
            max_slippage: 0.05,
            max_impact: 0.5,
        }
    }
}

/// The trade for `signal` (positive: the token should rise, so buy).
pub fn step(view: &MarketView, signal: f64, p: &DirectionalParams) -> Vec<Intent> {
    if !signal.is_finite() || signal.abs() <= p.threshold || !(view.spot > 0.0) {
        return vec![];
    }
    let mut wanted =
        ((signal.abs() - p.threshold) * p.size_per_signal).min(p.max_size as f64) as u64;
    if p.max_impact > 0.0 {
        if let Some(limit) = impact_limit(view, view.spot * (signal * p.max_impact).exp()) {
            wanted = wanted.min(limit);
        }
    }
    let notional = |amount: u64, price: f64| {
        (amount as f64 / view.token_unit() * price * view.quote_unit()) as u64
    };
    if signal > 0.0 {
        let price = view.spot * (1.0 + p.max_slippage);
        // Spend at most the cash held: shrink the size to what the limit price affords.
        let affordable =
            (view.position.quote as f64 / view.quote_unit() / price * view.token_unit()) as u64;
        let amount = wanted.min(affordable);
        let limit = notional(amount, price);
        if amount < p.min_size.max(1) || limit == 0 {
            return vec![];
        }
        vec![Intent::Swap {
            side: Side::Buy,
            amount,
            limit_quote: limit,
        }]
    } else {
        let amount = wanted.min(view.position.rwa);
        if amount < p.min_size.max(1) {
            return vec![];
        }
        vec![Intent::Swap {
            side: Side::Sell,
            amount,
            limit_quote: notional(amount, view.spot * (1.0 - p.max_slippage)),
        }]
    }
}

/// Base units to trade along the curve to move its price from the spot to `target` (`None` when
/// the curve cannot say).
fn impact_limit(view: &MarketView, target: f64) -> Option<u64> {
    let target = rwa_math::Decimal::from_f64(target).ok()?;
    let at_target = view.curve.curve.supply_at_price(target).ok()??;
    let units = at_target.to_f64() * view.token_unit();
    Some((units - view.supply as f64).abs() as u64)
}

/// Log return between two prices (0 when either is not positive).
pub fn log_return(from: f64, to: f64) -> f64 {
    if from > 0.0 && to > 0.0 {
        (to / from).ln()
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::market_maker::tests_support::view;
    use proptest::prelude::*;

    #[test]
    fn a_trade_moves_the_price_by_at_most_its_share_of_the_signal() {
        // test curve: p = 1 + 0.001 * supply (whole tokens), supply 100 tokens: spot 1.1
        let mut v = view(1.1, 0.0, 1_000_000_000, 1_000_000_000_000);
        v.spot = 1.1;
        let p = DirectionalParams {
            max_size: u64::MAX / 4,
            size_per_signal: 1e15,
            ..DirectionalParams::default()
        };
        let [Intent::Swap {
            side: Side::Buy,
            amount,
            ..
        }] = step(&v, 0.1, &p)[..]
        else {
            panic!("expected one buy");
        };
        let after = 1.0 + 0.001 * (100.0 + amount as f64 / 1e6);
        let moved = (after / 1.1f64).ln();
        assert!((moved - 0.05).abs() < 1e-3, "moved {moved}");
    }

    #[test]
    fn dead_band_and_direction() {
        let p = DirectionalParams::default();
        let v = view(1.0, 0.0, 100_000_000, 1_000_000_000);
        assert!(step(&v, 0.004, &p).is_empty());
        assert!(step(&v, f64::NAN, &p).is_empty());
        match step(&v, 0.02, &p).as_slice() {
            [Intent::Swap {
                side: Side::Buy, ..
            }] => {}
            other => panic!("{other:?}"),
        }
        match step(&v, -0.02, &p).as_slice() {
            [Intent::Swap {
                side: Side::Sell, ..
            }] => {}
            other => panic!("{other:?}"),
        }
    }

    proptest! {
        #[test]
        fn never_spends_or_sells_more_than_held(
            signal in -1.0f64..1.0,
            rwa in 0u64..1_000_000_000,
            quote in 0u64..1_000_000_000,
            spot in 0.01f64..100.0,
        ) {
            let v = view(spot, 0.0, rwa, quote);
            for intent in step(&v, signal, &DirectionalParams::default()) {
                match intent {
                    Intent::Swap { side: Side::Buy, limit_quote, amount } => {
                        prop_assert!(limit_quote <= quote);
                        prop_assert!(amount > 0);
                    }
                    Intent::Swap { side: Side::Sell, amount, .. } => prop_assert!(amount <= rwa && amount > 0),
                    other => prop_assert!(false, "{:?}", other),
                }
            }
        }
    }
}
