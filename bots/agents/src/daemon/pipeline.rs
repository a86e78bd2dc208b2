//! The transaction pipeline: simulate, set the compute-unit limit from the simulation (plus a
//! margin) and a priority fee from recent fees (capped), send, resend while the blockhash is valid,
//! confirm, and re-sign with a fresh blockhash once it expires. RPC errors back off with jitter.

use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use rwa_harness::solana_keypair::Keypair;
use rwa_harness::solana_signer::Signer;
use rwa_harness::solana_transaction::Transaction;
use rwa_harness::SolInstruction as Instruction;
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

/// Sends `instructions` signed by `payer` (and `signers`) through the pipeline.
pub async fn send(
    rpc: &RpcClient,
    payer: &Keypair,
    signers: &[&Keypair],
    instructions: &[Instruction],
    config: &PipelineConfig,
) -> Result<Outcome> {
    let mut keys: Vec<&Keypair> = vec![payer];
    keys.extend(signers.iter().filter(|k| k.pubkey() != payer.pubkey()));
    // Simulate with a generous limit to learn the units, and to refuse doomed transactions early.
    let blockhash = with_backoff(|| rpc.get_latest_blockhash()).await?;
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
    let recent = rpc
        .get_recent_prioritization_fees(&[])
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
        let (blockhash, last_valid) =
            with_backoff(|| rpc.get_latest_blockhash_with_commitment(rpc.commitment())).await?;
        let transaction =
            Transaction::new_signed_with_payer(&all, Some(&payer.pubkey()), &keys, blockhash);
        let signature = transaction.signatures[0];
        let send_config = RpcSendTransactionConfig {
            skip_preflight: true,
            ..RpcSendTransactionConfig::default()
        };
        loop {
            let _ = rpc
                .send_transaction_with_config(&transaction, send_config)
                .await;
            let deadline = Instant::now() + config.resend_every;
            while Instant::now() < deadline {
                if let Ok(statuses) = rpc.get_signature_statuses(&[signature]).await {
                    // Landed means confirmed: a processed transaction can still be dropped with
                    // its fork, and the next tick reads state at confirmed.
                    if let Some(Some(status)) = statuses.value.first() {
                        if status.satisfies_commitment(CommitmentConfig::confirmed()) {
                            return Ok(match &status.err {
                                None => Outcome::Landed(signature.to_string()),
                                Some(error) => Outcome::Refused(format!("{error:?}")),
                            });
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
            let height = with_backoff(|| rpc.get_block_height()).await?;
            if height > last_valid {
                break; // expired: re-sign with a fresh blockhash
            }
        }
    }
    bail!(
        "transaction did not land after {} signing attempts",
        config.max_signing_attempts
    )
}
