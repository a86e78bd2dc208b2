pub mod arbitrage;
pub mod market_maker;
pub mod noise;
