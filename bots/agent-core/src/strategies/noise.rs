//! A noise trader: small buys and sells at pseudo-random times, deterministic in (seed, slot), so
//! demos and simulations have order flow for makers and arbitrageurs to work with.

use crate::intent::{Intent, Side};
use crate::view::MarketView;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NoiseParams {
    pub seed: u64,
    /// Chance of trading on a given step.
    pub trade_probability: f64,
    /// Largest trade, base units.
    pub max_size: u64,
    /// Slippage bound from the spot price.
    pub max_slippage: f64,
}

impl Default for NoiseParams {
    fn default() -> Self {
        NoiseParams {
            seed: 7,
            trade_probability: 0.5,
            max_size: 20_000_000,
            max_slippage: 0.05,
        }
    }
}

fn mix(mut x: u64) -> u64 {
    // splitmix64
    x = x.wrapping_add(0x9E3779B97F4A7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58476D1CE4E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D049BB133111EB);
    x ^ (x >> 31)
}

pub fn step(view: &MarketView, p: &NoiseParams) -> Vec<Intent> {
    let roll = mix(p.seed ^ view.slot);
    if (roll % 10_000) as f64 / 10_000.0 >= p.trade_probability {
        return vec![];
    }
    let size = 1 + mix(roll) % p.max_size.max(1);
    let buy = mix(roll ^ 0xABCD).is_multiple_of(2) || view.position.rwa < size;
    let notional = |amount: u64, price: f64| {
        (amount as f64 / view.token_unit() * price * view.quote_unit()) as u64
    };
    if buy {
        let limit = notional(size, view.spot * (1.0 + p.max_slippage));
        if limit == 0 || limit > view.position.quote {
            return vec![];
        }
        vec![Intent::Swap {
            side: Side::Buy,
            amount: size,
            limit_quote: limit,
        }]
    } else {
        vec![Intent::Swap {
            side: Side::Sell,
            amount: size,
            limit_quote: notional(size, view.spot * (1.0 - p.max_slippage)),
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::market_maker::tests_support::view;

    #[test]
    fn deterministic_and_within_means() {
        let p = NoiseParams {
            trade_probability: 1.0,
            ..NoiseParams::default()
        };
        let v = view(1.1, 0.0, 0, 1_000_000_000);
        assert_eq!(step(&v, &p), step(&v, &p));
        for intent in step(&v, &p) {
            match intent {
                Intent::Swap {
                    side: Side::Buy,
                    limit_quote,
                    ..
                } => assert!(limit_quote <= 1_000_000_000),
                Intent::Swap {
                    side: Side::Sell, ..
                } => panic!("sold without inventory"),
                other => panic!("{other:?}"),
            }
        }
    }
}
