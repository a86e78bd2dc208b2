//! An embedded local cluster on loopback: surfpool (the local validator `anchor test` starts in
//! Anchor 1.x), in memory and offline, with the project's programs loaded. Clients talk to it
//! exactly as to `surfpool start` or `solana-test-validator`: surfpool's own JSON-RPC server (about
//! 90 methods: `getTransaction` with meta, `getSignaturesForAddress`, `getProgramAccounts` with
//! filters, `getTokenAccountsByOwner`, `jsonParsed`, `simulateTransaction`, the `surfnet_*` cheat
//! codes) and its websocket subscriptions (account, program, signature, slot, logs).
//!
//! What this crate adds is the thin embedding: the programs (host builds as native builtins, or
//! the SBF builds from `RWA_SBF_PROGRAMS`), ports, the slot clock, a unique genesis hash, a restart
//! on the same chain, and test fixtures written straight into the state (as surfpool's
//! `surfnet_setAccount` does).
//!
//! Not a validator: no consensus, no gossip, no vote accounts. Commitment levels are surfpool's:
//! a transaction is processed in the block that includes it, confirmed at the next block and
//! finalized a fixed number of blocks later.
//!
//! `surfnet_resetNetwork` empties the chain as in surfpool, and the project's programs (which no
//! remote cluster could give back) are loaded again right after.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use rwa_harness::solana_account::Account;
use rwa_harness::solana_address::Address;
use rwa_harness::solana_clock::Clock;
use rwa_harness::solana_hash::Hash;
use rwa_harness::solana_keypair::Keypair;
use rwa_harness::solana_signer::Signer;
use rwa_harness::TestEnv;
use surfpool_core::surfnet::locker::SurfnetSvmLocker;
use surfpool_core::surfnet::svm::{SurfnetSvm, SurfnetSvmConfig};
use surfpool_core::types::TimeTravelConfig;
use surfpool_types::{
    BlockProductionMode, RpcConfig, SimnetCommand, SimnetConfig, SimnetEvent, SurfpoolConfig,
};

/// The RecentBlockhashes sysvar (deprecated for programs, still what blockhashes are checked
/// against).
const RECENT_BLOCKHASHES_SYSVAR: Address =
    Address::from_str_const("SysvarRecentB1ockHashes11111111111111111111");
/// Lamports of the fixture payer (the key `with_env` signs test fixtures with).
const FIXTURE_PAYER_LAMPORTS: u64 = 1_000_000 * 1_000_000_000;
/// How long a start may take (binding, the runloop's first block) before it is an error.
const START_DEADLINE: Duration = Duration::from_secs(30);
/// How long a restart on the same ports keeps retrying while the previous servers let go.
const REBIND_DEADLINE: Duration = Duration::from_secs(10);
/// Error lines kept from surfpool's event stream, for the message when a start fails.
const KEPT_ERRORS: usize = 20;

