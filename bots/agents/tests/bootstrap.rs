//! `rwa-agents bootstrap` against the embedded localnet: creates everything in the example config,
//! and a second run changes nothing (idempotent, no duplicates).

use std::process::Command;

use rwa_harness::solana_keypair::Keypair;
use rwa_harness::solana_signer::Signer;
use rwa_localnet::{Localnet, LocalnetConfig};

fn rwa_agents(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rwa-agents"))
        .args(args)
        .output()
        .expect("run rwa-agents")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_creates_the_example_economy_once() {
    let localnet = Localnet::start(LocalnetConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        slot_duration: Some(std::time::Duration::from_millis(20)),
    })
    .await
    .unwrap();
    let payer = Keypair::new();
    let directory = std::env::temp_dir().join(format!("rwa-bootstrap-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let keypair_path = directory.join("payer.json");
    std::fs::write(
        &keypair_path,
        serde_json::to_string(&payer.to_bytes().to_vec()).unwrap(),
    )
    .unwrap();
    {
        let mut bank = localnet.bank.lock().unwrap();
        bank.airdrop(&payer.pubkey(), 1_000_000_000_000).unwrap();
    }
    let config = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/configs/bootstrap.example.toml"
    );
    let state_path = directory.join("state.json");
    let url = localnet.url();
    let run = {
        let (url, keypair_path, state_path) =
            (url.clone(), keypair_path.clone(), state_path.clone());
        move || {
            rwa_agents(&[
                "bootstrap",
                "--cluster",
                &url,
                "--keypair",
                keypair_path.to_str().unwrap(),
                "--config",
                config,
                "--out",
                state_path.to_str().unwrap(),
            ])
        }
    };
    let first = tokio::task::spawn_blocking(run.clone()).await.unwrap();
    assert!(
        first.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&first.stdout),
        String::from_utf8_lossy(&first.stderr)
    );
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&state_path).unwrap()).unwrap();
    assert_eq!(state["markets"].as_object().unwrap().len(), 3);
    assert!(state["markets"]["TBILL27"]["attached"].as_bool().unwrap());
    assert!(state["rule_set"].as_str().is_some() && state["lending_market"].as_str().is_some());

    let second = tokio::task::spawn_blocking(run).await.unwrap();
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(
        second.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(
        !stdout.contains("created"),
        "second run created something:\n{stdout}"
    );
    assert_eq!(stdout.matches("exists").count(), 3);
    let again: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&state_path).unwrap()).unwrap();
    assert_eq!(again, state);

    let list = tokio::task::spawn_blocking({
        let url = url.clone();
        move || rwa_agents(&["market", "list", "--cluster", &url, "--json"])
    })
    .await
    .unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let symbols: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(symbols, vec!["NYREIT", "SOLAR", "TBILL27"]);

    // a bad config names the problem
    let bad_path = directory.join("bad.toml");
    std::fs::write(
        &bad_path,
        "[quote]\ndecimals = 6\n[[market]]\nsymbol = \"X\"\n",
    )
    .unwrap();
    let bad = tokio::task::spawn_blocking({
        let (url, keypair_path, bad_path) = (url.clone(), keypair_path.clone(), bad_path.clone());
        move || {
            rwa_agents(&[
                "bootstrap",
                "--cluster",
                &url,
                "--keypair",
                keypair_path.to_str().unwrap(),
                "--config",
                bad_path.to_str().unwrap(),
            ])
        }
    })
    .await
    .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("missing field"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let _ = std::fs::remove_dir_all(&directory);
    localnet.shutdown().await;
}
