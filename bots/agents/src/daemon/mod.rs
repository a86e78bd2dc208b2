//! `rwa-agents run --config agents.toml`: several strategies in one process. Each tick reads a
//! snapshot of each market in one batched `getMultipleAccounts` (plus the maker list), asks the
//! pure strategy for intents, journals each intent, and sends it through the pipeline. Serves
//! /health and Prometheus /metrics; on SIGINT/SIGTERM (or the kill switch) it cancels its resting
//! quotes before exiting.

pub mod journal;
pub mod pipeline;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anchor_lang::AccountDeserialize;
use anyhow::{anyhow, bail, Context, Result};
use axum::routing::get;
use axum::Router;
use rwa_agent_core::intent::{Intent, Side};
use rwa_agent_core::strategies::{arbitrage, market_maker, noise};
use rwa_agent_core::view::MarketView;
use rwa_harness::market::*;
use rwa_harness::solana_address::Address;
use rwa_harness::solana_keypair::Keypair;
use rwa_harness::solana_signer::Signer;
use rwa_harness::SolInstruction as Instruction;
use rwa_market::events::TradeSide;
use rwa_market::state::{Maker, Market};
use rwa_math::Decimal;
use serde::{Deserialize, Serialize};
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use std::collections::HashMap;

use journal::{Entry, Journal, Status};
use pipeline::{Outcome, PipelineConfig};

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
    #[serde(rename = "strategy")]
    pub strategies: Vec<StrategyConfig>,
}

