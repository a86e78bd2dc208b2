//! Counters and gauges behind /metrics, and the liveness behind /health.

use super::*;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

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
    /// Per-strategy series (labels: strategy name and kind) and the latency histogram.
    pub by_strategy: StrategySeries,
    /// Tick start to transaction landed, microseconds, every landed transaction.
    pub latencies_us: std::sync::Mutex<Vec<u64>>,
}

/// Labels of the per-strategy series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
pub struct StrategyLabels {
    pub strategy: String,
    pub kind: String,
}

/// Series kept per strategy (the unlabeled totals stay for dashboards that sum).
pub struct StrategySeries {
    pub intents: Family<StrategyLabels, Counter>,
    pub landed: Family<StrategyLabels, Counter>,
    pub failed: Family<StrategyLabels, Counter>,
    pub pnl: Family<StrategyLabels, Gauge>,
    pub inventory: Family<StrategyLabels, Gauge>,
    pub quotes_live: Family<StrategyLabels, Gauge>,
    /// Tick start to transaction landed, seconds.
    pub latency: Histogram,
}

impl Default for StrategySeries {
    fn default() -> Self {
        StrategySeries {
            intents: Family::default(),
            landed: Family::default(),
            failed: Family::default(),
            pnl: Family::default(),
            inventory: Family::default(),
            quotes_live: Family::default(),
            // 5 ms to ~20 s
            latency: Histogram::new(exponential_buckets(0.005, 2.0, 12)),
        }
    }
}

impl StrategySeries {
    pub fn labels(name: &str, kind: StrategyKind) -> StrategyLabels {
        StrategyLabels {
            strategy: name.to_string(),
            kind: kind.as_str().to_string(),
        }
    }
}

/// Latencies kept for the percentiles: the most recent ones.
pub(crate) const MAX_LATENCY_SAMPLES: usize = 10_000;

pub(crate) fn unix_ms() -> u64 {
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
    /// The OpenMetrics text of every series (prometheus-client's encoder): the process-wide
    /// totals, the per-strategy families, the latency histogram, RPC retries and errors, build info.
    pub fn render(&self) -> String {
        let mut registry = Registry::default();
        let count = |value: &AtomicU64| ConstCounter::new(value.load(Ordering::Relaxed));
        registry.register("rwa_agent_ticks", "Strategy ticks run", count(&self.ticks));
        registry.register(
            "rwa_agent_intents",
            "Intents produced",
            count(&self.intents),
        );
        registry.register(
            "rwa_agent_tx_sent",
            "Transactions sent",
            count(&self.tx_sent),
        );
        registry.register(
            "rwa_agent_tx_landed",
            "Transactions landed",
            count(&self.tx_landed),
        );
        registry.register(
            "rwa_agent_tx_failed",
            "Transactions refused or not landed",
            count(&self.tx_failed),
        );
        registry.register(
            "rwa_agent_ws_updates",
            "Account notifications received over the websocket",
            count(&self.ws_updates),
        );
        registry.register(
            "rwa_agent_ws_reconnects",
            "Websocket connections lost or refused, then retried",
            count(&self.ws_reconnects),
        );
        registry.register(
            "rwa_agent_rpc_requests",
            "JSON-RPC requests sent (process-wide)",
            ConstCounter::new(crate::chain::RPC_REQUESTS.load(Ordering::Relaxed)),
        );
        registry.register(
            "rwa_agent_rpc_retries",
            "JSON-RPC transport failures retried",
            ConstCounter::new(crate::chain::RPC_RETRIES.load(Ordering::Relaxed)),
        );
        registry.register(
            "rwa_agent_rpc_errors",
            "JSON-RPC requests that failed after their retries",
            ConstCounter::new(crate::chain::RPC_ERRORS.load(Ordering::Relaxed)),
        );
        let gauge = |value: i64| ConstGauge::new(value);
        registry.register(
            "rwa_agent_quotes_live",
            "Live maker quotes of this agent",
            gauge(self.quotes_live.load(Ordering::Relaxed) as i64),
        );
        registry.register(
            "rwa_agent_pnl_quote_units",
            "Mark-to-market PnL since the first run, quote base units",
            gauge(self.pnl.load(Ordering::Relaxed)),
        );
        registry.register(
            "rwa_agent_inventory_base_units",
            "RWA held across strategies, base units",
            gauge(self.inventory.load(Ordering::Relaxed) as i64),
        );
        registry.register(
            "rwa_agent_tick_to_landed_us",
            "Latency of the last landed transaction from its tick",
            gauge(self.last_latency_us.load(Ordering::Relaxed) as i64),
        );
        registry.register(
            "rwa_agent_killed",
            "1 once the kill switch fired",
            gauge(self.killed.load(Ordering::Relaxed) as i64),
        );
        registry.register(
            "rwa_agent_ws_connected",
            "Websocket watchers currently subscribed",
            gauge(self.ws_connected.load(Ordering::Relaxed) as i64),
        );
        let series = &self.by_strategy;
        registry.register(
            "rwa_agent_strategy_intents",
            "Intents produced, per strategy",
            series.intents.clone(),
        );
        registry.register(
            "rwa_agent_strategy_landed",
            "Transactions landed, per strategy",
            series.landed.clone(),
        );
        registry.register(
            "rwa_agent_strategy_failed",
            "Transactions refused or not landed, per strategy",
            series.failed.clone(),
        );
        registry.register(
            "rwa_agent_strategy_pnl_quote_units",
            "Mark-to-market PnL per strategy, quote base units",
            series.pnl.clone(),
        );
        registry.register(
            "rwa_agent_strategy_inventory_base_units",
            "RWA held per strategy, base units",
            series.inventory.clone(),
        );
        registry.register(
            "rwa_agent_strategy_quotes_live",
            "Live maker quotes per strategy",
            series.quotes_live.clone(),
        );
        registry.register(
            "rwa_agent_tick_to_landed_seconds",
            "Tick start to transaction landed",
            series.latency.clone(),
        );
        registry.register(
            "rwa_agent_build",
            "Build information",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut text, &registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_carries_totals_per_strategy_series_and_the_latency_histogram() {
        let metrics = Metrics::default();
        metrics.tx_landed.fetch_add(3, Ordering::Relaxed);
        let mm = StrategySeries::labels("mm", StrategyKind::MarketMaker);
        let noise = StrategySeries::labels("noise", StrategyKind::Noise);
        metrics.by_strategy.landed.get_or_create(&mm).inc_by(2);
        metrics.by_strategy.landed.get_or_create(&noise).inc();
        metrics.by_strategy.pnl.get_or_create(&mm).set(-5);
        metrics.by_strategy.latency.observe(0.012);
        let text = metrics.render();
        assert!(text.contains("rwa_agent_tx_landed_total 3"), "{text}");
        assert!(
            text.contains(
                "rwa_agent_strategy_landed_total{strategy=\"mm\",kind=\"market_maker\"} 2"
            ),
            "{text}"
        );
        assert!(
            text.contains("rwa_agent_strategy_landed_total{strategy=\"noise\",kind=\"noise\"} 1"),
            "{text}"
        );
        assert!(
            text.contains(
                "rwa_agent_strategy_pnl_quote_units{strategy=\"mm\",kind=\"market_maker\"} -5"
            ),
            "{text}"
        );
        assert!(
            text.contains("rwa_agent_tick_to_landed_seconds_count 1"),
            "{text}"
        );
        assert!(text.contains("rwa_agent_build_info{version="), "{text}");
        assert!(text.trim_end().ends_with("# EOF"));
    }

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
