//! The cluster the end-to-end stories run against, reached only through JSON-RPC and websocket.
//!
//! With `ANCHOR_PROVIDER_URL` and `ANCHOR_WALLET` set (as `anchor test` sets them) the stories use
//! that cluster, the program ids of Anchor.toml (the `declare_id!`s) and that wallet; otherwise they
//! start the embedded localnet and fund a fresh payer from its faucet.

use std::time::Duration;

use anchor_lang::{AnchorDeserialize, Discriminator};
use anyhow::{anyhow, bail, Context, Result};
use rwa_harness::solana_address::Address;
use rwa_harness::solana_instruction_compat::transfer;
use rwa_harness::solana_keypair::Keypair;
use rwa_harness::solana_signer::Signer;
use rwa_harness::solana_transaction::Transaction;
use rwa_harness::SolInstruction as Instruction;
use rwa_localnet::{Localnet, LocalnetConfig};
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::config::RpcTransactionConfig;
use solana_signature::Signature;
use solana_transaction_status_client_types::{
    option_serializer::OptionSerializer, UiInstruction, UiTransactionEncoding,
};

pub use rwa_harness;

/// The most one transaction may request; only used to simulate, never sent as the limit.
const MAX_COMPUTE_UNITS: u32 = 1_400_000;
/// Margin over the simulated units, as the daemon's pipeline applies: +10% and a fixed headroom
/// for the compute-budget instruction itself.
const COMPUTE_MARGIN: f64 = 1.1;
const COMPUTE_HEADROOM: u32 = 5_000;

pub struct Cluster {
    pub rpc: RpcClient,
    pub payer: Keypair,
    pub ws_url: String,
    localnet: Option<Localnet>,
}

/// What a landed transaction left: its signature and the program events in it.
pub struct Landed {
    pub signature: Signature,
    pub inner: Vec<(Address, Vec<u8>)>,
    pub logs: Vec<String>,
}

impl Landed {
    pub fn events<E: AnchorDeserialize + Discriminator>(&self, program: &Address) -> Vec<E> {
        rwa_harness::decode_events(&self.inner, program)
    }
}

fn compute_budget(units: u32) -> Instruction {
    // SetComputeUnitLimit
    let mut data = vec![2u8];
    data.extend_from_slice(&units.to_le_bytes());
    Instruction {
        program_id: "ComputeBudget111111111111111111111111111111"
            .parse()
            .expect("compute budget id"),
        accounts: vec![],
        data,
    }
}

/// Top-level program instructions of one transaction with the units each consumed, from the
/// runtime's logs: (program id, instruction name, units). The name is Anchor's
/// "Instruction: X" log line (SBF builds print it; the host builds are compiled without it).
pub fn compute_units_per_instruction(logs: &[String]) -> Vec<(String, String, u64)> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut name = String::new();
    for line in logs {
        let Some(rest) = line.strip_prefix("Program ") else {
            continue;
        };
        if let Some(log) = rest.strip_prefix("log: Instruction: ") {
            if depth == 1 {
                name = log.trim().to_string();
            }
        } else if rest.contains(" invoke [") {
            depth += 1;
            if depth == 1 {
                name.clear();
            }
        } else if rest.ends_with(" success") || rest.contains(" failed: ") {
            depth = depth.saturating_sub(1);
        } else if let Some((program, tail)) = rest.split_once(" consumed ") {
            if depth == 1 {
                if let Some(units) = tail.split_whitespace().next().and_then(|u| u.parse().ok()) {
                    let label = if name.is_empty() {
                        "?".to_string()
                    } else {
                        name.clone()
                    };
                    out.push((program.to_string(), label, units));
                }
            }
        }
    }
    out
}

