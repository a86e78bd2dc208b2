//! A learned policy as a strategy: features of the view, the policy's action (sell a clip, hold,
//! buy a clip), and the swap for it with a slippage bound from the spot price, as the noise and
//! directional traders trade. The daemon runs it greedily (`kind = "learned"`); the simulator's
//! training loop turns its exploring actions into intents with [`intents_for`].

use crate::intent::{Intent, Side};
use crate::learning::{features, Action, Policy, Reference};
use crate::view::MarketView;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LearnedParams {
    /// Base units bought or sold per action.
    pub clip: u64,
    /// Slippage bound from the spot price.
    pub max_slippage: f64,
    /// What the agent knows beyond the view (its fair value).
    pub reference: Reference,
}

impl Default for LearnedParams {
    fn default() -> Self {
        LearnedParams {
            clip: 20_000_000,
            max_slippage: 0.05,
            reference: Reference::default(),
        }
    }
}

/// The policy's greedy action in `view`, as intents.
pub fn step(view: &MarketView, policy: &Policy, p: &LearnedParams) -> Vec<Intent> {
    let action = policy.act_greedy(&features(view, &p.reference));
    intents_for(view, action, p)
}

/// The swap for `action`: at most one clip, never more than the agent holds (sell) or can pay
/// at the limit price (buy), within the RuleSet's largest trade; nothing when that leaves zero.
pub fn intents_for(view: &MarketView, action: Action, p: &LearnedParams) -> Vec<Intent> {
    if action == Action::Hold || !(view.spot > 0.0) || !view.spot.is_finite() {
        return vec![];
    }
    let mut clip = p.clip;
    if view.rules.max_trade_amount > 0 {
        clip = clip.min(view.rules.max_trade_amount);
    }
    let notional = |amount: u64, price: f64| {
        (amount as f64 / view.token_unit() * price * view.quote_unit()) as u64
    };
    match action {
        Action::Buy => {
            let price = view.spot * (1.0 + p.max_slippage);
            let affordable =
                (view.position.quote as f64 / view.quote_unit() / price * view.token_unit()) as u64;
            let amount = clip.min(affordable);
            let limit = notional(amount, price);
            if amount == 0 || limit == 0 || limit > view.position.quote {
                return vec![];
            }
            vec![Intent::Swap {
                side: Side::Buy,
                amount,
                limit_quote: limit,
            }]
        }
        Action::Sell => {
            let amount = clip.min(view.position.rwa);
            if amount == 0 {
                return vec![];
            }
            vec![Intent::Swap {
                side: Side::Sell,
                amount,
                limit_quote: notional(amount, view.spot * (1.0 - p.max_slippage)),
            }]
        }
        Action::Hold => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learning::{Scaling, N_FEATURES};
    use crate::strategies::market_maker::tests_support::view;
    use proptest::prelude::*;

    /// Buys when the value gap is positive, sells when negative (weights on the value gap only).
    fn value_policy() -> Policy {
        let mut weights = [[0.0; N_FEATURES]; 3];
        weights[Action::Buy.index()][1] = 1.0;
        weights[Action::Sell.index()][1] = -1.0;
        Policy::Linear {
            scaling: Scaling::default(),
            weights,
        }
    }

    #[test]
    fn trades_the_policy_action_with_slippage_bounds() {
        let v = view(2.0, 0.001, 50_000_000, 1_000_000_000);
        let cheap = LearnedParams {
            reference: Reference {
                fair_value: Some(2.1),
            },
            ..LearnedParams::default()
        };
        match step(&v, &value_policy(), &cheap).as_slice() {
            [Intent::Swap {
                side: Side::Buy,
                amount,
                limit_quote,
            }] => {
                assert_eq!(*amount, 20_000_000);
                // 20 tokens at 2.0 * 1.05
                assert_eq!(*limit_quote, 42_000_000);
            }
            other => panic!("{other:?}"),
        }
        let rich = LearnedParams {
            reference: Reference {
                fair_value: Some(1.9),
            },
            ..LearnedParams::default()
        };
        match step(&v, &value_policy(), &rich).as_slice() {
            [Intent::Swap {
                side: Side::Sell,
                amount,
                limit_quote,
            }] => {
                assert_eq!(*amount, 20_000_000);
                assert_eq!(*limit_quote, 38_000_000);
            }
            other => panic!("{other:?}"),
        }
        // no fair value: no gap, the policy holds
        assert!(step(&v, &value_policy(), &LearnedParams::default()).is_empty());
        // the RuleSet's largest trade caps the clip
        let mut ruled = v.clone();
        ruled.rules.max_trade_amount = 5_000_000;
        match step(&ruled, &value_policy(), &cheap).as_slice() {
            [Intent::Swap { amount, .. }] => assert_eq!(*amount, 5_000_000),
            other => panic!("{other:?}"),
        }
    }

    proptest! {
        #[test]
        fn never_spends_or_sells_more_than_held(
            action in 0usize..3,
            rwa in 0u64..100_000_000,
            quote in 0u64..100_000_000,
            spot in 0.01f64..100.0,
            clip in 1u64..1_000_000_000,
        ) {
            let v = view(spot, 0.0, rwa, quote);
            let p = LearnedParams { clip, ..LearnedParams::default() };
            for intent in intents_for(&v, Action::from_index(action), &p) {
                match intent {
                    Intent::Swap { side: Side::Buy, limit_quote, amount } => {
                        prop_assert!(limit_quote <= quote && limit_quote > 0);
                        prop_assert!(amount > 0 && amount <= clip);
                    }
                    Intent::Swap { side: Side::Sell, amount, .. } => {
                        prop_assert!(amount <= rwa && amount > 0 && amount <= clip)
                    }
                    other => prop_assert!(false, "{:?}", other),
                }
            }
        }
    }
}
