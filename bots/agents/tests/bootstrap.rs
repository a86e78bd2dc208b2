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
    localnet
        .airdrop(&payer.pubkey(), 1_000_000_000_000)
        .unwrap();
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

    // The state file holds keypairs: owner-only, and it records which cluster it belongs to.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&state_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "state file mode {mode:o}");
    }
    let genesis = localnet.chain.genesis_hash().to_string();
    assert_eq!(state["genesis_hash"].as_str(), Some(genesis.as_str()));
    localnet.shutdown().await;

    // Against another cluster the file is refused with a message naming both; a file written
    // before genesis hashes were recorded is recognised by its missing quote mint.
    let other = Localnet::start(LocalnetConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        slot_duration: Some(std::time::Duration::from_millis(20)),
    })
    .await
    .unwrap();
    other.airdrop(&payer.pubkey(), 1_000_000_000_000).unwrap();
    for legacy in [false, true] {
        if legacy {
            let mut old = state.clone();
            old.as_object_mut().unwrap().remove("genesis_hash");
            std::fs::write(&state_path, serde_json::to_vec(&old).unwrap()).unwrap();
        }
        let refused = tokio::task::spawn_blocking({
            let (url, keypair_path, state_path) =
                (other.url(), keypair_path.clone(), state_path.clone());
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
        })
        .await
        .unwrap();
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(!refused.status.success());
        assert!(
            stderr.contains("was written for another cluster")
                && stderr.contains(if legacy {
                    "an earlier cluster"
                } else {
                    &genesis
                }),
            "{stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&directory);
    other.shutdown().await;
}

/// `rwa-agents localnet --bootstrap` twice in the same directory: the second chain is a new
/// cluster, so the first run's state file is set aside (named) and the bootstrap starts fresh,
/// instead of dying on accounts that only existed on the old chain.
#[test]
fn localnet_bootstrap_twice_in_one_directory_starts_fresh() {
    use std::io::{BufRead, BufReader};
    let directory = std::env::temp_dir().join(format!("rwa-localnet-twice-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let config = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/configs/bootstrap.example.toml"
    );
    let run = |port: u16| -> Vec<String> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rwa-agents"))
            .args([
                "localnet",
                "--port",
                &port.to_string(),
                "--slot-ms",
                "20",
                "--bootstrap",
                config,
            ])
            .current_dir(&directory)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start rwa-agents localnet");
        let mut lines = Vec::new();
        for line in BufReader::new(child.stdout.take().unwrap()).lines() {
            let line = line.unwrap();
            let done = line.contains("press Ctrl-C");
            lines.push(line);
            if done {
                break;
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        lines
    };
    let free_port = || {
        // A port pair (RPC, websocket = RPC + 1) free right now, below the kernel's ephemeral
        // range (32768+) so no concurrently running test's port-0 listener takes it meanwhile.
        (23_000 + (std::process::id() as u16 % 3_000) * 2..32_000)
            .step_by(2)
            .find(|&p| {
                std::net::TcpListener::bind(("127.0.0.1", p)).is_ok()
                    && std::net::TcpListener::bind(("127.0.0.1", p + 1)).is_ok()
            })
            .expect("a free port pair")
    };
    let first = run(free_port());
    assert!(
        first
            .iter()
            .any(|l| l.starts_with("bootstrapped 3 market(s)")),
        "{first:?}"
    );
    let second = run(free_port());
    assert!(
        second
            .iter()
            .any(|l| l.contains("belonged to an earlier cluster")),
        "{second:?}"
    );
    assert!(
        second
            .iter()
            .any(|l| l.starts_with("bootstrapped 3 market(s)")),
        "{second:?}"
    );
    let stale: Vec<_> = std::fs::read_dir(&directory)
        .unwrap()
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_name().to_string_lossy().contains(".stale-"))
        .collect();
    assert_eq!(stale.len(), 1, "one state file set aside");
    let _ = std::fs::remove_dir_all(&directory);
}
