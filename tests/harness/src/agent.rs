//! Agent views and intents (from rwa-client).

pub use rwa_client::agent::*;
