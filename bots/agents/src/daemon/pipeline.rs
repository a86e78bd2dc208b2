//! The transaction pipeline: simulate, set the compute-unit limit from the simulation (plus a
//! margin) and a priority fee from recent fees (capped), hand the signature to the caller's journal
//! before the first send, resend while the blockhash is valid, confirm, and re-sign with a fresh
//! blockhash only once the old one expired and a last status check found it not landed (so at
//! most one signature of an intent can ever land). RPC errors back off with jitter.

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use rwa_client::solana_keypair::Keypair;
use rwa_client::solana_signer::Signer;
use rwa_client::solana_transaction::Transaction;
use rwa_client::SolInstruction as Instruction;
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::config::RpcSendTransactionConfig;

#[derive(Clone, Copy, Debug)]
pub struct PipelineConfig {
    /// Compute units when simulation reports none (native programs are not metered).
    pub default_compute_units: u32,
    pub compute_margin: f64,
    pub max_priority_fee_micro_lamports: u64,
    pub resend_every: Duration,
    pub max_signing_attempts: usize,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            default_compute_units: 400_000,
            compute_margin: 1.2,
            max_priority_fee_micro_lamports: 50_000,
            resend_every: Duration::from_millis(400),
            max_signing_attempts: 3,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Landed(String),
    /// The program refused it (simulation or execution error); resending would not help.
    Refused(String),
}

fn compute_budget(discriminator: u8, value: &[u8]) -> Instruction {
    let mut data = vec![discriminator];
    data.extend_from_slice(value);
    Instruction {
        program_id: "ComputeBudget111111111111111111111111111111"
            .parse()
            .expect("compute budget id"),
        accounts: vec![],
        data,
    }
}

