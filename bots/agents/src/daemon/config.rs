//! The daemon's configuration: agents.toml, its defaults and its checks.

use super::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentsConfig {
    #[serde(default = "default_cluster")]
    pub cluster: String,
    pub keypair: Option<PathBuf>,
    /// Journal and state live here.
    #[serde(default = "default_state_dir")]
    pub state_dir: PathBuf,
    /// 0 disables /health and /metrics.
    #[serde(default)]
    pub metrics_port: u16,
    #[serde(default = "default_tick")]
    pub tick_ms: u64,
    /// Websocket endpoint for account subscriptions (default: the RPC URL with ws/wss and, for
    /// localhost, port + 1). Ticks run on every change of a watched account, and on the timer.
    #[serde(default)]
    pub ws_url: Option<String>,
    /// RPC rate limit (requests per second) for this process.
    #[serde(default = "default_rate")]
    pub max_requests_per_second: f64,
    /// Stop after this many ticks (0: run until a signal).
    #[serde(default)]
    pub max_ticks: u64,
    #[serde(default)]
    pub risk: RiskLimits,
    /// Program addresses when they are not the compiled ones (see `programs`).
    #[serde(default)]
    pub programs: Option<crate::programs::ProgramsConfig>,
    #[serde(rename = "strategy")]
    pub strategies: Vec<StrategyConfig>,
}

/// agents.toml without `cluster`: the Solana CLI config's json_rpc_url, else localnet.
pub(crate) fn default_cluster() -> String {
    crate::wallet::default_cluster()
}
pub(crate) fn default_state_dir() -> PathBuf {
    PathBuf::from("agent-state")
}
pub(crate) fn default_tick() -> u64 {
    1_000
}
pub(crate) fn default_rate() -> f64 {
    crate::chain::DEFAULT_MAX_REQUESTS_PER_SECOND
}

/// Kill switch: stop all strategies when mark-to-market PnL (quote base units) falls below
/// `-max_loss`, or more than `max_drawdown` below its peak.
#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct RiskLimits {
    pub max_loss: i64,
    pub max_drawdown: i64,
}

impl Default for RiskLimits {
    fn default() -> Self {
        RiskLimits {
            max_loss: i64::MAX,
            max_drawdown: i64::MAX,
        }
    }
}

/// What a strategy does; an unknown `kind` in agents.toml is refused when the config is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StrategyKind {
    MarketMaker,
    Arbitrage,
    /// Order flow for demos.
    Noise,
    /// Keeps the oracle fresh (and liquidates, with a lending market).
    Keeper,
    Governance,
    RiskParity,
    CrossArbitrage,
    /// An authorised participant of the market's primary market: subscribe at NAV and sell to
    /// a rich curve, or buy a cheap curve and redeem.
    ApArbitrage,
    /// A policy trained in the simulator (`rwa-agents learn`), run greedily: sell a clip, hold or
    /// buy a clip each tick.
    Learned,
}

impl StrategyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StrategyKind::MarketMaker => "market_maker",
            StrategyKind::Arbitrage => "arbitrage",
            StrategyKind::Noise => "noise",
            StrategyKind::Keeper => "keeper",
            StrategyKind::Governance => "governance",
            StrategyKind::RiskParity => "risk_parity",
            StrategyKind::CrossArbitrage => "cross_arbitrage",
            StrategyKind::ApArbitrage => "ap_arbitrage",
            StrategyKind::Learned => "learned",
        }
    }
}

impl std::fmt::Display for StrategyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct StrategyConfig {
    pub kind: StrategyKind,
    /// Name used in the journal and metrics.
    pub name: String,
    pub market: String,
    /// Market maker: inventory escrowed when its maker account is first opened.
    #[serde(default)]
    pub escrow_rwa: u64,
    #[serde(default)]
    pub escrow_quote: u64,
    #[serde(default)]
    pub quote_size: Option<u64>,
    #[serde(default)]
    pub base_half_spread: Option<f64>,
    #[serde(default)]
    pub transaction_cost: Option<u64>,
    /// The payer's quote token account to trade from (default: a new, empty one per strategy).
    #[serde(default)]
    pub quote_account: Option<String>,
    /// Noise trader seed (deterministic order flow).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Keeper: refresh the oracle when its last observation is older than this (slots).
    #[serde(default)]
    pub max_oracle_age_slots: Option<u64>,
    /// Keeper: also liquidate unhealthy obligations of this rwa_lending market when profitable.
    #[serde(default)]
    pub lending_market: Option<String>,
    /// Governance: the rule DAO to take part in, the stake-mint token account to stake from and
    /// how much to keep staked.
    #[serde(default)]
    pub dao: Option<String>,
    #[serde(default)]
    pub stake_account: Option<String>,
    #[serde(default)]
    pub stake_amount: Option<u64>,
    /// Governance: propose tighter rules above this volatility forecast (per sqrt(slot)), looser
    /// below `relax_below`.
    #[serde(default)]
    pub tighten_above: Option<f64>,
    #[serde(default)]
    pub relax_below: Option<f64>,
    /// Governance: the circuit-breaker band (bps) the agent considers normal.
    #[serde(default)]
    pub baseline_breaker_bps: Option<u16>,
    /// Risk parity: the markets of the portfolio (`market` is the first), weight caps per market,
    /// quote base units to invest beyond current holdings, drift band and schedule.
    #[serde(default)]
    pub markets: Option<Vec<String>>,
    #[serde(default)]
    pub caps: Option<Vec<f64>>,
    #[serde(default)]
    pub capital: Option<u64>,
    #[serde(default)]
    pub drift_band: Option<f64>,
    #[serde(default)]
    pub rebalance_every_slots: Option<u64>,
    /// Cross-venue arbitrage: the other venues trading the same asset (`market` is the first,
    /// on the daemon's cluster), and the delay cost charged when legs are on different clusters.
    #[serde(default)]
    pub venues: Option<Vec<VenueConfig>>,
    #[serde(default)]
    pub delay_cost_bps: Option<u32>,
    /// Learned: the policy file `rwa-agents learn` wrote (a relative path is relative to the
    /// config file's directory), base units bought or sold per action, and the slippage bound
    /// from the spot price (default 0.05).
    #[serde(default)]
    pub policy: Option<PathBuf>,
    #[serde(default)]
    pub clip: Option<u64>,
    #[serde(default)]
    pub max_slippage: Option<f64>,
    /// Learned: the policy read from `policy` when the config was loaded.
    #[serde(skip)]
    pub learned_policy: Option<Arc<rwa_agent_core::learning::Policy>>,
}