fn default_cluster() -> String {
    "localnet".into()
}
fn default_state_dir() -> PathBuf {
    PathBuf::from("agent-state")
}
fn default_tick() -> u64 {
    1_000
}
fn default_rate() -> f64 {
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

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct StrategyConfig {
    /// "market_maker", "arbitrage", "noise" (order flow for demos) or "keeper" (keeps the oracle fresh).
    pub kind: String,
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
    if config.strategies.is_empty() {
        bail!("{}: no [[strategy]] configured", path.display());
    }
    for strategy in &config.strategies {
        if ![
            "market_maker",
            "arbitrage",
            "noise",
            "keeper",
            "governance",
            "risk_parity",
            "cross_arbitrage",
        ]
        .contains(&strategy.kind.as_str())
        {
            bail!("strategy {:?}: unknown kind {:?} (market_maker, arbitrage, noise, keeper, governance, risk_parity, cross_arbitrage)", strategy.name, strategy.kind);
        }
        if strategy.kind == "cross_arbitrage" && strategy.venues.as_ref().is_none_or(Vec::is_empty)
        {
            bail!(
                "strategy {:?}: cross_arbitrage needs at least one [[strategy.venues]] besides `market`",
                strategy.name
            );
        }
        if strategy.kind == "risk_parity" && strategy.markets.as_ref().is_none_or(|m| m.len() < 2) {
            bail!(
                "strategy {:?}: risk_parity needs `markets` with at least two markets",
                strategy.name
            );
        }
        if strategy.kind == "governance" && strategy.dao.is_none() {
            bail!("strategy {:?}: governance needs `dao`", strategy.name);
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

/// Counters and gauges behind /metrics.
#[derive(Default)]
pub struct Metrics {
    pub ticks: AtomicU64,
    pub intents: AtomicU64,
    pub tx_sent: AtomicU64,
    pub tx_landed: AtomicU64,
    pub tx_failed: AtomicU64,
    pub quotes_live: AtomicU64,
    pub pnl: AtomicI64,
    pub inventory: AtomicU64,
    pub last_latency_us: AtomicU64,
    pub killed: AtomicBool,
    /// Account notifications received over the websocket.
    pub ws_updates: AtomicU64,
    /// Websocket watchers started / currently subscribed / reconnection attempts.
    pub ws_expected: AtomicU64,
    pub ws_connected: AtomicU64,
    pub ws_reconnects: AtomicU64,
    /// Unix ms of the last tick in which every strategy's tick succeeded (0: none yet).
    pub last_good_tick_unix_ms: AtomicU64,
    /// Tick start to transaction landed, microseconds, every landed transaction.
    pub latencies_us: std::sync::Mutex<Vec<u64>>,
}

/// Latencies kept for the percentiles: the most recent ones.
const MAX_LATENCY_SAMPLES: usize = 10_000;

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Metrics {
    /// Liveness for `/health`: unhealthy (503) when the kill switch tripped or no tick has fully
    /// succeeded for `stale_after` (RPC down, every strategy failing); the websocket state is
    /// reported (the daemon falls back to its timer without it).
    pub fn health(&self, stale_after: Duration) -> (bool, serde_json::Value) {
        let last = self.last_good_tick_unix_ms.load(Ordering::Relaxed);
        let age_ms = if last == 0 {
            None
        } else {
            Some(unix_ms().saturating_sub(last))
        };
        let killed = self.killed.load(Ordering::Relaxed);
        let fresh = age_ms.is_some_and(|age| age <= stale_after.as_millis() as u64);
        let mut problems = Vec::new();
        if killed {
            problems.push("kill switch tripped".to_string());
        }
        if !fresh {
            problems.push(match age_ms {
                Some(age) => format!(
                    "last successful tick {age} ms ago (limit {} ms)",
                    stale_after.as_millis()
                ),
                None => "no successful tick yet".to_string(),
            });
        }
        let healthy = problems.is_empty();
        (
            healthy,
            serde_json::json!({
                "status": if healthy { "ok" } else { "unhealthy" },
                "problems": problems,
                "last_good_tick_age_ms": age_ms,
                "kill_switch": killed,
                "websocket": {
                    "watchers": self.ws_expected.load(Ordering::Relaxed),
                    "connected": self.ws_connected.load(Ordering::Relaxed),
                    "reconnects": self.ws_reconnects.load(Ordering::Relaxed),
                },
            }),
        )
    }

    /// (p50, p99) of tick-to-landed latency in microseconds.
    pub fn latency_percentiles(&self) -> Option<(u64, u64)> {
        let mut latencies = self.latencies_us.lock().ok()?.clone();
        if latencies.is_empty() {
            return None;
        }
        latencies.sort_unstable();
        let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
        Some((at(0.50), at(0.99)))
    }
}

impl Metrics {
    pub fn render(&self) -> String {
        let gauge = |name: &str, help: &str, value: String| {
            format!("# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n")
        };
        let counter = |name: &str, help: &str, value: u64| {
            format!("# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n")
        };
        [
            counter(
                "rwa_agent_ticks_total",
                "Strategy ticks run",
                self.ticks.load(Ordering::Relaxed),
            ),
            counter(
                "rwa_agent_intents_total",
                "Intents produced",
                self.intents.load(Ordering::Relaxed),
            ),
            counter(
                "rwa_agent_tx_sent_total",
                "Transactions sent",
                self.tx_sent.load(Ordering::Relaxed),
            ),
            counter(
                "rwa_agent_tx_landed_total",
                "Transactions landed",
                self.tx_landed.load(Ordering::Relaxed),
            ),
            counter(
                "rwa_agent_tx_failed_total",
                "Transactions refused or not landed",
                self.tx_failed.load(Ordering::Relaxed),
            ),
            gauge(
                "rwa_agent_quotes_live",
                "Live maker quotes of this agent",
                self.quotes_live.load(Ordering::Relaxed).to_string(),
            ),
            gauge(
                "rwa_agent_pnl_quote_units",
                "Mark-to-market PnL since start, quote base units",
                self.pnl.load(Ordering::Relaxed).to_string(),
            ),
            gauge(
                "rwa_agent_inventory_base_units",
                "RWA held across strategies, base units",
                self.inventory.load(Ordering::Relaxed).to_string(),
            ),
            gauge(
                "rwa_agent_tick_to_landed_us",
                "Latency of the last landed transaction from its tick",
                self.last_latency_us.load(Ordering::Relaxed).to_string(),
            ),
            gauge(
                "rwa_agent_killed",
                "1 once the kill switch fired",
                (self.killed.load(Ordering::Relaxed) as u8).to_string(),
            ),
            counter(
                "rwa_agent_ws_updates_total",
                "Account notifications received over the websocket",
                self.ws_updates.load(Ordering::Relaxed),
            ),
            gauge(
                "rwa_agent_ws_connected",
                "Websocket watchers currently subscribed",
                self.ws_connected.load(Ordering::Relaxed).to_string(),
            ),
            counter(
                "rwa_agent_ws_reconnects_total",
                "Websocket connections lost or refused, then retried",
                self.ws_reconnects.load(Ordering::Relaxed),
            ),
        ]
        .concat()
    }
}

struct Running {
    config: StrategyConfig,
    market: MarketAddresses,
    accounts: TraderAccounts,
    maker: Option<MakerAddresses>,
    mm: market_maker::MarketMakerParams,
    arb: arbitrage::ArbitrageParams,
    noise: noise::NoiseParams,
    resting_mid: Option<f64>,
    start_value: Option<i64>,
    /// Mark-to-market PnL of this strategy since start, quote base units.
    pub pnl: i64,
    /// The last quote this strategy posted (bid, ask).
    last_quote: Option<(f64, f64)>,
    pub landed: u64,
    pub refused: u64,
    oracle_age: u64,
    state_dir: PathBuf,
    /// Governance: EWMA volatility forecast.
    forecast: f64,
    /// Risk parity: each market with the agent's RWA token account...
    portfolio: Vec<(MarketAddresses, Address)>,
    /// ...and the targets held between scheduled re-estimations, the last rebalance slot.
    schedule: rwa_agent_core::strategies::risk_parity::Schedule,
    invested: u64,
    /// Risk parity: the portfolio's RWA holdings at the oracle TWAP, quote base units.
    holdings_value: f64,
    /// Cross-venue arbitrage: the other venues, each with its own client and cluster id (0 is
    /// the daemon's cluster; venues on one cluster share an id and can trade atomically).
    venues: Vec<(Arc<RpcClient>, u32, Running)>,
    /// Maker PDAs by owner (derived once: a derivation is curve arithmetic, on every tick).
    maker_addresses: std::collections::HashMap<Address, MakerAddresses>,
}

async fn account<T: AccountDeserialize>(rpc: &RpcClient, address: &Address) -> Result<T> {
    let account = rpc
        .get_account(address)
        .await
        .with_context(|| format!("fetching {address}"))?;
    T::try_deserialize(&mut account.data.as_slice()).map_err(|e| anyhow!("decoding {address}: {e}"))
}

async fn token_balance(rpc: &RpcClient, address: &Address) -> u64 {
    use rwa_harness::solana_program_pack::Pack;
    match rpc.get_account(address).await {
        Ok(account) => anchor_spl::token::spl_token::state::Account::unpack(&account.data)
            .map(|a| a.amount)
            .unwrap_or(0),
        Err(_) => 0,
    }
}

/// One batched read: market, oracle, the agent's maker; then the maker list and balances.
async fn snapshot(
    rpc: &RpcClient,
    running: &mut Running,
) -> Result<(MarketView, Vec<MakerAddresses>)> {
    let accounts = rpc
        .get_multiple_accounts(&[running.market.market, running.market.oracle])
        .await?;
    let market: Market = Market::try_deserialize(
        &mut accounts[0]
            .as_ref()
            .ok_or_else(|| anyhow!("market missing"))?
            .data
            .as_slice(),
    )
    .map_err(|e| anyhow!("{e}"))?;
    let oracle_data = &accounts[1]
        .as_ref()
        .ok_or_else(|| anyhow!("oracle missing"))?
        .data;
    let oracle = crate::chain::decode_oracle(oracle_data, &running.market.oracle)?;
    let slot = rpc.get_slot().await?;
    let makers = crate::chain::fetch_market(rpc, &running.market.market)
        .await?
        .makers;
    running.oracle_age = oracle
        .latest()
        .map(|o| slot.saturating_sub(o.slot))
        .unwrap_or(u64::MAX);
    let market_address = running.market.market;
    let maker_addresses = makers
        .iter()
        .map(|(_, maker)| {
            *running
                .maker_addresses
                .entry(maker.owner)
                .or_insert_with(|| MakerAddresses::derive(&market_address, &maker.owner))
        })
        .collect();
    // The agent's own maker, if open, is among the market's makers (market_view finds it there).
    let holder = rwa_harness::agent::Holder {
        own_maker: running.maker.map(|m| m.maker),
        wallet_rwa: token_balance(rpc, &running.accounts.rwa_account).await,
        wallet_quote: token_balance(rpc, &running.accounts.quote_account).await,
        resting_mid: running.resting_mid,
    };
    let rules = crate::chain::fetch_rules(rpc, &market.rule_set).await?;
    let view = rwa_harness::agent::market_view(slot, &market, &oracle, &makers, holder, rules)
        .map_err(|e| anyhow!("{e}"))?;
    Ok((view, maker_addresses))
}

async fn token_account_for(
    rpc: &RpcClient,
    payer: &Keypair,
    mint: &Address,
    state_dir: &std::path::Path,
    name: &str,
) -> Result<Address> {
    // One token account per (strategy, mint), remembered in the state dir so restarts reuse it.
    let path = state_dir.join(format!("{name}-{mint}.account"));
    if let Ok(text) = std::fs::read_to_string(&path) {
        if let Ok(address) = text.trim().parse::<Address>() {
            if rpc.get_account(&address).await.is_ok() {
                return Ok(address);
            }
        }
    }
    let account = Keypair::new();
    let instructions = crate::chain::new_token_account_ixs(
        rpc,
        &payer.pubkey(),
        &account.pubkey(),
        mint,
        &payer.pubkey(),
    )
    .await?;
    match pipeline::send(
        rpc,
        payer,
        &[&account],
        &instructions,
        &PipelineConfig::default(),
        &mut pipeline::unjournaled,
    )
    .await?
    {
        Outcome::Landed(_) => {}
        Outcome::Refused(reason) => bail!("creating a token account for {mint}: {reason}"),
    }
    std::fs::write(&path, account.pubkey().to_string())?;
    Ok(account.pubkey())
}

/// The market's addresses and the agent's token accounts for it (created on first use).
async fn trader_accounts(
    rpc: &RpcClient,
    payer: &Keypair,
    market_text: &str,
    quote_account: Option<&str>,
    state_dir: &std::path::Path,
    name: &str,
) -> Result<(MarketAddresses, TraderAccounts)> {
    let market_address = crate::chain::parse_address(market_text, "strategy market")?;
    let market: Market = account(rpc, &market_address).await?;
    let mut addresses = MarketAddresses::derive(market.rwa_mint, market.quote_mint);
    if addresses.market != market_address {
        bail!("{market_address} is not a canonical rwa_market market");
    }
    if market.rule_set != Address::default() {
        addresses.rule_set = Some(market.rule_set);
    }
    let rwa_account = token_account_for(rpc, payer, &market.rwa_mint, state_dir, name).await?;
    let quote_account = match quote_account {
        Some(text) => crate::chain::parse_address(text, "strategy quote_account")?,
        None => token_account_for(rpc, payer, &market.quote_mint, state_dir, name).await?,
    };
    let accounts = TraderAccounts {
        trader: payer.pubkey(),
        rwa_account,
        quote_account,
    };
    Ok((addresses, accounts))
}

impl Running {
    fn new(
        config: &StrategyConfig,
        market: MarketAddresses,
        accounts: TraderAccounts,
        state_dir: &std::path::Path,
    ) -> Running {
        Running {
            config: config.clone(),
            market,
            accounts,
            maker: None,
            mm: market_maker::MarketMakerParams::default(),
            arb: arbitrage::ArbitrageParams::default(),
            noise: noise::NoiseParams::default(),
            resting_mid: None,
            start_value: None,
            pnl: 0,
            last_quote: None,
            landed: 0,
            refused: 0,
            oracle_age: 0,
            state_dir: state_dir.to_path_buf(),
            forecast: 0.0,
            portfolio: Vec::new(),
            schedule: Default::default(),
            invested: 0,
            holdings_value: 0.0,
            venues: Vec::new(),
            maker_addresses: Default::default(),
        }
    }
}

async fn prepare(
    rpc: &RpcClient,
    payer: &Keypair,
    config: &StrategyConfig,
    cluster: &str,
    max_requests_per_second: f64,
    state_dir: &std::path::Path,
) -> Result<Running> {
    let (addresses, accounts) = trader_accounts(
        rpc,
        payer,
        &config.market,
        config.quote_account.as_deref(),
        state_dir,
        &config.name,
    )
    .await?;
    let market_address = addresses.market;
    let mut mm = market_maker::MarketMakerParams::default();
    if let Some(size) = config.quote_size {
        mm.quote_size = size;
    }
    if let Some(spread) = config.base_half_spread {
        mm.base_half_spread = spread;
    }
    mm.target_inventory = config.escrow_rwa / 2;
    mm.max_inventory = config.escrow_rwa.saturating_mul(2).max(mm.quote_size);
    let mut arb = arbitrage::ArbitrageParams::default();
    if let Some(cost) = config.transaction_cost {
        arb.transaction_cost = cost;
    }
    let maker = if config.kind == "market_maker" {
        let maker = MakerAddresses::derive(&market_address, &payer.pubkey());
        if rpc.get_account(&maker.maker).await.is_err() {
            // Buy the inventory on the market, then open the maker and escrow it.
            let mut instructions = Vec::new();
            if config.escrow_rwa > 0 {
                instructions.push(swap_ix(
                    &addresses,
                    &accounts,
                    TradeSide::Buy,
                    SwapKind::ExactOut {
                        amount_out: config.escrow_rwa,
                        max_amount_in: u64::MAX,
                    },
                    &[],
                ));
            }
            instructions.push(open_maker_ix(&addresses, &maker));
            instructions.push(maker_inventory_ix(
                &addresses,
                &maker,
                &accounts,
                true,
                config.escrow_rwa,
                config.escrow_quote,
            ));
            match pipeline::send(
                rpc,
                payer,
                &[],
                &instructions,
                &PipelineConfig::default(),
                &mut pipeline::unjournaled,
            )
            .await?
            {
                Outcome::Landed(_) => {}
                Outcome::Refused(reason) => {
                    bail!("opening the maker for {}: {reason}", config.name)
                }
            }
        }
        Some(maker)
    } else {
        None
    };
    if config.kind == "governance" {
        ensure_stake(rpc, payer, config).await?;
    }
    let mut portfolio = Vec::new();
    if config.kind == "risk_parity" {
        for text in config.markets.clone().unwrap_or_default() {
            let address = crate::chain::parse_address(&text, "risk_parity market")?;
            let state: Market = account(rpc, &address).await?;
            let mut m = MarketAddresses::derive(state.rwa_mint, state.quote_mint);
            if state.rule_set != Address::default() {
                m.rule_set = Some(state.rule_set);
            }
            let rwa =
                token_account_for(rpc, payer, &state.rwa_mint, state_dir, &config.name).await?;
            portfolio.push((m, rwa));
        }
    }
    let mut venues = Vec::new();
    if config.kind == "cross_arbitrage" {
        let home = crate::chain::cluster_url(cluster)?;
        let mut clusters = vec![home];
        for (index, venue) in config.venues.clone().unwrap_or_default().iter().enumerate() {
            let url = crate::chain::cluster_url(venue.cluster.as_deref().unwrap_or(cluster))?;
            let id = match clusters.iter().position(|known| *known == url) {
                Some(id) => id,
                None => {
                    clusters.push(url.clone());
                    clusters.len() - 1
                }
            };
            let venue_rpc = Arc::new(crate::chain::client_with_rate(
                &url,
                max_requests_per_second,
            )?);
            let (market, accounts) = trader_accounts(
                &venue_rpc,
                payer,
                &venue.market,
                venue.quote_account.as_deref(),
                state_dir,
                &format!("{}-venue{}", config.name, index + 1),
            )
            .await
            .with_context(|| format!("preparing venue {} of {}", index + 1, config.name))?;
            let running = Running::new(config, market, accounts, state_dir);
            venues.push((venue_rpc, id as u32, running));
        }
    }
    let mut running = Running::new(config, addresses, accounts, state_dir);
    running.maker = maker;
    running.mm = mm;
    running.arb = arb;
    running.noise = noise::NoiseParams {
        seed: config.seed.unwrap_or(7),
        ..noise::NoiseParams::default()
    };
    running.portfolio = portfolio;
    running.venues = venues;
    Ok(running)
}

async fn tick(
    rpc: &RpcClient,
    payer: &Keypair,
    running: &mut Running,
    journal: &mut Journal,
    metrics: &Metrics,
) -> Result<()> {
    let started = std::time::Instant::now();
    let (view, makers) = snapshot(rpc, running).await?;
    let intents = match running.config.kind.as_str() {
        "market_maker" => market_maker::step(&view, &running.mm),
        "noise" => noise::step(&view, &running.noise),
        "governance" | "risk_parity" | "cross_arbitrage" => vec![],
        "keeper" => {
            let limit = running.config.max_oracle_age_slots.unwrap_or(150);
            if running.oracle_age > limit {
                vec![Intent::UpdateOracle]
            } else {
                vec![]
            }
        }
        _ => arbitrage::step(&view, &running.arb),
    };
    // Nothing the program would refuse in the market's current state (halt, pause).
    let (intents, held) = rwa_agent_core::intent::admissible(&view, intents);
    if held > 0 {
        tracing::info!(strategy = %running.config.name, held, paused = view.paused, halted_until = view.halted_until_slot, "intents held back: trading halted");
    }
    if running.config.kind == "cross_arbitrage" {
        if let Err(error) =
            cross_arbitrage(rpc, payer, running, journal, metrics, &view, &makers).await
        {
            tracing::warn!(strategy = %running.config.name, "cross arbitrage: {error:#}");
        }
    }
    if running.config.kind == "risk_parity" {
        if let Err(error) = rebalance(rpc, payer, running, journal, metrics, view.slot).await {
            tracing::warn!(strategy = %running.config.name, "risk parity: {error:#}");
        }
    }
    if running.config.kind == "governance" {
        if let Err(error) = govern(
            rpc,
            payer,
            running,
            journal,
            metrics,
            view.volatility,
            view.slot,
        )
        .await
        {
            tracing::warn!(strategy = %running.config.name, "governance: {error:#}");
        }
    }
    if running.config.kind == "keeper" {
        if let Some(lending_market) = running.config.lending_market.clone() {
            if let Err(error) = keeper_liquidations(
                rpc,
                payer,
                running,
                journal,
                metrics,
                &lending_market,
                view.slot,
            )
            .await
            {
                tracing::warn!(strategy = %running.config.name, "keeper: liquidation scan failed: {error:#}");
            }
        }
    }
    // Mark-to-market at the TWAP for the kill switch (a portfolio: every market it holds).
    let rwa_value = if running.config.kind == "risk_parity" {
        running.holdings_value
    } else {
        view.position.rwa as f64 / view.token_unit() * view.twap * view.quote_unit()
    };
    let value = view.position.quote as i64 + rwa_value as i64;
    let start = *running.start_value.get_or_insert(value);
    running.pnl = value - start;
    metrics.pnl.store(value - start, Ordering::Relaxed);
    metrics
        .inventory
        .store(view.position.rwa, Ordering::Relaxed);
    metrics.quotes_live.store(
        view.live_quotes().filter(|q| q.own).count() as u64,
        Ordering::Relaxed,
    );
    for (index, intent) in intents.iter().enumerate() {
        let id = format!(
            "{}:{}:{}:{}",
            running.config.name,
            view.slot,
            index,
            serde_json::to_string(intent)?
        );
        if journal.get(&id).is_some() {
            continue; // already sent by an earlier run: never twice
        }
        let instructions = rwa_harness::agent::instructions_for(
            intent,
            &running.market,
            &running.accounts,
            running.maker,
            &makers,
        );
        if instructions.is_empty() {
            continue;
        }
        metrics.intents.fetch_add(1, Ordering::Relaxed);
        let entry = Entry {
            id: id.clone(),
            strategy: running.config.name.clone(),
            intent: serde_json::to_value(intent)?,
            status: Status::Pending,
        };
        metrics.tx_sent.fetch_add(1, Ordering::Relaxed);
        match send_journaled(rpc, payer, journal, entry, &instructions).await {
            Ok(Outcome::Landed(_)) => {
                metrics.tx_landed.fetch_add(1, Ordering::Relaxed);
                running.landed += 1;
                tracing::info!(strategy = %running.config.name, %id, "landed");
                let latency = started.elapsed().as_micros() as u64;
                metrics.last_latency_us.store(latency, Ordering::Relaxed);
                if let Ok(mut latencies) = metrics.latencies_us.lock() {
                    if latencies.len() >= MAX_LATENCY_SAMPLES {
                        latencies.drain(..MAX_LATENCY_SAMPLES / 2);
                    }
                    latencies.push(latency);
                }
                if let Intent::PostQuote {
                    bid_price,
                    ask_price,
                    ..
                } = intent
                {
                    running.resting_mid = Some((bid_price + ask_price) / 2.0);
                    running.last_quote = Some((*bid_price, *ask_price));
                }
                if let Intent::CancelQuote = intent {
                    running.resting_mid = None;
                }
            }
            Ok(Outcome::Refused(reason)) => {
                tracing::info!(strategy = %running.config.name, %id, %reason, "refused");
                metrics.tx_failed.fetch_add(1, Ordering::Relaxed);
                running.refused += 1;
            }
            Err(error) => {
                // Signed and possibly on chain, but not settled (the RPC is failing): the entry
                // stays `Sent` and the next start settles it. Nothing more this tick.
                tracing::warn!(strategy = %running.config.name, %id, "send not settled: {error:#}");
                metrics.tx_failed.fetch_add(1, Ordering::Relaxed);
                running.refused += 1;
                return Err(error);
            }
        }
    }
    Ok(())
}

/// Runs the configured strategies until `stop` is set, `max_ticks` is reached or the kill switch
/// fires; then cancels resting quotes. Returns the metrics.
/// Per-strategy results of a run.
#[derive(Clone, Debug)]
pub struct StrategySummary {
    pub name: String,
    pub landed: u64,
    pub refused: u64,
    pub pnl: i64,
    /// The last (bid, ask) a market maker posted.
    pub last_quote: Option<(f64, f64)>,
    /// Why this strategy's quote may still be resting after shutdown (`None`: none is).
    pub quote_left_resting: Option<String>,
}

/// Exit status of `rwa-agents run` when the kill switch tripped, or is latched from an earlier
/// trip: the systemd unit lists it in `RestartPreventExitStatus`, so a daemon that lost too much
/// is not restarted with a fresh PnL baseline.
pub const EXIT_KILL_SWITCH: i32 = 3;

/// The kill switch tripped (now or in an earlier run whose latch file is still there).
#[derive(Debug)]
pub struct KillSwitchLatched {
    pub latch: std::path::PathBuf,
    pub details: String,
}

impl std::fmt::Display for KillSwitchLatched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "kill switch tripped ({}); review the positions, then delete {} to run again",
            self.details,
            self.latch.display()
        )
    }
}

impl std::error::Error for KillSwitchLatched {}

/// What survives a restart besides the journal: each strategy's PnL baseline (so a restart does
/// not forgive earlier losses) and the PnL peak the drawdown limit measures from.
#[derive(Debug, Default, Serialize, Deserialize)]
struct RiskState {
    baselines: HashMap<String, i64>,
    peak: i64,
}

fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let temporary = path.with_extension("tmp");
    {
        let mut file = std::fs::File::create(&temporary)
            .with_context(|| format!("writing {}", temporary.display()))?;
        std::io::Write::write_all(&mut file, bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&temporary, path).with_context(|| format!("writing {}", path.display()))
}

pub async fn run_with_summary(
    config: AgentsConfig,
    payer: Keypair,
    stop: Arc<AtomicBool>,
) -> Result<(Arc<Metrics>, Vec<StrategySummary>)> {
    let rpc = crate::chain::client_with_rate(&config.cluster, config.max_requests_per_second)?;
    std::fs::create_dir_all(&config.state_dir)
        .with_context(|| format!("creating {}", config.state_dir.display()))?;
    let latch = config.state_dir.join("kill-switch.json");
    if let Ok(text) = std::fs::read_to_string(&latch) {
        return Err(KillSwitchLatched {
            latch,
            details: format!("latched by an earlier run: {}", text.trim()),
        }
        .into());
    }
    let risk_path = config.state_dir.join("risk-state.json");
    let mut risk_state: RiskState = match std::fs::read(&risk_path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a risk state file", risk_path.display()))?,
        Err(_) => RiskState::default(),
    };
    let mut journal = Journal::open(&config.state_dir.join("intents.jsonl"))?;
    let metrics = Arc::new(Metrics::default());
    if config.metrics_port != 0 {
        let served = metrics.clone();
        let health = metrics.clone();
        // Stale after ten ticks, and never sooner than 10 s (slow RPC, long ticks).
        let stale_after = Duration::from_millis((config.tick_ms * 10).max(10_000));
        let router = Router::new()
            .route(
                "/health",
                get(move || {
                    let health = health.clone();
                    async move {
                        let (healthy, body) = health.health(stale_after);
                        let code = if healthy {
                            axum::http::StatusCode::OK
                        } else {
                            axum::http::StatusCode::SERVICE_UNAVAILABLE
                        };
                        (code, axum::Json(body))
                    }
                }),
            )
            .route(
                "/metrics",
                get(move || {
                    let served = served.clone();
                    async move { served.render() }
                }),
            );
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.metrics_port))
            .await
            .with_context(|| format!("binding metrics port {}", config.metrics_port))?;
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
    }
    // Intents a previous run left in flight: settle them against the chain before anything new is
    // sent. A `Sent` one may have landed (or may still land until its blockhash expires); a
    // `Pending` one was never signed, so it cannot be on chain.
    for entry in journal.in_flight() {
        let status = match &entry.status {
            Status::Sent {
                signature,
                last_valid_block_height,
            } => match pipeline::settle(&rpc, signature, *last_valid_block_height).await? {
                Outcome::Landed(signature) => Status::Landed { signature },
                Outcome::Refused(reason) => Status::Failed { reason },
            },
            _ => Status::Failed {
                reason: "never sent: the previous run stopped before signing it".into(),
            },
        };
        tracing::info!(id = %entry.id, ?status, "settled an intent left in flight");
        journal.record(Entry { status, ..entry })?;
    }
    let mut running = Vec::new();
    for strategy in &config.strategies {
        running.push(
            prepare(
                &rpc,
                &payer,
                strategy,
                &config.cluster,
                config.max_requests_per_second,
                &config.state_dir,
            )
            .await?,
        );
    }
    // Watch the strategies' markets, oracles and makers: a change wakes the loop before the timer.
    let wake = Arc::new(tokio::sync::Notify::new());
    let mut watched: Vec<Address> = Vec::new();
    for strategy in &running {
        watched.push(strategy.market.market);
        watched.push(strategy.market.oracle);
        if let Some(maker) = strategy.maker {
            watched.push(maker.maker);
        }
    }
    let ws_url = match &config.ws_url {
        Some(url) => url.clone(),
        None => websocket_url(&crate::chain::cluster_url(&config.cluster)?),
    };
    let mut subscribers = vec![tokio::spawn(watch(
        ws_url,
        watched,
        wake.clone(),
        metrics.clone(),
    ))];
    // Venues on other clusters: one subscription per cluster for their markets and oracles.
    let mut remote: std::collections::BTreeMap<String, Vec<Address>> = Default::default();
    for strategy in &running {
        for (venue_rpc, cluster, venue) in &strategy.venues {
            if *cluster != 0 {
                remote
                    .entry(websocket_url(&venue_rpc.url()))
                    .or_default()
                    .extend([venue.market.market, venue.market.oracle]);
            }
        }
    }
    for (url, accounts) in remote {
        subscribers.push(tokio::spawn(watch(
            url,
            accounts,
            wake.clone(),
            metrics.clone(),
        )));
    }
    for strategy in running.iter_mut() {
        strategy.start_value = risk_state.baselines.get(&strategy.config.name).copied();
    }
    let mut peak = risk_state.peak;
    let mut tripped: Option<String> = None;
    let mut ticks = 0u64;
    while !stop.load(Ordering::Relaxed) && (config.max_ticks == 0 || ticks < config.max_ticks) {
        ticks += 1;
        metrics.ticks.fetch_add(1, Ordering::Relaxed);
        let mut all_ticked = true;
        for strategy in running.iter_mut() {
            if let Err(error) = tick(&rpc, &payer, strategy, &mut journal, &metrics).await {
                tracing::warn!(strategy = %strategy.config.name, "tick failed: {error:#}");
                all_ticked = false;
            }
        }
        if all_ticked {
            metrics
                .last_good_tick_unix_ms
                .store(unix_ms(), Ordering::Relaxed);
        }
        let total_pnl: i64 = running.iter().map(|s| s.pnl).sum();
        metrics.pnl.store(total_pnl, Ordering::Relaxed);
        // Baselines and the peak outlive the process: a restart neither resets losses nor
        // the drawdown reference.
        let mut changed = total_pnl > peak;
        peak = peak.max(total_pnl);
        for strategy in &running {
            if let Some(value) = strategy.start_value {
                if risk_state.baselines.get(&strategy.config.name) != Some(&value) {
                    risk_state
                        .baselines
                        .insert(strategy.config.name.clone(), value);
                    changed = true;
                }
            }
        }
        if changed {
            risk_state.peak = peak;
            write_atomically(&risk_path, &serde_json::to_vec(&risk_state)?)?;
        }
        if total_pnl < -config.risk.max_loss || peak - total_pnl > config.risk.max_drawdown {
            let details = format!(
                "PnL {total_pnl} (peak {peak}) against max_loss {} and max_drawdown {}",
                config.risk.max_loss, config.risk.max_drawdown
            );
            // Latched before anything else: a crash from here on still will not restart it.
            write_atomically(
                &latch,
                serde_json::json!({ "tick": ticks, "pnl": total_pnl, "peak": peak, "max_loss": config.risk.max_loss, "max_drawdown": config.risk.max_drawdown })
                    .to_string()
                    .as_bytes(),
            )?;
            tripped = Some(details);
            tracing::error!(
                total_pnl,
                peak,
                "kill switch: PnL breaches the limits; stopping"
            );
            metrics.killed.store(true, Ordering::Relaxed);
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(config.tick_ms)) => {}
            _ = wake.notified() => {
                // Coalesce bursts: a change wakes us early, but not more often than every tick/5.
                tokio::time::sleep(Duration::from_millis(config.tick_ms / 5)).await;
            }
        }
    }
    for subscriber in &subscribers {
        subscriber.abort();
    }
    // Graceful shutdown: no quote is left resting, and what could not be cancelled is reported.
    let mut left_resting: HashMap<String, String> = HashMap::new();
    for strategy in &running {
        let Some(maker) = strategy.maker else {
            continue;
        };
        let problem = match account::<Maker>(&rpc, &maker.maker).await {
            Ok(state) if state.bid_size > 0 || state.ask_size > 0 => {
                match pipeline::send(
                    &rpc,
                    &payer,
                    &[],
                    &[cancel_quote_ix(&strategy.market, &maker)],
                    &PipelineConfig::default(),
                    &mut pipeline::unjournaled,
                )
                .await
                {
                    Ok(Outcome::Landed(_)) => None,
                    Ok(Outcome::Refused(reason)) => Some(format!("cancel refused: {reason}")),
                    Err(error) => Some(format!("cancel not confirmed: {error:#}")),
                }
            }
            Ok(_) => None,
            Err(error) => Some(format!("maker account unreadable: {error:#}")),
        };
        if let Some(problem) = problem {
            tracing::error!(strategy = %strategy.config.name, maker = %maker.maker, %problem, "quote may be left resting");
            left_resting.insert(strategy.config.name.clone(), problem);
        }
    }
    let summary = running
        .iter()
        .map(|s| StrategySummary {
            name: s.config.name.clone(),
            landed: s.landed,
            refused: s.refused,
            pnl: s.pnl,
            last_quote: s.last_quote,
            quote_left_resting: left_resting.remove(&s.config.name),
        })
        .collect();
    if let Some(details) = tripped {
        tracing::error!(latch = %latch.display(), "kill switch latched: {details}");
    }
    Ok((metrics, summary))
}

