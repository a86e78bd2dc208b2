//! The cluster state behind the RPC: one runtime, a clock that ticks, recent blockhashes and the
//! statuses of processed transactions, all under one lock (transactions apply one at a time, as a
//! single leader would order them).

use std::collections::{HashMap, VecDeque};

use rwa_harness::litesvm::types::TransactionMetadata;
use rwa_harness::solana_address::Address;
use rwa_harness::solana_hash::Hash;
use rwa_harness::solana_transaction::versioned::VersionedTransaction;
use rwa_harness::solana_transaction_error::TransactionError;
use rwa_harness::TestEnv;
use solana_signature::Signature;

/// Blockhashes stay valid for this many slots, as on a real cluster.
pub const MAX_BLOCKHASH_AGE_SLOTS: usize = 150;
/// A slot is finalized (rooted) this many slots after it was processed, as a validator's tower
/// lockout makes it (~12.8 s at 400 ms slots); it is confirmed one slot after.
pub const FINALITY_DEPTH_SLOTS: u64 = 32;

/// Commitment levels as a validator orders them: processed < confirmed < finalized.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Commitment {
    Processed,
    Confirmed,
    Finalized,
}

impl Commitment {
    /// The `commitment` field of an RPC config object; absent means finalized, as on a validator.
    pub fn from_config(config: &serde_json::Value) -> Result<Commitment, String> {
        match config.get("commitment").and_then(serde_json::Value::as_str) {
            None => Ok(Commitment::Finalized),
            Some("processed") | Some("recent") => Ok(Commitment::Processed),
            Some("confirmed") | Some("single") | Some("singleGossip") => Ok(Commitment::Confirmed),
            Some("finalized") | Some("max") | Some("root") => Ok(Commitment::Finalized),
            Some(other) => Err(format!("unknown commitment {other:?}")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Commitment::Processed => "processed",
            Commitment::Confirmed => "confirmed",
            Commitment::Finalized => "finalized",
        }
    }
}
/// Lamports the airdrop faucet starts with (500,000 SOL, from the runtime's own genesis funds).
const FAUCET_LAMPORTS: u64 = 500_000 * 1_000_000_000;
/// Statuses kept for `getSignatureStatuses` / `getTransaction`.
const MAX_STATUSES: usize = 100_000;

/// Inner instructions by top-level instruction index: (program id index, account indices, data,
/// stack height) per inner instruction.
pub type InnerInstructions = Vec<(u8, Vec<(u8, Vec<u8>, Vec<u8>, u8)>)>;

/// What the RPC remembers about a processed transaction.
#[derive(Clone, Debug)]
pub struct TransactionRecord {
    pub slot: u64,
    pub block_time: i64,
    pub transaction: VersionedTransaction,
    pub error: Option<TransactionError>,
    pub logs: Vec<String>,
    pub fee: u64,
    pub inner_instructions: InnerInstructions,
    pub compute_units_consumed: u64,
}

/// What subscribers hear about: processed transactions and new slots.
#[derive(Clone, Debug)]
pub enum BankEvent {
    Transaction {
        signature: Signature,
        slot: u64,
        error: Option<TransactionError>,
        accounts: Vec<Address>,
    },
    Slot {
        slot: u64,
        parent: u64,
    },
}

pub struct Bank {
    pub env: TestEnv,
    /// Unique per cluster instance, so state files can tell a restarted localnet from the one
    /// they were written against (`getGenesisHash`).
    pub genesis_hash: Hash,
    /// Subscribers (the websocket server) listen here; nobody listening is fine.
    pub events: tokio::sync::broadcast::Sender<BankEvent>,
    /// Funds `requestAirdrop`.
    faucet: rwa_harness::solana_keypair::Keypair,
    recent_blockhashes: VecDeque<(Hash, u64)>,
    records: HashMap<Signature, TransactionRecord>,
    order: VecDeque<Signature>,
}

/// Why a submitted transaction was not processed (before execution) or failed (during it).
#[derive(Debug)]
pub enum SubmitError {
    BlockhashNotFound,
    AlreadyProcessed,
    Failed {
        error: TransactionError,
        logs: Vec<String>,
    },
}

fn wall_clock_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or(0)
}

impl Default for Bank {
    fn default() -> Self {
        Self::new()
    }
}

