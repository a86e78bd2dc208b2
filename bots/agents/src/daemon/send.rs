//! The one journaled send path every intent goes through.

use super::*;

/// The one send path: journal `Pending`, sign and journal `Sent` (signature, last valid block
/// height) before the first send, send and confirm, journal the outcome. When the pipeline fails
/// after signing (RPC down, ...) the transaction may still be on chain: it is settled against the
/// chain rather than guessed; if even that fails the entry stays `Sent` for the next start.
pub(crate) async fn send_journaled(
    rpc: &RpcClient,
    payer: &Keypair,
    journal: &mut Journal,
    entry: Entry,
    instructions: &[Instruction],
) -> Result<Outcome> {
    journal.record(entry.clone())?;
    let mut sent: Option<(String, u64)> = None;
    let result = {
        let (journal, sent, entry) = (&mut *journal, &mut sent, &entry);
        let mut on_signed = |signature: &str, last_valid: u64| -> Result<()> {
            journal.record(Entry {
                status: Status::Sent {
                    signature: signature.to_string(),
                    last_valid_block_height: last_valid,
                },
                ..entry.clone()
            })?;
            *sent = Some((signature.to_string(), last_valid));
            Ok(())
        };
        pipeline::send(
            rpc,
            payer,
            &[],
            instructions,
            &PipelineConfig::default(),
            &mut on_signed,
        )
        .await
    };
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(error) => match &sent {
            Some((signature, last_valid)) => pipeline::settle(rpc, signature, *last_valid)
                .await
                .with_context(|| format!("settling {signature} after: {error:#}"))?,
            None => Outcome::Refused(format!("not sent: {error:#}")),
        },
    };
    let status = match &outcome {
        Outcome::Landed(signature) => Status::Landed {
            signature: signature.clone(),
        },
        Outcome::Refused(reason) => Status::Failed {
            reason: reason.clone(),
        },
    };
    journal.record(Entry { status, ..entry })?;
    Ok(outcome)
}

// The journal entry's parts travel separately so callers need not build an Entry.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn send_recorded(
    rpc: &RpcClient,
    payer: &Keypair,
    running: &mut Running,
    journal: &mut Journal,
    metrics: &Metrics,
    id: String,
    intent: serde_json::Value,
    instructions: &[Instruction],
) -> Result<bool> {
    if journal.get(&id).is_some() {
        return Ok(false);
    }
    let entry = Entry {
        id,
        strategy: running.config.name.clone(),
        intent,
        status: Status::Pending,
    };
    let id = entry.id.clone();
    metrics.intents.fetch_add(1, Ordering::Relaxed);
    let labels = StrategySeries::labels(&running.config.name, running.config.kind);
    metrics.by_strategy.intents.get_or_create(&labels).inc();
    metrics.tx_sent.fetch_add(1, Ordering::Relaxed);
    match send_journaled(rpc, payer, journal, entry, instructions).await? {
        Outcome::Landed(signature) => {
            tracing::info!(strategy = %running.config.name, %id, %signature, "landed");
            metrics.tx_landed.fetch_add(1, Ordering::Relaxed);
            metrics.by_strategy.landed.get_or_create(&labels).inc();
            running.landed += 1;
            Ok(true)
        }
        Outcome::Refused(reason) => {
            tracing::info!(strategy = %running.config.name, %id, %reason, "refused");
            metrics.tx_failed.fetch_add(1, Ordering::Relaxed);
            metrics.by_strategy.failed.get_or_create(&labels).inc();
            running.refused += 1;
            Ok(false)
        }
    }
}