/// One more venue of a cross-venue arbitrage strategy.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct VenueConfig {
    /// Moniker or RPC URL; default: the daemon's cluster.
    #[serde(default)]
    pub cluster: Option<String>,
    pub market: String,
    /// The payer's quote token account on that cluster (default: a new, empty one).
    #[serde(default)]
    pub quote_account: Option<String>,
}

pub fn load_config(path: &std::path::Path) -> Result<AgentsConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut config: AgentsConfig =
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    // Environment overrides, for daemons run under systemd.
    if let Ok(cluster) = std::env::var("RWA_CLUSTER") {
        config.cluster = cluster;
    }
    if let Ok(keypair) = std::env::var("RWA_KEYPAIR") {
        config.keypair = Some(PathBuf::from(keypair));
    }
    config.state_dir = crate::wallet::expand_tilde(&config.state_dir);
    config.keypair = config.keypair.map(|k| crate::wallet::expand_tilde(&k));
    if config.strategies.is_empty() {
        bail!("{}: no [[strategy]] configured", path.display());
    }
    for strategy in &mut config.strategies {
        if strategy.kind == StrategyKind::CrossArbitrage
            && strategy.venues.as_ref().is_none_or(Vec::is_empty)
        {
            bail!(
                "strategy {:?}: cross_arbitrage needs at least one [[strategy.venues]] besides `market`",
                strategy.name
            );
        }
        if strategy.kind == StrategyKind::RiskParity
            && strategy.markets.as_ref().is_none_or(|m| m.len() < 2)
        {
            bail!(
                "strategy {:?}: risk_parity needs `markets` with at least two markets",
                strategy.name
            );
        }
        if strategy.kind == StrategyKind::Governance && strategy.dao.is_none() {
            bail!("strategy {:?}: governance needs `dao`", strategy.name);
        }
        if strategy.kind == StrategyKind::Learned {
            load_policy(strategy, path)?;
        }
        // Every address must parse before anything connects: a typo is named, not discovered
        // halfway through startup.
        let mut addresses: Vec<(&str, &str)> = vec![("market", strategy.market.as_str())];
        for (field, value) in [
            ("quote_account", &strategy.quote_account),
            ("lending_market", &strategy.lending_market),
            ("dao", &strategy.dao),
            ("stake_account", &strategy.stake_account),
        ] {
            if let Some(value) = value {
                addresses.push((field, value.as_str()));
            }
        }
        for market in strategy.markets.iter().flatten() {
            addresses.push(("markets", market.as_str()));
        }
        for venue in strategy.venues.iter().flatten() {
            addresses.push(("venues.market", venue.market.as_str()));
            if let Some(quote_account) = &venue.quote_account {
                addresses.push(("venues.quote_account", quote_account.as_str()));
            }
            if let Some(cluster) = &venue.cluster {
                crate::chain::cluster_url(cluster)
                    .with_context(|| format!("strategy {:?}: venues.cluster", strategy.name))?;
            }
        }
        for (field, value) in addresses {
            crate::chain::parse_address(value, field)
                .with_context(|| format!("strategy {:?}", strategy.name))?;
        }
    }
    crate::chain::cluster_url(&config.cluster).context("cluster")?;
    Ok(config)
}

/// A learned strategy's `policy`, `clip` and `max_slippage`, checked; the policy is read, parsed
/// and validated now, so a missing or malformed file stops `--check` and the daemon's start with
/// the file named.
fn load_policy(strategy: &mut StrategyConfig, config_path: &std::path::Path) -> Result<()> {
    let name = &strategy.name;
    let Some(policy) = &strategy.policy else {
        bail!(
            "strategy {name:?}: learned needs `policy` (the policy.json `rwa-agents learn` writes)"
        );
    };
    let policy = crate::wallet::expand_tilde(policy);
    let policy = if policy.is_relative() {
        config_path
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .join(policy)
    } else {
        policy
    };
    let text = std::fs::read_to_string(&policy).map_err(|e| {
        anyhow!(
            "strategy {name:?}: policy {}: cannot read it: {e}",
            policy.display()
        )
    })?;
    let parsed = rwa_agent_core::learning::Policy::from_json(&text).map_err(|e| {
        anyhow!(
            "strategy {name:?}: policy {}: not a valid policy: {e}",
            policy.display()
        )
    })?;
    match strategy.clip {
        Some(clip) if clip > 0 => {}
        _ => bail!(
            "strategy {name:?}: learned needs `clip` > 0 (base units bought or sold per action)"
        ),
    }
    if let Some(slippage) = strategy.max_slippage {
        if !(slippage > 0.0 && slippage < 1.0) {
            bail!("strategy {name:?}: `max_slippage` must be in (0, 1), not {slippage}");
        }
    }
    strategy.policy = Some(policy);
    strategy.learned_policy = Some(Arc::new(parsed));
    Ok(())
}
