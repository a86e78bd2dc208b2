//! The agent daemon against the embedded localnet, as an operator runs it: bootstrap a market,
//! run a market maker and an arbitrageur for a few ticks, restart without duplicating intents,
//! and trip the kill switch. Quotes never stay resting after the daemon stops.

use std::process::Output;

use rwa_harness::solana_keypair::Keypair;
use rwa_harness::solana_signer::Signer;
use rwa_localnet::{Localnet, LocalnetConfig};

mod common;
use common::{fresh_directory, funded_tbill, rwa_agents, BOOTSTRAP};

fn agents_toml(
    url: &str,
    keypair: &str,
    state_dir: &str,
    market: &str,
    quote_account: &str,
    ticks: u64,
    max_loss: i64,
) -> String {
    agents_toml_ws(
        url,
        None,
        keypair,
        state_dir,
        market,
        quote_account,
        ticks,
        max_loss,
    )
}

#[allow(clippy::too_many_arguments)]
fn agents_toml_ws(
    url: &str,
    ws: Option<&str>,
    keypair: &str,
    state_dir: &str,
    market: &str,
    quote_account: &str,
    ticks: u64,
    max_loss: i64,
) -> String {
    let ws_line = ws.map(|w| format!("ws_url = \"{w}\"")).unwrap_or_default();
    format!(
        r#"
{ws_line}
cluster = "{url}"
keypair = "{keypair}"
state_dir = "{state_dir}"
tick_ms = 100
max_ticks = {ticks}
max_requests_per_second = 2_000

[risk]
max_loss = {max_loss}
max_drawdown = 1_000_000_000_000

[[strategy]]
kind = "market_maker"
name = "mm"
market = "{market}"
escrow_rwa = 50_000_000
escrow_quote = 100_000_000
quote_size = 5_000_000
quote_account = "{quote_account}"

[[strategy]]
kind = "arbitrage"
name = "arb"
market = "{market}"
quote_account = "{quote_account}"
"#
    )
}

