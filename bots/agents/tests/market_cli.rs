//! `rwa-agents market show|list` against the embedded localnet over JSON-RPC.

use std::process::Command;

use rwa_harness::market::*;
use rwa_localnet::{Localnet, LocalnetConfig};
use rwa_market::instructions::QuoteParams;
use rwa_math::{Curve, Decimal};

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn rwa_agents(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rwa-agents"))
        .args(args)
        .output()
        .expect("run rwa-agents")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn market_show_reads_prices_twap_and_live_quotes_from_chain() {
    let localnet = Localnet::start(LocalnetConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        slot_duration: None,
    })
    .await
    .unwrap();
    let (a, live_maker, stale_maker) = localnet.with_env(|env| {
        let curve = Curve::Linear {
            slope: d("0.001"),
            intercept: d("1"),
        };
        let mut args = market_args(curve, 6, 1_000_000_000_000);
        args.symbol = "TBILL".into();
        let (fixture, _) = env.create_market(None, args).unwrap();
        let a = fixture.addresses;
        let (owner1, _, maker1) = env.create_maker(&a, 100_000_000, 500_000_000).unwrap();
        let (owner2, _, maker2) = env.create_maker(&a, 100_000_000, 0).unwrap();
        let slot = env.slot();
        let quote = |bid: &str, bid_size, ask: &str, ask_size, expiry_slot| QuoteParams {
            bid_price: d(bid).raw(),
            bid_size,
            ask_price: d(ask).raw(),
            ask_size,
            expiry_slot,
            sequence: 1,
        };
        env.send(
            &[post_quote_ix(
                &a,
                &maker1,
                quote("1.15", 200_000_000, "1.25", 50_000_000, slot + 1_000),
            )],
            &[&owner1],
        )
        .unwrap();
        env.send(
            &[post_quote_ix(
                &a,
                &maker2,
                quote("0", 0, "1.21", 10_000_000, slot + 1),
            )],
            &[&owner2],
        )
        .unwrap();
        (a, maker1.maker, maker2.maker)
    });
    for _ in 0..5 {
        localnet.advance_slot();
    }
    localnet.with_env(|env| env.send(&[update_oracle_ix(&a)], &[]).unwrap());
    let market = a.market;
    let url = localnet.url();
    let output = tokio::task::spawn_blocking({
        let (url, market) = (url.clone(), market.to_string());
        move || {
            rwa_agents(&[
                "market",
                "show",
                "--cluster",
                &url,
                "--market",
                &market,
                "--json",
            ])
        }
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let view: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(view["symbol"], "TBILL");
    assert_eq!(view["supply"], 200_000_000u64);
    // two makers bought 100 tokens each on the curve: price 1 + 0.001 * 200
    assert_eq!(view["spot_price"], "1.2");
    assert_eq!(view["curve"]["kind"], "linear");
    assert!(view["twap"].as_str().is_some());
    assert_eq!(view["best_bid"], "1.15");
    assert_eq!(
        view["best_ask"], "1.25",
        "the expired 1.21 ask must not count"
    );
    let quotes = view["quotes"].as_array().unwrap();
    assert_eq!(quotes.len(), 2);
    let live: Vec<_> = quotes.iter().filter(|q| q["live"] == true).collect();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0]["maker"], live_maker.to_string());
    assert!(quotes
        .iter()
        .any(|q| q["maker"] == stale_maker.to_string() && q["live"] == false));

    // the readable table carries the same facts
    let table = tokio::task::spawn_blocking({
        let (url, market) = (url.clone(), market.to_string());
        move || rwa_agents(&["market", "show", "--cluster", &url, "--market", &market])
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(table.status.success());
    assert!(
        text.contains("spot price   1.2") && text.contains("best bid/ask 1.15 / 1.25"),
        "{text}"
    );

    let list = tokio::task::spawn_blocking({
        let url = url.clone();
        move || rwa_agents(&["market", "list", "--cluster", &url, "--json"])
    })
    .await
    .unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(rows[0]["market"], market.to_string());

    // Program addresses come from flags (or agents.toml / an Anchor.toml): under another
    // rwa_market address the same market is not that program's account, and `market list`
    // (getProgramAccounts of that address) finds nothing.
    let elsewhere = rwa_harness::solana_address::Address::new_unique().to_string();
    let moved = tokio::task::spawn_blocking({
        let (url, market, elsewhere) = (url.clone(), market.to_string(), elsewhere.clone());
        move || {
            rwa_agents(&[
                "market",
                "show",
                "--cluster",
                &url,
                "--market",
                &market,
                "--rwa-market-program",
                &elsewhere,
            ])
        }
    })
    .await
    .unwrap();
    assert!(!moved.status.success());
    let stderr = String::from_utf8_lossy(&moved.stderr);
    assert!(
        stderr.contains(&format!("not the rwa_market program {elsewhere}")),
        "{stderr}"
    );
    let none = tokio::task::spawn_blocking({
        let (url, elsewhere) = (url.clone(), elsewhere.clone());
        move || {
            rwa_agents(&[
                "market",
                "list",
                "--cluster",
                &url,
                "--json",
                "--rwa-market-program",
                &elsewhere,
            ])
        }
    })
    .await
    .unwrap();
    assert!(none.status.success());
    let rows: serde_json::Value = serde_json::from_slice(&none.stdout).unwrap();
    assert_eq!(rows.as_array().map(Vec::len), Some(0), "{rows}");
    let anchor_toml = concat!(env!("CARGO_MANIFEST_DIR"), "/../../Anchor.toml");
    let same = tokio::task::spawn_blocking({
        let url = url.clone();
        move || {
            rwa_agents(&[
                "market",
                "list",
                "--cluster",
                &url,
                "--json",
                "--anchor-toml",
                anchor_toml,
                "--anchor-cluster",
                "localnet",
            ])
        }
    })
    .await
    .unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&same.stdout).unwrap();
    assert_eq!(
        rows[0]["market"],
        market.to_string(),
        "Anchor.toml's localnet ids"
    );

    // errors name the problem and exit non-zero
    let bad = tokio::task::spawn_blocking({
        let url = url.clone();
        move || {
            rwa_agents(&[
                "market",
                "show",
                "--cluster",
                &url,
                "--market",
                "not-an-address",
            ])
        }
    })
    .await
    .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a base58 address"));
    let wrong_owner = tokio::task::spawn_blocking({
        let (url, token_program) = (url.clone(), anchor_spl::token::spl_token::ID.to_string());
        move || {
            rwa_agents(&[
                "market",
                "show",
                "--cluster",
                &url,
                "--market",
                &token_program,
            ])
        }
    })
    .await
    .unwrap();
    assert!(!wrong_owner.status.success());
    assert!(
        String::from_utf8_lossy(&wrong_owner.stderr).contains("not the rwa_market program"),
        "{}",
        String::from_utf8_lossy(&wrong_owner.stderr)
    );
    localnet.shutdown().await;
}
