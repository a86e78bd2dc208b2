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
use rwa_agent_core::strategies::{arbitrage, learned, market_maker, noise};
use rwa_agent_core::view::MarketView;
use rwa_client::market::*;
use rwa_client::solana_address::Address;
use rwa_client::solana_keypair::Keypair;
use rwa_client::solana_signer::Signer;
use rwa_client::SolInstruction as Instruction;
use rwa_market::events::TradeSide;
use rwa_market::state::{Maker, Market};
use rwa_math::Decimal;
use serde::{Deserialize, Serialize};
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use std::collections::HashMap;

use journal::{Entry, Journal, Status};
use pipeline::{Outcome, PipelineConfig};

mod config;
mod cross;
mod governance;
mod keeper;
mod metrics;
mod portfolio;
mod run;
mod send;
mod state;
mod tick;
mod watch;

pub use config::*;
use cross::*;
use governance::*;
use keeper::*;
pub use metrics::*;
use portfolio::*;
pub use run::*;
use send::*;
use state::*;
use tick::*;
pub use watch::*;