fn journal_ids(path: &std::path::Path) -> Vec<(String, String)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .map(|entry| {
            (
                entry["id"].as_str().unwrap().to_string(),
                entry["status"].to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_quotes_restarts_cleanly_and_obeys_the_kill_switch() {
    let localnet = start_localnet().await;
    let directory = fresh_directory("rwa-daemon");
    let payer = Keypair::new();
    localnet
        .airdrop(&payer.pubkey(), 1_000_000_000_000)
        .unwrap();
    let keypair = directory.join("payer.json");
    std::fs::write(
        &keypair,
        serde_json::to_string(&payer.to_bytes().to_vec()).unwrap(),
    )
    .unwrap();
    std::fs::write(directory.join("bootstrap.toml"), BOOTSTRAP).unwrap();
    let url = localnet.url();
    let dir = directory.clone();
    let run = move |args: Vec<String>| {
        let dir = dir.clone();
        async move {
            let _ = &dir;
            tokio::task::spawn_blocking(move || {
                rwa_agents(&args.iter().map(String::as_str).collect::<Vec<_>>())
            })
            .await
            .unwrap()
        }
    };
    let path = |name: &str| directory.join(name).to_str().unwrap().to_string();
    let bootstrap = run(vec![
        "bootstrap".into(),
        "--cluster".into(),
        url.clone(),
        "--keypair".into(),
        path("payer.json"),
        "--config".into(),
        path("bootstrap.toml"),
        "--out".into(),
        path("state.json"),
    ])
    .await;
    assert!(
        bootstrap.status.success(),
        "{}",
        String::from_utf8_lossy(&bootstrap.stderr)
    );
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(directory.join("state.json")).unwrap()).unwrap();
    let market = state["markets"]["TBILL"]["market"]
        .as_str()
        .unwrap()
        .to_string();
    let quote_account = state["payer_quote_account"].as_str().unwrap().to_string();

    // first run: the maker opens, escrows, quotes; at the end its quote is cancelled
    let config = agents_toml_ws(
        &url,
        Some(&localnet.ws_url()),
        &path("payer.json"),
        &path("agents"),
        &market,
        &quote_account,
        6,
        i64::MAX,
    );
    std::fs::write(directory.join("agents.toml"), &config).unwrap();
    let first = run(vec!["run".into(), "--config".into(), path("agents.toml")]).await;
    let stdout = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(
        first.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let landed: u64 = metric(&stdout, "rwa_agent_tx_landed_total");
    assert!(
        landed >= 1,
        "the maker landed quotes:\n{stdout}\n{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let ws_updates: u64 = metric(&stdout, "rwa_agent_ws_updates_total");
    assert!(
        ws_updates >= 1,
        "no account notification over the websocket:\n{stdout}"
    );
    let show = run(vec![
        "market".into(),
        "show".into(),
        "--cluster".into(),
        url.clone(),
        "--market".into(),
        market.clone(),
        "--json".into(),
    ])
    .await;
    let view: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    let quotes = view["quotes"].as_array().unwrap();
    assert_eq!(quotes.len(), 1, "one maker");
    assert!(quotes[0]["sequence"].as_u64().unwrap() >= 1);
    assert_eq!(
        (
            quotes[0]["bid_size"].as_u64(),
            quotes[0]["ask_size"].as_u64()
        ),
        (Some(0), Some(0)),
        "quote cancelled on shutdown"
    );
    let sequence_after_first = quotes[0]["sequence"].as_u64().unwrap();

    // status reports the maker and the journal
    let status = run(vec![
        "status".into(),
        "--config".into(),
        path("agents.toml"),
    ])
    .await;
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert!(report["journal"]["landed"].as_u64().unwrap() >= 1);
    assert_eq!(
        report["strategies"][0]["maker"]["sequence"]
            .as_u64()
            .unwrap(),
        sequence_after_first
    );
    assert_eq!(report["strategies"][0]["maker"]["live"], false);

    // restart: resumes, never reuses an intent id, sequence keeps increasing
    let second = run(vec!["run".into(), "--config".into(), path("agents.toml")]).await;
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let entries = journal_ids(&directory.join("agents/intents.jsonl"));
    let mut sent: Vec<&String> = entries
        .iter()
        .filter(|(_, status)| status.contains("Pending"))
        .map(|(id, _)| id)
        .collect();
    let total = sent.len();
    sent.sort();
    sent.dedup();
    assert_eq!(sent.len(), total, "an intent was sent twice");
    let show = run(vec![
        "market".into(),
        "show".into(),
        "--cluster".into(),
        url.clone(),
        "--market".into(),
        market.clone(),
        "--json".into(),
    ])
    .await;
    let view: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert!(view["quotes"][0]["sequence"].as_u64().unwrap() > sequence_after_first);

    // kill switch: a loss limit below zero fires on the first tick (a fresh state dir, so a fresh
    // PnL baseline: the earlier runs' baseline persists in theirs); the daemon exits 3
    let config = agents_toml(
        &url,
        &path("payer.json"),
        &path("agents-kill"),
        &market,
        &quote_account,
        50,
        -1,
    );
    std::fs::write(directory.join("agents.toml"), &config).unwrap();
    let killed = run(vec!["run".into(), "--config".into(), path("agents.toml")]).await;
    // Exit status 3, which the systemd unit does not restart (RestartPreventExitStatus=3).
    assert_eq!(killed.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&killed.stderr).contains("kill switch"),
        "{}",
        String::from_utf8_lossy(&killed.stderr)
    );
    assert!(String::from_utf8_lossy(&killed.stdout).contains("rwa_agent_killed 1"));
    // The trip is latched: a restart (systemd or by hand) refuses to trade until an operator
    // deletes the latch; the PnL baseline survives the restart too.
    let latch = directory.join("agents-kill").join("kill-switch.json");
    assert!(latch.exists());
    assert!(directory.join("agents").join("risk-state.json").exists());
    let again = run(vec!["run".into(), "--config".into(), path("agents.toml")]).await;
    assert_eq!(again.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&again.stderr).to_string();
    assert!(
        stderr.contains("latched by an earlier run") && stderr.contains("kill-switch.json"),
        "{stderr}"
    );
    assert!(
        !String::from_utf8_lossy(&again.stdout).contains("rwa_agent_ticks"),
        "a latched daemon must not tick"
    );
    let _ = std::fs::remove_dir_all(&directory);
    localnet.shutdown().await;
}

#[test]
fn example_agents_config_passes_check_once_addresses_are_filled_in() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/agents.example.toml");
    // As shipped, the placeholders are refused, naming the strategy and the field.
    let refused = rwa_agents(&["run", "--config", path, "--check"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        stderr.contains("mm-tbill") && stderr.contains("REPLACE_WITH_MARKET_ADDRESS"),
        "{stderr}"
    );
    // With real-looking addresses every strategy kind validates (deny_unknown_fields catches typos).
    let text = std::fs::read_to_string(path).unwrap();
    let filled: String = text
        .split('"')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 && part.starts_with("REPLACE_WITH_") {
                rwa_harness::solana_keypair::Keypair::new()
                    .pubkey()
                    .to_string()
            } else {
                part.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\"");
    let copy = std::env::temp_dir().join(format!("agents-example-{}.toml", std::process::id()));
    std::fs::write(&copy, filled).unwrap();
    let checked = rwa_agents(&["run", "--config", copy.to_str().unwrap(), "--check"]);
    let stdout = String::from_utf8_lossy(&checked.stdout);
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    for kind in [
        "market_maker",
        "arbitrage",
        "keeper",
        "governance",
        "risk_parity",
        "cross_arbitrage",
    ] {
        assert!(stdout.contains(&format!("({kind})")), "{kind}: {stdout}");
    }
    let _ = std::fs::remove_file(copy);
}

/// A JSON-RPC proxy that answers every third request with HTTP 503 and forwards the rest.
/// How the proxy misbehaves.
#[derive(Clone, Copy)]
enum Flaw {
    /// Every third request answers 503.
    FailThird,
    /// Every seventh request hangs for a second before it is forwarded.
    StallSeventh,
}

async fn misbehaving_proxy(target: String, flaw: Flaw) -> String {
    use axum::http::StatusCode;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let counter = Arc::new(AtomicU64::new(0));
    let router = axum::Router::new().route(
        "/",
        axum::routing::post(move |body: String| {
            let (counter, target) = (counter.clone(), target.clone());
            async move {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                match flaw {
                    Flaw::FailThird if n % 3 == 2 => {
                        return (StatusCode::SERVICE_UNAVAILABLE, "overloaded".to_string());
                    }
                    Flaw::StallSeventh if n % 7 == 6 => {
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                    _ => {}
                }
                let address = target.trim_start_matches("http://").to_string();
                let Ok(mut stream) = tokio::net::TcpStream::connect(&address).await else { return (StatusCode::BAD_GATEWAY, String::new()) };
                let request = format!("POST / HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
                if stream.write_all(request.as_bytes()).await.is_err() {
                    return (StatusCode::BAD_GATEWAY, String::new());
                }
                let mut response = String::new();
                let _ = stream.read_to_string(&mut response).await;
                let payload = response.split("\r\n\r\n").nth(1).unwrap_or_default().to_string();
                (StatusCode::OK, payload)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{address}")
}

/// Runs the market maker and the arbitrageur for 6 ticks through a proxy with `flaw` in front of
/// the localnet; the run must succeed and land something. Returns the agents' state dir.
async fn run_through(flaw: Flaw, tag: &str) -> (Localnet, std::path::PathBuf) {
    let localnet = start_localnet().await;
    let directory = fresh_directory(tag);
    let (keypair, market, quote_account) = funded_tbill(&localnet, &directory).await;
    let proxy = misbehaving_proxy(localnet.url(), flaw).await;
    let agents_dir = directory.join("agents").to_str().unwrap().to_string();
    let config = agents_toml(
        &proxy,
        &keypair,
        &agents_dir,
        &market,
        &quote_account,
        6,
        i64::MAX,
    );
    let run = run_agents(&directory, config).await;
    let stdout = String::from_utf8_lossy(&run.stdout).to_string();
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let landed: u64 = metric(&stdout, "rwa_agent_tx_landed_total");
    assert!(
        landed >= 1,
        "nothing landed through the misbehaving endpoint:\n{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    (localnet, directory)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_survives_an_rpc_endpoint_that_fails_a_third_of_requests() {
    let (localnet, directory) = run_through(Flaw::FailThird, "rwa-flaky").await;
    let _ = std::fs::remove_dir_all(&directory);
    localnet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_rides_out_an_rpc_endpoint_that_stalls() {
    let (localnet, directory) = run_through(Flaw::StallSeventh, "rwa-stall").await;
    // A stall leaves nothing undecided: every intent ended landed or failed.
    common::assert_nothing_undecided(&directory.join("agents").join("intents.jsonl"));
    let _ = std::fs::remove_dir_all(&directory);
    localnet.shutdown().await;
}

const LENDING_BOOTSTRAP: &str = r#"
[quote]
decimals = 6
mint_to_payer = 100_000_000_000_000

[[market]]
symbol = "RWA"
name = "Crashing RWA"
curve = { kind = "linear", slope = "0.001", intercept = "0" }
max_supply = 10_000_000_000_000
fee_bps = 0
twap_window_slots = 1
ewma_lambda_bps = 9_999
seed_buy = 100_000_000_000

[lending]
id = 1
reserve_factor_bps = 1_000
sigma_p_cap = "0"
initial_liquidity = 1_000_000_000_000

[lending.collateral]
r0 = "0.02"
beta = "0.5"
gamma = "0"
cr_min_bps = 15_000
liquidation_cr_bps = 12_000
liquidation_bonus_bps = 500
close_factor_bps = 5_000
max_staleness_slots = 1_000
max_confidence_bps = 5_000
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keeper_liquidates_an_obligation_after_a_crash() {
    use rwa_harness::lending::*;
    use rwa_harness::market::*;
    let localnet = start_localnet().await;
    let directory = fresh_directory("rwa-keeper");
    let payer = Keypair::new();
    let path = |name: &str| directory.join(name).to_str().unwrap().to_string();
    let state = bootstrap_state(&localnet, &payer, &directory, "main", LENDING_BOOTSTRAP).await;
    let url = localnet.url();
    let market = address(&state["markets"]["RWA"]["market"]);
    let lending_market = state["lending_market"].as_str().unwrap().to_string();
    let payer_quote = address(&state["payer_quote_account"]);
    let quote_mint = address(&state["quote_mint"]);

    // a borrower at 160% and a whale who will crash the price, written straight into the localnet as fixtures
    let (owner, a, l, quote) = localnet.with_env(|env| {
        let m: rwa_market::state::Market = env.anchor_account(&market);
        let mut a = MarketAddresses::derive(m.rwa_mint, m.quote_mint);
        a.rule_set = None;
        let l = LendingAddresses::derive(quote_mint, 1);
        let fund = |env: &mut rwa_harness::TestEnv, owner: &Keypair, amount: u64| {
            let quote = env.create_token_account(&quote_mint, &owner.pubkey());
            let transfer = anchor_spl::token::spl_token::instruction::transfer(
                &anchor_spl::token::spl_token::ID,
                &payer_quote,
                &quote,
                &payer.pubkey(),
                &[],
                amount,
            )
            .unwrap();
            env.send(&[transfer], &[&payer]).unwrap();
            quote
        };
        let borrower = env.new_funded_keypair(10_000_000_000);
        let quote = fund(env, &borrower, 20_000_000_000);
        let rwa = env.create_token_account(&a.rwa_mint, &borrower.pubkey());
        let accounts = TraderAccounts {
            trader: borrower.pubkey(),
            rwa_account: rwa,
            quote_account: quote,
        };
        env.send(
            &[trade_ix(
                &a,
                &accounts,
                TradeKind::BuyExactOut {
                    amount: 100_000_000,
                    max_quote_in: u64::MAX,
                },
            )],
            &[&borrower],
        )
        .unwrap();
        env.send(
            &[
                init_obligation_ix(&borrower.pubkey(), &l),
                deposit_collateral_ix(&l, &borrower.pubkey(), &a, &rwa, 100_000_000),
            ],
            &[&borrower],
        )
        .unwrap();
        (borrower, a, l, quote)
    });
    localnet.warp_slots(2).unwrap();
    localnet.with_env(|env| env.send(&[update_oracle_ix(&a)], &[]).unwrap());
    localnet.warp_slots(1).unwrap();
    let mut borrow = refresh_all(&l, &owner.pubkey(), &[a]);
    borrow.push(borrow_ix(&l, &owner.pubkey(), &quote, 6_250_000_000, &[a]));
    localnet
        .with_env(|env| env.send(&borrow, &[&owner]))
        .unwrap_or_else(|e| panic!("{e}"));
    let owner = owner.pubkey();
    // crash: the bootstrap payer dumps 40% of the supply from its seed tokens
    {
        let m: rwa_market::state::Market = localnet.with_env(|env| env.anchor_account(&market));
        let a = MarketAddresses::derive(m.rwa_mint, m.quote_mint);
        let seed_account = common::token_account_of(&localnet, &m.rwa_mint, &payer.pubkey());
        let dumper = TraderAccounts {
            trader: payer.pubkey(),
            rwa_account: seed_account,
            quote_account: payer_quote,
        };
        localnet.with_env(|env| {
            let supply = env.market_state(&a).supply;
            env.send(
                &[trade_ix(
                    &a,
                    &dumper,
                    TradeKind::SellExactIn {
                        amount: supply * 40 / 100,
                        min_quote_out: 0,
                    },
                )],
                &[&payer],
            )
            .unwrap_or_else(|e| panic!("{e}"))
        });
    }

    let config = format!(
        r#"
cluster = "{url}"
ws_url = "{ws}"
keypair = "{keypair}"
state_dir = "{state_dir}"
tick_ms = 100
max_ticks = 6
max_requests_per_second = 2_000

[[strategy]]
kind = "keeper"
name = "keeper"
market = "{market}"
lending_market = "{lending_market}"
quote_account = "{payer_quote}"
max_oracle_age_slots = 2
"#,
        ws = localnet.ws_url(),
        keypair = path("payer.json"),
        state_dir = path("agents"),
    );
    let run = run_agents(&directory, config).await;
    let stdout = String::from_utf8_lossy(&run.stdout).to_string();
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let obligation: rwa_lending::state::Obligation =
        localnet.with_env(|env| env.anchor_account(&l.obligation(&owner)));
    assert!(
        obligation.debt < 6_250_000_000,
        "the keeper did not liquidate (debt {}):\n{stdout}\n{}",
        obligation.debt,
        String::from_utf8_lossy(&run.stderr)
    );
    let _ = std::fs::remove_dir_all(&directory);
    localnet.shutdown().await;
}

const GOVERNANCE_BOOTSTRAP: &str = r#"
[quote]
decimals = 6
mint_to_payer = 100_000_000_000_000

[[market]]
symbol = "GOV"
name = "Governed RWA"
curve = { kind = "linear", slope = "0.001", intercept = "1" }
max_supply = 10_000_000_000_000
twap_window_slots = 5
seed_buy = 10_000_000_000

[dao]
id = 1
stake_market = "GOV"
voting_period_slots = 30
hold_up_slots = 4
unstake_cooldown_slots = 2
quorum_bps = 2_000
threshold_bps = 6_667
min_proposal_stake = 1
attach_markets = true

[dao.rules]
circuit_breaker_bps = 1_500
circuit_breaker_window_slots = 150
circuit_breaker_halt_slots = 300
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn governance_agent_proposes_votes_and_executes_a_tighter_rule() {
    use rwa_harness::market::*;
    let localnet = start_localnet().await;
    let directory = fresh_directory("rwa-governance");
    let payer = Keypair::new();
    let path = |name: &str| directory.join(name).to_str().unwrap().to_string();
    let state = bootstrap_state(&localnet, &payer, &directory, "main", GOVERNANCE_BOOTSTRAP).await;
    let url = localnet.url();
    let market = address(&state["markets"]["GOV"]["market"]);
    let dao = state["dao"].as_str().unwrap().to_string();
    let rule_set = address(&state["rule_set"]);
    let payer_quote = address(&state["payer_quote_account"]);
    // some price history (volatility for the forecast), and the payer's seed tokens to stake
    let seed_account = {
        let m: rwa_market::state::Market = localnet.with_env(|env| env.anchor_account(&market));
        let mut a = MarketAddresses::derive(m.rwa_mint, m.quote_mint);
        a.rule_set = Some(rule_set);
        let seed_account = common::token_account_of(&localnet, &m.rwa_mint, &payer.pubkey());
        let trader = TraderAccounts {
            trader: payer.pubkey(),
            rwa_account: seed_account,
            quote_account: payer_quote,
        };
        // past the breaker window first: its reference (the TWAP) settles at the bootstrap price
        localnet.warp_slots(200).unwrap();
        for amount in [300_000_000u64, 400_000_000, 200_000_000] {
            localnet.warp_slots(3).unwrap();
            localnet
                .with_env(|env| {
                    env.send(
                        &[trade_ix(
                            &a,
                            &trader,
                            TradeKind::BuyExactOut {
                                amount,
                                max_quote_in: u64::MAX,
                            },
                        )],
                        &[&payer],
                    )
                })
                .unwrap_or_else(|e| panic!("{e}"));
        }
        seed_account
    };
    let config = format!(
        r#"
cluster = "{url}"
ws_url = "{ws}"
keypair = "{keypair}"
state_dir = "{state_dir}"
tick_ms = 100
max_ticks = 40
max_requests_per_second = 2_000

[[strategy]]
kind = "governance"
name = "governor"
market = "{market}"
dao = "{dao}"
stake_account = "{seed_account}"
stake_amount = 1_000_000_000
tighten_above = 0.000000001

[[strategy]]
kind = "keeper"
name = "keeper"
market = "{market}"
max_oracle_age_slots = 2
"#,
        ws = localnet.ws_url(),
        keypair = path("payer.json"),
        state_dir = path("agents"),
    );
    let run = run_agents(&directory, config).await;
    let stdout = String::from_utf8_lossy(&run.stdout).to_string();
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let rules: rule_dao::state::RuleSet = localnet.with_env(|env| env.anchor_account(&rule_set));
    let journal =
        std::fs::read_to_string(directory.join("agents/intents.jsonl")).unwrap_or_default();
    assert!(
        rules.version >= 2 && rules.rules.circuit_breaker_bps == 750,
        "RuleSet v{} with {} bps; journal:\n{journal}\n{}",
        rules.version,
        rules.rules.circuit_breaker_bps,
        String::from_utf8_lossy(&run.stderr)
    );
    let _ = std::fs::remove_dir_all(&directory);
    localnet.shutdown().await;
}

const PORTFOLIO_BOOTSTRAP: &str = r#"
[quote]
decimals = 6
mint_to_payer = 100_000_000_000_000

[[market]]
symbol = "WILD"
name = "Volatile RWA"
curve = { kind = "linear", slope = "0.001", intercept = "1" }
max_supply = 10_000_000_000_000
twap_window_slots = 5
seed_buy = 1_000_000_000

[[market]]
symbol = "CALM"
name = "Calm RWA"
curve = { kind = "linear", slope = "0.0001", intercept = "10" }
max_supply = 10_000_000_000_000
twap_window_slots = 5
seed_buy = 1_000_000_000
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn risk_parity_agent_invests_more_in_the_calmer_market() {
    use rwa_harness::market::*;
    let localnet = start_localnet().await;
    let directory = fresh_directory("rwa-parity");
    let payer = Keypair::new();
    let path = |name: &str| directory.join(name).to_str().unwrap().to_string();
    let state = bootstrap_state(&localnet, &payer, &directory, "main", PORTFOLIO_BOOTSTRAP).await;
    let url = localnet.url();
    let wild = address(&state["markets"]["WILD"]["market"]);
    let calm = address(&state["markets"]["CALM"]["market"]);
    let payer_quote = address(&state["payer_quote_account"]);
    // price histories: WILD swings 10-20% between observations, CALM well under 1%
    {
        let quote_mint = address(&state["quote_mint"]);
        let (trader, quote) = localnet.with_env(|env| {
            let trader = env.new_funded_keypair(10_000_000_000);
            let quote = env.create_token_account(&quote_mint, &trader.pubkey());
            let transfer = anchor_spl::token::spl_token::instruction::transfer(
                &anchor_spl::token::spl_token::ID,
                &payer_quote,
                &quote,
                &payer.pubkey(),
                &[],
                10_000_000_000_000,
            )
            .unwrap();
            env.send(&[transfer], &[&payer]).unwrap();
            (trader, quote)
        });
        for (market, sizes) in [
            (
                wild,
                [300_000_000u64, 250_000_000, 350_000_000, 200_000_000],
            ),
            (calm, [10_000_000u64, 8_000_000, 12_000_000, 9_000_000]),
        ] {
            let (a, accounts) = localnet.with_env(|env| {
                let m: rwa_market::state::Market = env.anchor_account(&market);
                let a = MarketAddresses::derive(m.rwa_mint, m.quote_mint);
                let rwa = env.create_token_account(&m.rwa_mint, &trader.pubkey());
                let accounts = TraderAccounts {
                    trader: trader.pubkey(),
                    rwa_account: rwa,
                    quote_account: quote,
                };
                (a, accounts)
            });
            for (i, size) in sizes.iter().enumerate() {
                localnet.warp_slots(2).unwrap();
                let kind = if i % 2 == 0 {
                    TradeKind::BuyExactOut {
                        amount: *size,
                        max_quote_in: u64::MAX,
                    }
                } else {
                    TradeKind::SellExactIn {
                        amount: *size,
                        min_quote_out: 0,
                    }
                };
                localnet
                    .with_env(|env| env.send(&[trade_ix(&a, &accounts, kind)], &[&trader]))
                    .unwrap_or_else(|e| panic!("{e}"));
            }
        }
    }
    let config = format!(
        r#"
cluster = "{url}"
ws_url = "{ws}"
keypair = "{keypair}"
state_dir = "{state_dir}"
tick_ms = 100
max_ticks = 4
max_requests_per_second = 2_000

[[strategy]]
kind = "risk_parity"
name = "parity"
market = "{wild}"
markets = ["{wild}", "{calm}"]
quote_account = "{payer_quote}"
capital = 1_000_000_000
drift_band = 0.02
"#,
        ws = localnet.ws_url(),
        keypair = path("payer.json"),
        state_dir = path("agents"),
    );
    let run = run_agents(&directory, config).await;
    let stdout = String::from_utf8_lossy(&run.stdout).to_string();
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // value held in each market, at spot (the lock is released before the next await)
    let (wild_value, calm_value) = {
        let value = |market: &rwa_harness::solana_address::Address| {
            let m: rwa_market::state::Market = localnet.with_env(|env| env.anchor_account(market));
            let file = directory.join(format!("agents/parity-{}.account", m.rwa_mint));
            let account: rwa_harness::solana_address::Address = std::fs::read_to_string(file)
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            localnet.with_env(|env| env.token_balance(&account)) as f64 / 1e6
                * m.spot_price().unwrap().to_f64()
        };
        (value(&wild), value(&calm))
    };
    let journal =
        std::fs::read_to_string(directory.join("agents/intents.jsonl")).unwrap_or_default();
    // Ledoit-Wolf shrinks hard on a short history, so the ERC targets are ~0.4 / 0.6 rather than
    // the raw inverse-volatility split; the claim is the ordering, not the exact ratio.
    assert!(
        wild_value > 0.0 && calm_value > wild_value,
        "WILD {wild_value} vs CALM {calm_value}\n{journal}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let _ = std::fs::remove_dir_all(&directory);
    localnet.shutdown().await;
}

/// The embedded localnet on an ephemeral port with 40 ms slots.
async fn start_localnet() -> Localnet {
    Localnet::start(LocalnetConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        slot_duration: Some(std::time::Duration::from_millis(40)),
    })
    .await
    .unwrap()
}

/// An empty scratch directory for one test, unique to this process.
/// A counter from the Prometheus text the daemon prints on exit.
fn metric(stdout: &str, name: &str) -> u64 {
    stdout
        .lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or_else(|| panic!("no {name} in:\n{stdout}"))
        .parse()
        .unwrap()
}

/// An address from a bootstrap state field.
fn address(value: &serde_json::Value) -> rwa_harness::solana_address::Address {
    value.as_str().unwrap().parse().unwrap()
}

/// Writes `config` to `directory/agents.toml` and runs `rwa-agents run` on it.
async fn run_agents(directory: &std::path::Path, config: String) -> Output {
    let file = directory.join("agents.toml");
    std::fs::write(&file, config).unwrap();
    let args: Vec<String> = vec![
        "run".into(),
        "--config".into(),
        file.to_str().unwrap().into(),
    ];
    tokio::task::spawn_blocking(move || {
        rwa_agents(&args.iter().map(String::as_str).collect::<Vec<_>>())
    })
    .await
    .unwrap()
}

/// Funds `payer` on `localnet`, writes its keypair to `directory/payer.json` and runs
/// `rwa-agents bootstrap` with `config`; returns the bootstrap state file.
async fn bootstrap_state(
    localnet: &Localnet,
    payer: &Keypair,
    directory: &std::path::Path,
    tag: &str,
    config: &str,
) -> serde_json::Value {
    localnet
        .airdrop(&payer.pubkey(), 1_000_000_000_000)
        .unwrap();
    let path = |name: &str| directory.join(name).to_str().unwrap().to_string();
    std::fs::write(
        path("payer.json"),
        serde_json::to_string(&payer.to_bytes().to_vec()).unwrap(),
    )
    .unwrap();
    std::fs::write(path(&format!("bootstrap-{tag}.toml")), config).unwrap();
    let args: Vec<String> = vec![
        "bootstrap".into(),
        "--cluster".into(),
        localnet.url(),
        "--keypair".into(),
        path("payer.json"),
        "--config".into(),
        path(&format!("bootstrap-{tag}.toml")),
        "--out".into(),
        path(&format!("state-{tag}.json")),
    ];
    let bootstrap = tokio::task::spawn_blocking(move || {
        rwa_agents(&args.iter().map(String::as_str).collect::<Vec<_>>())
    })
    .await
    .unwrap();
    assert!(
        bootstrap.status.success(),
        "{}",
        String::from_utf8_lossy(&bootstrap.stderr)
    );
    serde_json::from_slice(&std::fs::read(path(&format!("state-{tag}.json"))).unwrap()).unwrap()
}

/// `bootstrap_state`, then the markets of `symbols` and the payer's quote account.
async fn bootstrap_markets(
    localnet: &Localnet,
    payer: &Keypair,
    directory: &std::path::Path,
    tag: &str,
    config: &str,
    symbols: &[&str],
) -> (
    Vec<rwa_harness::solana_address::Address>,
    rwa_harness::solana_address::Address,
) {
    let state = bootstrap_state(localnet, payer, directory, tag, config).await;
    (
        symbols
            .iter()
            .map(|symbol| address(&state["markets"][*symbol]["market"]))
            .collect(),
        address(&state["payer_quote_account"]),
    )
}

/// Two markets for the same bill on one cluster (two issuers' wrappers of one T-bill).
const TWIN_BOOTSTRAP: &str = r#"
[quote]
decimals = 6
mint_to_payer = 1_000_000_000_000

[[market]]
symbol = "TBILL"
name = "Treasury Bill"
curve = { kind = "linear", slope = "0.001", intercept = "1" }
max_supply = 1_000_000_000_000
fee_bps = 10
twap_window_slots = 20
seed_buy = 200_000_000

[[market]]
symbol = "TBILLB"
name = "Treasury Bill, second wrapper"
curve = { kind = "linear", slope = "0.001", intercept = "1" }
max_supply = 1_000_000_000_000
fee_bps = 10
twap_window_slots = 20
seed_buy = 200_000_000
"#;

/// The cross-venue arbitrage story: the same bill trades at 1.2 on the cheap venue and, after the
/// payer buys 200 tokens there, at 1.4 on the rich one; the daemon should buy cheap, sell rich.
async fn cross_arbitrage_story(two_clusters: bool) {
    use rwa_harness::market::*;
    let cheap = start_localnet().await;
    let second = if two_clusters {
        Some(start_localnet().await)
    } else {
        None
    };
    let rich = second.as_ref().unwrap_or(&cheap);
    let directory = fresh_directory(&format!("rwa-xarb-{two_clusters}"));
    std::fs::create_dir_all(directory.join("agents")).unwrap();
    let payer = Keypair::new();
    let path = |name: &str| directory.join(name).to_str().unwrap().to_string();
    let (cheap_market, cheap_quote, rich_market, rich_quote) = if two_clusters {
        let (a, qa) =
            bootstrap_markets(&cheap, &payer, &directory, "cheap", BOOTSTRAP, &["TBILL"]).await;
        let (b, qb) =
            bootstrap_markets(rich, &payer, &directory, "rich", BOOTSTRAP, &["TBILL"]).await;
        (a[0], qa, b[0], qb)
    } else {
        let (m, q) = bootstrap_markets(
            &cheap,
            &payer,
            &directory,
            "twin",
            TWIN_BOOTSTRAP,
            &["TBILL", "TBILLB"],
        )
        .await;
        (m[0], q, m[1], q)
    };
    // On the rich venue the payer buys 200 tokens (spot 1.2 -> 1.4) into the account the
    // daemon will use for that venue: that is the inventory it sells from.
    let rich_rwa = {
        let (m, rwa) = rich.with_env(|env| {
            let m: rwa_market::state::Market = env.anchor_account(&rich_market);
            let mut a = MarketAddresses::derive(m.rwa_mint, m.quote_mint);
            a.rule_set = None;
            let rwa = env.create_token_account(&m.rwa_mint, &payer.pubkey());
            let accounts = TraderAccounts {
                trader: payer.pubkey(),
                rwa_account: rwa,
                quote_account: rich_quote,
            };
            env.send(
                &[trade_ix(
                    &a,
                    &accounts,
                    TradeKind::BuyExactOut {
                        amount: 200_000_000,
                        max_quote_in: u64::MAX,
                    },
                )],
                &[&payer],
            )
            .unwrap();
            (m, rwa)
        });
        std::fs::write(
            directory.join(format!("agents/xarb-venue1-{}.account", m.rwa_mint)),
            rwa.to_string(),
        )
        .unwrap();
        rwa
    };
    let spot = |localnet: &Localnet, market| {
        let m: rwa_market::state::Market = localnet.with_env(|env| env.anchor_account(market));
        m.spot_price().unwrap().to_f64()
    };
    let balance =
        |localnet: &Localnet, account| localnet.with_env(|env| env.token_balance(account));
    let quote_total = || {
        if two_clusters {
            balance(&cheap, &cheap_quote) + balance(rich, &rich_quote)
        } else {
            balance(&cheap, &cheap_quote)
        }
    };
    let gap_before = spot(rich, &rich_market) - spot(&cheap, &cheap_market);
    let quote_before = quote_total();
    let rwa_before = balance(rich, &rich_rwa);
    assert!(gap_before > 0.19, "gap {gap_before}");
    let venue_cluster = if two_clusters {
        format!("cluster = \"{}\"\n", rich.url())
    } else {
        String::new()
    };
    let config = format!(
        r#"
cluster = "{cheap_url}"
ws_url = "{ws}"
keypair = "{keypair}"
state_dir = "{state_dir}"
tick_ms = 100
max_ticks = 6
max_requests_per_second = 2_000

[[strategy]]
kind = "cross_arbitrage"
name = "xarb"
market = "{cheap_market}"
quote_account = "{cheap_quote}"
transaction_cost = 5_000
delay_cost_bps = 20

[[strategy.venues]]
{venue_cluster}market = "{rich_market}"
quote_account = "{rich_quote}"
"#,
        cheap_url = cheap.url(),
        ws = cheap.ws_url(),
        keypair = path("payer.json"),
        state_dir = path("agents"),
    );
    let run = run_agents(&directory, config).await;
    let stderr = String::from_utf8_lossy(&run.stderr).to_string();
    assert!(run.status.success(), "{stderr}");
    // both clusters' websockets were subscribed (a failure would only be logged)
    assert!(
        !stderr.contains("websocket unavailable") && !stderr.contains("accountSubscribe failed"),
        "{stderr}"
    );
    let journal = std::fs::read_to_string(directory.join("agents/intents.jsonl")).unwrap();
    let gap_after = spot(rich, &rich_market) - spot(&cheap, &cheap_market);
    let quote_after = quote_total();
    let sold = rwa_before - balance(rich, &rich_rwa);
    let cheap_rwa: rwa_harness::solana_address::Address = {
        let m: rwa_market::state::Market = cheap.with_env(|env| env.anchor_account(&cheap_market));
        std::fs::read_to_string(directory.join(format!("agents/xarb-{}.account", m.rwa_mint)))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let bought = balance(&cheap, &cheap_rwa);
    // Every trade landed both legs: what was sold on the rich venue was bought on the cheap one.
    assert!(
        sold > 0 && bought == sold,
        "sold {sold}, bought {bought}\n{journal}\n{stderr}"
    );
    // One cluster: both legs in one transaction; two clusters: a sell and a buy transaction.
    let atomic = journal
        .lines()
        .any(|l| l.contains("\"atomic\":true") && l.contains("Landed"));
    let split = journal
        .lines()
        .any(|l| l.contains(":sell\"") && l.contains("Landed"));
    assert_eq!((atomic, split), (!two_clusters, two_clusters), "{journal}");
    // The payer ends with more quote, and the gap narrowed (costs: fees 2 x 10 bps, plus 20 bps
    // delay across clusters: about 0.05 at these prices).
    assert!(
        quote_after > quote_before,
        "{quote_before} -> {quote_after}\n{journal}"
    );
    assert!(
        gap_after < gap_before / 2.0,
        "gap {gap_before} -> {gap_after}\n{journal}"
    );
    // sizes are a grid of the inventory, so the best one can close the gap exactly; never cross it
    assert!(gap_after >= 0.0, "no overshoot: {gap_after}");
    let _ = std::fs::remove_dir_all(&directory);
    if let Some(second) = second {
        second.shutdown().await;
    }
    cheap.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_cluster_arbitrage_buys_cheap_sells_rich_and_narrows_the_gap() {
    cross_arbitrage_story(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_cluster_arbitrage_trades_both_markets_in_one_transaction() {
    cross_arbitrage_story(false).await;
}

/// The validator restarts under a running daemon (same chain, connections dropped for two
/// seconds): RPC calls fail and are retried, the websocket reconnects, sends that could not be
/// settled are settled once the RPC is back, and the run ends with nothing undecided.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_rides_out_a_localnet_restart() {
    // Ports below the kernel's ephemeral range (32768+), so that while this localnet is down no
    // other test's ephemeral listener (they all bind port 0) can take them before it restarts.
    let port = (21_000 + (std::process::id() as u16 % 4_000) * 2..30_000)
        .step_by(2)
        .find(|&p| {
            std::net::TcpListener::bind(("127.0.0.1", p)).is_ok()
                && std::net::TcpListener::bind(("127.0.0.1", p + 1)).is_ok()
        })
        .expect("a free port pair");
    let localnet = Localnet::start(LocalnetConfig {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        slot_duration: Some(std::time::Duration::from_millis(40)),
    })
    .await
    .unwrap();
    let directory = fresh_directory("rwa-restart");
    let (keypair, market, quote_account) = funded_tbill(&localnet, &directory).await;
    let url = localnet.url();
    let agents_dir = directory.join("agents").to_str().unwrap().to_string();
    let config = agents_toml_ws(
        &url,
        Some(&localnet.ws_url()),
        &keypair,
        &agents_dir,
        &market,
        &quote_account,
        60,
        i64::MAX,
    );
    std::fs::write(directory.join("agents.toml"), &config).unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_rwa-agents"))
        .args([
            "run",
            "--config",
            directory.join("agents.toml").to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2_000)).await;
    let (chain, address) = (localnet.chain.clone(), localnet.address);
    localnet.shutdown().await;
    tokio::time::sleep(std::time::Duration::from_millis(2_000)).await;
    let restarted = Localnet::start_shared(
        LocalnetConfig {
            listen: address,
            slot_duration: Some(std::time::Duration::from_millis(40)),
        },
        chain,
    )
    .await
    .unwrap();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        metric(&stdout, "rwa_agent_ws_reconnects_total") >= 1,
        "{stdout}"
    );
    assert!(
        metric(&stdout, "rwa_agent_tx_landed_total") >= 1,
        "{stdout}"
    );
    common::assert_nothing_undecided(&directory.join("agents").join("intents.jsonl"));
    let _ = std::fs::remove_dir_all(&directory);
    restarted.shutdown().await;
}

/// The daemon's `ap_arbitrage` strategy on the localnet: the market opens a primary market, the
/// payer is its authorised participant, the issuer attests a NAV 20% under the curve's spot;
/// the daemon subscribes at NAV and sells to the curve until the price is near NAV.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ap_arbitrage_pulls_the_curve_to_the_attested_nav() {
    use rwa_harness::market::*;
    let localnet = start_localnet().await;
    let directory = fresh_directory("rwa-ap");
    let (keypair, market, quote_account) = funded_tbill(&localnet, &directory).await;
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(directory.join("state.json")).unwrap()).unwrap();
    let authority = Keypair::try_from(
        serde_json::from_value::<Vec<u8>>(state["markets"]["TBILL"]["authority_keypair"].clone())
            .unwrap()
            .as_slice(),
    )
    .unwrap();
    let payer: Keypair = Keypair::try_from(
        serde_json::from_str::<Vec<u8>>(&std::fs::read_to_string(&keypair).unwrap())
            .unwrap()
            .as_slice(),
    )
    .unwrap();
    let market_address = address(&serde_json::Value::String(market.clone()));
    let publisher = Keypair::new();
    let (a, spot_before) = localnet.with_env(|env| {
        let m: rwa_market::state::Market = env.anchor_account(&market_address);
        let a = MarketAddresses::derive(m.rwa_mint, m.quote_mint);
        env.send(
            &[
                init_primary_market_ix(
                    &env.payer.pubkey(),
                    &authority.pubkey(),
                    &a,
                    primary_args(publisher.pubkey()),
                ),
                add_participant_ix(
                    &env.payer.pubkey(),
                    &authority.pubkey(),
                    &a,
                    &payer.pubkey(),
                ),
            ],
            &[&authority],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        (a, m.spot_price().unwrap())
    });
    // NAV 20% under the spot (1.2 after the bootstrap's seed buy), published every few ticks
    let nav = spot_before
        .mul_div_int(8, 10, rwa_math::Rounding::Down)
        .unwrap();
    localnet.with_env(|env| {
        env.send(
            &[publish_nav_ix(&publisher.pubkey(), &a, nav.raw(), 0)],
            &[&publisher],
        )
        .unwrap_or_else(|e| panic!("{e}"))
    });
    let config = format!(
        r#"
cluster = "{url}"
keypair = "{keypair}"
state_dir = "{state_dir}"
tick_ms = 100
max_ticks = 8
max_requests_per_second = 2_000

[[strategy]]
kind = "ap_arbitrage"
name = "ap"
market = "{market}"
quote_account = "{quote_account}"
"#,
        url = localnet.url(),
        state_dir = directory.join("agents").display(),
    );
    let run = run_agents(&directory, config).await;
    let stdout = String::from_utf8_lossy(&run.stdout).to_string();
    let stderr = String::from_utf8_lossy(&run.stderr).to_string();
    assert!(run.status.success(), "{stdout}\n{stderr}");
    let (spot_after, minted) = localnet.with_env(|env| {
        let m: rwa_market::state::Market = env.anchor_account(&market_address);
        let nav_state: rwa_market::state::NavAttestation =
            env.anchor_account(&PrimaryAddresses::derive(&market_address).nav);
        (m.spot_price().unwrap(), nav_state.primary_minted)
    });
    assert!(
        minted > 0,
        "the participant subscribed:\n{stdout}\n{stderr}"
    );
    let gap = |spot: rwa_math::Decimal| (spot.to_f64() / nav.to_f64()).ln().abs();
    assert!(
        gap(spot_after) < gap(spot_before) / 2.0,
        "spot {spot_before} -> {spot_after} against NAV {nav}:\n{stdout}\n{stderr}"
    );
    common::assert_nothing_undecided(&directory.join("agents/intents.jsonl"));
    let _ = std::fs::remove_dir_all(&directory);
    localnet.shutdown().await;
}
