//! `rwa-agents`: operator CLI and (as the project grows) the agent daemon.

use anyhow::Result;
use clap::{Parser, Subcommand};

mod bootstrap;
mod chain;
mod curve_spec;
mod daemon;
mod demo;
mod learn;
mod market_view;
mod programs;
mod quote;
mod risk;
mod wallet;

#[derive(Parser)]
#[command(
    name = "rwa-agents",
    version,
    about = "Agents and operator tools for the RWA agent economy on Solana"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    programs: programs::ProgramArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Bonding-curve tools.
    Curve {
        #[command(subcommand)]
        command: CurveCommand,
    },
    /// The agent economy on an embedded local cluster: markets, lending, DAO, and agents trading for a while.
    Demo {
        /// Agent ticks to run.
        #[arg(long, default_value_t = 30)]
        ticks: u64,
    },
    /// Agent-based simulation on the real programs in process: N agents x M markets x T steps under a
    /// scenario (built-in name or TOML file), or a paired experiment. Writes CSV, SVG plots and
    /// summary.json to --out and prints a summary table.
    Sim {
        /// Built-in scenario (baseline, crash, correlated-drop, volatility-regime, agent-failure,
        /// adversarial, rule-change, herding, lending-drop, risk-parity) or a scenario TOML path.
        #[arg(long, default_value = "baseline")]
        scenario: String,
        /// Run a paired experiment instead of one run: coordination, coordination-sweep (no rules,
        /// fixed rules and adaptive rules at alpha 0..1), lending, risk-parity, primary,
        /// affiliate (the referrer share swept), airdrop (the planner against its baselines) or
        /// valuation (the Bayesian valuation model against the TWAP and the last published NAV
        /// through the scenario's shock) or fair-value (value traders and makers on the model's
        /// V instead of the NAV).
        #[arg(long)]
        experiment: Option<String>,
        /// Number of agents (N).
        #[arg(long)]
        agents: Option<usize>,
        /// Number of RWA markets (M).
        #[arg(long)]
        assets: Option<usize>,
        /// Steps (T).
        #[arg(long)]
        steps: Option<u64>,
        /// Seed (a run is deterministic for its seed); experiments use seed .. seed + seeds - 1.
        #[arg(long)]
        seed: Option<u64>,
        /// Paired seeds per experiment.
        #[arg(long, default_value_t = 8)]
        seeds: u64,
        /// Output directory.
        #[arg(long, default_value = "sim-out")]
        out: std::path::PathBuf,
        /// Check the invariants every this many steps (0: only after the last step).
        #[arg(long, default_value_t = 1)]
        check_every: u64,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Train a learning agent (Q-learning or REINFORCE) in the simulator on the real programs, evaluate
    /// it on held-out seeds against rule-based traders in the same seat, and write policy.json (for
    /// the daemon's `kind = "learned"`), learning-curve.csv/svg and evaluation.json to --out.
    Learn(learn::LearnArgs),
    /// Run the agent daemon: the strategies of a TOML config, until SIGINT/SIGTERM or the kill switch.
    Run {
        #[arg(long)]
        config: std::path::PathBuf,
        /// Validate the config (fields, kinds, addresses, clusters) and exit without connecting.
        #[arg(long)]
        check: bool,
    },
    /// What a daemon's strategies hold and quote, and its intent journal totals, as JSON.
    Status {
        #[arg(long)]
        config: std::path::PathBuf,
    },
    /// Portfolio risk tools.
    Risk {
        #[command(subcommand)]
        command: RiskCommand,
    },
    /// Read markets from a cluster.
    Market {
        #[command(subcommand)]
        command: MarketCommand,
    },
    /// Run an embedded local cluster (the project's programs, SPL Token, JSON-RPC, websocket) on loopback.
    Localnet {
        /// Port for JSON-RPC on 127.0.0.1 (websocket on port + 1).
        #[arg(long, default_value_t = 8899)]
        port: u16,
        /// Slot length in milliseconds.
        #[arg(long, default_value_t = 400)]
        slot_ms: u64,
        /// Bootstrap markets, lending and DAO from this TOML once the cluster is up.
        #[arg(long)]
        bootstrap: Option<std::path::PathBuf>,
        /// Where the bootstrap writes what it created.
        #[arg(long, default_value = "bootstrap-state.json")]
        out: std::path::PathBuf,
    },
    /// Create the markets, lending market and rule DAO of a TOML config on a cluster (idempotent).
    Bootstrap {
        /// Cluster moniker or URL; default: the Solana CLI config's json_rpc_url, else localnet.
        #[arg(long, short = 'u', env = "RWA_CLUSTER")]
        cluster: Option<String>,
        /// Payer keypair; defaults to the Solana CLI's.
        #[arg(long, short = 'k', env = "RWA_KEYPAIR")]
        keypair: Option<std::path::PathBuf>,
        #[arg(long)]
        config: std::path::PathBuf,
        /// State file: what was created, and the keypairs needed to resume an interrupted run.
        #[arg(long, default_value = "bootstrap-state.json")]
        out: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum RiskCommand {
    /// Equal (or budgeted) risk contribution weights by damped Newton, as JSON.
    Erc {
        /// Covariance matrix file: one row per line, numbers separated by commas or spaces.
        #[arg(long)]
        cov: std::path::PathBuf,
        /// Risk budgets file (one number per asset; normalised); default: equal.
        #[arg(long)]
        budgets: Option<std::path::PathBuf>,
        /// Solve this many times and report the median time.
        #[arg(long, default_value_t = 1)]
        repeat: usize,
    },
}

#[derive(Subcommand)]
enum MarketCommand {
    /// A market's curve, spot price, TWAP, volatility and live maker quotes.
    Show {
        /// localnet, devnet, testnet, mainnet-beta or an RPC URL.
        /// Cluster moniker or URL; default: the Solana CLI config's json_rpc_url, else localnet.
        #[arg(long, short = 'u', env = "RWA_CLUSTER")]
        cluster: Option<String>,
        /// Market address.
        #[arg(long)]
        market: String,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Every rwa_market market on the cluster.
    List {
        /// Cluster moniker or URL; default: the Solana CLI config's json_rpc_url, else localnet.
        #[arg(long, short = 'u', env = "RWA_CLUSTER")]
        cluster: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum CurveCommand {
    /// Price a buy or sell exactly as rwa_market would (same rwa-math code), as JSON.
    Quote {
        /// Curve JSON, numbers as decimal strings, e.g. '{"kind":"linear","slope":"0.000001","intercept":"1"}'.
        #[arg(long)]
        curve: String,
        /// Current supply in RWA base units.
        #[arg(long)]
        supply: u64,
        /// Amount to buy or sell in RWA base units.
        #[arg(long)]
        amount: u64,
        #[arg(long, value_enum)]
        side: quote::Side,
        /// Decimals of the RWA mint (0..=9).
        #[arg(long)]
        decimals: u8,
        /// Decimals of the quote mint (0..=9).
        #[arg(long)]
        quote_decimals: u8,
        /// Trading fee in basis points (reported separately; `quote_amount` excludes it).
        #[arg(long, default_value_t = 0)]
        fee_bps: u16,
        /// Market max supply in base units (defaults to the supply the trade reaches).
        #[arg(long)]
        max_supply: Option<u64>,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    // Logs go to stderr (stdout carries command output); RUST_LOG overrides. The demo prints its
    // own summary, so it only logs warnings by default.
    let default_level = if matches!(cli.command, Command::Demo { .. }) {
        "warn"
    } else {
        "info"
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level)),
        )
        .init();
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    };
    // Program addresses: agents.toml may name them too, so those commands install them once the
    // config is read; commands that run the built-in programs refuse other addresses.
    let program_flags = cli.programs.clone();
    match &cli.command {
        Command::Status { .. } | Command::Run { .. } => {}
        Command::Demo { .. } => {
            programs::require_compiled(programs::install(&program_flags, None)?, "demo")?
        }
        Command::Localnet { .. } => {
            programs::require_compiled(programs::install(&program_flags, None)?, "localnet")?
        }
        Command::Sim { .. } => {
            programs::require_compiled(programs::install(&program_flags, None)?, "sim")?
        }
        Command::Learn(_) => {
            programs::require_compiled(programs::install(&program_flags, None)?, "learn")?
        }
        _ => {
            programs::install(&program_flags, None)?;
        }
    }
    match cli.command {
        Command::Curve { command: CurveCommand::Quote { curve, supply, amount, side, decimals, quote_decimals, fee_bps, max_supply } } => {
            let output = quote::quote(&quote::QuoteRequest {
                curve_json: &curve,
                supply,
                amount,
                side,
                decimals,
                quote_decimals,
                fee_bps,
                max_supply,
            })?;
            println!("{}", serde_json::to_string_pretty(&output)?);
            Ok(())
        }
        Command::Status { config } => runtime()?.block_on(async move {
            let config = daemon::load_config(&config)?;
            programs::install(&program_flags, config.programs.as_ref())?;
            let owner = rwa_client::solana_signer::Signer::pubkey(&wallet::load(config.keypair.as_deref())?);
            println!("{}", serde_json::to_string_pretty(&daemon::status(&config, &owner).await?)?);
            Ok(())
        }),
        Command::Demo { ticks } => runtime()?.block_on(demo::run(ticks)),
        Command::Run { config, check: true } => {
            let config = daemon::load_config(&config)?;
            let ids = programs::install(&program_flags, config.programs.as_ref())?;
            let kinds: Vec<String> = config.strategies.iter().map(|s| format!("{} ({})", s.name, s.kind)).collect();
            println!("config OK: cluster {}, {} strategies: {}", config.cluster, kinds.len(), kinds.join(", "));
            println!("programs: rwa_market {}, rwa_lending {}, rule_dao {}", ids.rwa_market, ids.rwa_lending, ids.rule_dao);
            Ok(())
        }
        Command::Run { config, check: false } => runtime()?.block_on(async move {
            let config = daemon::load_config(&config)?;
            programs::install(&program_flags, config.programs.as_ref())?;
            let payer = wallet::load(config.keypair.as_deref())?;
            let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let signal_stop = stop.clone();
            tokio::spawn(async move {
                let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = async { match terminate.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending::<()>().await } } => {}
                }
                signal_stop.store(true, std::sync::atomic::Ordering::Relaxed);
            });
            let latch = config.state_dir.join("kill-switch.json");
            let (metrics, summary) = match daemon::run_with_summary(config, payer, stop).await {
                Ok(done) => done,
                Err(error) => match error.downcast_ref::<daemon::KillSwitchLatched>() {
                    // Not restartable by systemd (RestartPreventExitStatus): a human decides.
                    Some(latched) => {
                        eprintln!("error: {latched}");
                        std::process::exit(daemon::EXIT_KILL_SWITCH);
                    }
                    None => return Err(error),
                },
            };
            print!("{}", metrics.render());
            if let Some((p50, p99)) = metrics.latency_percentiles() {
                eprintln!("tick to transaction landed: p50 {:.1} ms, p99 {:.1} ms", p50 as f64 / 1e3, p99 as f64 / 1e3);
            }
            let resting: Vec<String> = summary.iter().filter_map(|s| s.quote_left_resting.as_ref().map(|why| format!("{} ({why})", s.name))).collect();
            if metrics.killed.load(std::sync::atomic::Ordering::Relaxed) {
                eprintln!("error: stopped by the kill switch; {} keeps it stopped: review the positions, then delete it to run again", latch.display());
                if !resting.is_empty() {
                    eprintln!("error: quotes may be left resting: {}", resting.join(", "));
                }
                std::process::exit(daemon::EXIT_KILL_SWITCH);
            }
            if !resting.is_empty() {
                anyhow::bail!("quotes may be left resting: {}", resting.join(", "));
            }
            Ok(())
        }),
        Command::Risk { command: RiskCommand::Erc { cov, budgets, repeat } } => {
            let cov_text = std::fs::read_to_string(&cov).map_err(|e| anyhow::anyhow!("reading {}: {e}", cov.display()))?;
            let budgets_text = match &budgets {
                Some(path) => Some(std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?),
                None => None,
            };
            let output = risk::erc(&cov_text, budgets_text.as_deref(), repeat)?;
            println!("{}", serde_json::to_string_pretty(&output)?);
            Ok(())
        }
        Command::Sim { scenario, experiment, agents, assets, steps, seed, seeds, out, check_every, quiet } => {
            simulate(scenario, experiment, rwa_sim::scenario::Overrides { agents, assets, steps, seed }, seeds, out, check_every, quiet)
        }
        Command::Learn(args) => learn::learn(args),
        Command::Market { command } => runtime()?.block_on(market_command(command)),
        Command::Localnet { port, slot_ms, bootstrap, out } => runtime()?.block_on(run_localnet(port, slot_ms, bootstrap, out)),
        Command::Bootstrap { cluster, keypair, config, out } => runtime()?.block_on(async move {
            let config = bootstrap::load_config(&config)?;
            let payer = wallet::load(keypair.as_deref())?;
            let rpc = chain::client(&cluster.unwrap_or_else(wallet::default_cluster))?;
            let state = bootstrap::run(&rpc, &payer, &config, &out, bootstrap::OtherClusterState::Refuse).await?;
            println!("bootstrap complete: {} market(s); state in {}", state.markets.len(), out.display());
            Ok(())
        }),
    }
}

async fn market_command(command: MarketCommand) -> Result<()> {
    match command {
        MarketCommand::Show {
            cluster,
            market,
            json,
        } => {
            let rpc = chain::client(&cluster.unwrap_or_else(wallet::default_cluster))?;
            let address = chain::parse_address(&market, "market")?;
            let snapshot = chain::fetch_market(&rpc, &address).await?;
            let view = market_view::view(&snapshot)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&view)?);
            } else {
                print!(
                    "{}",
                    market_view::render_table(
                        &view,
                        snapshot.market.rwa_decimals,
                        snapshot.market.quote_decimals
                    )
                );
            }
        }
        MarketCommand::List { cluster, json } => {
            let rpc = chain::client(&cluster.unwrap_or_else(wallet::default_cluster))?;
            let mut markets = chain::list_markets(&rpc).await?;
            markets.sort_by(|a, b| a.1.symbol.cmp(&b.1.symbol));
            let rows: Vec<serde_json::Value> = markets
                .iter()
                .map(|(address, market)| {
                    serde_json::json!({
                        "market": address.to_string(),
                        "symbol": market.symbol,
                        "name": market.name,
                        "supply": market.supply,
                        "reserve": market.reserve,
                        "spot_price": market.spot_price().map(|p| p.to_string()).unwrap_or_default(),
                        "paused": market.paused,
                    })
                })
                .collect();
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                println!(
                    "{:<44} {:<10} {:>20} {:>20} {:>24}",
                    "market", "symbol", "supply", "reserve", "spot price"
                );
                for row in rows {
                    println!(
                        "{:<44} {:<10} {:>20} {:>20} {:>24}",
                        row["market"].as_str().unwrap_or_default(),
                        row["symbol"].as_str().unwrap_or_default(),
                        row["supply"],
                        row["reserve"],
                        row["spot_price"].as_str().unwrap_or_default()
                    );
                }
            }
        }
    }
    Ok(())
}

