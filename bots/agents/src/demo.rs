//! `rwa-agents demo`: the agent economy on an embedded local cluster, no validator needed.
//!
//! Starts the embedded localnet (the programs in the Agave runtime behind JSON-RPC/websocket),
//! bootstraps the example economy (three RWA markets on the three curve kinds, a lending market, a
//! rule DAO the markets obey), runs a market maker, an arbitrageur, a noise trader and an oracle
//! keeper on every market, a risk-parity investor over all of them and a governor staked in the
//! DAO, through the same daemon users run (`rwa-agents run`) for a bounded number of ticks, then
//! prints what each agent did and what the markets look like.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use rwa_client::solana_keypair::Keypair;
use rwa_client::solana_signer::Signer;
use rwa_localnet::{Localnet, LocalnetConfig};
use rwa_math::Decimal;
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;

use crate::daemon::{AgentsConfig, RiskLimits, StrategyConfig, StrategyKind};

/// A quote token account for `agent`, funded from the bootstrap payer's.
async fn fund_agent(
    rpc: &RpcClient,
    payer: &Keypair,
    agent: &Keypair,
    mint: &rwa_client::solana_address::Address,
    from: &rwa_client::solana_address::Address,
    amount: u64,
) -> Result<rwa_client::solana_address::Address> {
    let account = Keypair::new();
    let [create, initialize] = crate::chain::new_token_account_ixs(
        rpc,
        &payer.pubkey(),
        &account.pubkey(),
        mint,
        &agent.pubkey(),
    )
    .await?;
    let instructions = [
        create,
        initialize,
        anchor_spl::token::spl_token::instruction::transfer(
            &anchor_spl::token::spl_token::ID,
            from,
            &account.pubkey(),
            &payer.pubkey(),
            &[],
            amount,
        )?,
    ];
    match crate::daemon::pipeline::send(
        rpc,
        payer,
        &[&account],
        &instructions,
        &Default::default(),
        &mut crate::daemon::pipeline::unjournaled,
    )
    .await?
    {
        crate::daemon::pipeline::Outcome::Landed(_) => Ok(account.pubkey()),
        crate::daemon::pipeline::Outcome::Refused(reason) => {
            Err(anyhow!("funding agent {}: {reason}", agent.pubkey()))
        }
    }
}

/// A token account of `market`'s RWA for `agent`, holding `amount` bought on the curve.
async fn buy_stake(
    rpc: &RpcClient,
    agent: &Keypair,
    market: &str,
    quote_account: &rwa_client::solana_address::Address,
    amount: u64,
) -> Result<rwa_client::solana_address::Address> {
    use rwa_client::market::{trade_ix, MarketAddresses, TradeKind, TraderAccounts};
    let address = crate::chain::parse_address(market, "stake market")?;
    let snapshot = crate::chain::fetch_market(rpc, &address).await?;
    let state = snapshot.market;
    let mut addresses = MarketAddresses::derive(state.rwa_mint, state.quote_mint);
    if state.rule_set != rwa_client::solana_address::Address::default() {
        addresses.rule_set = Some(state.rule_set);
    }
    let account = Keypair::new();
    let trader = TraderAccounts {
        trader: agent.pubkey(),
        rwa_account: account.pubkey(),
        quote_account: *quote_account,
    };
    let [create, initialize] = crate::chain::new_token_account_ixs(
        rpc,
        &agent.pubkey(),
        &account.pubkey(),
        &state.rwa_mint,
        &agent.pubkey(),
    )
    .await?;
    let instructions = [
        create,
        initialize,
        trade_ix(
            &addresses,
            &trader,
            TradeKind::BuyExactOut {
                amount,
                max_quote_in: u64::MAX,
            },
        ),
    ];
    match crate::daemon::pipeline::send(
        rpc,
        agent,
        &[&account],
        &instructions,
        &Default::default(),
        &mut crate::daemon::pipeline::unjournaled,
    )
    .await?
    {
        crate::daemon::pipeline::Outcome::Landed(_) => Ok(account.pubkey()),
        crate::daemon::pipeline::Outcome::Refused(reason) => {
            Err(anyhow!("buying stake tokens: {reason}"))
        }
    }
}