#[derive(Clone, Debug)]
pub struct LocalnetConfig {
    /// Address to listen on; port 0 picks a free port. Websocket is served on the RPC port + 1,
    /// as validators do (with port 0: on another free port when that one is taken).
    pub listen: SocketAddr,
    /// Wall-clock length of a slot; `None` produces blocks only on [`Localnet::advance_slot`]
    /// (tests that step the chain by hand).
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

/// The chain itself: surfpool's state and what the embedding keeps beside it. It outlives a
/// [`Localnet`] (the servers and the block clock), so a stopped localnet can be started again on
/// the same chain, as a validator restarted on its ledger.
#[derive(Clone)]
pub struct Chain {
    pub svm: SurfnetSvmLocker,
    fixture_payer: Arc<Keypair>,
    genesis_hash: Hash,
    /// One message per runloop that finished starting.
    started: Arc<Mutex<mpsc::Receiver<()>>>,
    errors: Arc<Mutex<Vec<String>>>,
}

impl Chain {
    /// A fresh chain: surfpool's runtime (SPL Token, Token-2022, Associated Token, Memo, the
    /// native programs and sysvars) plus the project's three programs.
    pub fn new(slot_time_ms: u64) -> Result<Chain> {
        let (mut svm, events, _geyser) = SurfnetSvm::new(SurfnetSvmConfig {
            slot_time: slot_time_ms,
            // On by default: it re-executes every transaction once per instruction.
            instruction_profiling_enabled: false,
            ..SurfnetSvmConfig::default()
        })
        .map_err(|error| anyhow!("creating the surfpool runtime: {error}"))?;
        rwa_harness::install_programs(&mut svm.inner.svm);
        // The default genesis config hashes to the same value for every start within a second;
        // state files tell clusters apart by it, so each chain gets its own.
        let genesis_hash = Hash::new_from_array(Keypair::new().pubkey().to_bytes());
        svm.cached_genesis_hash = Some(genesis_hash);
        let fixture_payer = Keypair::new();
        svm.set_account(
            &fixture_payer.pubkey(),
            Account {
                lamports: FIXTURE_PAYER_LAMPORTS,
                owner: Address::default(), // the system program
                ..Account::default()
            },
        )
        .map_err(|error| anyhow!("funding the fixture payer: {error}"))?;

        let locker = SurfnetSvmLocker::new(svm);
        // surfpool reports through a bounded channel and some of its sends block when it is full:
        // drain it for the chain's whole life, keeping start notices and errors. It holds the
        // state weakly, so the thread ends with the chain.
        let (started_tx, started_rx) = mpsc::channel();
        let errors = Arc::new(Mutex::new(Vec::new()));
        let kept = errors.clone();
        let state = Arc::downgrade(&locker.0);
        let payer = fixture_payer.pubkey();
        std::thread::Builder::new()
            .name("localnet-events".into())
            .spawn(move || {
                while let Ok(event) = events.recv() {
                    let error = match event {
                        SimnetEvent::CoreStarted(_) => {
                            let _ = started_tx.send(());
                            None
                        }
                        SimnetEvent::InfoLog(_, message) if message.starts_with(RESET_NOTICE) => {
                            reinstall_after_reset(&state, &payer);
                            None
                        }
                        SimnetEvent::Aborted(message) => Some(message),
                        SimnetEvent::ErrorLog(_, message) => Some(message),
                        _ => None,
                    };
                    if let Some(message) = error {
                        let mut kept = kept.lock().unwrap_or_else(|p| p.into_inner());
                        if kept.len() == KEPT_ERRORS {
                            kept.remove(0);
                        }
                        kept.push(message);
                    }
                }
            })
            .context("starting the event drain")?;
        Ok(Chain {
            svm: locker,
            fixture_payer: Arc::new(fixture_payer),
            genesis_hash,
            started: Arc::new(Mutex::new(started_rx)),
            errors,
        })
    }

    pub fn genesis_hash(&self) -> Hash {
        self.genesis_hash
    }

    /// The latest (processed) slot.
    pub fn slot(&self) -> u64 {
        self.read(|svm| svm.get_latest_absolute_slot())
    }

    /// One account as the chain holds it now (processed).
    pub fn account(&self, address: &Address) -> Option<Account> {
        self.read(|svm| svm.get_account(address).ok().flatten())
    }

    /// Every account owned by `owner`.
    pub fn accounts_owned_by(&self, owner: &Address) -> Vec<(Address, Account)> {
        self.read(|svm| {
            svm.get_all_accounts()
                .unwrap_or_default()
                .into_iter()
                .map(|(address, account)| (address, Account::from(account)))
                .filter(|(_, account)| account.owner == *owner)
                .collect()
        })
    }

    /// Every transaction the chain processed (landed or failed in execution), in no particular
    /// order: what a test checks a bot's journal against.
    pub fn processed_transactions(&self) -> Vec<ProcessedTransaction> {
        self.read(|svm| {
            let Ok(statuses) = svm.transactions.into_iter() else {
                return Vec::new();
            };
            statuses
                .filter_map(|(signature, status)| {
                    let (processed, _) = status.as_processed()?;
                    Some(ProcessedTransaction {
                        signature,
                        slot: processed.slot,
                        error: processed.meta.status.err(),
                        transaction: processed.transaction,
                    })
                })
                .collect()
        })
    }

