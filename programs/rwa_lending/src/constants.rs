//! Seeds, bounds and defaults of the rwa_lending program.

/// LendingMarket PDA (one quote reserve each): [LENDING_MARKET_SEED, quote_mint, id (u64 LE)].
pub const LENDING_MARKET_SEED: &[u8] = b"lending_market";
/// Quote liquidity vault: [LIQUIDITY_VAULT_SEED, lending_market].
pub const LIQUIDITY_VAULT_SEED: &[u8] = b"liquidity";
/// Deposit share mint: [SHARE_MINT_SEED, lending_market].
pub const SHARE_MINT_SEED: &[u8] = b"shares";
/// Correlation matrix of the collateral assets: [RISK_SEED, lending_market].
pub const RISK_SEED: &[u8] = b"risk";
/// CollateralConfig: [COLLATERAL_SEED, lending_market, rwa_market].
pub const COLLATERAL_SEED: &[u8] = b"collateral";
/// Collateral vault: [COLLATERAL_VAULT_SEED, collateral_config].
pub const COLLATERAL_VAULT_SEED: &[u8] = b"collateral_vault";
/// Obligation: [OBLIGATION_SEED, lending_market, owner].
pub const OBLIGATION_SEED: &[u8] = b"obligation";

/// Collateral assets per lending market (size of the correlation matrix).
pub const MAX_COLLATERALS: usize = 8;
/// Collateral kinds one obligation may hold.
pub const MAX_OBLIGATION_COLLATERALS: usize = 4;
pub const MAX_RESERVE_FACTOR_BPS: u16 = 5_000;