/// A new agent wallet: SOL from the faucet and a quote account holding `quote` from the payer.
async fn new_agent(
    rpc: &RpcClient,
    payer: &Keypair,
    quote_mint: &rwa_client::solana_address::Address,
    payer_quote: &rwa_client::solana_address::Address,
    quote: u64,
) -> Result<(Keypair, rwa_client::solana_address::Address)> {
    let agent = Keypair::new();
    let wallet = fund_wallet(rpc, payer, &agent, quote_mint, payer_quote, quote).await?;
    Ok((agent, wallet))
}

/// Funds an existing wallet like `new_agent`: SOL from the faucet, `quote` from the payer.
async fn fund_wallet(
    rpc: &RpcClient,
    payer: &Keypair,
    agent: &Keypair,
    quote_mint: &rwa_client::solana_address::Address,
    payer_quote: &rwa_client::solana_address::Address,
    quote: u64,
) -> Result<rwa_client::solana_address::Address> {
    let airdrop = rpc.request_airdrop(&agent.pubkey(), 20_000_000_000).await?;
    crate::chain::confirm(rpc, &airdrop, Duration::from_secs(30)).await?;
    fund_agent(rpc, payer, agent, quote_mint, payer_quote, quote).await
}

/// One agent's daemon config on the embedded localnet: a state dir per strategy name.
fn agent_config(
    localnet: &Localnet,
    directory: &std::path::Path,
    ticks: u64,
    strategy: StrategyConfig,
) -> AgentsConfig {
    AgentsConfig {
        cluster: localnet.url(),
        keypair: None,
        state_dir: directory.join(&strategy.name),
        metrics_port: 0,
        tick_ms: 50,
        ws_url: Some(localnet.ws_url()),
        // The local cluster has no rate limit to respect.
        max_requests_per_second: 5_000.0,
        max_ticks: ticks,
        risk: RiskLimits::default(),
        programs: None,
        strategies: vec![strategy],
    }
}

const EXAMPLE: &str = include_str!("../configs/bootstrap.example.toml");

fn usdc(units: i64) -> String {
    format!(
        "{}{}.{:02}",
        if units < 0 { "-" } else { "" },
        units.unsigned_abs() / 1_000_000,
        (units.unsigned_abs() % 1_000_000) / 10_000
    )
}

fn strategy(
    kind: StrategyKind,
    symbol: &str,
    market: &str,
    quote_account: &str,
    escrow_rwa: u64,
) -> StrategyConfig {
    StrategyConfig {
        kind,
        name: format!("{kind}-{symbol}"),
        market: market.to_string(),
        escrow_rwa,
        escrow_quote: if kind == StrategyKind::MarketMaker {
            20_000_000_000
        } else {
            0
        },
        quote_size: Some((escrow_rwa / 6).max(1)),
        base_half_spread: Some(0.003),
        transaction_cost: Some(5_000),
        quote_account: Some(quote_account.to_string()),
        seed: Some(symbol.bytes().map(|b| b as u64).sum()),
        max_oracle_age_slots: Some(10),
        lending_market: None,
        dao: None,
        stake_account: None,
        stake_amount: None,
        tighten_above: None,
        relax_below: None,
        baseline_breaker_bps: None,
        markets: None,
        caps: None,
        capital: None,
        drift_band: None,
        rebalance_every_slots: None,
        venues: None,
        delay_cost_bps: None,
        policy: None,
        clip: None,
        max_slippage: None,
        learned_policy: None,
    }
}

