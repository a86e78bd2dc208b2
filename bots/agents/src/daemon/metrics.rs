//! Counters and gauges behind /metrics, and the liveness behind /health.

use super::*;

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