fn record_compute_units(path: &str, logs: &[String]) -> Result<()> {
    use std::io::Write;
    let rows = compute_units_per_instruction(logs);
    if rows.is_empty() {
        return Ok(());
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let mut text = String::new();
    for (program, name, units) in rows {
        text.push_str(&format!("{program}\t{name}\t{units}\n"));
    }
    // One write per transaction: lines from parallel tests never interleave.
    file.write_all(text.as_bytes())?;
    Ok(())
}

/// Slots of the embedded localnet for the Rust stories: short, so waiting for slots is cheap.
pub const STORY_SLOT: Duration = Duration::from_millis(40);
/// Slots for the TypeScript clients: a validator's 400 ms. web3.js caches a *finalized*
/// blockhash for up to 30 s, and blockhashes expire after 150 blocks; with 40 ms slots a cached
/// one is dead after 6 s (`Blockhash not found`), with 400 ms slots it lives 47 s after it is
/// finalized, as on a real cluster.
pub const CLIENT_SLOT: Duration = Duration::from_millis(400);

impl Cluster {
    /// The cluster at `ANCHOR_PROVIDER_URL` with `ANCHOR_WALLET` (as `anchor test` sets them), or
    /// an embedded localnet with [`STORY_SLOT`] slots.
    pub async fn connect() -> Result<Cluster> {
        Self::connect_with_slot(STORY_SLOT).await
    }

    /// Like [`Cluster::connect`], an embedded localnet's slots lasting `slot`.
    pub async fn connect_with_slot(slot: Duration) -> Result<Cluster> {
        match (
            std::env::var("ANCHOR_PROVIDER_URL"),
            std::env::var("ANCHOR_WALLET"),
        ) {
            (Ok(url), Ok(wallet)) => {
                let bytes: Vec<u8> = serde_json::from_str(
                    &std::fs::read_to_string(&wallet)
                        .with_context(|| format!("reading wallet {wallet}"))?,
                )?;
                let payer = Keypair::try_from(bytes.as_slice())
                    .map_err(|e| anyhow!("wallet {wallet}: {e}"))?;
                let ws_url = url.replace("http", "ws").replace(":8899", ":8900");
                Ok(Cluster {
                    rpc: RpcClient::new_with_commitment(url, CommitmentConfig::confirmed()),
                    payer,
                    ws_url,
                    localnet: None,
                })
            }
            _ => {
                let config = LocalnetConfig {
                    listen: "127.0.0.1:0".parse()?,
                    slot_duration: Some(slot),
                };
                let localnet = Localnet::start(config).await?;
                let rpc =
                    RpcClient::new_with_commitment(localnet.url(), CommitmentConfig::confirmed());
                let payer = Keypair::new();
                let signature = rpc
                    .request_airdrop(&payer.pubkey(), 500_000_000_000)
                    .await?;
                rpc.poll_for_signature(&signature).await?;
                let ws_url = localnet.ws_url();
                Ok(Cluster {
                    rpc,
                    payer,
                    ws_url,
                    localnet: Some(localnet),
                })
            }
        }
    }

    pub fn is_embedded(&self) -> bool {
        self.localnet.is_some()
    }

    pub async fn shutdown(self) {
        if let Some(localnet) = self.localnet {
            localnet.shutdown().await;
        }
    }

    /// Signs with the payer and `signers`, sends with preflight, confirms, and reads the events back
    /// from `getTransaction`.
    ///
    /// Like the daemon, it requests the compute units a simulation measured (plus a margin), not a
    /// blanket maximum: on a cluster running the SBF builds (`RWA_SBF_PROGRAMS`, or a validator
    /// from `anchor test`) that checks every story fits what it asks for. A transaction the
    /// simulation refuses is sent without a limit, so preflight reports the same error.
    pub async fn send(&self, instructions: &[Instruction], signers: &[&Keypair]) -> Result<Landed> {
        let mut keys: Vec<&Keypair> = vec![&self.payer];
        keys.extend(signers.iter().filter(|k| k.pubkey() != self.payer.pubkey()));
        let blockhash = self.rpc.get_latest_blockhash().await?;
        let mut probe = vec![compute_budget(MAX_COMPUTE_UNITS)];
        probe.extend_from_slice(instructions);
        let simulation = self
            .rpc
            .simulate_transaction(&Transaction::new_signed_with_payer(
                &probe,
                Some(&self.payer.pubkey()),
                &keys,
                blockhash,
            ))
            .await?
            .value;
        let mut all = Vec::with_capacity(instructions.len() + 1);
        match simulation.units_consumed {
            Some(used) if used > 0 && simulation.err.is_none() => {
                let units = ((used as f64 * COMPUTE_MARGIN).ceil() as u32)
                    .saturating_add(COMPUTE_HEADROOM)
                    .min(MAX_COMPUTE_UNITS);
                all.push(compute_budget(units));
            }
            _ => {}
        }
        all.extend_from_slice(instructions);
        let transaction =
            Transaction::new_signed_with_payer(&all, Some(&self.payer.pubkey()), &keys, blockhash);
        let signature = self.rpc.send_transaction(&transaction).await?;
        self.confirm(&signature).await?;
        self.landed(signature).await
    }

    /// Polls until `signature` is confirmed (a slot after it landed), every 20 ms rather than the
    /// RPC client's 500 ms, so the stories run at the localnet's slot pace.
    async fn confirm(&self, signature: &Signature) -> Result<()> {
        use solana_transaction_status_client_types::TransactionConfirmationStatus;
        for _ in 0..3_000 {
            let status = self.rpc.get_signature_statuses(&[*signature]).await?.value[0].clone();
            if let Some(status) = status {
                if let Some(error) = status.err {
                    bail!("transaction {signature} failed: {error}");
                }
                if matches!(
                    status.confirmation_status,
                    Some(TransactionConfirmationStatus::Confirmed)
                        | Some(TransactionConfirmationStatus::Finalized)
                ) {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        bail!("transaction {signature} not confirmed within 60 s")
    }

    /// The custom error code a refused transaction fails with (from preflight).
    pub async fn refused(&self, instructions: &[Instruction], signers: &[&Keypair]) -> Result<u32> {
        match self.send(instructions, signers).await {
            Ok(_) => bail!("transaction succeeded; expected a refusal"),
            Err(error) => {
                let client_error = error
                    .downcast_ref::<solana_rpc_client_api::client_error::Error>()
                    .ok_or_else(|| anyhow!("{error:#}"))?;
                match client_error.get_transaction_error() {
                    Some(
                        rwa_harness::solana_transaction_error::TransactionError::InstructionError(
                            _,
                            rwa_harness::solana_instruction_compat_error::InstructionError::Custom(
                                code,
                            ),
                        ),
                    ) => Ok(code),
                    other => bail!("refused without a custom code: {other:?} ({error:#})"),
                }
            }
        }
    }

    async fn landed(&self, signature: Signature) -> Result<Landed> {
        let config = RpcTransactionConfig {
            encoding: Some(UiTransactionEncoding::Base64),
            commitment: Some(CommitmentConfig::confirmed()),
            max_supported_transaction_version: Some(0),
        };
        let mut attempt = 0;
        let confirmed = loop {
            match self
                .rpc
                .get_transaction_with_config(&signature, config)
                .await
            {
                Ok(transaction) => break transaction,
                Err(error) if attempt < 20 => {
                    attempt += 1;
                    let _ = error;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(error) => return Err(error.into()),
            }
        };
        let transaction = confirmed
            .transaction
            .transaction
            .decode()
            .ok_or_else(|| anyhow!("undecodable transaction {signature}"))?;
        let keys = transaction.message.static_account_keys().to_vec();
        let meta = confirmed
            .transaction
            .meta
            .ok_or_else(|| anyhow!("no meta for {signature}"))?;
        let mut inner = Vec::new();
        if let OptionSerializer::Some(groups) = meta.inner_instructions {
            for group in groups {
                for instruction in group.instructions {
                    if let UiInstruction::Compiled(compiled) = instruction {
                        let data = bs58::decode(&compiled.data).into_vec()?;
                        inner.push((keys[compiled.program_id_index as usize], data));
                    }
                }
            }
        }
        let logs = match meta.log_messages {
            OptionSerializer::Some(logs) => logs,
            _ => Vec::new(),
        };
        if let Ok(path) = std::env::var("RWA_CU_LOG") {
            record_compute_units(&path, &logs)
                .with_context(|| format!("appending compute units to {path}"))?;
        }
        Ok(Landed {
            signature,
            inner,
            logs,
        })
    }

    pub async fn account<T: anchor_lang::AccountDeserialize>(
        &self,
        address: &Address,
    ) -> Result<T> {
        let account = self
            .rpc
            .get_account(address)
            .await
            .with_context(|| format!("fetching {address}"))?;
        T::try_deserialize(&mut account.data.as_slice())
            .map_err(|e| anyhow!("decoding {address}: {e}"))
    }

    pub async fn token_balance(&self, address: &Address) -> Result<u64> {
        use rwa_harness::solana_program_pack::Pack;
        let account = self
            .rpc
            .get_account(address)
            .await
            .with_context(|| format!("fetching token account {address}"))?;
        Ok(anchor_spl::token::spl_token::state::Account::unpack(&account.data)?.amount)
    }

    pub async fn slot(&self) -> Result<u64> {
        Ok(self.rpc.get_slot().await?)
    }

    /// Waits until the cluster's slot reaches `target`.
    pub async fn wait_for_slot(&self, target: u64) -> Result<()> {
        for _ in 0..3_000 {
            if self.slot().await? >= target {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        bail!("slot {target} not reached")
    }

    /// A fresh keypair funded with SOL from the payer.
    pub async fn funded_keypair(&self, lamports: u64) -> Result<Keypair> {
        let keypair = Keypair::new();
        self.send(
            &[transfer(&self.payer.pubkey(), &keypair.pubkey(), lamports)],
            &[],
        )
        .await?;
        Ok(keypair)
    }

    pub async fn create_mint(&self, decimals: u8) -> Result<Address> {
        use rwa_harness::solana_program_pack::Pack;
        let mint = Keypair::new();
        let space = anchor_spl::token::spl_token::state::Mint::LEN;
        let rent = self
            .rpc
            .get_minimum_balance_for_rent_exemption(space)
            .await?;
        let instructions = [
            rwa_harness::solana_instruction_compat::create_account(
                &self.payer.pubkey(),
                &mint.pubkey(),
                rent,
                space as u64,
                &anchor_spl::token::spl_token::ID,
            ),
            anchor_spl::token::spl_token::instruction::initialize_mint2(
                &anchor_spl::token::spl_token::ID,
                &mint.pubkey(),
                &self.payer.pubkey(),
                None,
                decimals,
            )?,
        ];
        self.send(&instructions, &[&mint]).await?;
        Ok(mint.pubkey())
    }

    pub async fn create_token_account(&self, mint: &Address, owner: &Address) -> Result<Address> {
        use rwa_harness::solana_program_pack::Pack;
        let account = Keypair::new();
        let space = anchor_spl::token::spl_token::state::Account::LEN;
        let rent = self
            .rpc
            .get_minimum_balance_for_rent_exemption(space)
            .await?;
        let instructions = [
            rwa_harness::solana_instruction_compat::create_account(
                &self.payer.pubkey(),
                &account.pubkey(),
                rent,
                space as u64,
                &anchor_spl::token::spl_token::ID,
            ),
            anchor_spl::token::spl_token::instruction::initialize_account3(
                &anchor_spl::token::spl_token::ID,
                &account.pubkey(),
                mint,
                owner,
            )?,
        ];
        self.send(&instructions, &[&account]).await?;
        Ok(account.pubkey())
    }

    /// A funded trader with token accounts for `rwa_mint` and `quote_mint`, `quote` minted to it.
    pub async fn trader(
        &self,
        rwa_mint: &Address,
        quote_mint: &Address,
        quote: u64,
    ) -> Result<(Keypair, rwa_harness::market::TraderAccounts)> {
        let trader = self.funded_keypair(2_000_000_000).await?;
        let rwa_account = self
            .create_token_account(rwa_mint, &trader.pubkey())
            .await?;
        let quote_account = self
            .create_token_account(quote_mint, &trader.pubkey())
            .await?;
        self.mint_to(quote_mint, &quote_account, quote).await?;
        let accounts = rwa_harness::market::TraderAccounts {
            trader: trader.pubkey(),
            rwa_account,
            quote_account,
        };
        Ok((trader, accounts))
    }

    pub async fn mint_to(&self, mint: &Address, destination: &Address, amount: u64) -> Result<()> {
        let instruction = anchor_spl::token::spl_token::instruction::mint_to(
            &anchor_spl::token::spl_token::ID,
            mint,
            destination,
            &self.payer.pubkey(),
            &[],
            amount,
        )?;
        self.send(&[instruction], &[]).await.map(|_| ())
    }
}

/// Anchor's code for one of a program's own errors.
pub fn program_error(code: u32) -> u32 {
    anchor_lang::error::ERROR_CODE_OFFSET + code
}

#[cfg(test)]
mod tests {
    use super::compute_units_per_instruction;

    #[test]
    fn units_are_read_per_top_level_instruction() {
        let logs: Vec<String> = [
            "Program ComputeBudget111111111111111111111111111111 invoke [1]",
            "Program ComputeBudget111111111111111111111111111111 success",
            "Program Mkt111 invoke [1]",
            "Program log: Instruction: BuyExactIn",
            "Program Tok111 invoke [2]",
            "Program log: Instruction: Transfer",
            "Program Tok111 consumed 4645 of 180000 compute units",
            "Program Tok111 success",
            "Program Mkt111 consumed 51234 of 200000 compute units",
            "Program Mkt111 success",
            "Program Lend111 invoke [1]",
            "Program Lend111 consumed 999 of 148766 compute units",
            "Program Lend111 failed: custom program error: 0x1770",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            compute_units_per_instruction(&logs),
            vec![
                ("Mkt111".to_string(), "BuyExactIn".to_string(), 51_234),
                ("Lend111".to_string(), "?".to_string(), 999),
            ]
        );
    }
}