async fn run_localnet(
    port: u16,
    slot_ms: u64,
    bootstrap_config: Option<std::path::PathBuf>,
    out: std::path::PathBuf,
) -> Result<()> {
    let config = rwa_localnet::LocalnetConfig {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        slot_duration: Some(std::time::Duration::from_millis(slot_ms.max(1))),
    };
    let localnet = rwa_localnet::Localnet::start(config).await?;
    println!(
        "localnet JSON-RPC on {}, websocket on {}  (rwa_market {}, rwa_lending {}, rule_dao {})",
        localnet.url(),
        localnet.ws_url(),
        rwa_market::ID,
        rwa_lending::ID,
        rule_dao::ID
    );
    if let Some(path) = bootstrap_config {
        let config = bootstrap::load_config(&path)?;
        let rpc = solana_rpc_client::nonblocking::rpc_client::RpcClient::new_with_commitment(
            localnet.url(),
            solana_commitment_config::CommitmentConfig::confirmed(),
        );
        let payer = rwa_client::solana_keypair::Keypair::new();
        let signature = rpc
            .request_airdrop(
                &rwa_client::solana_signer::Signer::pubkey(&payer),
                1_000_000_000_000,
            )
            .await?;
        crate::chain::confirm(&rpc, &signature, std::time::Duration::from_secs(30)).await?;
        let state = bootstrap::run(
            &rpc,
            &payer,
            &config,
            &out,
            bootstrap::OtherClusterState::SetAside,
        )
        .await?;
        println!(
            "bootstrapped {} market(s); state in {}",
            state.markets.len(),
            out.display()
        );
    }
    println!("press Ctrl-C to stop");
    tokio::signal::ctrl_c().await?;
    localnet.shutdown().await;
    println!("localnet stopped");
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn simulate(
    scenario: String,
    experiment: Option<String>,
    overrides: rwa_sim::scenario::Overrides,
    seeds: u64,
    out: std::path::PathBuf,
    check_every: u64,
    quiet: bool,
) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    let scenario = rwa_sim::scenario::Scenario::load(&scenario)?.with(overrides)?;
    // Off SBF, the programs' msg! logs print to stdout (thousands per run): silence them while
    // simulating, so stdout holds just the summary.
    let _silence = StdoutSilenced::new();
    let options = rwa_sim::RunOptions {
        progress: !quiet && std::io::stderr().is_terminal(),
        check_every,
        dao: true,
        market_features: false,
    };
    match experiment.as_deref() {
        None => {
            let output = rwa_sim::run(&scenario, options)?;
            rwa_sim::report::write_run(&out, &output)?;
            drop(_silence);
            print!("{}", rwa_sim::report::table(&output));
            println!("wrote {}", out.display());
        }
        Some(name) => {
            if seeds == 0 {
                anyhow::bail!("--seeds must be at least 1");
            }
            let seed_list: Vec<u64> = (scenario.seed..scenario.seed + seeds).collect();
            let options = rwa_sim::RunOptions {
                progress: !quiet,
                ..options
            };
            if let Some(report) = match name {
                "affiliate" => Some(rwa_sim::incentives::affiliate(
                    &scenario,
                    &seed_list,
                    options,
                    &AFFILIATE_RATES_BPS,
                )?),
                "airdrop" => Some(rwa_sim::incentives::airdrop(
                    &scenario, &seed_list, options,
                )?),
                _ => None,
            } {
                write_experiment(&out, name, &report, &rwa_sim::incentives::chart(&report))?;
                drop(_silence);
                print!("{}", rwa_sim::incentives::table(&report));
                return Ok(());
            }
            if name == "coordination-sweep" {
                let report = rwa_sim::experiment::coordination_sweep(
                    &scenario,
                    &seed_list,
                    options,
                    &COORDINATION_ALPHAS,
                )?;
                write_experiment(&out, name, &report, &rwa_sim::incentives::chart(&report))?;
                drop(_silence);
                print!("{}", rwa_sim::incentives::table(&report));
                return Ok(());
            }
            if name == "valuation" {
                let report = rwa_sim::valuation::experiment(
                    &scenario,
                    &seed_list,
                    options,
                    &rwa_sim::valuation::Settings::default(),
                )?;
                write_experiment(&out, name, &report, &rwa_sim::valuation::chart(&report))?;
                drop(_silence);
                print!("{}", rwa_sim::valuation::table(&report));
                return Ok(());
            }
            let report = match name {
                "coordination" => {
                    rwa_sim::experiment::coordination(&scenario, &seed_list, options)?
                }
                "lending" => rwa_sim::experiment::lending(&scenario, &seed_list, options)?,
                "risk-parity" => rwa_sim::experiment::risk_parity(&scenario, &seed_list, options)?,
                "primary" => rwa_sim::experiment::primary(&scenario, &seed_list, options)?,
                "fair-value" => rwa_sim::experiment::fair_value(&scenario, &seed_list, options)?,
                other => {
                    anyhow::bail!(
                        "--experiment {other}: one of coordination, coordination-sweep, lending, risk-parity, primary, affiliate, airdrop, valuation, fair-value"
                    )
                }
            };
            write_experiment(&out, name, &report, &rwa_sim::experiment::chart(&report))?;
            drop(_silence);
            print!("{}", rwa_sim::experiment::table(&report));
        }
    }
    Ok(())
}

