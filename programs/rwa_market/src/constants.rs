//! Seeds, bounds and defaults of the rwa_market program.

/// Market PDA: [MARKET_SEED, rwa_mint].
pub const MARKET_SEED: &[u8] = b"market";
/// Quote-token reserve backing the curve: [RESERVE_SEED, market].
pub const RESERVE_SEED: &[u8] = b"reserve";
/// Quote-token fee vault: [FEE_VAULT_SEED, market].
pub const FEE_VAULT_SEED: &[u8] = b"fee_vault";
/// Price oracle ring buffer: [ORACLE_SEED, market].
pub const ORACLE_SEED: &[u8] = b"oracle";

/// Layout version written into new markets.
pub const MARKET_VERSION: u8 = 1;
/// Highest trading fee a market may charge (10%).
pub const MAX_FEE_BPS: u16 = 1_000;
/// Checkpoints kept by the oracle's ring (they always span the TWAP window: see PriceOracle).
pub const ORACLE_CAPACITY: usize = 64;
/// Bounds on the TWAP window (slots). ~400 ms slots: 1 slot to ~5.5 days.
pub const MIN_TWAP_WINDOW_SLOTS: u64 = 1;
pub const MAX_TWAP_WINDOW_SLOTS: u64 = 1_200_000;
/// Bounds on the EWMA decay per slot (bps): 0.5 to 0.9999 (a memory of 2 to 10,000 slots).
pub const MIN_EWMA_LAMBDA_BPS: u16 = 5_000;
pub const MAX_EWMA_LAMBDA_BPS: u16 = 9_999;

pub const MAX_NAME_LEN: usize = 32;
pub const MAX_SYMBOL_LEN: usize = 10;
pub const MAX_URI_LEN: usize = 200;

/// Maker PDA: [MAKER_SEED, market, owner].
pub const MAKER_SEED: &[u8] = b"maker";
/// Maker inventory vaults: [MAKER_RWA_SEED | MAKER_QUOTE_SEED, maker].
pub const MAKER_RWA_SEED: &[u8] = b"maker_rwa";
pub const MAKER_QUOTE_SEED: &[u8] = b"maker_quote";
/// Band around the curve's spot that maker quotes must respect (bps): new markets start at
/// 10%; the authority may set 0.1%..50%, and the RuleSet's `max_quote_band_bps` tightens it.
pub const DEFAULT_QUOTE_BAND_BPS: u16 = 1_000;
pub const MIN_QUOTE_BAND_BPS: u16 = rwa_rules::MIN_QUOTE_BAND_BPS;
pub const MAX_QUOTE_BAND_BPS: u16 = rwa_rules::MAX_QUOTE_BAND_BPS;
/// Longest a quote may stay live (~1 hour of 400 ms slots); the DAO's RuleSet can tighten it later.
pub const MAX_QUOTE_LIFETIME_SLOTS: u64 = 9_000;

/// Primary market at NAV: [NAV_SEED, market], [PARTICIPANT_SEED, market, wallet],
/// [SUBSCRIPTION_VAULT_SEED | REDEMPTION_VAULT_SEED, market].
pub const NAV_SEED: &[u8] = b"nav";
pub const PARTICIPANT_SEED: &[u8] = b"participant";
pub const SUBSCRIPTION_VAULT_SEED: &[u8] = b"subscriptions";
pub const REDEMPTION_VAULT_SEED: &[u8] = b"redemptions";
/// Layout version of new NAV accounts.
pub const NAV_VERSION: u8 = 1;
/// Highest subscription or redemption fee (5%).
pub const MAX_PRIMARY_FEE_BPS: u16 = 500;
/// A NAV may be required fresh within 1 slot up to ~1 day of 400 ms slots.
pub const MAX_NAV_STALENESS_SLOTS: u64 = 216_000;
/// The least strict confidence limit a market may set (50% of the NAV).
pub const MAX_NAV_CONFIDENCE_BPS: u16 = 5_000;
/// Redemption windows from 1 slot to ~1 week.
pub const MAX_REDEMPTION_WINDOW_SLOTS: u64 = 1_512_000;
/// Largest NAV accepted: 10^12 quote tokens per RWA token.
pub const MAX_NAV: u128 = 1_000_000_000_000 * rwa_math::SCALE;
/// EWMA decay per publication of the NAV's volatility.
pub const NAV_EWMA_LAMBDA_BPS: u16 = 9_000;
/// Largest share of a trade's fee a referrer may receive (50% of the fee).
pub const MAX_REFERRER_SHARE_BPS: u16 = 5_000;
