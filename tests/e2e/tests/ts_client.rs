//! The standard Anchor TypeScript client against our IDLs and accounts: this test builds the chain
//! state over JSON-RPC, then runs clients/ts/check.ts (installed by scripts/test.sh with `npm ci`),
//! which decodes a market, a maker quote, a lending market and obligation and a RuleSet and sends a
//! buy through `program.methods`.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context, Result};
use rwa_e2e::rwa_harness::dao::*;
use rwa_e2e::rwa_harness::lending::*;
use rwa_e2e::rwa_harness::market::*;
use rwa_e2e::rwa_harness::solana_keypair::Keypair;
use rwa_e2e::rwa_harness::solana_signer::Signer;
use rwa_e2e::Cluster;
use rwa_market::instructions::QuoteParams;
use rwa_math::{Curve, Decimal};

const TOKEN: u64 = 1_000_000;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anchor_typescript_client_reads_and_writes_our_accounts() -> Result<()> {
    let tsx = repo_root().join("node_modules/.bin/tsx");
    if !tsx.exists() {
        bail!(
            "{} missing: run `npm ci` at the repository root (scripts/test.sh does)",
            tsx.display()
        );
    }
    let cluster = Cluster::connect_with_slot(rwa_e2e::CLIENT_SLOT).await?;
    let d = |text: &str| text.parse::<Decimal>().unwrap();
    let quote_mint = cluster.create_mint(6).await?;

    // a market with a trader
    let rwa_mint = Keypair::new();
    let authority = Keypair::new();
    let m = MarketAddresses::derive(rwa_mint.pubkey(), quote_mint);
    let mut args = market_args(
        Curve::Linear {
            slope: d("0.001"),
            intercept: d("1"),
        },
        6,
        1_000_000 * TOKEN,
    );
    args.symbol = "TSCHECK".into();
    cluster
        .send(
            &[initialize_market_ix(
                &cluster.payer.pubkey(),
                &authority.pubkey(),
                &m,
                args,
            )],
            &[&rwa_mint, &authority],
        )
        .await?;
    let (trader, accounts) = cluster
        .trader(&m.rwa_mint, &quote_mint, 1_000_000 * TOKEN)
        .await?;
    cluster
        .send(
            &[trade_ix(
                &m,
                &accounts,
                TradeKind::BuyExactOut {
                    amount: 50 * TOKEN,
                    max_quote_in: u64::MAX,
                },
            )],
            &[&trader],
        )
        .await?;

    // a maker quoting 30 tokens
    let maker = MakerAddresses::derive(&m.market, &trader.pubkey());
    cluster
        .send(
            &[
                open_maker_ix(&m, &maker),
                maker_inventory_ix(&m, &maker, &accounts, true, 30 * TOKEN, 0),
            ],
            &[&trader],
        )
        .await?;
    let slot = cluster.slot().await?;
    // 5% above the curve's spot: inside the market's quote band (10% by default)
    let market: rwa_market::state::Market = cluster.account(&m.market).await?;
    let spot = market.spot_price().map_err(|e| anyhow::anyhow!("{e}"))?;
    let quote = QuoteParams {
        bid_price: 0,
        bid_size: 0,
        ask_price: spot.raw() / 100 * 105,
        ask_size: 30 * TOKEN,
        expiry_slot: slot + 5_000,
        sequence: 1,
    };
    cluster
        .send(&[post_quote_ix(&m, &maker, quote)], &[&trader])
        .await?;

    // a lending market with a deposit and an obligation holding 10 tokens
    let l = LendingAddresses::derive(quote_mint, 3);
    let params = rwa_lending::instructions::LendingMarketParams {
        reserve_factor_bps: 1_000,
        sigma_p_cap: 0,
        slots_per_year: 78_840_000,
        risk_authority: trader.pubkey(),
    };
    cluster
        .send(
            &[init_lending_market_ix(&trader.pubkey(), &l, 3, params)],
            &[&trader],
        )
        .await?;
    cluster
        .send(
            &[add_collateral_ix(
                &trader.pubkey(),
                &l,
                &m,
                default_collateral_params(),
            )],
            &[&trader],
        )
        .await?;
    let shares = cluster
        .create_token_account(&l.share_mint, &trader.pubkey())
        .await?;
    cluster
        .send(
            &[liquidity_ix(
                &l,
                &trader.pubkey(),
                &accounts.quote_account,
                &shares,
                true,
                5_000 * TOKEN,
            )],
            &[&trader],
        )
        .await?;
    cluster
        .send(
            &[
                init_obligation_ix(&trader.pubkey(), &l),
                deposit_collateral_ix(&l, &trader.pubkey(), &m, &accounts.rwa_account, 10 * TOKEN),
            ],
            &[&trader],
        )
        .await?;

    // a DAO whose RuleSet caps trades at 77 tokens
    let stake_mint = cluster.create_mint(6).await?;
    let dao = DaoAddresses::derive(stake_mint, 5);
    let rules = rwa_rules::RuleValues {
        max_trade_amount: 77 * TOKEN,
        ..Default::default()
    };
    cluster
        .send(
            &[create_dao_ix(
                &cluster.payer.pubkey(),
                &dao,
                5,
                default_config(),
                rules,
                trader.pubkey(),
            )],
            &[],
        )
        .await?;

    let (ws, rpc) = (cluster.ws_url.clone(), cluster.rpc.url());
    let fixture = serde_json::json!({
        "rpc": rpc,
        "ws": ws,
        "trader_keypair": trader.to_bytes().to_vec(),
        "market": {
            "market": m.market.to_string(), "rwa_mint": m.rwa_mint.to_string(), "quote_mint": m.quote_mint.to_string(),
            "reserve_vault": m.reserve_vault.to_string(), "fee_vault": m.fee_vault.to_string(), "oracle": m.oracle.to_string(),
        },
        "trader": { "rwa_account": accounts.rwa_account.to_string(), "quote_account": accounts.quote_account.to_string() },
        "maker": maker.maker.to_string(),
        "lending_market": l.lending_market.to_string(),
        "obligation": l.obligation(&trader.pubkey()).to_string(),
        "rule_set": dao.rule_set.to_string(),
        "buy_amount": 2 * TOKEN,
        "expected": { "symbol": "TSCHECK", "supply": 50 * TOKEN, "ask_size": 30 * TOKEN, "total_shares": 5_000 * TOKEN, "obligation_collateral": 10 * TOKEN, "max_trade_amount": 77 * TOKEN },
    });
    let path = std::env::temp_dir().join(format!("rwa-ts-fixture-{}.json", std::process::id()));
    std::fs::write(&path, serde_json::to_vec(&fixture)?)?;
    let output = tokio::task::spawn_blocking({
        let (tsx, path) = (tsx.clone(), path.clone());
        move || {
            Command::new(tsx)
                .arg(repo_root().join("clients/ts/check.ts"))
                .arg(&path)
                .current_dir(repo_root())
                .output()
        }
    })
    .await?
    .context("running the TypeScript check")?;
    let _ = std::fs::remove_file(&path);
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "TypeScript check failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let summary: serde_json::Value =
        serde_json::from_str(stdout.lines().last().unwrap_or_default())?;
    assert_eq!(summary["ok"], true);
    assert_eq!(summary["supply_after"], (52 * TOKEN).to_string());
    // and the chain agrees with what the TypeScript client did
    let market: rwa_market::state::Market = cluster.account(&m.market).await?;
    assert_eq!(market.supply, 52 * TOKEN);
    cluster.shutdown().await;
    Ok(())
}

