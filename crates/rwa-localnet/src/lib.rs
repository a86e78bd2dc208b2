//! An embedded local cluster on loopback: the project's programs (plus SPL Token and Associated
//! Token) in one runtime, served over Solana's JSON-RPC so the CLI, the bots and any standard
//! client (`solana-rpc-client`, `@solana/web3.js`, Anchor's TypeScript client) talk to it exactly
//! as to `solana-test-validator`, without one installed. A ticker advances the slot (and the
//! blockhash) every `slot_duration`; transactions apply one at a time in arrival order.
//!
//! Not a validator: no consensus, no gossip, no vote accounts, and every commitment level is the
//! same state ("finalized" as soon as processed).

pub mod bank;
pub mod rpc;
pub mod ws;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

pub use bank::Bank;

/// Shared cluster state.
pub type SharedBank = Arc<Mutex<Bank>>;

#[derive(Clone, Debug)]
pub struct LocalnetConfig {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Wall-clock length of a slot; `None` leaves the clock to the caller (tests tick by hand).
    pub slot_duration: Option<Duration>,
}

impl Default for LocalnetConfig {
    fn default() -> Self {
        LocalnetConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8899)),
            slot_duration: Some(Duration::from_millis(400)),
        }
    }
}

/// A running local cluster; dropping the handle does not stop it, `shutdown` does.
pub struct Localnet {
    pub bank: SharedBank,
    pub address: SocketAddr,
    /// Websocket subscriptions (RPC port + 1 when free; see `ws_url`).
    pub ws_address: SocketAddr,
    shutdown: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Localnet {
    /// Starts the RPC server (and the slot ticker) on the current tokio runtime.
    pub async fn start(config: LocalnetConfig) -> Result<Localnet> {
        Self::start_with_bank(config, Bank::new()).await
    }

    pub async fn start_with_bank(config: LocalnetConfig, bank: Bank) -> Result<Localnet> {
        Self::start_shared(config, Arc::new(Mutex::new(bank))).await
    }

    /// Serves an existing cluster state: what a validator restarted on its ledger looks like to
    /// clients (same chain, same accounts; connections dropped in between). `config.listen` with
    /// the previous address restarts it on the same ports.
    pub async fn start_shared(config: LocalnetConfig, bank: SharedBank) -> Result<Localnet> {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let address = listener.local_addr()?;
        // Websocket on the RPC port + 1, as validators serve it; with an ephemeral RPC port that
        // neighbour may be taken, so fall back to any free port (clients then need `ws_url()`).
        let next_port = SocketAddr::new(config.listen.ip(), address.port().wrapping_add(1));
        let ws_listener = match tokio::net::TcpListener::bind(next_port).await {
            Ok(listener) => listener,
            Err(_) if config.listen.port() == 0 => {
                tokio::net::TcpListener::bind(SocketAddr::new(config.listen.ip(), 0))
                    .await
                    .context("binding websocket")?
            }
            Err(error) => {
                return Err(error).with_context(|| format!("binding websocket {next_port}"))
            }
        };
        let ws_address = ws_listener.local_addr()?;
        let (shutdown, mut stop) = tokio::sync::watch::channel(false);
        let router = Router::new()
            .route("/", post(handle_rpc))
            .route("/health", get(|| async { "ok" }))
            .with_state(bank.clone());
        let mut server_stop = stop.clone();
        let server = tokio::spawn(async move {
            let served = axum::serve(listener, router).with_graceful_shutdown(async move {
                let _ = server_stop.wait_for(|stopped| *stopped).await;
            });
            if let Err(error) = served.await {
                eprintln!("localnet RPC server stopped: {error}");
            }
        });
        let ws_router = Router::new()
            .route("/", get(ws::upgrade))
            .with_state(ws::WsState {
                bank: bank.clone(),
                stop: stop.clone(),
            });
        let mut ws_stop = stop.clone();
        let ws_server = tokio::spawn(async move {
            let served = axum::serve(ws_listener, ws_router).with_graceful_shutdown(async move {
                let _ = ws_stop.wait_for(|stopped| *stopped).await;
            });
            if let Err(error) = served.await {
                eprintln!("localnet websocket server stopped: {error}");
            }
        });
        let mut tasks = vec![server, ws_server];
        if let Some(period) = config.slot_duration {
            let ticker_bank = bank.clone();
            tasks.push(tokio::spawn(async move {
                let mut interval = tokio::time::interval(period);
                interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        _ = interval.tick() => {
                            if let Ok(mut bank) = ticker_bank.lock() {
                                bank.tick();
                            }
                        }
                        _ = stop.wait_for(|stopped| *stopped) => break,
                    }
                }
            }));
        }
        Ok(Localnet {
            bank,
            address,
            ws_address,
            shutdown,
            tasks,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.ws_address)
    }

    /// Stops the ticker and the server and waits for both.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

async fn handle_rpc(State(bank): State<SharedBank>, Json(request): Json<Value>) -> Json<Value> {
    let response = tokio::task::spawn_blocking(move || match request {
        Value::Array(batch) => Value::Array(batch.iter().map(|single| answer(&bank, single)).collect()),
        single => answer(&bank, &single),
    })
    .await
    .unwrap_or_else(|_| json!({ "jsonrpc": "2.0", "error": { "code": -32603, "message": "internal error" }, "id": null }));
    Json(response)
}

fn answer(bank: &SharedBank, request: &Value) -> Value {
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let Some(method) = request.get("method").and_then(Value::as_str) else {
        return json!({ "jsonrpc": "2.0", "error": { "code": -32600, "message": "Invalid request: no method" }, "id": id });
    };
    let params = request
        .get("params")
        .cloned()
        .unwrap_or(Value::Array(Vec::new()));
    let mut bank = match bank.lock() {
        Ok(bank) => bank,
        Err(poisoned) => poisoned.into_inner(),
    };
    match rpc::call(&mut bank, method, &params) {
        Ok(result) => json!({ "jsonrpc": "2.0", "result": result, "id": id }),
        Err(error) => {
            let mut body = json!({ "code": error.code, "message": error.message });
            if let Some(data) = error.data {
                body["data"] = data;
            }
            json!({ "jsonrpc": "2.0", "error": body, "id": id })
        }
    }
}