    /// Runs `fixture` on the live state as a [`TestEnv`] (the harness's helpers: create markets,
    /// makers, token accounts, send transactions, read accounts). Paid by a funded fixture key
    /// (`env.payer`). Like surfpool's `surfnet_setAccount`, what it writes lands in the current
    /// block without transaction history; surfpool's indexes (accounts by owner, token accounts)
    /// and subscribers see every account it changed.
    pub fn with_env<T>(&self, fixture: impl FnOnce(&mut TestEnv) -> T) -> T {
        blocking(|| {
            let mut svm = self.svm.0.blocking_write();
            let before = all_accounts(&svm);
            let clock_before = svm.inner.svm.get_sysvar::<Clock>();
            // The harness expires LiteSVM's blockhash after each send, which also empties the
            // RecentBlockhashes sysvar surfpool validates clients' blockhashes against.
            let recent_blockhashes = svm.inner.svm.get_account(&RECENT_BLOCKHASHES_SYSVAR);
            let mut env = TestEnv {
                svm: std::mem::take(&mut svm.inner.svm),
                payer: self.fixture_payer.insecure_clone(),
                unsigned: false,
            };
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fixture(&mut env)));
            svm.inner.svm = env.svm;
            if let Some(account) = recent_blockhashes {
                let _ = svm
                    .inner
                    .svm
                    .set_account(RECENT_BLOCKHASHES_SYSVAR, account);
            }
            let clock_after = svm.inner.svm.get_sysvar::<Clock>();
            if clock_after.slot != clock_before.slot && result.is_ok() {
                // surfpool's next block would set its own slot again: the chain would run
                // backwards. Moving time is Localnet::warp_slots's job.
                svm.inner.svm.set_sysvar(&clock_before);
                panic!(
                    "a localnet fixture moved the clock (slot {} -> {}); use Localnet::warp_slots",
                    clock_before.slot, clock_after.slot
                );
            }
            let after = all_accounts(&svm);
            for (address, account) in &after {
                let previous = before.get(address);
                if previous != Some(account) {
                    let _ = svm.update_account_registries(address, previous, account);
                    svm.notify_account_subscribers(address, account);
                    svm.notify_program_subscribers(address, account);
                }
            }
            for (address, previous) in &before {
                if !after.contains_key(address) {
                    let _ =
                        svm.update_account_registries(address, Some(previous), &Account::default());
                }
            }
            match result {
                Ok(value) => value,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }

    /// Moves lamports from the runtime's faucet to `to` (a fixture, like `requestAirdrop`).
    pub fn airdrop(&self, to: &Address, lamports: u64) -> Result<()> {
        self.with_env(|env| {
            env.svm
                .airdrop(to, lamports)
                .map(|_| ())
                .map_err(|failure| anyhow!("airdrop to {to} failed: {:?}", failure.err))
        })
    }

    fn read<T>(&self, reader: impl FnOnce(&SurfnetSvm) -> T) -> T {
        blocking(|| reader(&self.svm.0.blocking_read()))
    }

    fn recent_errors(&self) -> String {
        self.errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .join("; ")
    }
}

/// A processed transaction as the chain recorded it.
#[derive(Clone, Debug)]
pub struct ProcessedTransaction {
    pub signature: String,
    pub slot: u64,
    pub transaction: rwa_harness::solana_transaction::versioned::VersionedTransaction,
    pub error: Option<rwa_harness::solana_transaction_error::TransactionError>,
}

/// What surfpool logs when `surfnet_resetNetwork` starts.
const RESET_NOTICE: &str = "Resetting network";

/// `surfnet_resetNetwork` rebuilds surfpool's runtime with only its own programs: once the reset
/// has happened (the notice comes just before it), load the project's programs and fund the
/// fixture payer again, so a reset chain is this project's chain, empty.
fn reinstall_after_reset(
    state: &std::sync::Weak<tokio::sync::RwLock<SurfnetSvm>>,
    fixture_payer: &Address,
) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let Some(state) = state.upgrade() else { return };
        {
            let mut svm = state.blocking_write();
            if svm
                .inner
                .svm
                .get_account(&rwa_harness::rwa_market_program_id())
                .is_none()
            {
                rwa_harness::install_programs(&mut svm.inner.svm);
                let _ = svm.set_account(
                    fixture_payer,
                    Account {
                        lamports: FIXTURE_PAYER_LAMPORTS,
                        owner: Address::default(),
                        ..Account::default()
                    },
                );
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn all_accounts(svm: &SurfnetSvm) -> HashMap<Address, Account> {
    svm.get_all_accounts()
        .unwrap_or_default()
        .into_iter()
        .map(|(address, account)| (address, Account::from(account)))
        .collect()
}

/// surfpool's state sits behind a tokio lock; blocking on it from a runtime worker needs
/// `block_in_place` (multi-thread runtimes only), from any other thread it is a plain wait.
fn blocking<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => match handle.runtime_flavor() {
            tokio::runtime::RuntimeFlavor::CurrentThread => panic!(
                "the localnet's fixtures block on its state: call them from a multi-thread tokio \
                 runtime (#[tokio::test(flavor = \"multi_thread\")]) or from spawn_blocking"
            ),
            _ => tokio::task::block_in_place(work),
        },
        Err(_) => work(),
    }
}

/// A running local cluster. `shutdown` stops it (the servers and the block clock; the chain
/// stays in `chain` and can be served again with [`Localnet::start_shared`]); dropping it stops it
/// too, without waiting.
pub struct Localnet {
    pub chain: Chain,
    pub address: SocketAddr,
    pub ws_address: SocketAddr,
    commands: crossbeam_channel::Sender<SimnetCommand>,
    /// Blocks come from the slot clock (else from `advance_slot`).
    clock_driven: bool,
    runloop: Option<JoinHandle<Result<(), String>>>,
}

impl Localnet {
    /// Starts a fresh chain behind surfpool's RPC and websocket servers.
    pub async fn start(config: LocalnetConfig) -> Result<Localnet> {
        let slot_ms = slot_time_ms(&config);
        let chain = tokio::task::spawn_blocking(move || Chain::new(slot_ms))
            .await
            .context("creating the chain")??;
        Self::start_shared(config, chain).await
    }