/// migrations/deploy.ts (what `anchor migrate` runs) bootstraps the economy of
/// migrations/bootstrap.toml with the Anchor TypeScript client, and a rerun creates nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anchor_migrate_script_bootstraps_idempotently() -> Result<()> {
    let tsx = repo_root().join("node_modules/.bin/tsx");
    if !tsx.exists() {
        bail!(
            "{} missing: run `npm ci` at the repository root (scripts/test.sh does)",
            tsx.display()
        );
    }
    let cluster = Cluster::connect_with_slot(rwa_e2e::CLIENT_SLOT).await?;
    let payer = cluster.funded_keypair(200_000_000_000).await?;
    let directory = std::env::temp_dir().join(format!("rwa-migrate-{}", std::process::id()));
    std::fs::create_dir_all(&directory)?;
    let wallet = directory.join("wallet.json");
    std::fs::write(&wallet, serde_json::to_string(&payer.to_bytes().to_vec())?)?;
    let state = directory.join("state.json");
    let run = || {
        let (tsx, wallet, state, rpc, ws) = (
            tsx.clone(),
            wallet.clone(),
            state.clone(),
            cluster.rpc.url(),
            cluster.ws_url.clone(),
        );
        move || {
            Command::new(tsx)
                .arg(repo_root().join("migrations/deploy.ts"))
                .arg(repo_root().join("migrations/bootstrap.toml"))
                .arg(&state)
                .env("ANCHOR_PROVIDER_URL", rpc)
                .env("ANCHOR_WS_URL", ws)
                .env("ANCHOR_WALLET", wallet)
                .current_dir(repo_root())
                .output()
        }
    };
    let first = tokio::task::spawn_blocking(run()).await??;
    let stdout = String::from_utf8_lossy(&first.stdout).to_string();
    if !first.status.success() {
        bail!(
            "deploy.ts failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&first.stderr)
        );
    }
    assert_eq!(stdout.matches("created market").count(), 3, "{stdout}");
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&state)?)?;
    let tbill: rwa_e2e::rwa_harness::solana_address::Address = saved["markets"]["TBILL27"]
        ["market"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let market: rwa_market::state::Market = cluster.account(&tbill).await?;
    assert_eq!(market.symbol, "TBILL27");
    assert_eq!(market.supply, 5_000_000_000, "seed buy");
    assert_eq!(
        market.rule_set.to_string(),
        saved["rule_set"].as_str().unwrap(),
        "attached to the DAO"
    );
    let second = tokio::task::spawn_blocking(run()).await??;
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(
        second.status.success() && !stdout.contains("created"),
        "rerun:\n{stdout}\n{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let _ = std::fs::remove_dir_all(&directory);
    cluster.shutdown().await;
    Ok(())
}

/// `anchor migrate` as Anchor 1.x runs it: it writes `.anchor/deploy.ts`, a host that imports
/// `@anchor-lang/core`, `require()`s `migrations/deploy.ts`, builds a provider from the cluster URL
/// and `ANCHOR_WALLET`, calls the export with it, and runs the host with `ts-node` from `.anchor`.
/// The same host shape (Anchor's template, cli/src/template.rs `deploy_ts_script_host`) runs here
/// with the project's ts-node against the localnet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anchor_migrate_host_runs_deploy_ts_with_ts_node() -> Result<()> {
    let ts_node = repo_root().join("node_modules/.bin/ts-node");
    if !ts_node.exists() {
        bail!(
            "{} missing: run `npm ci` at the repository root (scripts/test.sh does)",
            ts_node.display()
        );
    }
    let cluster = Cluster::connect_with_slot(rwa_e2e::CLIENT_SLOT).await?;
    let payer = cluster.funded_keypair(200_000_000_000).await?;
    let directory = std::env::temp_dir().join(format!("rwa-anchor-migrate-{}", std::process::id()));
    std::fs::create_dir_all(&directory)?;
    let wallet = directory.join("wallet.json");
    std::fs::write(&wallet, serde_json::to_string(&payer.to_bytes().to_vec())?)?;
    let state = directory.join("state.json");
    let anchor_dir = repo_root().join(".anchor");
    let host = anchor_dir.join(format!("deploy-{}.ts", std::process::id()));
    let module_path = repo_root().join("migrations/deploy.ts");
    std::fs::write(
        &host,
        format!(
            r#"import * as anchor from '@anchor-lang/core';

// Deploy script defined by the user.
const userScript = require("{module}");

async function main() {{
    const connection = new anchor.web3.Connection(
      "{url}",
      anchor.AnchorProvider.defaultOptions().commitment
    );
    const wallet = anchor.Wallet.local();
    const provider = new anchor.AnchorProvider(connection, wallet);

    // Run the user's deploy script.
    userScript(provider);
}}
main();
"#,
            module = module_path.display(),
            url = cluster.rpc.url(),
        ),
    )?;
    let output = tokio::task::spawn_blocking({
        let (ts_node, host, wallet, state, anchor_dir) = (
            ts_node.clone(),
            host.clone(),
            wallet.clone(),
            state.clone(),
            anchor_dir.clone(),
        );
        move || {
            Command::new(ts_node)
                .arg(host.file_name().unwrap())
                .env("ANCHOR_WALLET", wallet)
                .env("RWA_BOOTSTRAP_STATE", state)
                .current_dir(anchor_dir)
                .output()
        }
    })
    .await??;
    let _ = std::fs::remove_file(&host);
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    // The host ignores the returned promise, as Anchor's does: success is what it printed.
    assert!(
        output.status.success(),
        "ts-node host failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("\"ok\":true"), "{stdout}\n{stderr}");
    assert_eq!(stdout.matches("created market").count(), 3, "{stdout}");
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&state)?)?;
    assert_eq!(saved["markets"].as_object().map(|m| m.len()), Some(3));
    assert_eq!(
        saved["genesis_hash"].as_str().map(str::to_string),
        Some(cluster.rpc.get_genesis_hash().await?.to_string())
    );
    let _ = std::fs::remove_dir_all(&directory);
    cluster.shutdown().await;
    Ok(())
}

