//! What strategies ask the shell to do. Prices are quote tokens per whole RWA token; sizes are
//! base units. The shell turns each intent into one transaction (with an intent id, persisted
//! before sending).

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Side {
    Buy,
    Sell,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Intent {
    /// Replace the agent's maker quote.
    PostQuote {
        bid_price: f64,
        bid_size: u64,
        ask_price: f64,
        ask_size: u64,
        expiry_slot: u64,
        sequence: u64,
    },
    CancelQuote,
    /// A routed swap through live quotes and the curve with a slippage bound.
    Swap {
        side: Side,
        amount: u64,
        limit_quote: u64,
    },
    /// Buy from the makers' asks and sell to the curve (or the reverse) in one transaction, so
    /// an unprofitable fill reverts. `expected_profit` is in quote base units after fees.
    Arbitrage {
        buy_amount: u64,
        max_quote_in: u64,
        min_quote_out: u64,
        expected_profit: i64,
    },
    UpdateOracle,
    /// Arbitrage between the curve and the primary market at NAV, in one transaction: with
    /// `subscribe_first`, subscribe `amount` new tokens (paying at most `quote_limit`) and sell
    /// them to the curve for at least `min_quote_back`; otherwise buy `amount` from the curve
    /// (paying at most `quote_limit`) and redeem them for at least `min_quote_back`. Either leg
    /// falling short reverts both. `expected_profit` in quote base units after fees.
    PrimaryArbitrage {
        subscribe_first: bool,
        amount: u64,
        quote_limit: u64,
        min_quote_back: u64,
        expected_profit: i64,
    },
}

/// The intents the program would accept in the market's current state: no trade while trading is
/// halted (paused, or the circuit breaker's halt), no quote while paused; cancels and oracle
/// updates always pass. Shells apply it to every strategy's intents, so none is sent only to be
/// refused. Returns the admissible intents and how many were held back.
pub fn admissible(view: &crate::view::MarketView, intents: Vec<Intent>) -> (Vec<Intent>, usize) {
    let before = intents.len();
    let kept: Vec<Intent> = intents
        .into_iter()
        .filter(|intent| match intent {
            Intent::Swap { .. } | Intent::Arbitrage { .. } => !view.trading_halted(),
            Intent::PrimaryArbitrage { .. } => {
                !view.trading_halted() && view.primary.is_some_and(|p| p.usable)
            }
            Intent::PostQuote { .. } => !view.paused,
            _ => true,
        })
        .collect();
    let held = before - kept.len();
    (kept, held)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::market_maker::tests_support::view;

    #[test]
    fn halts_and_pauses_hold_back_what_the_program_would_refuse() {
        let quote = Intent::PostQuote {
            bid_price: 0.99,
            bid_size: 1,
            ask_price: 1.01,
            ask_size: 1,
            expiry_slot: 2_000,
            sequence: 8,
        };
        let intents = vec![
            quote.clone(),
            Intent::Swap {
                side: Side::Buy,
                amount: 10,
                limit_quote: 2,
            },
            Intent::CancelQuote,
            Intent::UpdateOracle,
        ];
        let mut market = view(1.0, 0.001, 0, 0);
        assert_eq!(admissible(&market, intents.clone()).1, 0);
        market.halted_until_slot = market.slot + 5;
        let (kept, held) = admissible(&market, intents.clone());
        assert_eq!(held, 1);
        assert!(kept.contains(&quote) && !kept.iter().any(|i| matches!(i, Intent::Swap { .. })));
        market.halted_until_slot = market.slot; // the halt ends at this slot
        assert_eq!(admissible(&market, intents.clone()).1, 0);
        market.paused = true;
        let (kept, held) = admissible(&market, intents);
        assert_eq!(held, 2);
        assert_eq!(kept, vec![Intent::CancelQuote, Intent::UpdateOracle]);
    }
}