/// `rwa-agents status`: each strategy's market, maker quote and inventory, and the journal totals.
pub async fn status(config: &AgentsConfig, owner: &Address) -> Result<serde_json::Value> {
    let rpc = crate::chain::client_with_rate(&config.cluster, config.max_requests_per_second)?;
    let journal = Journal::open(&config.state_dir.join("intents.jsonl"))?;
    let (landed, failed, in_flight) = journal.totals();
    let slot = rpc.get_slot().await?;
    let mut strategies = Vec::new();
    for strategy in &config.strategies {
        let market_address = crate::chain::parse_address(&strategy.market, "strategy market")?;
        let market: Market = account(&rpc, &market_address).await?;
        let maker = MakerAddresses::derive(&market_address, owner);
        let maker_state = account::<Maker>(&rpc, &maker.maker).await.ok();
        strategies.push(serde_json::json!({
            "name": strategy.name,
            "kind": strategy.kind,
            "market": strategy.market,
            "symbol": market.symbol,
            "spot_price": market.spot_price().map(|p| p.to_string()).unwrap_or_default(),
            "maker": maker_state.as_ref().map(|m| serde_json::json!({
                "address": maker.maker.to_string(),
                "live": m.is_live(slot),
                "sequence": m.sequence,
                "bid": Decimal::from_raw(m.bid_price).to_string(),
                "bid_size": m.bid_size,
                "ask": Decimal::from_raw(m.ask_price).to_string(),
                "ask_size": m.ask_size,
                "rwa_inventory": m.rwa_inventory,
                "quote_inventory": m.quote_inventory,
            })),
        }));
    }
    Ok(serde_json::json!({
        "slot": slot,
        "owner": owner.to_string(),
        "journal": { "landed": landed, "failed": failed, "in_flight": in_flight },
        "strategies": strategies,
    }))
}