async fn with_backoff<T, F, Fut>(mut call: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, solana_rpc_client_api::client_error::Error>>,
{
    let mut delay = Duration::from_millis(50);
    for attempt in 0..6 {
        match call().await {
            Ok(value) => return Ok(value),
            Err(error) if attempt < 5 && error.get_transaction_error().is_none() => {
                // Jitter: up to half the delay again, from the clock's nanoseconds.
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.subsec_nanos() as u64)
                    .unwrap_or(0);
                let jitter = Duration::from_nanos(nanos % (delay.as_nanos() as u64 / 2 + 1));
                tokio::time::sleep(delay + jitter).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
            Err(error) => return Err(anyhow!("{error}")),
        }
    }
    bail!("RPC kept failing")
}

/// The confirmed outcome of `signature`, if it has one yet (`None`: unknown or only processed).
async fn confirmed_outcome(
    rpc: &RpcClient,
    signature: &solana_signature::Signature,
) -> Result<Option<Outcome>> {
    let signatures = [*signature];
    let statuses = with_backoff(|| rpc.get_signature_statuses_with_history(&signatures)).await?;
    Ok(match statuses.value.first() {
        Some(Some(status)) if status.satisfies_commitment(CommitmentConfig::confirmed()) => {
            Some(match &status.err {
                None => Outcome::Landed(signature.to_string()),
                Some(error) => Outcome::Refused(format!("{error:?}")),
            })
        }
        _ => None,
    })
}

/// Settles a transaction an earlier run (or a failed call) signed and may have sent: waits until
/// it is confirmed (landed or failed on chain) or its blockhash expired without it landing.
pub async fn settle(
    rpc: &RpcClient,
    signature: &str,
    last_valid_block_height: u64,
) -> Result<Outcome> {
    let parsed: solana_signature::Signature = signature
        .parse()
        .map_err(|_| anyhow!("bad signature {signature:?} in the journal"))?;
    loop {
        if let Some(outcome) = confirmed_outcome(rpc, &parsed).await? {
            return Ok(outcome);
        }
        let height = with_backoff(|| rpc.get_block_height()).await?;
        if height > last_valid_block_height {
            // Expired: it can no longer land; one last look in case it did just before.
            return Ok(match confirmed_outcome(rpc, &parsed).await? {
                Some(outcome) => outcome,
                None => Outcome::Refused(format!(
                    "expired without landing (block height {height} > {last_valid_block_height})"
                )),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The accounts `instructions` write (the payer excluded: it writes every transaction), at most
/// 128 as `getRecentPrioritizationFees` accepts.
pub fn writable_accounts(
    instructions: &[Instruction],
    payer: &rwa_client::solana_address::Address,
) -> Vec<rwa_client::solana_address::Address> {
    let mut accounts = Vec::new();
    for meta in instructions.iter().flat_map(|ix| ix.accounts.iter()) {
        if meta.is_writable && meta.pubkey != *payer && !accounts.contains(&meta.pubkey) {
            accounts.push(meta.pubkey);
        }
    }
    accounts.truncate(128);
    accounts
}

/// For sends that need no journal (idempotent setup steps checked on chain before they run).
pub fn unjournaled(_signature: &str, _last_valid_block_height: u64) -> Result<()> {
    Ok(())
}

/// Sends `instructions` signed by `payer` (and `signers`) through the pipeline. `on_signed` gets
/// each signed transaction's signature and last valid block height before it is first sent (the
/// journal records it there): whatever happens after, a restart can settle it against the chain.
pub async fn send(
    rpc: &RpcClient,
    payer: &Keypair,
    signers: &[&Keypair],
    instructions: &[Instruction],
    config: &PipelineConfig,
    on_signed: &mut (dyn FnMut(&str, u64) -> Result<()> + Send),
) -> Result<Outcome> {
    let mut keys: Vec<&Keypair> = vec![payer];
    keys.extend(signers.iter().filter(|k| k.pubkey() != payer.pubkey()));
    // Simulate with a generous limit to learn the units, and to refuse doomed transactions early.
    // The same blockhash signs the first attempt: one fetch per send.
    let (blockhash, first_last_valid) =
        with_backoff(|| rpc.get_latest_blockhash_with_commitment(rpc.commitment())).await?;
    let mut fresh_blockhash = Some((blockhash, first_last_valid));
    let mut probe = vec![compute_budget(2, &1_400_000u32.to_le_bytes())];
    probe.extend_from_slice(instructions);
    let probe_transaction =
        Transaction::new_signed_with_payer(&probe, Some(&payer.pubkey()), &keys, blockhash);
    let simulation = with_backoff(|| rpc.simulate_transaction(&probe_transaction)).await?;
    if let Some(error) = simulation.value.err {
        let logs = simulation.value.logs.unwrap_or_default().join("\n");
        return Ok(Outcome::Refused(format!("{error:?}\n{logs}")));
    }
    let used = simulation.value.units_consumed.unwrap_or(0);
    // Margin plus fixed headroom: the two compute-budget instructions themselves cost units too.
    let units = if used == 0 {
        config.default_compute_units
    } else {
        ((used as f64) * config.compute_margin + 20_000.0)
            .ceil()
            .min(1_400_000.0) as u32
    };
    // Fees paid recently by transactions that wrote these accounts: the local fee market this
    // transaction competes in (without them the RPC answers the global minimum, mostly zeros).
    let recent = rpc
        .get_recent_prioritization_fees(&writable_accounts(instructions, &payer.pubkey()))
        .await
        .unwrap_or_default();
    let mut fees: Vec<u64> = recent.iter().map(|f| f.prioritization_fee).collect();
    fees.sort_unstable();
    let priority = fees
        .get(fees.len() * 3 / 4)
        .copied()
        .unwrap_or(0)
        .min(config.max_priority_fee_micro_lamports);
    let mut all = vec![
        compute_budget(2, &units.to_le_bytes()),
        compute_budget(3, &priority.to_le_bytes()),
    ];
    all.extend_from_slice(instructions);

    for _ in 0..config.max_signing_attempts {
        let (blockhash, last_valid) = match fresh_blockhash.take() {
            Some(first) => first,
            None => {
                with_backoff(|| rpc.get_latest_blockhash_with_commitment(rpc.commitment())).await?
            }
        };
        let transaction =
            Transaction::new_signed_with_payer(&all, Some(&payer.pubkey()), &keys, blockhash);
        let signature = transaction.signatures[0];
        on_signed(&signature.to_string(), last_valid)?;
        let send_config = RpcSendTransactionConfig {
            skip_preflight: true,
            ..RpcSendTransactionConfig::default()
        };
        loop {
            let _ = rpc
                .send_transaction_with_config(&transaction, send_config)
                .await;
            let deadline = Instant::now() + config.resend_every;
            // Status polls start at 40 ms (a local cluster confirms within a slot or two) and
            // stretch to 200 ms, so a slow cluster is not polled 25 times a second per transaction.
            let mut poll = Duration::from_millis(40);
            while Instant::now() < deadline {
                // Landed means confirmed: a processed transaction can still be dropped with its
                // fork, and the next tick reads state at confirmed.
                if let Ok(Some(outcome)) = confirmed_outcome(rpc, &signature).await {
                    return Ok(outcome);
                }
                tokio::time::sleep(poll).await;
                poll = (poll * 3 / 2).min(Duration::from_millis(200));
            }
            let height = with_backoff(|| rpc.get_block_height()).await?;
            if height > last_valid {
                // Expired: it can no longer land. It may have just before: look once more, or a
                // re-signed copy could land too.
                if let Some(outcome) = confirmed_outcome(rpc, &signature).await? {
                    return Ok(outcome);
                }
                break; // re-sign with a fresh blockhash
            }
        }
    }
    bail!(
        "transaction did not land after {} signing attempts",
        config.max_signing_attempts
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fees_are_sampled_for_the_written_accounts_only() {
        use rwa_client::solana_address::Address;
        let payer = Address::new_unique();
        let (written, read, also_written) = (
            Address::new_unique(),
            Address::new_unique(),
            Address::new_unique(),
        );
        let meta = |pubkey, is_writable| rwa_client::AccountMeta {
            pubkey,
            is_signer: false,
            is_writable,
        };
        let program = Address::new_unique();
        let instructions = vec![
            Instruction {
                program_id: program,
                accounts: vec![meta(payer, true), meta(written, true), meta(read, false)],
                data: vec![],
            },
            Instruction {
                program_id: program,
                accounts: vec![meta(written, true), meta(also_written, true)],
                data: vec![],
            },
        ];
        assert_eq!(
            writable_accounts(&instructions, &payer),
            vec![written, also_written]
        );
    }
}
