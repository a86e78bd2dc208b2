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
}