/// The websocket URL a validator serves next to `rpc_url`.
pub fn websocket_url(rpc_url: &str) -> String {
    let ws = rpc_url
        .replacen("https://", "wss://", 1)
        .replacen("http://", "ws://", 1);
    // Local validators (and the embedded localnet) serve websocket on the RPC port + 1.
    if let Some((prefix, port)) = ws.rsplit_once(':') {
        if let Ok(port) = port.trim_end_matches('/').parse::<u16>() {
            if prefix.contains("127.0.0.1") || prefix.contains("localhost") {
                return format!("{prefix}:{}", port + 1);
            }
        }
    }
    ws
}

/// Subscribes to `accounts` and wakes the loop on every change; reconnects with exponential
/// backoff (0.5 s doubling to 30 s, with jitter) when the connection fails or drops. Without a
/// websocket the daemon still runs on its timer.
async fn watch(
    ws_url: String,
    accounts: Vec<Address>,
    wake: Arc<tokio::sync::Notify>,
    metrics: Arc<Metrics>,
) {
    use futures_util::StreamExt;
    // At confirmed, as the daemon reads state: the default (finalized) is ~13 s late on devnet.
    let config = solana_rpc_client_api::config::RpcAccountInfoConfig {
        commitment: Some(solana_commitment_config::CommitmentConfig::confirmed()),
        encoding: Some(solana_account_decoder_client_types::UiAccountEncoding::Base64),
        ..Default::default()
    };
    metrics.ws_expected.fetch_add(1, Ordering::Relaxed);
    let mut delay = Duration::from_millis(500);
    loop {
        match solana_pubsub_client::nonblocking::pubsub_client::PubsubClient::new(&ws_url).await {
            Ok(client) => {
                let mut streams = Vec::new();
                for account in &accounts {
                    match client
                        .account_subscribe(account, Some(config.clone()))
                        .await
                    {
                        Ok((stream, _unsubscribe)) => streams.push(stream),
                        Err(error) => tracing::warn!(%account, "accountSubscribe failed: {error}"),
                    }
                }
                if !streams.is_empty() {
                    metrics.ws_connected.fetch_add(1, Ordering::Relaxed);
                    delay = Duration::from_millis(500);
                    let mut merged = futures_util::stream::select_all(streams);
                    while merged.next().await.is_some() {
                        metrics.ws_updates.fetch_add(1, Ordering::Relaxed);
                        wake.notify_one();
                    }
                    metrics.ws_connected.fetch_sub(1, Ordering::Relaxed);
                }
                tracing::warn!(%ws_url, "websocket closed; reconnecting in {delay:?}");
            }
            Err(error) => {
                tracing::warn!(%ws_url, "websocket unavailable ({error}); ticking on the timer, retrying in {delay:?}");
            }
        }
        metrics.ws_reconnects.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() as u64)
            .unwrap_or(0);
        tokio::time::sleep(delay + Duration::from_nanos(nanos % (delay.as_nanos() as u64 / 4 + 1)))
            .await;
        delay = (delay * 2).min(Duration::from_secs(30));
    }
}

