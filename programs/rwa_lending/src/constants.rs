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
/// Bounds on `slots_per_year` (the default is 78,840,000 at 400 ms): a tenth to ten times it, so
/// no setting can make accrual meaningless or overflow it.
pub const MIN_SLOTS_PER_YEAR: u64 = 7_884_000;
pub const MAX_SLOTS_PER_YEAR: u64 = 788_400_000;
/// Caps on the risk terms (18-digit fixed point): annualised volatility 1,000%, rate 1,000% a
/// year, and the volatility sensitivities; every collateral's own caps must stay within them.
pub const MAX_SIGMA_CAP: u128 = 10 * rwa_math::SCALE;
pub const MAX_RATE_CAP: u128 = 10 * rwa_math::SCALE;
pub const MAX_SENSITIVITY: u128 = 100 * rwa_math::SCALE;
/// Bounds on oracle acceptance: staleness (slots, ~1 day) and Pyth age (seconds, 1 day).
pub const MAX_STALENESS_SLOTS: u64 = 216_000;
pub const MAX_PYTH_AGE_SECS: u64 = 86_400;
/// The collateral rate moves toward its target by at most this much per slot since the last
/// refresh (0.01% a year per slot), counting at most `RATE_RAMP_CAP_SLOTS` slots: a refresh
/// made during a one-slot volatility spike moves a borrower's rate by at most 1% a year.
pub const MAX_RATE_STEP_PER_SLOT: u128 = rwa_math::SCALE / 10_000;
pub const RATE_RAMP_CAP_SLOTS: u64 = 100;
