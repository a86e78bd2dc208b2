//! The bootstrap config file (`rwa-agents bootstrap --config`, `migrations/bootstrap.toml`).

use super::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootstrapConfig {
    pub quote: QuoteConfig,
    #[serde(default, rename = "market")]
    pub markets: Vec<MarketConfig>,
    pub lending: Option<LendingConfig>,
    pub dao: Option<DaoConfigFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuoteConfig {
    /// An existing quote mint; when absent one is created with the payer as mint authority.
    pub mint: Option<String>,
    #[serde(default = "six")]
    pub decimals: u8,
    /// Minted to the payer when the mint is created here.
    #[serde(default)]
    pub mint_to_payer: u64,
}

pub(crate) fn six() -> u8 {
    6
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketConfig {
    pub symbol: String,
    pub name: String,
    #[serde(default)]
    pub uri: String,
    /// Curve JSON as in `curve quote` (numbers as strings).
    pub curve: toml::Value,
    #[serde(default = "six")]
    pub rwa_decimals: u8,
    pub max_supply: u64,
    #[serde(default)]
    pub fee_bps: u16,
    #[serde(default = "default_window")]
    pub twap_window_slots: u64,
    #[serde(default = "default_lambda")]
    pub ewma_lambda_bps: u16,
    /// RWA base units the payer buys on the curve after creation (seed supply, gives a price history).
    #[serde(default)]
    pub seed_buy: u64,
    /// A primary market at NAV, with the payer as the issuer's NAV publisher.
    pub primary: Option<PrimaryConfigFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrimaryConfigFile {
    /// The first NAV the payer attests (quote tokens per token, decimal string); "spot": the
    /// curve's spot after the seed buy.
    pub nav: String,
    #[serde(default = "default_nav_staleness")]
    pub max_staleness_slots: u64,
    #[serde(default = "default_nav_confidence")]
    pub max_confidence_bps: u16,
    #[serde(default = "default_primary_fee")]
    pub subscribe_fee_bps: u16,
    #[serde(default = "default_primary_fee")]
    pub redeem_fee_bps: u16,
    #[serde(default = "default_redemption_window")]
    pub redemption_window_slots: u64,
    pub redemption_cap_per_window: u64,
    /// Quote base units the payer puts into the redemption vault.
    #[serde(default)]
    pub redemption_funding: u64,
    /// Wallets allowed to subscribe and redeem ("payer": the bootstrap's payer). Added before a
    /// DAO takes the market authority over.
    #[serde(default)]
    pub participants: Vec<String>,
}

fn default_nav_staleness() -> u64 {
    9_000
}
fn default_nav_confidence() -> u16 {
    100
}
fn default_primary_fee() -> u16 {
    10
}
fn default_redemption_window() -> u64 {
    216_000
}

pub(crate) fn default_window() -> u64 {
    150
}
pub(crate) fn default_lambda() -> u16 {
    9_400
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LendingConfig {
    pub id: u64,
    pub reserve_factor_bps: u16,
    /// Annualised portfolio volatility cap, decimal string ("0" disables).
    pub sigma_p_cap: String,
    #[serde(default)]
    pub initial_liquidity: u64,
    pub collateral: CollateralConfigFile,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollateralConfigFile {
    pub r0: String,
    pub beta: String,
    pub gamma: String,
    pub cr_min_bps: u16,
    pub liquidation_cr_bps: u16,
    pub liquidation_bonus_bps: u16,
    pub close_factor_bps: u16,
    pub max_staleness_slots: u64,
    pub max_confidence_bps: u16,
    #[serde(default = "default_divergence")]
    pub max_divergence_bps: u16,
    #[serde(default = "default_pyth_age")]
    pub pyth_max_age_secs: u64,
    /// Cap on the annualised volatility the terms use (decimal, e.g. "5" = 500%).
    #[serde(default = "default_max_sigma")]
    pub max_sigma: String,
    /// Cap on the annual borrow rate (decimal, e.g. "3" = 300%).
    #[serde(default = "default_max_rate")]
    pub max_rate: String,
}

pub(crate) fn default_max_sigma() -> String {
    "5".into()
}
pub(crate) fn default_max_rate() -> String {
    "3".into()
}

pub(crate) fn default_divergence() -> u16 {
    500
}
pub(crate) fn default_pyth_age() -> u64 {
    60
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaoConfigFile {
    pub id: u64,
    /// Symbol of the market whose RWA token is staked.
    pub stake_market: String,
    pub voting_period_slots: u64,
    pub hold_up_slots: u64,
    pub unstake_cooldown_slots: u64,
    pub quorum_bps: u16,
    pub threshold_bps: u16,
    pub min_proposal_stake: u64,
    /// Defaults to the payer.
    pub veto_authority: Option<String>,
    #[serde(default)]
    pub attach_markets: bool,
    #[serde(default)]
    pub attach_lending: bool,
    #[serde(default)]
    pub rules: RulesFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesFile {
    #[serde(default)]
    pub max_trade_amount: u64,
    #[serde(default)]
    pub circuit_breaker_bps: u16,
    #[serde(default)]
    pub circuit_breaker_window_slots: u64,
    #[serde(default)]
    pub circuit_breaker_halt_slots: u64,
    /// Per sqrt(slot), decimal string.
    #[serde(default)]
    pub volatility_limit: Option<String>,
    #[serde(default)]
    pub min_collateral_ratio_bps: u16,
    #[serde(default)]
    pub max_quote_lifetime_slots: u64,
    pub covariance_authority: Option<String>,
    #[serde(default)]
    pub update_cadence_slots: u64,
    #[serde(default)]
    pub circuit_breaker_min_notional: u64,
    #[serde(default)]
    pub max_quote_band_bps: u16,
    /// Address that may pause the governed markets and lending (none when absent).
    #[serde(default)]
    pub guardian: Option<String>,
}

pub fn load_config(path: &Path) -> Result<BootstrapConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}