/// The weights of profit in R_i the coordination sweep runs its adaptive arm at.
const COORDINATION_ALPHAS: [f64; 7] = [0.0, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0];

/// The referrer shares (bps of the fee) the affiliate experiment sweeps; the first is the control.
const AFFILIATE_RATES_BPS: [u16; 5] = [0, 500, 1_000, 2_500, 5_000];

/// Writes an experiment's JSON report and its plot to `out`.
fn write_experiment(
    out: &std::path::Path,
    name: &str,
    report: &impl serde::Serialize,
    chart: &str,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).map_err(|e| anyhow::anyhow!("{}: {e}", out.display()))?;
    let path = out.join(format!("experiment-{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(report)?)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let plot = out.join(format!("experiment-{name}.svg"));
    std::fs::write(&plot, chart).map_err(|e| anyhow::anyhow!("{}: {e}", plot.display()))?;
    eprintln!("wrote {} and {}", path.display(), plot.display());
    Ok(())
}

/// Points file descriptor 1 at /dev/null until dropped (stdout is restored then).
struct StdoutSilenced {
    saved: Option<libc::c_int>,
}

impl StdoutSilenced {
    fn new() -> StdoutSilenced {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        // SAFETY: plain fd calls; every result is checked and the saved fd restored on drop.
        unsafe {
            let saved = libc::dup(1);
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
            if saved < 0 || null < 0 || libc::dup2(null, 1) < 0 {
                if saved >= 0 {
                    libc::close(saved);
                }
                if null >= 0 {
                    libc::close(null);
                }
                return StdoutSilenced { saved: None };
            }
            libc::close(null);
            StdoutSilenced { saved: Some(saved) }
        }
    }
}

impl Drop for StdoutSilenced {
    fn drop(&mut self) {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        if let Some(saved) = self.saved.take() {
            // SAFETY: `saved` is the fd dup'ed in `new`.
            unsafe {
                libc::dup2(saved, 1);
                libc::close(saved);
            }
        }
    }
}
