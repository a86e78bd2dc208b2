//! The bootstrap state file: what was created, with the keypairs to resume (owner-only, tagged
//! with the cluster's genesis hash).

use super::*;

/// Everything created, with the keypairs needed to finish an interrupted run. Holds secret keys:
/// written with mode 0600 and gitignored.
#[derive(Debug, Default, Serialize, Deserialize, Clone)]
pub struct BootstrapState {
    /// `getGenesisHash` of the cluster the accounts below live on: a state file from another
    /// cluster (a restarted localnet, devnet vs localnet) is never resumed by mistake.
    #[serde(default)]
    pub genesis_hash: Option<String>,
    pub quote_mint: Option<String>,
    pub quote_mint_keypair: Option<Vec<u8>>,
    pub markets: BTreeMap<String, MarketState>,
    pub lending_market: Option<String>,
    pub dao: Option<String>,
    pub rule_set: Option<String>,
    /// The payer's quote token account holding `mint_to_payer` (when the mint was created here).
    #[serde(default)]
    pub payer_quote_account: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize, Clone)]
pub struct MarketState {
    pub market: String,
    pub rwa_mint: String,
    pub oracle: String,
    pub rwa_mint_keypair: Vec<u8>,
    pub authority_keypair: Vec<u8>,
    pub attached: bool,
}

/// What to do with a state file written for another cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OtherClusterState {
    /// Stop with an error naming both clusters (`rwa-agents bootstrap`: the user picks).
    Refuse,
    /// Move it aside to `<file>.stale-<genesis prefix>` and start fresh (`localnet --bootstrap`,
    /// whose chain is new on every start).
    SetAside,
}

impl BootstrapState {
    pub(crate) fn is_empty(&self) -> bool {
        self.quote_mint.is_none()
            && self.markets.is_empty()
            && self.lending_market.is_none()
            && self.dao.is_none()
    }
}

/// Writes `bytes` to `path` readable by the owner only (it holds keypairs).
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(bytes)?;
    file.sync_all()
}
