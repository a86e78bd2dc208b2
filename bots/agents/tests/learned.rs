//! The daemon's `learned` strategy: its policy file is checked when the config is read (a missing
//! or malformed file is refused, naming the file and the problem), and on the localnet it trades
//! what its policy says.

use rwa_harness::solana_keypair::Keypair;
use rwa_harness::solana_signer::Signer;
use rwa_localnet::{Localnet, LocalnetConfig};

mod common;
use common::{fresh_directory, funded_tbill, rwa_agents};

/// A linear policy that always buys (its buy logit is 1, the others 0).
const ALWAYS_BUY: &str = r#"{
  "kind": "linear",
  "scaling": { "value_gap_unit": 0.01, "trend_unit": 0.01, "volatility_unit": 0.0025, "clamp": 3.0 },
  "weights": [[0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [1, 0, 0, 0, 0]]
}"#;

fn config(market: &str, policy_line: &str, clip_line: &str) -> String {
    format!(
        r#"
cluster = "localnet"

[[strategy]]
kind = "learned"
name = "ml"
market = "{market}"
{policy_line}
{clip_line}
"#
    )
}

fn check(directory: &std::path::Path, text: &str) -> (bool, String, String) {
    let file = directory.join("agents.toml");
    std::fs::write(&file, text).unwrap();
    let out = rwa_agents(&["run", "--config", file.to_str().unwrap(), "--check"]);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn the_policy_file_is_checked_when_the_config_is_read() {
    let directory = fresh_directory("rwa-learned-check");
    let market = Keypair::new().pubkey().to_string();
    std::fs::write(directory.join("policy.json"), ALWAYS_BUY).unwrap();
    std::fs::write(
        directory.join("broken.json"),
        "{\"kind\": \"linear\", \"weights\": [",
    )
    .unwrap();
    // a Q table one row short of its discretisation's 90 states
    let short = format!(
        r#"{{"kind":"q_table","discretisation":{{"value_gap":[-0.01,-0.002,0.002,0.01],"trend":[-0.005,0.005],"volatility":[0.0025],"inventory":[0.33,0.67]}},"q":[{}]}}"#,
        vec!["[0,0,0]"; 89].join(",")
    );
    std::fs::write(directory.join("short.json"), short).unwrap();
    // relative paths are relative to the config file's directory
    let (ok, stdout, stderr) = check(
        &directory,
        &config(&market, "policy = \"policy.json\"", "clip = 1_000_000"),
    );
    assert!(ok, "{stderr}");
    assert!(stdout.contains("ml (learned)"), "{stdout}");
    let refused = [
        (
            "policy = \"missing.json\"",
            "clip = 1",
            vec!["missing.json", "cannot read"],
        ),
        (
            "policy = \"broken.json\"",
            "clip = 1",
            vec!["broken.json", "not a valid policy"],
        ),
        (
            "policy = \"short.json\"",
            "clip = 1",
            vec!["short.json", "89 rows", "90 states"],
        ),
        ("", "clip = 1", vec!["\"ml\"", "needs `policy`"]),
        (
            "policy = \"policy.json\"",
            "",
            vec!["\"ml\"", "needs `clip`"],
        ),
        (
            "policy = \"policy.json\"",
            "clip = 1\nmax_slippage = 2.0",
            vec!["max_slippage"],
        ),
    ];
    for (policy, clip, reasons) in refused {
        let (ok, _, stderr) = check(&directory, &config(&market, policy, clip));
        assert!(!ok, "accepted {policy} {clip}");
        for reason in reasons {
            assert!(
                stderr.contains(reason),
                "{policy}: {reason:?} not in {stderr}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&directory);
}

/// The daemon runs a learned policy on the localnet: this one always buys, so every tick buys a
/// clip (no fair value here: the market has no primary market, the value gap reads 0).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_trades_a_learned_policy() {
    let localnet = Localnet::start(LocalnetConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        slot_duration: Some(std::time::Duration::from_millis(40)),
    })
    .await
    .unwrap();
    let directory = fresh_directory("rwa-learned-run");
    let (keypair, market, quote_account) = funded_tbill(&localnet, &directory).await;
    std::fs::write(directory.join("policy.json"), ALWAYS_BUY).unwrap();
    let file = directory.join("agents.toml");
    std::fs::write(
        &file,
        format!(
            r#"
cluster = "{url}"
keypair = "{keypair}"
state_dir = "{state_dir}"
tick_ms = 100
max_ticks = 6
max_requests_per_second = 2_000

[[strategy]]
kind = "learned"
name = "ml"
market = "{market}"
quote_account = "{quote_account}"
policy = "policy.json"
clip = 2_000_000
"#,
            url = localnet.url(),
            state_dir = directory.join("agents").display(),
        ),
    )
    .unwrap();
    let run = tokio::task::spawn_blocking(move || {
        rwa_agents(&["run", "--config", file.to_str().unwrap()])
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout).to_string();
    let stderr = String::from_utf8_lossy(&run.stderr).to_string();
    assert!(run.status.success(), "{stdout}\n{stderr}");
    let landed = stdout
        .lines()
        .find(|l| {
            l.starts_with("rwa_agent_strategy_landed_total{strategy=\"ml\",kind=\"learned\"}")
        })
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no landed count in\n{stdout}"));
    assert!(landed >= 3, "{landed} buys landed:\n{stdout}\n{stderr}");
    // every landed intent was a buy of one clip
    let journal = std::fs::read_to_string(directory.join("agents").join("intents.jsonl")).unwrap();
    let buys = journal
        .lines()
        .filter(|l| l.contains("\"Buy\"") && l.contains("\"amount\":2000000"))
        .count();
    assert!(buys >= 3, "{journal}");
    assert!(!journal.contains("\"Sell\""), "{journal}");
    common::assert_nothing_undecided(&directory.join("agents").join("intents.jsonl"));
    let _ = std::fs::remove_dir_all(&directory);
    localnet.shutdown().await;
}