pub async fn run(ticks: u64) -> Result<()> {
    let started = Instant::now();
    let localnet = Localnet::start(LocalnetConfig {
        listen: "127.0.0.1:0".parse()?,
        slot_duration: Some(Duration::from_millis(40)),
    })
    .await?;
    println!("rwa-agents demo: embedded localnet on {} (websocket {}), programs running in the Agave runtime", localnet.url(), localnet.ws_url());
    let rpc = RpcClient::new_with_commitment(localnet.url(), CommitmentConfig::confirmed());
    let payer = Keypair::new();
    let signature = rpc
        .request_airdrop(&payer.pubkey(), 1_000_000_000_000)
        .await?;
    crate::chain::confirm(&rpc, &signature, std::time::Duration::from_secs(30)).await?;

    let directory = std::env::temp_dir().join(format!("rwa-demo-{}", std::process::id()));
    std::fs::create_dir_all(&directory)?;
    let mut config: crate::bootstrap::BootstrapConfig = toml::from_str(EXAMPLE)?;
    // The authorised participant's wallet exists before the bootstrap allows it (the DAO takes
    // the market authority over at the end of the bootstrap).
    let participant = Keypair::new();
    for market in config.markets.iter_mut() {
        if let Some(primary) = market.primary.as_mut() {
            primary.participants.push(participant.pubkey().to_string());
        }
    }
    let state = crate::bootstrap::run(
        &rpc,
        &payer,
        &config,
        &directory.join("bootstrap-state.json"),
        crate::bootstrap::OtherClusterState::SetAside,
    )
    .await?;
    let quote_account = state
        .payer_quote_account
        .clone()
        .ok_or_else(|| anyhow!("bootstrap funded no quote account"))?;
    println!(
        "bootstrapped {} markets, lending market {}, rule DAO {}",
        state.markets.len(),
        state.lending_market.as_deref().unwrap_or("-"),
        state.dao.as_deref().unwrap_or("-")
    );

    // One wallet per agent, so each agent's PnL is its own: SOL from the faucet, 200k USDC from the
    // bootstrap payer.
    let escrow = |symbol: &str| match symbol {
        "TBILL27" => 60_000_000,
        "SOLAR" => 300_000_000,
        _ => 400_000_000,
    };
    let quote_mint = crate::chain::parse_address(
        state.quote_mint.as_deref().unwrap_or_default(),
        "quote mint",
    )?;
    let payer_quote = crate::chain::parse_address(&quote_account, "payer quote account")?;
    let mut runs = Vec::new();
    for (symbol, market) in &state.markets {
        for kind in [
            StrategyKind::MarketMaker,
            StrategyKind::Noise,
            StrategyKind::Arbitrage,
            StrategyKind::Keeper,
        ] {
            let (agent, wallet) =
                new_agent(&rpc, &payer, &quote_mint, &payer_quote, 200_000 * 1_000_000).await?;
            let strategy = strategy(
                kind,
                symbol,
                &market.market,
                &wallet.to_string(),
                escrow(symbol),
            );
            runs.push(crate::daemon::run_with_summary(
                agent_config(&localnet, &directory, ticks, strategy),
                agent,
                Arc::new(AtomicBool::new(false)),
            ));
        }
    }
    // An authorised participant arbitraging each primary market against its curve.
    for market in config.markets.iter().filter(|m| m.primary.is_some()) {
        let Some(entry) = state.markets.get(&market.symbol) else {
            continue;
        };
        let wallet = fund_wallet(
            &rpc,
            &payer,
            &participant,
            &quote_mint,
            &payer_quote,
            200_000 * 1_000_000,
        )
        .await?;
        let ap = strategy(
            StrategyKind::ApArbitrage,
            &market.symbol,
            &entry.market,
            &wallet.to_string(),
            0,
        );
        runs.push(crate::daemon::run_with_summary(
            agent_config(&localnet, &directory, ticks, ap),
            participant.insecure_clone(),
            Arc::new(AtomicBool::new(false)),
        ));
    }
    // A risk-parity investor over all three markets and a governor staked in the rule DAO.
    let all_markets: Vec<String> = state.markets.values().map(|m| m.market.clone()).collect();
    let first_market = all_markets
        .first()
        .cloned()
        .ok_or_else(|| anyhow!("bootstrap created no market"))?;
    let (investor, investor_quote) =
        new_agent(&rpc, &payer, &quote_mint, &payer_quote, 200_000 * 1_000_000).await?;
    let mut parity = strategy(
        StrategyKind::RiskParity,
        "portfolio",
        &first_market,
        &investor_quote.to_string(),
        0,
    );
    parity.markets = Some(all_markets.clone());
    parity.capital = Some(3_000 * 1_000_000);
    parity.drift_band = Some(0.05);
    // re-solve the ERC targets every ~2 s of demo time; between, only drift past the band trades
    parity.rebalance_every_slots = Some(50);
    // liquidity caps: no market above half the book (the calm bill would otherwise take it all)
    parity.caps = Some(vec![0.5; all_markets.len()]);
    let (governor, governor_quote) =
        new_agent(&rpc, &payer, &quote_mint, &payer_quote, 20_000 * 1_000_000).await?;
    let mut govern = strategy(
        StrategyKind::Governance,
        "DAO",
        &state.markets["NYREIT"].market,
        &governor_quote.to_string(),
        0,
    );
    if let (Some(dao), Some(stake_market)) = (
        state.dao.clone(),
        config.dao.as_ref().map(|d| d.stake_market.clone()),
    ) {
        // stake tokens are the stake market's RWA: the governor buys 50 on the curve
        let stake_account = buy_stake(
            &rpc,
            &governor,
            &state.markets[&stake_market].market,
            &governor_quote,
            50_000_000,
        )
        .await?;
        govern.dao = Some(dao);
        govern.stake_account = Some(stake_account.to_string());
        govern.stake_amount = Some(50_000_000);
        govern.tighten_above = Some(0.003);
        govern.relax_below = Some(0.0005);
        govern.baseline_breaker_bps = Some(1_500);
    }
    for (agent, strategy) in [(investor, parity), (governor, govern)] {
        if strategy.kind == StrategyKind::Governance && strategy.dao.is_none() {
            continue;
        }
        let config = agent_config(&localnet, &directory, ticks, strategy);
        runs.push(crate::daemon::run_with_summary(
            config,
            agent,
            Arc::new(AtomicBool::new(false)),
        ));
    }
    println!("running {} agents for {ticks} ticks each (market makers, arbitrageurs, noise traders, oracle keepers, a risk-parity investor, a DAO governor)\n", runs.len());
    let requests_before = crate::chain::RPC_REQUESTS.load(std::sync::atomic::Ordering::Relaxed);
    let results = futures_util::future::join_all(runs).await;
    let requests =
        crate::chain::RPC_REQUESTS.load(std::sync::atomic::Ordering::Relaxed) - requests_before;
    let (mut landed, mut failed, mut agent_ticks) = (0u64, 0u64, 0u64);
    let mut latencies = Vec::new();
    println!(
        "{:<22} {:>8} {:>9} {:>14} {:>26}",
        "agent", "landed", "refused", "PnL (USDC)", "last quote (bid / ask)"
    );
    let mut left_resting: Vec<String> = Vec::new();
    for result in results {
        let (metrics, summary) = result?;
        landed += metrics.tx_landed.load(std::sync::atomic::Ordering::Relaxed);
        failed += metrics.tx_failed.load(std::sync::atomic::Ordering::Relaxed);
        agent_ticks += metrics.ticks.load(std::sync::atomic::Ordering::Relaxed);
        latencies.extend(
            metrics
                .latencies_us
                .lock()
                .map(|l| l.clone())
                .unwrap_or_default(),
        );
        for s in summary {
            if let Some(why) = &s.quote_left_resting {
                left_resting.push(format!("{} ({why})", s.name));
            }
            let quote = s
                .last_quote
                .map(|(b, a)| format!("{b:.4} / {a:.4}"))
                .unwrap_or_else(|| "-".into());
            println!(
                "{:<22} {:>8} {:>9} {:>14} {:>26}",
                s.name,
                s.landed,
                s.refused,
                usdc(s.pnl),
                quote
            );
        }
    }
    println!(
        "\n{:<8} {:>7} {:>14} {:>11} {:>11} {:>11}",
        "market", "trades", "supply", "spot", "twap", "vol/slot"
    );
    let mut markets: Vec<_> = state.markets.iter().collect();
    markets.sort_by(|a, b| a.0.cmp(b.0));
    for (symbol, entry) in markets {
        let address = crate::chain::parse_address(&entry.market, "market")?;
        let snapshot = crate::chain::fetch_market(&rpc, &address).await?;
        let view = crate::market_view::view(&snapshot)?;
        let number = |text: &Option<String>| {
            text.as_deref()
                .and_then(|t| t.parse::<Decimal>().ok())
                .map(|d| d.to_f64())
        };
        let show = |v: Option<f64>| v.map(|x| format!("{x:.4}")).unwrap_or_else(|| "-".into());
        println!(
            "{:<8} {:>7} {:>14} {:>11} {:>11} {:>11}",
            symbol,
            snapshot.market.trade_count,
            format!("{:.2}", snapshot.market.supply as f64 / 1e6),
            show(view.spot_price.parse::<Decimal>().ok().map(|d| d.to_f64())),
            show(number(&view.twap)),
            format!(
                "{:.6}",
                view.volatility_per_slot
                    .parse::<Decimal>()
                    .map(|d| d.to_f64())
                    .unwrap_or(0.0)
            ),
        );
    }
    let shutdown = if left_resting.is_empty() {
        "every resting quote was cancelled at shutdown".to_string()
    } else {
        format!(
            "quotes possibly left resting at shutdown: {}",
            left_resting.join(", ")
        )
    };
    println!(
        "\n{landed} transactions landed, {failed} refused or not landed, in {:.1}s; {shutdown}.",
        started.elapsed().as_secs_f64()
    );
    latencies.sort_unstable();
    if !latencies.is_empty() {
        let at = |q: f64| {
            latencies[((latencies.len() - 1) as f64 * q).round() as usize] as f64 / 1_000.0
        };
        println!(
            "tick to transaction landed: p50 {:.1} ms, p99 {:.1} ms over {} transactions; {:.1} RPC requests per agent tick",
            at(0.5),
            at(0.99),
            latencies.len(),
            requests as f64 / agent_ticks.max(1) as f64
        );
    }
    // What the portfolio and the governor decided, from their journals (landed intents).
    let symbol_of = |market: &str| {
        state
            .markets
            .iter()
            .find(|(_, m)| m.market == market)
            .map(|(symbol, _)| symbol.clone())
            .unwrap_or_else(|| market.to_string())
    };
    for name in ["risk_parity-portfolio", "governance-DAO"] {
        let path = directory.join(name).join("intents.jsonl");
        let Ok(journal) = crate::daemon::journal::Journal::open(&path) else {
            continue;
        };
        let landed: Vec<&crate::daemon::journal::Entry> = journal
            .entries()
            .filter(|e| matches!(e.status, crate::daemon::journal::Status::Landed { .. }))
            .collect();
        let rebalances: Vec<&serde_json::Value> = landed
            .iter()
            .filter_map(|e| e.intent.get("Rebalance"))
            .collect();
        if rebalances.is_empty() {
            let mut actions: Vec<String> = landed.iter().map(|e| e.intent.to_string()).collect();
            actions.sort();
            println!(
                "{name}: {}",
                if actions.is_empty() {
                    "nothing landed".into()
                } else {
                    actions.join(", ")
                }
            );
        } else {
            let buys = rebalances.iter().filter(|r| r["side"] == "Buy").count();
            let mut targets = std::collections::BTreeMap::new();
            for r in &rebalances {
                if let (Some(market), Some(weight)) =
                    (r["market"].as_str(), r["target_weight"].as_f64())
                {
                    targets.insert(symbol_of(market), weight);
                }
            }
            let targets: Vec<String> = targets.iter().map(|(s, w)| format!("{s} {w:.2}")).collect();
            println!(
                "{name}: {} rebalancing trades ({buys} buys, {} sells); ERC target weight at each market's last trade: {}",
                rebalances.len(),
                rebalances.len() - buys,
                targets.join(", ")
            );
        }
    }
    let _ = std::fs::remove_dir_all(&directory);
    localnet.shutdown().await;
    Ok(())
}