/// rwa_lending accounts of `discriminator` whose `lending_market` field (at `offset`) matches.
async fn lending_accounts<T: AccountDeserialize>(
    rpc: &RpcClient,
    discriminator: &[u8],
    offset: usize,
    lending_market: &Address,
) -> Result<Vec<(Address, T)>> {
    use solana_account_decoder_client_types::UiAccountEncoding;
    use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
    use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
    let config = RpcProgramAccountsConfig {
        filters: Some(vec![
            RpcFilterType::Memcmp(Memcmp::new_base58_encoded(0, discriminator)),
            RpcFilterType::Memcmp(Memcmp::new_base58_encoded(offset, lending_market.as_ref())),
        ]),
        account_config: RpcAccountInfoConfig {
            encoding: Some(UiAccountEncoding::Base64),
            ..Default::default()
        },
        with_context: None,
        sort_results: None,
    };
    let accounts = rpc
        .get_program_ui_accounts_with_config(&rwa_lending::ID, config)
        .await?;
    let mut decoded = Vec::new();
    for (address, account) in accounts {
        let data = account
            .data
            .decode()
            .ok_or_else(|| anyhow!("{address}: undecodable"))?;
        decoded.push((
            address,
            T::try_deserialize(&mut data.as_slice()).map_err(|e| anyhow!("{address}: {e}"))?,
        ));
    }
    Ok(decoded)
}

