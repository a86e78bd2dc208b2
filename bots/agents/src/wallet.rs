//! What the Solana CLI's config says (`~/.config/solana/cli/config.yml`): the keypair, the RPC
//! and websocket URLs. Commands take the cluster and keypair from their flags first, then this
//! config (so `solana config set -ud` moves them to devnet too), then the defaults (localnet,
//! `~/.config/solana/id.json`). `~` is expanded in every path.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use rwa_client::solana_keypair::Keypair;

fn home() -> Result<PathBuf> {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .ok_or_else(|| anyhow!("HOME is not set; pass --keypair"))
}

/// The fields of the Solana CLI's config this tool uses (empty when unset).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CliConfig {
    pub json_rpc_url: String,
    pub websocket_url: String,
    pub keypair_path: String,
}

/// Parses config.yml's flat `key: value` lines (the format `solana config set` writes).
pub fn parse_cli_config(text: &str) -> CliConfig {
    let mut config = CliConfig::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value
            .trim()
            .trim_matches(|c| c == '"' || c == '\'')
            .to_string();
        match key.trim() {
            "json_rpc_url" => config.json_rpc_url = value,
            "websocket_url" => config.websocket_url = value,
            "keypair_path" => config.keypair_path = value,
            _ => {}
        }
    }
    config
}

/// The Solana CLI's config, if there is one.
pub fn cli_config() -> Option<CliConfig> {
    let path = home().ok()?.join(".config/solana/cli/config.yml");
    std::fs::read_to_string(path)
        .ok()
        .map(|text| parse_cli_config(&text))
}

/// `~` and `~/...` against `home`.
pub fn expand_tilde_with(path: &Path, home: &Path) -> PathBuf {
    match path.strip_prefix("~") {
        Ok(rest) => home.join(rest),
        Err(_) => path.to_path_buf(),
    }
}

pub fn expand_tilde(path: &Path) -> PathBuf {
    match home() {
        Ok(home) => expand_tilde_with(path, &home),
        Err(_) => path.to_path_buf(),
    }
}

/// The cluster when no flag or `RWA_CLUSTER` names one: the Solana CLI's `json_rpc_url`, else
/// localnet.
pub fn default_cluster() -> String {
    cli_config()
        .map(|config| config.json_rpc_url)
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "localnet".to_string())
}

/// The keypair path the Solana CLI would use.
pub fn default_keypair_path() -> Result<PathBuf> {
    if let Some(config) = cli_config().filter(|c| !c.keypair_path.is_empty()) {
        return Ok(expand_tilde(Path::new(&config.keypair_path)));
    }
    Ok(home()?.join(".config/solana/id.json"))
}

/// Reads a Solana CLI keypair file (a JSON array of 64 bytes).
pub fn read_keypair(path: &Path) -> Result<Keypair> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading keypair {}", path.display()))?;
    let bytes: Vec<u8> = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a JSON byte array keypair", path.display()))?;
    Keypair::try_from(bytes.as_slice())
        .map_err(|e| anyhow!("{}: not a valid keypair: {e}", path.display()))
}

pub fn load(path: Option<&Path>) -> Result<Keypair> {
    match path {
        Some(path) => read_keypair(&expand_tilde(path)),
        None => read_keypair(&default_keypair_path()?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_solana_cli_config_and_expands_tilde() {
        let text = "---\njson_rpc_url: https://api.devnet.solana.com\nwebsocket_url: ''\nkeypair_path: ~/.config/solana/devnet.json\naddress_labels:\n  '11111111111111111111111111111111': System Program\ncommitment: confirmed\n";
        let config = parse_cli_config(text);
        assert_eq!(config.json_rpc_url, "https://api.devnet.solana.com");
        assert_eq!(config.websocket_url, "");
        assert_eq!(config.keypair_path, "~/.config/solana/devnet.json");
        let home = Path::new("/home/op");
        assert_eq!(
            expand_tilde_with(Path::new(&config.keypair_path), home),
            PathBuf::from("/home/op/.config/solana/devnet.json")
        );
        assert_eq!(
            expand_tilde_with(Path::new("/abs/id.json"), home),
            PathBuf::from("/abs/id.json")
        );
        assert_eq!(
            expand_tilde_with(Path::new("~"), home),
            PathBuf::from("/home/op")
        );
    }
}
