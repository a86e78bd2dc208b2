//! Reading market state from a cluster over JSON-RPC: cluster monikers, account fetching and
//! decoding of the program's accounts (the same Anchor types the program writes).

use anchor_lang::{AccountDeserialize, Discriminator};
use anyhow::{anyhow, bail, Context, Result};
use rwa_market::state::{Maker, Market, PriceOracle};
use rwa_harness::solana_address::Address;
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};

/// Byte offset of `Maker::market` in the account data (discriminator, then three one-byte bumps).
pub const MAKER_MARKET_OFFSET: usize = 8 + 3;

/// `localnet`, `devnet`, `mainnet-beta` (or `mainnet`), `testnet`, or an http(s) URL.
pub fn cluster_url(cluster: &str) -> Result<String> {
    Ok(match cluster {
        "localnet" | "localhost" => "http://127.0.0.1:8899".to_string(),
        "devnet" => "https://api.devnet.solana.com".to_string(),
        "testnet" => "https://api.testnet.solana.com".to_string(),
        "mainnet-beta" | "mainnet" => "https://api.mainnet-beta.solana.com".to_string(),
        url if url.starts_with("http://") || url.starts_with("https://") => url.to_string(),
        other => bail!("unknown cluster {other:?}: use localnet, devnet, testnet, mainnet-beta or an http(s) URL"),
    })
}

pub fn client(cluster: &str) -> Result<RpcClient> {
    Ok(RpcClient::new_with_commitment(cluster_url(cluster)?, CommitmentConfig::confirmed()))
}

pub fn parse_address(text: &str, what: &str) -> Result<Address> {
    text.parse::<Address>().map_err(|_| anyhow!("{what} {text:?} is not a base58 address"))
}

fn decode_anchor<T: AccountDeserialize>(data: &[u8], what: &str, address: &Address) -> Result<T> {
    T::try_deserialize(&mut &data[..]).map_err(|e| anyhow!("{address} is not a {what} account: {e}"))
}

pub fn decode_oracle(data: &[u8], address: &Address) -> Result<PriceOracle> {
    if data.len() < PriceOracle::SIZE || &data[..8] != PriceOracle::DISCRIMINATOR {
        bail!("{address} is not a PriceOracle account");
    }
    // SAFETY: length and discriminator checked; PriceOracle is packed Pod, read unaligned.
    Ok(unsafe { std::ptr::read_unaligned(data[8..].as_ptr() as *const PriceOracle) })
}

/// A market with its oracle and makers, as read at one slot.
pub struct MarketSnapshot {
    pub slot: u64,
    pub address: Address,
    pub market: Market,
    pub oracle: PriceOracle,
    pub makers: Vec<(Address, Maker)>,
}

pub async fn fetch_market(rpc: &RpcClient, address: &Address) -> Result<MarketSnapshot> {
    let slot = rpc.get_slot().await.context("getSlot")?;
    let account = rpc.get_account(address).await.with_context(|| format!("fetching market {address}"))?;
    if account.owner != rwa_market::ID {
        bail!("{address} is owned by {}, not the rwa_market program {}", account.owner, rwa_market::ID);
    }
    let market: Market = decode_anchor(&account.data, "Market", address)?;
    let oracle_account = rpc.get_account(&market.oracle).await.with_context(|| format!("fetching oracle {}", market.oracle))?;
    if oracle_account.owner != rwa_market::ID {
        bail!("oracle {} is not owned by the rwa_market program", market.oracle);
    }
    let oracle = decode_oracle(&oracle_account.data, &market.oracle)?;
    let config = RpcProgramAccountsConfig {
        filters: Some(vec![
            RpcFilterType::Memcmp(Memcmp::new_base58_encoded(0, &Maker::DISCRIMINATOR)),
            RpcFilterType::Memcmp(Memcmp::new_base58_encoded(MAKER_MARKET_OFFSET, address.as_ref())),
        ]),
        account_config: RpcAccountInfoConfig { encoding: Some(UiAccountEncoding::Base64), ..Default::default() },
        with_context: None,
        sort_results: None,
    };
    let accounts = program_accounts(rpc, config).await.context("listing makers")?;
    let mut makers = Vec::new();
    for (maker_address, data) in accounts {
        makers.push((maker_address, decode_anchor::<Maker>(&data, "Maker", &maker_address)?));
    }
    Ok(MarketSnapshot { slot, address: *address, market, oracle, makers })
}

/// Every market of the program.
pub async fn list_markets(rpc: &RpcClient) -> Result<Vec<(Address, Market)>> {
    let config = RpcProgramAccountsConfig {
        filters: Some(vec![RpcFilterType::Memcmp(Memcmp::new_base58_encoded(0, &Market::DISCRIMINATOR))]),
        account_config: RpcAccountInfoConfig { encoding: Some(UiAccountEncoding::Base64), ..Default::default() },
        with_context: None,
        sort_results: None,
    };
    let accounts = program_accounts(rpc, config).await.context("listing markets")?;
    accounts.into_iter().map(|(address, data)| Ok((address, decode_anchor::<Market>(&data, "Market", &address)?))).collect()
}

/// rwa_market accounts matching `config`, with their data decoded.
async fn program_accounts(rpc: &RpcClient, config: RpcProgramAccountsConfig) -> Result<Vec<(Address, Vec<u8>)>> {
    let accounts = rpc.get_program_ui_accounts_with_config(&rwa_market::ID, config).await?;
    accounts
        .into_iter()
        .map(|(address, account)| {
            let data = account.data.decode().ok_or_else(|| anyhow!("account {address}: undecodable data encoding"))?;
            Ok((address, data))
        })
        .collect()
}
