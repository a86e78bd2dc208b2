//! Helpers shared by the daemon's integration tests.
#![allow(dead_code)] // each test binary uses its own subset

use std::process::{Command, Output};

/// One linear market (TBILL), a quote mint and quote for the payer: what the daemon tests trade.
pub const BOOTSTRAP: &str = r#"
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
"#;

pub fn rwa_agents(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rwa-agents"))
        .args(args)
        .output()
        .expect("run rwa-agents")
}

/// Bootstraps BOOTSTRAP on `url` with the payer keypair at `keypair` (state in `directory`) and
/// returns (market address, payer quote account).
pub fn bootstrap_tbill(url: &str, keypair: &str, directory: &std::path::Path) -> (String, String) {
    let config = directory.join("bootstrap.toml");
    let out = directory.join("state.json");
    std::fs::write(&config, BOOTSTRAP).unwrap();
    let output = rwa_agents(&[
        "bootstrap",
        "--cluster",
        url,
        "--keypair",
        keypair,
        "--config",
        config.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let state: serde_json::Value = serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap();
    (
        state["markets"]["TBILL"]["market"]
            .as_str()
            .unwrap()
            .to_string(),
        state["payer_quote_account"].as_str().unwrap().to_string(),
    )
}

/// Every intent of the journal at `path` ended `Landed` or `Failed` (none left in flight).
pub fn assert_nothing_undecided(path: &std::path::Path) {
    let journal = std::fs::read_to_string(path).unwrap();
    let mut last: std::collections::HashMap<String, serde_json::Value> = Default::default();
    for line in journal.lines() {
        let entry: serde_json::Value = serde_json::from_str(line).unwrap();
        last.insert(
            entry["id"].as_str().unwrap().to_string(),
            entry["status"].clone(),
        );
    }
    let undecided: Vec<_> = last
        .iter()
        .filter(|(_, status)| status.get("Landed").is_none() && status.get("Failed").is_none())
        .collect();
    assert!(undecided.is_empty(), "undecided intents: {undecided:?}");
}

/// The SPL token account of `mint` held by `owner` (the bootstrap's seed accounts sit at
/// seed-derived addresses), read from the localnet's token index.
#[allow(dead_code)]
pub fn token_account_of(
    localnet: &rwa_localnet::Localnet,
    mint: &rwa_harness::solana_address::Address,
    owner: &rwa_harness::solana_address::Address,
) -> rwa_harness::solana_address::Address {
    use rwa_harness::solana_program_pack::Pack;
    localnet
        .chain
        .accounts_owned_by(&anchor_spl::token::spl_token::ID)
        .into_iter()
        .find(|(_, account)| {
            anchor_spl::token::spl_token::state::Account::unpack(&account.data)
                .is_ok_and(|t| t.mint == *mint && t.owner == *owner)
        })
        .map(|(address, _)| address)
        .unwrap_or_else(|| panic!("no token account of mint {mint} held by {owner}"))
}

/// A fresh, empty directory under the system's temp dir for one test.
pub fn fresh_directory(tag: &str) -> std::path::PathBuf {
    let directory = std::env::temp_dir().join(format!("{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&directory);
    std::fs::create_dir_all(&directory).unwrap();
    directory
}

/// A funded payer whose keypair file is `directory/payer.json`, and the TBILL market bootstrapped
/// on `localnet`: (keypair path, market, payer quote account).
pub async fn funded_tbill(
    localnet: &rwa_localnet::Localnet,
    directory: &std::path::Path,
) -> (String, String, String) {
    use rwa_harness::solana_signer::Signer;
    let payer = rwa_harness::solana_keypair::Keypair::new();
    localnet
        .airdrop(&payer.pubkey(), 1_000_000_000_000)
        .unwrap();
    let keypair = directory.join("payer.json").to_str().unwrap().to_string();
    std::fs::write(
        &keypair,
        serde_json::to_string(&payer.to_bytes().to_vec()).unwrap(),
    )
    .unwrap();
    let (market, quote_account) = tokio::task::spawn_blocking({
        let (url, keypair, directory) = (localnet.url(), keypair.clone(), directory.to_path_buf());
        move || bootstrap_tbill(&url, &keypair, &directory)
    })
    .await
    .unwrap();
    (keypair, market, quote_account)
}
