pub mod arbitrage;
pub mod market_maker;
