//! Reading market state from a cluster over JSON-RPC: cluster monikers, account fetching and
//! decoding of the program's accounts (the same Anchor types the program writes).

use anchor_lang::{AccountDeserialize, Discriminator};
use anyhow::{anyhow, bail, Context, Result};
use rwa_client::solana_address::Address;
use rwa_market::state::{Maker, Market, PriceOracle};
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};

/// Waits until `signature` is confirmed (or failed), polling every 50 ms: the RPC client's own
/// confirmation loop sleeps for most of a slot between checks, which turns a bootstrap of a few
/// dozen transactions on a fast local cluster into tens of seconds. Gives up after `timeout`.
pub async fn confirm(
    rpc: &RpcClient,
    signature: &solana_signature::Signature,
    timeout: std::time::Duration,
) -> Result<()> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let status = rpc.get_signature_statuses(&[*signature]).await?.value[0].clone();
        if let Some(status) = status {
            if let Some(error) = status.err {
                bail!("transaction {signature} failed: {error}");
            }
            if status.satisfies_commitment(CommitmentConfig::confirmed()) {
                return Ok(());
            }
        }
        if std::time::Instant::now() >= deadline {
            bail!("transaction {signature} not confirmed within {timeout:?}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Sends with preflight (so a refusal carries the program's logs) and waits for confirmation.
pub async fn send_and_confirm(
    rpc: &RpcClient,
    transaction: &rwa_client::solana_transaction::Transaction,
) -> Result<solana_signature::Signature> {
    let signature = rpc
        .send_transaction(transaction)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    // A blockhash lives ~60-90 s: longer than that the transaction can no longer land.
    confirm(rpc, &signature, std::time::Duration::from_secs(90)).await?;
    Ok(signature)
}

/// The rules a governed market obeys, as strategies see them (`rule_set` unset: no limits).
/// Strategies size trades, quote lifetimes and quote bands by them, so nothing they send is
/// refused for breaking a rule they could have read.
pub async fn fetch_rules(
    rpc: &RpcClient,
    rule_set: &Address,
) -> Result<rwa_agent_core::view::RulesView> {
    if *rule_set == Address::default() {
        return Ok(rwa_agent_core::view::RulesView::default());
    }
    let account = rpc
        .get_account(rule_set)
        .await
        .with_context(|| format!("reading RuleSet {rule_set}"))?;
    decode_rules(rule_set, &account)
}

/// The RulesView of a fetched RuleSet account (refusing any other owner or type).
pub fn decode_rules(
    rule_set: &Address,
    account: &solana_account::Account,
) -> Result<rwa_agent_core::view::RulesView> {
    use anchor_lang::AnchorDeserialize;
    if account.owner != rwa_client::rule_dao_id()
        || account.data.len() < 8
        || account.data[..8] != rwa_rules::RULE_SET_DISCRIMINATOR
    {
        bail!("{rule_set} is not a RuleSet of the rule_dao program");
    }
    let view = rwa_rules::RuleSetView::deserialize(&mut &account.data[8..])
        .map_err(|e| anyhow!("decoding RuleSet {rule_set}: {e}"))?;
    Ok(rwa_agent_core::view::RulesView {
        max_trade_amount: view.rules.max_trade_amount,
        max_quote_lifetime_slots: view.rules.max_quote_lifetime_slots,
        max_quote_band_bps: view.rules.max_quote_band_bps,
        circuit_breaker_bps: view.rules.circuit_breaker_bps,
        circuit_breaker_halt_slots: view.rules.circuit_breaker_halt_slots,
    })
}

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
    client_with_rate(cluster, DEFAULT_MAX_REQUESTS_PER_SECOND)
}

pub fn client_with_rate(cluster: &str, max_requests_per_second: f64) -> Result<RpcClient> {
    let sender = ResilientSender::new(cluster_url(cluster)?, max_requests_per_second);
    Ok(RpcClient::new_sender(
        sender,
        solana_rpc_client::rpc_client::RpcClientConfig::with_commitment(
            CommitmentConfig::confirmed(),
        ),
    ))
}

/// Public RPC endpoints throttle around 10-40 requests per second; stay polite by default.
pub const DEFAULT_MAX_REQUESTS_PER_SECOND: f64 = 40.0;

/// The HTTP sender behind every client: rate limited, and retrying transport failures (dropped
/// connections, HTTP 429/5xx) with exponential backoff and jitter. JSON-RPC errors (a refused
/// transaction, a bad request) are answers, not failures, and pass straight through.
/// Requests sent by every client of this process (for "RPC requests per tick").
pub static RPC_REQUESTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
/// Transport failures retried, and requests that failed after their retries (process-wide).
pub static RPC_RETRIES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
pub static RPC_ERRORS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub struct ResilientSender {
    inner: solana_rpc_client::http_sender::HttpSender,
    min_interval: std::time::Duration,
    next_slot: tokio::sync::Mutex<tokio::time::Instant>,
    retries: u32,
}

impl ResilientSender {
    pub fn new(url: String, max_requests_per_second: f64) -> Self {
        ResilientSender {
            inner: solana_rpc_client::http_sender::HttpSender::new(url),
            min_interval: std::time::Duration::from_secs_f64(
                1.0 / max_requests_per_second.max(0.001),
            ),
            next_slot: tokio::sync::Mutex::new(tokio::time::Instant::now()),
            retries: 6,
        }
    }

    async fn pace(&self) {
        let wait_until = {
            let mut next = self.next_slot.lock().await;
            let now = tokio::time::Instant::now();
            let at = (*next).max(now);
            *next = at + self.min_interval;
            at
        };
        tokio::time::sleep_until(wait_until).await;
    }
}

#[async_trait::async_trait]
impl solana_rpc_client::rpc_sender::RpcSender for ResilientSender {
    async fn send(
        &self,
        request: solana_rpc_client_api::request::RpcRequest,
        params: serde_json::Value,
    ) -> solana_rpc_client_api::client_error::Result<serde_json::Value> {
        use solana_rpc_client_api::client_error::ErrorKind;
        let mut delay = std::time::Duration::from_millis(50);
        let mut attempt = 0;
        loop {
            self.pace().await;
            RPC_REQUESTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            match self.inner.send(request, params.clone()).await {
                Err(error)
                    if attempt < self.retries
                        && matches!(error.kind(), ErrorKind::Io(_) | ErrorKind::Reqwest(_)) =>
                {
                    attempt += 1;
                    RPC_RETRIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let nanos = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.subsec_nanos() as u64)
                        .unwrap_or(0);
                    let jitter =
                        std::time::Duration::from_nanos(nanos % (delay.as_nanos() as u64 / 2 + 1));
                    tokio::time::sleep(delay + jitter).await;
                    delay = (delay * 2).min(std::time::Duration::from_secs(5));
                }
                outcome => {
                    if outcome.is_err() {
                        RPC_ERRORS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    return outcome;
                }
            }
        }
    }

    fn get_transport_stats(&self) -> solana_rpc_client::rpc_sender::RpcTransportStats {
        self.inner.get_transport_stats()
    }

    fn url(&self) -> String {
        self.inner.url()
    }
}

/// Instructions creating `account` as an SPL token account of `mint` owned by `owner`, rent paid
/// by `funder`; `account` must sign. Returns them with nothing sent.
pub async fn new_token_account_ixs(
    rpc: &RpcClient,
    funder: &Address,
    account: &Address,
    mint: &Address,
    owner: &Address,
) -> Result<[rwa_client::SolInstruction; 2]> {
    use rwa_client::solana_program_pack::Pack;
    let space = anchor_spl::token::spl_token::state::Account::LEN;
    let rent = rpc.get_minimum_balance_for_rent_exemption(space).await?;
    let spl = anchor_spl::token::spl_token::ID;
    Ok([
        rwa_client::solana_instruction_compat::create_account(
            funder,
            account,
            rent,
            space as u64,
            &spl,
        ),
        anchor_spl::token::spl_token::instruction::initialize_account3(&spl, account, mint, owner)?,
    ])
}

/// The seed of the token account a strategy (`name`) holds `mint` in: short (system seeds are at
/// most 32 bytes) and stable across runs (FNV-1a of name and mint).
pub fn token_account_seed(name: &str, mint: &Address) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes().chain(mint.as_ref().iter().copied()) {
        hash = (hash ^ byte as u64).wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("rwa-{hash:016x}")
}

/// A token account at a derived address (`create_with_seed(funder, seed, token program)`): the
/// same address on every run, so creating it is idempotent and a crash between sending the
/// creation and recording it loses nothing (the next run finds it on chain).
pub async fn seeded_token_account_ixs(
    rpc: &RpcClient,
    funder: &Address,
    seed: &str,
    mint: &Address,
    owner: &Address,
) -> Result<(Address, [rwa_client::SolInstruction; 2])> {
    use rwa_client::solana_program_pack::Pack;
    let spl = anchor_spl::token::spl_token::ID;
    let account = Address::create_with_seed(funder, seed, &spl)
        .map_err(|e| anyhow!("deriving the token account for seed {seed:?}: {e:?}"))?;
    let space = anchor_spl::token::spl_token::state::Account::LEN;
    let rent = rpc.get_minimum_balance_for_rent_exemption(space).await?;
    Ok((
        account,
        [
            rwa_client::solana_instruction_compat::create_account_with_seed(
                funder,
                &account,
                funder,
                seed,
                rent,
                space as u64,
                &spl,
            ),
            anchor_spl::token::spl_token::instruction::initialize_account3(
                &spl, &account, mint, owner,
            )?,
        ],
    ))
}

pub fn parse_address(text: &str, what: &str) -> Result<Address> {
    text.parse::<Address>()
        .map_err(|_| anyhow!("{what} {text:?} is not a base58 address"))
}

fn decode_anchor<T: AccountDeserialize>(data: &[u8], what: &str, address: &Address) -> Result<T> {
    T::try_deserialize(&mut &data[..])
        .map_err(|e| anyhow!("{address} is not a {what} account: {e}"))
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
    let account = rpc
        .get_account(address)
        .await
        .with_context(|| format!("fetching market {address}"))?;
    if account.owner != rwa_client::rwa_market_id() {
        bail!(
            "{address} is owned by {}, not the rwa_market program {}",
            account.owner,
            rwa_client::rwa_market_id()
        );
    }
    let market: Market = decode_anchor(&account.data, "Market", address)?;
    let oracle_account = rpc
        .get_account(&market.oracle)
        .await
        .with_context(|| format!("fetching oracle {}", market.oracle))?;
    if oracle_account.owner != rwa_client::rwa_market_id() {
        bail!(
            "oracle {} is not owned by the rwa_market program",
            market.oracle
        );
    }
    let oracle = decode_oracle(&oracle_account.data, &market.oracle)?;
    let config = RpcProgramAccountsConfig {
        filters: Some(vec![
            RpcFilterType::Memcmp(Memcmp::new_base58_encoded(0, Maker::DISCRIMINATOR)),
            RpcFilterType::Memcmp(Memcmp::new_base58_encoded(
                MAKER_MARKET_OFFSET,
                address.as_ref(),
            )),
        ]),
        account_config: RpcAccountInfoConfig {
            encoding: Some(UiAccountEncoding::Base64),
            ..Default::default()
        },
        with_context: None,
        sort_results: None,
    };
    let accounts = program_accounts(rpc, config)
        .await
        .context("listing makers")?;
    let mut makers = Vec::new();
    for (maker_address, data) in accounts {
        makers.push((
            maker_address,
            decode_anchor::<Maker>(&data, "Maker", &maker_address)?,
        ));
    }
    Ok(MarketSnapshot {
        slot,
        address: *address,
        market,
        oracle,
        makers,
    })
}

/// Every market of the program.
pub async fn list_markets(rpc: &RpcClient) -> Result<Vec<(Address, Market)>> {
    let config = RpcProgramAccountsConfig {
        filters: Some(vec![RpcFilterType::Memcmp(Memcmp::new_base58_encoded(
            0,
            Market::DISCRIMINATOR,
        ))]),
        account_config: RpcAccountInfoConfig {
            encoding: Some(UiAccountEncoding::Base64),
            ..Default::default()
        },
        with_context: None,
        sort_results: None,
    };
    let accounts = program_accounts(rpc, config)
        .await
        .context("listing markets")?;
    accounts
        .into_iter()
        .map(|(address, data)| Ok((address, decode_anchor::<Market>(&data, "Market", &address)?)))
        .collect()
}

/// rwa_market accounts matching `config`, with their data decoded.
async fn program_accounts(
    rpc: &RpcClient,
    config: RpcProgramAccountsConfig,
) -> Result<Vec<(Address, Vec<u8>)>> {
    let accounts = rpc
        .get_program_ui_accounts_with_config(&rwa_client::rwa_market_id(), config)
        .await?;
    accounts
        .into_iter()
        .map(|(address, account)| {
            let data = account
                .data
                .decode()
                .ok_or_else(|| anyhow!("account {address}: undecodable data encoding"))?;
            Ok((address, data))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_account_seeds_are_short_stable_and_distinct() {
        let (a, b) = (Address::new_unique(), Address::new_unique());
        let seed = token_account_seed("mm", &a);
        assert!(seed.len() <= 32, "{seed}");
        assert_eq!(seed, token_account_seed("mm", &a));
        assert_ne!(seed, token_account_seed("noise", &a));
        assert_ne!(seed, token_account_seed("mm", &b));
        let spl = anchor_spl::token::spl_token::ID;
        let payer = Address::new_unique();
        assert_eq!(
            Address::create_with_seed(&payer, &seed, &spl).unwrap(),
            Address::create_with_seed(&payer, &token_account_seed("mm", &a), &spl).unwrap()
        );
    }
}
