//! The run loop: settle what a previous run left in flight, tick every strategy, watch the
//! kill switch, cancel resting quotes on the way out; and `rwa-agents status`.

use super::*;

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
pub(crate) struct RiskState {
    baselines: HashMap<String, i64>,
    peak: i64,
}

pub(crate) fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let temporary = path.with_extension("tmp");
    {
        let mut file = std::fs::File::create(&temporary)
            .with_context(|| format!("writing {}", temporary.display()))?;
        std::io::Write::write_all(&mut file, bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&temporary, path).with_context(|| format!("writing {}", path.display()))
}

/// Settles every intent the journal has in flight: a `Sent` one may have landed (or may still
/// land until its blockhash expires), so its fate is read from the chain; a `Pending` one was
/// never signed, so it cannot be on chain. At start, and on every tick after a send could not be
/// settled (the RPC was down).
pub(crate) async fn settle_in_flight(rpc: &RpcClient, journal: &mut Journal) -> Result<()> {
    for entry in journal.in_flight() {
        let status = match &entry.status {
            Status::Sent {
                signature,
                last_valid_block_height,
            } => match pipeline::settle(rpc, signature, *last_valid_block_height).await? {
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
    Ok(())
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
    // Intents a previous run left in flight: settled against the chain before anything new is
    // sent.
    settle_in_flight(&rpc, &mut journal).await?;
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
    let rpc_url = crate::chain::cluster_url(&config.cluster)?;
    let ws_url = match &config.ws_url {
        Some(url) => url.clone(),
        // The Solana CLI's websocket_url, when it is set for this very RPC URL.
        None => crate::wallet::cli_config()
            .filter(|c| c.json_rpc_url == rpc_url && !c.websocket_url.is_empty())
            .map(|c| c.websocket_url)
            .unwrap_or_else(|| websocket_url(&rpc_url)),
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
        if journal.has_in_flight() {
            if let Err(error) = settle_in_flight(&rpc, &mut journal).await {
                tracing::warn!("intents in flight not settled yet: {error:#}");
                all_ticked = false;
            }
        }
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
        metrics
            .inventory
            .store(running.iter().map(|s| s.inventory).sum(), Ordering::Relaxed);
        metrics.quotes_live.store(
            running.iter().map(|s| s.quotes_live).sum(),
            Ordering::Relaxed,
        );
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
    // A clean stop leaves nothing undecided when the chain can be read.
    if let Err(error) = settle_in_flight(&rpc, &mut journal).await {
        tracing::warn!("intents left in flight at exit (the next start settles them): {error:#}");
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