    /// Serves an existing chain: what a validator restarted on its ledger looks like to clients
    /// (same chain, same accounts; connections dropped in between). `config.listen` with the
    /// previous address restarts it on the same ports.
    pub async fn start_shared(config: LocalnetConfig, chain: Chain) -> Result<Localnet> {
        tokio::task::spawn_blocking(move || Self::start_blocking(config, chain))
            .await
            .context("starting the localnet")?
    }

    fn start_blocking(config: LocalnetConfig, chain: Chain) -> Result<Localnet> {
        let deadline = Instant::now() + REBIND_DEADLINE;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let (rpc, ws) = choose_ports(config.listen)?;
            match Self::try_start(&config, &chain, rpc, ws) {
                Ok(localnet) => return Ok(localnet),
                // Another process took a port between the probe and surfpool's bind, or the
                // previous servers on these ports have not let go yet: try again.
                Err(error)
                    if error.to_string().contains("already in use")
                        && (config.listen.port() == 0 && attempts < 5
                            || config.listen.port() != 0 && Instant::now() < deadline) =>
                {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(error) => return Err(error),
            }
        }
    }

    fn try_start(
        config: &LocalnetConfig,
        chain: &Chain,
        rpc: SocketAddr,
        ws: SocketAddr,
    ) -> Result<Localnet> {
        let surfpool = SurfpoolConfig {
            simnets: vec![SimnetConfig {
                offline_mode: true,
                remote_rpc_url: None,
                slot_time: slot_time_ms(config),
                block_production_mode: match config.slot_duration {
                    Some(_) => BlockProductionMode::Clock,
                    None => BlockProductionMode::Manual,
                },
                instruction_profiling_enabled: false,
                ..SimnetConfig::default()
            }],
            rpc: RpcConfig {
                bind_host: rpc.ip().to_string(),
                bind_port: rpc.port(),
                ws_port: ws.port(),
                ..RpcConfig::default()
            },
            ..SurfpoolConfig::default()
        };
        // A runloop's geyser thread ends with it; each start gets its own channel.
        let (geyser_tx, geyser_rx) = crossbeam_channel::bounded(1024);
        chain.svm.0.blocking_write().geyser_events_tx = geyser_tx;
        let (commands, commands_rx) = crossbeam_channel::unbounded();
        let svm = chain.svm.clone();
        let commands_tx = commands.clone();
        let runloop = std::thread::Builder::new()
            .name("localnet".into())
            .spawn(move || {
                // Multi-thread: surfpool's lock helpers use block_in_place.
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("localnet-rpc")
                    .enable_all()
                    .build()
                    .map_err(|error| error.to_string())?;
                runtime
                    .block_on(surfpool_core::runloops::start_local_surfnet_runloop(
                        svm,
                        surfpool,
                        commands_tx,
                        commands_rx,
                        geyser_rx,
                    ))
                    .map_err(|error| error.to_string())
            })
            .context("starting the localnet thread")?;
        let deadline = Instant::now() + START_DEADLINE;
        let started = chain.started.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            match started.recv_timeout(Duration::from_millis(20)) {
                Ok(()) => break,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    bail!("the localnet's event stream closed")
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            if runloop.is_finished() {
                let outcome = runloop
                    .join()
                    .map_err(|_| anyhow!("the localnet panicked while starting"))?;
                return Err(match outcome {
                    Err(error) => anyhow!("localnet on {rpc} / {ws}: {error}"),
                    Ok(()) => anyhow!(
                        "localnet on {rpc} stopped while starting: {}",
                        chain.recent_errors()
                    ),
                });
            }
            if Instant::now() > deadline {
                let _ = commands.send(SimnetCommand::Terminate(None));
                bail!(
                    "localnet on {rpc} did not start within {START_DEADLINE:?}: {}",
                    chain.recent_errors()
                );
            }
        }
        drop(started);
        Ok(Localnet {
            chain: chain.clone(),
            address: rpc,
            ws_address: ws,
            commands,
            clock_driven: config.slot_duration.is_some(),
            runloop: Some(runloop),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.ws_address)
    }

    /// The next block: produced at once without a clock (`slot_duration: None`), waited for
    /// with one.
    pub fn advance_slot(&self) {
        self.next_block(self.chain.slot());
    }

    fn next_block(&self, after: u64) {
        if !self.clock_driven {
            let _ = self.commands.send(SimnetCommand::SlotForward(None));
        }
        blocking(|| {
            let deadline = Instant::now() + Duration::from_secs(5);
            while self.chain.slot() <= after && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    }

    /// Moves the chain `slots` slots forward at once (surfpool's time travel: slot, clock and block
    /// time jump together), for fixtures that need elapsed slots without waiting for them.
    /// Returns the new slot.
    pub fn warp_slots(&self, slots: u64) -> Result<u64> {
        let target = self.chain.slot() + slots;
        let info = blocking(|| {
            self.chain.svm.time_travel(
                None,
                self.commands.clone(),
                TimeTravelConfig::AbsoluteSlot(target),
            )
        })
        .map_err(|error| anyhow!("moving the localnet to slot {target}: {error}"))?;
        // The jump itself makes no block, so no blockhash of the new slot exists yet: clients
        // would sign with the pre-jump one, now too old. Let the next block come first.
        self.next_block(info.absolute_slot);
        Ok(self.chain.slot())
    }

    /// See [`Chain::with_env`].
    pub fn with_env<T>(&self, fixture: impl FnOnce(&mut TestEnv) -> T) -> T {
        self.chain.with_env(fixture)
    }

    /// See [`Chain::airdrop`].
    pub fn airdrop(&self, to: &Address, lamports: u64) -> Result<()> {
        self.chain.airdrop(to, lamports)
    }

    /// Stops the block clock and the servers and waits for them; the ports are free afterwards.
    pub async fn shutdown(mut self) {
        let _ = self.commands.send(SimnetCommand::Terminate(None));
        if let Some(runloop) = self.runloop.take() {
            let _ = tokio::task::spawn_blocking(move || runloop.join()).await;
        }
        // surfpool closes its servers on a thread of their own: wait until the RPC port is free
        // (or give up quietly after a while: a restart on these ports retries anyway).
        let address = self.address;
        let _ = tokio::task::spawn_blocking(move || {
            let deadline = Instant::now() + REBIND_DEADLINE;
            while TcpListener::bind(address).is_err() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        })
        .await;
    }
}

impl Drop for Localnet {
    fn drop(&mut self) {
        if self.runloop.is_some() {
            let _ = self.commands.send(SimnetCommand::Terminate(None));
        }
    }
}

fn slot_time_ms(config: &LocalnetConfig) -> u64 {
    config
        .slot_duration
        .map(|duration| duration.as_millis().clamp(1, u64::MAX as u128) as u64)
        .unwrap_or(400)
}

/// The RPC address and the websocket one (RPC port + 1 when it is free or was asked for).
fn choose_ports(listen: SocketAddr) -> Result<(SocketAddr, SocketAddr)> {
    if listen.port() != 0 {
        let ws = SocketAddr::new(listen.ip(), listen.port().wrapping_add(1));
        return Ok((listen, ws));
    }
    let free = |port: u16| -> Result<SocketAddr> {
        let probe = TcpListener::bind(SocketAddr::new(listen.ip(), port))
            .with_context(|| format!("finding a free port on {}", listen.ip()))?;
        Ok(probe.local_addr()?)
    };
    let rpc = free(0)?;
    let next = SocketAddr::new(listen.ip(), rpc.port().wrapping_add(1));
    let ws = match TcpListener::bind(next) {
        Ok(_) => next,
        Err(_) => free(0)?,
    };
    Ok((rpc, ws))
}
