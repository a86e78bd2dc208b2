pub mod arbitrage;
pub mod cross_venue;
pub mod directional;
pub mod governance;
pub mod keeper;
pub mod market_maker;
pub mod noise;
pub mod risk_parity;