/// The conformance suite (clients/ts/conformance.ts): @solana/web3.js, @solana/spl-token and the
/// Anchor client against the localnet, every call's result checked (see the file for the list).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standard_typescript_clients_conform() -> Result<()> {
    let tsx = repo_root().join("node_modules/.bin/tsx");
    if !tsx.exists() {
        bail!(
            "{} missing: run `npm ci` at the repository root (scripts/test.sh does)",
            tsx.display()
        );
    }
    let cluster = Cluster::connect_with_slot(rwa_e2e::CLIENT_SLOT).await?;
    let output = tokio::task::spawn_blocking({
        let (tsx, rpc, ws) = (tsx.clone(), cluster.rpc.url(), cluster.ws_url.clone());
        move || {
            Command::new(tsx)
                .arg(repo_root().join("clients/ts/conformance.ts"))
                .arg(rpc)
                .arg(ws)
                .current_dir(repo_root())
                .output()
        }
    })
    .await??;
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(
        output.status.success(),
        "conformance failed:\n{stdout}\n{stderr}"
    );
    let summary: serde_json::Value = serde_json::from_str(
        stdout
            .lines()
            .last()
            .context("conformance printed nothing")?,
    )?;
    assert_eq!(summary["ok"], true, "{stdout}");
    assert_eq!(summary["checks"], 9, "every group ran: {stdout}");
    println!("{stdout}");
    cluster.shutdown().await;
    Ok(())
}