/// The keeper's liquidation pass: scan obligations, plan with the pure keeper, and send
/// refresh + liquidate for each candidate (simulation refuses the ones healthy at fresh prices).
async fn keeper_liquidations(
    rpc: &RpcClient,
    payer: &Keypair,
    running: &mut Running,
    journal: &mut Journal,
    metrics: &Metrics,
    lending_market: &str,
    slot: u64,
) -> Result<()> {
    use anchor_lang::Discriminator;
    use rwa_agent_core::strategies::keeper;
    use rwa_harness::lending::{liquidate_ix, refresh_all, LendingAddresses};
    use rwa_lending::state::{CollateralConfig, LendingMarket, Obligation};
    let lending_address = crate::chain::parse_address(lending_market, "keeper lending_market")?;
    let lending: LendingMarket = account(rpc, &lending_address).await?;
    let mut addresses = LendingAddresses::derive(lending.quote_mint, lending.id);
    if addresses.lending_market != lending_address {
        bail!("{lending_address} is not a canonical rwa_lending market");
    }
    if lending.rule_set != Address::default() {
        addresses.rule_set = Some(lending.rule_set);
    }
    // CollateralConfig: discriminator, three one-byte fields, then lending_market.
    let configs: Vec<(Address, CollateralConfig)> = lending_accounts(
        rpc,
        CollateralConfig::DISCRIMINATOR,
        8 + 3,
        &lending_address,
    )
    .await?;
    // Obligation: discriminator, bump, then lending_market.
    let obligations: Vec<(Address, Obligation)> =
        lending_accounts(rpc, Obligation::DISCRIMINATOR, 8 + 1, &lending_address).await?;
    let mut infos: Vec<keeper::CollateralInfo> = Vec::with_capacity(configs.len());
    for (_, c) in &configs {
        // Price now: the collateral market's oracle TWAP (the config's price is from its last refresh).
        let twap = match rpc.get_account(&c.oracle).await {
            Ok(oracle) => crate::chain::decode_oracle(&oracle.data, &c.oracle)
                .ok()
                .and_then(|o| o.twap(slot))
                .map(|p| p.to_f64()),
            Err(_) => None,
        };
        infos.push(rwa_harness::agent::collateral_info(c, twap));
    }
    let config_addresses: Vec<Address> = configs.iter().map(|(address, _)| *address).collect();
    let views: Vec<keeper::ObligationView> = obligations
        .iter()
        .map(|(_, o)| rwa_harness::agent::obligation_view(o, &config_addresses))
        .collect();
    let available = token_balance(rpc, &running.accounts.quote_account).await;
    let params = keeper::KeeperParams {
        transaction_cost: running.arb.transaction_cost,
        ..keeper::KeeperParams::default()
    };
    let market_of = |config: &CollateralConfig| MarketAddresses {
        market: config.rwa_market,
        rwa_mint: config.rwa_mint,
        quote_mint: lending.quote_mint,
        reserve_vault: Address::default(),
        fee_vault: Address::default(),
        oracle: config.oracle,
        rule_set: None,
    };
    for plan in keeper::liquidations(&views, &infos, lending.quote_decimals, available, &params) {
        let (obligation_address, obligation) = &obligations[plan.obligation];
        let id = format!(
            "{}:liquidate:{obligation_address}:{slot}",
            running.config.name
        );
        if journal.get(&id).is_some() {
            continue;
        }
        let held: Vec<MarketAddresses> = obligation
            .active()
            .filter_map(|entry| {
                configs
                    .iter()
                    .find(|(address, _)| *address == entry.config)
                    .map(|(_, c)| market_of(c))
            })
            .collect();
        let (_, seized_config) = &configs[plan.collateral];
        let seized_market = market_of(seized_config);
        let rwa_account = token_account_for(
            rpc,
            payer,
            &seized_config.rwa_mint,
            &running.state_dir.clone(),
            &format!("{}-liq", running.config.name),
        )
        .await?;
        let mut instructions = refresh_all(&addresses, &obligation.owner, &held);
        instructions.push(liquidate_ix(
            &addresses,
            &payer.pubkey(),
            &obligation.owner,
            &seized_market,
            &running.accounts.quote_account,
            &rwa_account,
            plan.repay,
            1,
            &held,
        ));
        let entry = Entry {
            id: id.clone(),
            strategy: running.config.name.clone(),
            intent: serde_json::json!({ "Liquidate": { "obligation": obligation_address.to_string(), "repay": plan.repay, "expected_profit": plan.expected_profit } }),
            status: Status::Pending,
        };
        metrics.intents.fetch_add(1, Ordering::Relaxed);
        metrics.tx_sent.fetch_add(1, Ordering::Relaxed);
        match send_journaled(rpc, payer, journal, entry, &instructions).await? {
            Outcome::Landed(_) => {
                metrics.tx_landed.fetch_add(1, Ordering::Relaxed);
                running.landed += 1;
            }
            // Healthy at fresh prices (or outbid): nothing was spent.
            Outcome::Refused(_) => {
                metrics.tx_failed.fetch_add(1, Ordering::Relaxed);
                running.refused += 1;
            }
        }
    }
    Ok(())
}

/// The one send path: journal `Pending`, sign and journal `Sent` (signature, last valid block
/// height) before the first send, send and confirm, journal the outcome. When the pipeline fails
/// after signing (RPC down, ...) the transaction may still be on chain: it is settled against the
/// chain rather than guessed; if even that fails the entry stays `Sent` for the next start.
async fn send_journaled(
    rpc: &RpcClient,
    payer: &Keypair,
    journal: &mut Journal,
    entry: Entry,
    instructions: &[Instruction],
) -> Result<Outcome> {
    journal.record(entry.clone())?;
    let mut sent: Option<(String, u64)> = None;
    let result = {
        let (journal, sent, entry) = (&mut *journal, &mut sent, &entry);
        let mut on_signed = |signature: &str, last_valid: u64| -> Result<()> {
            journal.record(Entry {
                status: Status::Sent {
                    signature: signature.to_string(),
                    last_valid_block_height: last_valid,
                },
                ..entry.clone()
            })?;
            *sent = Some((signature.to_string(), last_valid));
            Ok(())
        };
        pipeline::send(
            rpc,
            payer,
            &[],
            instructions,
            &PipelineConfig::default(),
            &mut on_signed,
        )
        .await
    };
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(error) => match &sent {
            Some((signature, last_valid)) => pipeline::settle(rpc, signature, *last_valid)
                .await
                .with_context(|| format!("settling {signature} after: {error:#}"))?,
            None => Outcome::Refused(format!("not sent: {error:#}")),
        },
    };
    let status = match &outcome {
        Outcome::Landed(signature) => Status::Landed {
            signature: signature.clone(),
        },
        Outcome::Refused(reason) => Status::Failed {
            reason: reason.clone(),
        },
    };
    journal.record(Entry { status, ..entry })?;
    Ok(outcome)
}

async fn send_recorded(
    rpc: &RpcClient,
    payer: &Keypair,
    running: &mut Running,
    journal: &mut Journal,
    metrics: &Metrics,
    id: String,
    intent: serde_json::Value,
    instructions: &[Instruction],
) -> Result<bool> {
    if journal.get(&id).is_some() {
        return Ok(false);
    }
    let entry = Entry {
        id,
        strategy: running.config.name.clone(),
        intent,
        status: Status::Pending,
    };
    let id = entry.id.clone();
    metrics.intents.fetch_add(1, Ordering::Relaxed);
    metrics.tx_sent.fetch_add(1, Ordering::Relaxed);
    match send_journaled(rpc, payer, journal, entry, instructions).await? {
        Outcome::Landed(signature) => {
            tracing::info!(strategy = %running.config.name, %id, %signature, "landed");
            metrics.tx_landed.fetch_add(1, Ordering::Relaxed);
            running.landed += 1;
            Ok(true)
        }
        Outcome::Refused(reason) => {
            tracing::info!(strategy = %running.config.name, %id, %reason, "refused");
            metrics.tx_failed.fetch_add(1, Ordering::Relaxed);
            running.refused += 1;
            Ok(false)
        }
    }
}

fn dao_addresses(dao: &rule_dao::state::Dao) -> rwa_harness::dao::DaoAddresses {
    rwa_harness::dao::DaoAddresses::derive(dao.stake_mint, dao.id)
}

