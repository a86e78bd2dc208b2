//! Where the signing keypair comes from: an explicit path, or the Solana CLI's config
//! (`~/.config/solana/cli/config.yml`, `keypair_path:`), or `~/.config/solana/id.json`.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use rwa_harness::solana_keypair::Keypair;

fn home() -> Result<PathBuf> {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .ok_or_else(|| anyhow!("HOME is not set; pass --keypair"))
}

/// The keypair path the Solana CLI would use.
pub fn default_keypair_path() -> Result<PathBuf> {
    let config = home()?.join(".config/solana/cli/config.yml");
    if let Ok(text) = std::fs::read_to_string(&config) {
        for line in text.lines() {
            if let Some(value) = line.trim().strip_prefix("keypair_path:") {
                let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
                if !value.is_empty() {
                    return Ok(PathBuf::from(value));
                }
            }
        }
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
        Some(path) => read_keypair(path),
        None => read_keypair(&default_keypair_path()?),
    }
}