impl Bank {
    pub fn new() -> Self {
        let mut env = TestEnv::new();
        // The bank validates blockhash age itself (150 slots), so the runtime must not insist on
        // the very latest one.
        env.svm = std::mem::take(&mut env.svm).with_blockhash_check(false);
        let blockhash = env.svm.latest_blockhash();
        let slot = env.slot();
        let mut recent_blockhashes = VecDeque::new();
        recent_blockhashes.push_back((blockhash, slot));
        let faucet = rwa_harness::solana_keypair::Keypair::new();
        env.svm
            .airdrop(
                &rwa_harness::solana_signer::Signer::pubkey(&faucet),
                FAUCET_LAMPORTS,
            )
            .expect("fund the faucet");
        let (events, _) = tokio::sync::broadcast::channel(4_096);
        let genesis_hash =
            Hash::new_from_array(
                rwa_harness::solana_signer::Signer::pubkey(
                    &rwa_harness::solana_keypair::Keypair::new(),
                )
                .to_bytes(),
            );
        let mut bank_clock = env.svm.get_sysvar::<rwa_harness::solana_clock::Clock>();
        bank_clock.unix_timestamp = wall_clock_seconds();
        bank_clock.epoch_start_timestamp = bank_clock.unix_timestamp;
        env.svm.set_sysvar(&bank_clock);
        Bank {
            env,
            genesis_hash,
            events,
            faucet,
            recent_blockhashes,
            records: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    pub fn slot(&self) -> u64 {
        self.env.slot()
    }

    pub fn block_height(&self) -> u64 {
        self.slot()
    }

    /// The commitment a transaction processed in `slot` has reached by now.
    pub fn commitment_of(&self, slot: u64) -> Commitment {
        let depth = self.slot().saturating_sub(slot);
        if depth >= FINALITY_DEPTH_SLOTS {
            Commitment::Finalized
        } else if depth >= 1 {
            Commitment::Confirmed
        } else {
            Commitment::Processed
        }
    }

    /// The newest slot at `commitment` (the processed slot, one behind it, or the root).
    pub fn slot_at(&self, commitment: Commitment) -> u64 {
        match commitment {
            Commitment::Processed => self.slot(),
            Commitment::Confirmed => self.slot().saturating_sub(1),
            Commitment::Finalized => self.slot().saturating_sub(FINALITY_DEPTH_SLOTS),
        }
    }

    /// Advances one slot: new blockhash; the clock's unix timestamp follows wall time (never
    /// backwards), as a validator's does.
    pub fn tick(&mut self) {
        let parent = self.slot();
        self.env.advance_slots(1);
        let mut clock = self
            .env
            .svm
            .get_sysvar::<rwa_harness::solana_clock::Clock>();
        clock.unix_timestamp = clock.unix_timestamp.max(wall_clock_seconds());
        self.env.svm.set_sysvar(&clock);
        let _ = self.events.send(BankEvent::Slot {
            slot: self.slot(),
            parent,
        });
        self.env.svm.expire_blockhash();
        let entry = (self.env.svm.latest_blockhash(), self.slot());
        self.recent_blockhashes.push_back(entry);
        while self.recent_blockhashes.len() > MAX_BLOCKHASH_AGE_SLOTS {
            self.recent_blockhashes.pop_front();
        }
    }

    pub fn latest_blockhash(&self) -> (Hash, u64) {
        let (hash, slot) = *self
            .recent_blockhashes
            .back()
            .expect("at least one blockhash");
        (hash, slot + MAX_BLOCKHASH_AGE_SLOTS as u64)
    }

    pub fn is_blockhash_valid(&self, hash: &Hash) -> bool {
        self.recent_blockhashes
            .iter()
            .any(|(recent, _)| recent == hash)
    }

    pub fn account(&self, address: &Address) -> Option<rwa_harness::solana_account::Account> {
        self.env
            .svm
            .get_account(address)
            .filter(|account| account.lamports > 0 || !account.data.is_empty())
    }

    /// Every account owned by `program` (LiteSVM keeps them in one map; a scan is fine locally).
    pub fn program_accounts(
        &self,
        program: &Address,
    ) -> Vec<(Address, rwa_harness::solana_account::Account)> {
        self.env
            .svm
            .accounts_db()
            .inner
            .iter()
            .filter(|(_, account)| {
                rwa_harness::solana_account::ReadableAccount::owner(*account) == program
            })
            .filter(|(_, account)| {
                rwa_harness::solana_account::ReadableAccount::lamports(*account) > 0
            })
            .map(|(address, account)| {
                (
                    *address,
                    rwa_harness::solana_account::Account::from(account.clone()),
                )
            })
            .collect()
    }

    pub fn record(&self, signature: &Signature) -> Option<&TransactionRecord> {
        self.records.get(signature)
    }

    /// Every recorded transaction (the last `MAX_STATUSES`), oldest first.
    pub fn records(&self) -> impl Iterator<Item = (&Signature, &TransactionRecord)> {
        self.order
            .iter()
            .filter_map(|signature| self.records.get_key_value(signature))
    }

    /// Transfers from the runtime's faucet in a recorded transaction, so clients can confirm it.
    pub fn airdrop(&mut self, to: &Address, lamports: u64) -> Result<Signature, SubmitError> {
        use rwa_harness::solana_signer::Signer;
        let faucet = &self.faucet;
        let transfer =
            rwa_harness::solana_instruction_compat::transfer(&faucet.pubkey(), to, lamports);
        let transaction = rwa_harness::solana_transaction::Transaction::new_signed_with_payer(
            &[transfer],
            Some(&faucet.pubkey()),
            &[faucet],
            self.latest_blockhash().0,
        );
        self.submit(VersionedTransaction::from(transaction))
    }

    /// Checks age and duplicates, executes, and records the outcome. A transaction that fails in
    /// execution is still recorded (and charged its fee), as on a real cluster.
    pub fn submit(&mut self, transaction: VersionedTransaction) -> Result<Signature, SubmitError> {
        let signature = *transaction.signatures.first().ok_or(SubmitError::Failed {
            error: TransactionError::SanitizeFailure,
            logs: Vec::new(),
        })?;
        if self.records.contains_key(&signature) {
            return Err(SubmitError::AlreadyProcessed);
        }
        if !self.is_blockhash_valid(transaction.message.recent_blockhash()) {
            return Err(SubmitError::BlockhashNotFound);
        }
        let slot = self.slot();
        let block_time = self
            .env
            .svm
            .get_sysvar::<rwa_harness::solana_clock::Clock>()
            .unix_timestamp;
        let outcome = self.env.svm.send_transaction(transaction.clone());
        let (meta, error): (TransactionMetadata, Option<TransactionError>) = match outcome {
            Ok(meta) => (meta, None),
            Err(failed) => {
                // Failures before execution (bad signature, unknown account...) are not recorded.
                if failed.meta.logs.is_empty()
                    && !matches!(failed.err, TransactionError::InstructionError(..))
                {
                    return Err(SubmitError::Failed {
                        error: failed.err,
                        logs: failed.meta.logs,
                    });
                }
                (failed.meta, Some(failed.err))
            }
        };
        let inner_instructions = meta
            .inner_instructions
            .iter()
            .enumerate()
            .filter(|(_, list)| !list.is_empty())
            .map(|(index, list)| {
                let instructions = list
                    .iter()
                    .map(|inner| {
                        (
                            inner.instruction.program_id_index,
                            inner.instruction.accounts.clone(),
                            inner.instruction.data.clone(),
                            inner.stack_height,
                        )
                    })
                    .collect();
                (index as u8, instructions)
            })
            .collect();
        let record = TransactionRecord {
            slot,
            block_time,
            transaction,
            error: error.clone(),
            logs: meta.logs.clone(),
            fee: meta.fee,
            inner_instructions,
            compute_units_consumed: meta.compute_units_consumed,
        };
        let accounts = record.transaction.message.static_account_keys().to_vec();
        let _ = self.events.send(BankEvent::Transaction {
            signature,
            slot,
            error: record.error.clone(),
            accounts,
        });
        self.records.insert(signature, record);
        self.order.push_back(signature);
        while self.order.len() > MAX_STATUSES {
            if let Some(old) = self.order.pop_front() {
                self.records.remove(&old);
            }
        }
        match error {
            None => Ok(signature),
            Some(error) => Err(SubmitError::Failed {
                error,
                logs: meta.logs,
            }),
        }
    }
}