/// Keeps `stake_amount` staked in the DAO (stake is locked; only increases happen here).
async fn ensure_stake(rpc: &RpcClient, payer: &Keypair, config: &StrategyConfig) -> Result<()> {
    let dao_address =
        crate::chain::parse_address(config.dao.as_deref().unwrap_or_default(), "governance dao")?;
    let dao: rule_dao::state::Dao = account(rpc, &dao_address).await?;
    let addresses = dao_addresses(&dao);
    let wanted = config.stake_amount.unwrap_or(0);
    let staked =
        account::<rule_dao::state::StakePosition>(rpc, &addresses.position(&payer.pubkey()))
            .await
            .map(|p| p.amount)
            .unwrap_or(0);
    if wanted > staked {
        let from = crate::chain::parse_address(
            config
                .stake_account
                .as_deref()
                .ok_or_else(|| anyhow!("governance needs `stake_account` to stake from"))?,
            "stake_account",
        )?;
        let stake = rwa_harness::dao::staking_ix(
            &addresses,
            &payer.pubkey(),
            &from,
            rwa_harness::dao::StakeAction::Stake(wanted - staked),
        );
        match pipeline::send(
            rpc,
            payer,
            &[],
            &[stake],
            &PipelineConfig::default(),
            &mut pipeline::unjournaled,
        )
        .await?
        {
            Outcome::Landed(_) => {}
            Outcome::Refused(reason) => bail!("staking in {dao_address}: {reason}"),
        }
    }
    Ok(())
}

/// One governance step: forecast volatility, execute what passed, vote on what is open (by
/// reward), propose tighter or looser rules when the forecast crosses a threshold.
async fn govern(
    rpc: &RpcClient,
    payer: &Keypair,
    running: &mut Running,
    journal: &mut Journal,
    metrics: &Metrics,
    volatility: f64,
    slot: u64,
) -> Result<()> {
    use rule_dao::state::{Dao, Proposal, ProposalKind, ProposalState, RuleSet, VoteChoice};
    use rwa_agent_core::strategies::governance;
    let params = governance::GovernanceParams {
        tighten_above: running
            .config
            .tighten_above
            .unwrap_or(governance::GovernanceParams::default().tighten_above),
        relax_below: running
            .config
            .relax_below
            .unwrap_or(governance::GovernanceParams::default().relax_below),
        ..governance::GovernanceParams::default()
    };
    running.forecast = governance::forecast(running.forecast, volatility, params.lambda);
    let dao_address = crate::chain::parse_address(
        running.config.dao.as_deref().unwrap_or_default(),
        "governance dao",
    )?;
    let dao: Dao = account(rpc, &dao_address).await?;
    let addresses = dao_addresses(&dao);
    let rule_set: RuleSet = account(rpc, &dao.rule_set).await?;
    let proposals: Vec<(Address, Proposal)> = {
        use anchor_lang::Discriminator;
        use solana_account_decoder_client_types::UiAccountEncoding;
        use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
        use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
        let config = RpcProgramAccountsConfig {
            filters: Some(vec![
                RpcFilterType::Memcmp(Memcmp::new_base58_encoded(0, Proposal::DISCRIMINATOR)),
                RpcFilterType::Memcmp(Memcmp::new_base58_encoded(8 + 1, dao_address.as_ref())),
            ]),
            account_config: RpcAccountInfoConfig {
                encoding: Some(UiAccountEncoding::Base64),
                ..Default::default()
            },
            with_context: None,
            sort_results: None,
        };
        let mut decoded = Vec::new();
        for (address, ui) in rpc
            .get_program_ui_accounts_with_config(&rule_dao::ID, config)
            .await?
        {
            if let Some(data) = ui.data.decode() {
                if let Ok(proposal) = Proposal::try_deserialize(&mut data.as_slice()) {
                    decoded.push((address, proposal));
                }
            }
        }
        decoded
    };
    let baseline = running.config.baseline_breaker_bps.unwrap_or(1_500);
    let tight =
        rule_set.rules.circuit_breaker_bps != 0 && rule_set.rules.circuit_breaker_bps < baseline;
    let mut open = false;
    for (address, proposal) in &proposals {
        if proposal.state != ProposalState::Voting || proposal.config_version != dao.config_version
        {
            continue;
        }
        if slot > proposal.voting_ends_slot {
            if slot >= proposal.voting_ends_slot + dao.config.hold_up_slots {
                let id = format!("{}:execute:{address}", running.config.name);
                let execute =
                    rwa_harness::dao::execute_ix(&addresses, &payer.pubkey(), proposal.index, None);
                send_recorded(
                    rpc,
                    payer,
                    running,
                    journal,
                    metrics,
                    id,
                    serde_json::json!({ "Execute": address.to_string() }),
                    &[execute],
                )
                .await?;
            }
            continue;
        }
        open = true;
        let ProposalKind::Rules { rules } = &proposal.kind else {
            continue;
        };
        let position = addresses.position(&payer.pubkey());
        if rpc
            .get_account(&addresses.vote_record(address, &position))
            .await
            .is_ok()
        {
            continue;
        }
        // Vote by the modelled effect of the proposed breaker against the one in force.
        let choice = match governance::vote_on_breaker(
            &params,
            running.forecast,
            rwa_harness::agent::breaker_of(&rule_set.rules),
            rwa_harness::agent::breaker_of(rules),
            1e-9,
        ) {
            governance::Vote::Yes => VoteChoice::Yes,
            governance::Vote::No => VoteChoice::No,
            governance::Vote::Abstain => VoteChoice::Abstain,
        };
        let id = format!("{}:vote:{address}", running.config.name);
        let vote = rwa_harness::dao::vote_ix(&addresses, &payer.pubkey(), proposal.index, choice);
        send_recorded(rpc, payer, running, journal, metrics, id, serde_json::json!({ "Vote": { "proposal": address.to_string(), "choice": format!("{choice:?}") } }), &[vote]).await?;
    }
    if !open {
        if let Some(proposal) = governance::propose(running.forecast, tight, &params) {
            let rules = rwa_harness::agent::proposed_rules(rule_set.rules, proposal, baseline);
            // Propose only what the agent itself would vote for under its reward.
            let own_vote = governance::vote_on_breaker(
                &params,
                running.forecast,
                rwa_harness::agent::breaker_of(&rule_set.rules),
                rwa_harness::agent::breaker_of(&rules),
                1e-9,
            );
            if own_vote != governance::Vote::Yes {
                return Ok(());
            }
            let id = format!("{}:propose:{}", running.config.name, dao.proposal_count);
            let propose = rwa_harness::dao::propose_ix(
                &addresses,
                &payer.pubkey(),
                dao.proposal_count,
                ProposalKind::Rules { rules },
                "rwa-agents://governance/volatility-forecast",
            );
            if send_recorded(
                rpc,
                payer,
                running,
                journal,
                metrics,
                id,
                serde_json::json!({ "Propose": format!("{proposal:?}") }),
                &[propose],
            )
            .await?
            {
                // The proposer backs its own proposal right away (it proposed because its reward says so).
                let proposal_address = addresses.proposal(dao.proposal_count);
                let id = format!("{}:vote:{proposal_address}", running.config.name);
                let vote = rwa_harness::dao::vote_ix(
                    &addresses,
                    &payer.pubkey(),
                    dao.proposal_count,
                    VoteChoice::Yes,
                );
                send_recorded(rpc, payer, running, journal, metrics, id, serde_json::json!({ "Vote": { "proposal": proposal_address.to_string(), "choice": "Yes" } }), &[vote]).await?;
            }
        }
    }
    Ok(())
}

