//! Pure agent logic: models (covariance, ERC risk parity) and strategies that map an observed
//! [`view::MarketView`] to [`intent::Intent`]s. No I/O, no clocks, no randomness (the learning
//! agents explore with a stream their caller seeds): the daemon and the simulator feed the same
//! inputs and get the same decisions.

pub mod airdrop;
pub mod covariance;
pub mod erc;
pub mod intent;
pub mod learning;
pub mod linalg;
pub mod strategies;
pub mod valuation;
pub mod view;