/// One risk-parity step: price histories from the markets' oracles, holdings from the wallet,
/// the plan from the pure strategy, one swap per leg (sells first, so they fund the buys).
async fn rebalance(
    rpc: &RpcClient,
    payer: &Keypair,
    running: &mut Running,
    journal: &mut Journal,
    metrics: &Metrics,
    slot: u64,
) -> Result<()> {
    use rwa_agent_core::strategies::risk_parity;
    let mut histories = Vec::new();
    let mut prices = Vec::new();
    let mut holdings = Vec::new();
    let mut costs = Vec::new();
    let mut units = Vec::new();
    let mut curves = Vec::new();
    for (m, rwa_account) in &running.portfolio {
        let state: Market = account(rpc, &m.market).await?;
        curves.push((
            state.curve_market().map_err(|e| anyhow!("{e}"))?,
            state.supply,
            state.fee_bps,
        ));
        let oracle_account = rpc.get_account(&m.oracle).await?;
        let oracle = crate::chain::decode_oracle(&oracle_account.data, &m.oracle)?;
        let history: Vec<f64> = oracle
            .chronological()
            .map(|o| o.price.to_f64())
            .filter(|p| *p > 0.0)
            .collect();
        let price = oracle
            .twap(slot)
            .map(|p| p.to_f64())
            .unwrap_or(state.spot_price().map_err(|e| anyhow!("{e}"))?.to_f64());
        let unit = 10f64.powi(state.rwa_decimals as i32);
        histories.push(history);
        prices.push(price);
        holdings.push(token_balance(rpc, rwa_account).await as f64 / unit);
        // fee plus a slippage allowance
        costs.push(state.fee_bps as f64 / 10_000.0 + 0.002);
        units.push((unit, 10f64.powi(state.quote_decimals as i32)));
    }
    running.holdings_value = holdings
        .iter()
        .zip(&prices)
        .zip(&units)
        .map(|((held, price), (_, quote_unit))| held * price * quote_unit)
        .sum();
    // Align the histories on their most recent common length.
    let length = histories.iter().map(Vec::len).min().unwrap_or(0);
    if length < 3 {
        return Ok(());
    }
    let histories: Vec<Vec<f64>> = histories
        .into_iter()
        .map(|h| h[h.len() - length..].to_vec())
        .collect();
    let quote_unit = units.first().map(|u| u.1).unwrap_or(1e6);
    let budget = running
        .config
        .capital
        .unwrap_or(0)
        .saturating_sub(running.invested);
    let cash =
        (budget.min(token_balance(rpc, &running.accounts.quote_account).await)) as f64 / quote_unit;
    let n = prices.len();
    let view = risk_parity::PortfolioView {
        slot,
        price_history: histories,
        prices,
        holdings,
        cash,
        caps: running.config.caps.clone().unwrap_or_else(|| vec![1.0; n]),
        costs,
        last_rebalance_slot: running.schedule.last_rebalance_slot,
        held_targets: running.schedule.held_targets.clone(),
    };
    let params = risk_parity::RiskParityParams {
        drift_band: running.config.drift_band.unwrap_or(0.05),
        rebalance_every_slots: running.config.rebalance_every_slots.unwrap_or(216_000),
        ..risk_parity::RiskParityParams::default()
    };
    let Some(mut plan) = risk_parity::plan(&view, &params) else {
        return Ok(());
    };
    running.schedule.adopt(&plan, slot);
    plan.trades.sort_by_key(|t| t.side == Side::Buy);
    let mut all_landed = true;
    for trade in &plan.trades {
        let (m, rwa_account) = running.portfolio[trade.asset];
        let (unit, quote) = units[trade.asset];
        let amount = (trade.amount * unit).floor() as u64;
        if amount == 0 {
            continue;
        }
        let accounts = TraderAccounts {
            trader: payer.pubkey(),
            rwa_account,
            quote_account: running.accounts.quote_account,
        };
        let (curve, supply, fee_bps) = &curves[trade.asset];
        let cash = token_balance(rpc, &running.accounts.quote_account).await;
        let Some((side, kind)) =
            rwa_harness::agent::rebalance_leg(curve, *supply, *fee_bps, trade.side, amount, cash)
        else {
            continue;
        };
        let id = format!("{}:rebalance:{slot}:{}", running.config.name, trade.asset);
        let intent = serde_json::json!({ "Rebalance": { "market": m.market.to_string(), "side": format!("{:?}", trade.side), "amount": amount, "target_weight": plan.targets[trade.asset] } });
        let landed = send_recorded(
            rpc,
            payer,
            running,
            journal,
            metrics,
            id,
            intent,
            &[swap_ix(&m, &accounts, side, kind, &[])],
        )
        .await?;
        if landed && trade.side == Side::Buy {
            running.invested = running
                .invested
                .saturating_add((trade.notional * quote) as u64);
        }
        all_landed &= landed;
    }
    running.schedule.settle(&plan, all_landed, slot);
    Ok(())
}

/// Cross-venue arbitrage: snapshot every venue, pick the best bounded trade with the pure
/// strategy, then send it: one transaction when both legs share a cluster (a bad fill reverts
/// both), otherwise the sell leg first (it spends inventory already held) and then the buy leg,
/// each journalled under the same trade id so a restart sends neither twice.
async fn cross_arbitrage(
    rpc: &RpcClient,
    payer: &Keypair,
    running: &mut Running,
    journal: &mut Journal,
    metrics: &Metrics,
    home_view: &MarketView,
    home_makers: &[MakerAddresses],
) -> Result<()> {
    use rwa_agent_core::strategies::cross_venue::{self, CrossVenueParams, Venue};
    let mut snapshots = vec![(home_view.clone(), home_makers.to_vec())];
    for (venue_rpc, _, venue) in running.venues.iter_mut() {
        snapshots.push(snapshot(venue_rpc, venue).await?);
    }
    let clusters: Vec<u32> = std::iter::once(0)
        .chain(running.venues.iter().map(|(_, id, _)| *id))
        .collect();
    // Sell only what sits in the wallet: the snapshot's position is wallet balances (no maker).
    let venues: Vec<Venue> = snapshots
        .iter()
        .zip(&clusters)
        .map(|((view, _), &cluster)| Venue {
            view,
            cluster,
            rwa_inventory: view.position.rwa,
            quote_inventory: view.position.quote,
        })
        .collect();
    let mut params = CrossVenueParams::default();
    if let Some(cost) = running.config.transaction_cost {
        params.transaction_cost = cost;
    }
    if let Some(bps) = running.config.delay_cost_bps {
        params.delay_cost_bps = bps;
    }
    let Some(trade) = cross_venue::step(&venues, &params) else {
        return Ok(());
    };
    let leg = |index: usize, side: TradeSide| -> Instruction {
        let (market, accounts) = if index == 0 {
            (running.market, running.accounts)
        } else {
            let venue = &running.venues[index - 1].2;
            (venue.market, venue.accounts)
        };
        let kind = match side {
            TradeSide::Buy => SwapKind::ExactOut {
                amount_out: trade.amount,
                max_amount_in: trade.max_quote_in,
            },
            TradeSide::Sell => SwapKind::ExactIn {
                amount_in: trade.amount,
                min_amount_out: trade.min_quote_out,
            },
        };
        let makers: Vec<MakerAddresses> = snapshots[index].1.iter().copied().take(8).collect();
        swap_ix(&market, &accounts, side, kind, &makers)
    };
    let buy = leg(trade.buy_venue, TradeSide::Buy);
    let sell = leg(trade.sell_venue, TradeSide::Sell);
    let id = format!(
        "{}:{}:cross:{}->{}:{}",
        running.config.name, home_view.slot, trade.buy_venue, trade.sell_venue, trade.amount
    );
    let record = serde_json::json!({
        "cross_arbitrage": {
            "buy_venue": trade.buy_venue,
            "sell_venue": trade.sell_venue,
            "amount": trade.amount,
            "max_quote_in": trade.max_quote_in,
            "min_quote_out": trade.min_quote_out,
            "expected_profit": trade.expected_profit,
            "atomic": trade.atomic,
        }
    });
    let venue_rpc = |index: usize| -> Option<Arc<RpcClient>> {
        (index > 0).then(|| Arc::clone(&running.venues[index - 1].0))
    };
    let (buy_rpc, sell_rpc) = (venue_rpc(trade.buy_venue), venue_rpc(trade.sell_venue));
    if trade.atomic {
        let on = buy_rpc.as_deref().unwrap_or(rpc);
        send_recorded(
            on,
            payer,
            running,
            journal,
            metrics,
            id,
            record,
            &[buy, sell],
        )
        .await?;
    } else {
        let on = sell_rpc.as_deref().unwrap_or(rpc);
        let sold = send_recorded(
            on,
            payer,
            running,
            journal,
            metrics,
            format!("{id}:sell"),
            record.clone(),
            &[sell],
        )
        .await?;
        if sold {
            let on = buy_rpc.as_deref().unwrap_or(rpc);
            send_recorded(
                on,
                payer,
                running,
                journal,
                metrics,
                format!("{id}:buy"),
                record,
                &[buy],
            )
            .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_reports_staleness_and_the_kill_switch() {
        let metrics = Metrics::default();
        let limit = Duration::from_secs(10);
        let (healthy, body) = metrics.health(limit);
        assert!(!healthy, "no tick yet: {body}");
        metrics
            .last_good_tick_unix_ms
            .store(unix_ms(), Ordering::Relaxed);
        let (healthy, body) = metrics.health(limit);
        assert!(healthy, "{body}");
        assert_eq!(body["status"], "ok");
        metrics
            .last_good_tick_unix_ms
            .store(unix_ms() - 60_000, Ordering::Relaxed);
        let (healthy, body) = metrics.health(limit);
        assert!(!healthy);
        assert!(body["problems"][0]
            .as_str()
            .unwrap()
            .contains("last successful tick"));
        metrics
            .last_good_tick_unix_ms
            .store(unix_ms(), Ordering::Relaxed);
        metrics.killed.store(true, Ordering::Relaxed);
        let (healthy, body) = metrics.health(limit);
        assert!(!healthy);
        assert_eq!(body["kill_switch"], true);
    }
}
