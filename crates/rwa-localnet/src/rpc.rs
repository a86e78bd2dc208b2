//! The Solana JSON-RPC methods a client, a bot or `solana-rpc-client` needs against a local
//! cluster, with the wire formats of a real validator (base64 account data, context wrappers,
//! signature statuses, preflight errors).

use base64::Engine;
use rwa_harness::solana_account::Account;
use rwa_harness::solana_address::Address;
use rwa_harness::solana_hash::Hash;
use rwa_harness::solana_transaction::versioned::VersionedTransaction;
use rwa_harness::solana_transaction_error::TransactionError;
use serde_json::{json, Value};
use solana_signature::Signature;

use crate::bank::{Bank, Commitment, SubmitError};

/// Version reported by `getVersion` (the Agave runtime the bank embeds).
pub const SOLANA_CORE_VERSION: &str = "4.2.2";

#[derive(Debug)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    fn invalid_params(message: impl Into<String>) -> Self {
        RpcError {
            code: -32602,
            message: message.into(),
            data: None,
        }
    }
}

type RpcResult = Result<Value, RpcError>;

fn param(params: &Value, index: usize) -> Option<&Value> {
    params.as_array().and_then(|list| list.get(index))
}

fn address_param(params: &Value, index: usize) -> Result<Address, RpcError> {
    let text = param(params, index)
        .and_then(Value::as_str)
        .ok_or_else(|| {
            RpcError::invalid_params(format!("param {index}: expected a base58 address"))
        })?;
    text.parse::<Address>()
        .map_err(|_| RpcError::invalid_params(format!("invalid address {text:?}")))
}

fn context(bank: &Bank, value: Value) -> Value {
    json!({ "context": { "slot": bank.slot(), "apiVersion": SOLANA_CORE_VERSION }, "value": value })
}

fn encode_account(account: &Account, data_slice: Option<(usize, usize)>) -> Value {
    let data = match data_slice {
        Some((offset, length)) => account
            .data
            .iter()
            .skip(offset)
            .take(length)
            .copied()
            .collect::<Vec<u8>>(),
        None => account.data.clone(),
    };
    json!({
        "data": [base64::engine::general_purpose::STANDARD.encode(&data), "base64"],
        "executable": account.executable,
        "lamports": account.lamports,
        "owner": account.owner.to_string(),
        "rentEpoch": account.rent_epoch,
        "space": account.data.len(),
    })
}

fn config(params: &Value, index: usize) -> Value {
    param(params, index).cloned().unwrap_or(Value::Null)
}

fn commitment(params: &Value, index: usize) -> Result<Commitment, RpcError> {
    Commitment::from_config(&config(params, index)).map_err(RpcError::invalid_params)
}

fn data_slice(config: &Value) -> Option<(usize, usize)> {
    let slice = config.get("dataSlice")?;
    Some((
        slice.get("offset")?.as_u64()? as usize,
        slice.get("length")?.as_u64()? as usize,
    ))
}

fn check_encoding(config: &Value) -> Result<(), RpcError> {
    match config.get("encoding").and_then(Value::as_str) {
        // Always answered as plain base64 (clients decode by the tag returned next to the data).
        None | Some("base64") | Some("base64+zstd") => Ok(()),
        Some(other) => Err(RpcError::invalid_params(format!(
            "encoding {other:?} is not supported by this local cluster; use base64"
        ))),
    }
}

pub(crate) fn matches_filters(account: &Account, filters: &[Value]) -> Result<bool, RpcError> {
    for filter in filters {
        if let Some(size) = filter.get("dataSize") {
            let size = size
                .as_u64()
                .ok_or_else(|| RpcError::invalid_params("dataSize must be a number"))?;
            if account.data.len() as u64 != size {
                return Ok(false);
            }
        } else if let Some(memcmp) = filter.get("memcmp") {
            let offset = memcmp
                .get("offset")
                .and_then(Value::as_u64)
                .ok_or_else(|| RpcError::invalid_params("memcmp.offset missing"))?
                as usize;
            let raw = memcmp
                .get("bytes")
                .ok_or_else(|| RpcError::invalid_params("memcmp.bytes missing"))?;
            let bytes_text = match raw {
                Value::String(text) => text.as_str(),
                // raw byte arrays, as some clients send them
                Value::Array(items) => {
                    let bytes: Option<Vec<u8>> = items
                        .iter()
                        .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                        .collect();
                    let bytes = bytes.ok_or_else(|| {
                        RpcError::invalid_params("memcmp.bytes array must hold bytes")
                    })?;
                    if account.data.len() < offset + bytes.len()
                        || account.data[offset..offset + bytes.len()] != bytes[..]
                    {
                        return Ok(false);
                    }
                    continue;
                }
                _ => {
                    return Err(RpcError::invalid_params(
                        "memcmp.bytes must be a string or a byte array",
                    ))
                }
            };
            let bytes = match memcmp.get("encoding").and_then(Value::as_str) {
                Some("base64") => base64::engine::general_purpose::STANDARD
                    .decode(bytes_text)
                    .map_err(|_| RpcError::invalid_params("memcmp.bytes is not base64"))?,
                None | Some("base58") => bs58::decode(bytes_text)
                    .into_vec()
                    .map_err(|_| RpcError::invalid_params("memcmp.bytes is not base58"))?,
                Some(other) => {
                    return Err(RpcError::invalid_params(format!(
                        "memcmp encoding {other:?} unsupported"
                    )))
                }
            };
            if account.data.len() < offset + bytes.len()
                || account.data[offset..offset + bytes.len()] != bytes[..]
            {
                return Ok(false);
            }
        } else {
            return Err(RpcError::invalid_params(format!(
                "unsupported filter {filter}"
            )));
        }
    }
    Ok(true)
}

fn decode_transaction(params: &Value) -> Result<(VersionedTransaction, Value), RpcError> {
    let encoded = param(params, 0)
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::invalid_params("param 0: expected an encoded transaction"))?;
    let config = config(params, 1);
    let bytes = match config.get("encoding").and_then(Value::as_str) {
        Some("base64") => base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| RpcError::invalid_params("transaction is not base64"))?,
        None | Some("base58") => bs58::decode(encoded)
            .into_vec()
            .map_err(|_| RpcError::invalid_params("transaction is not base58"))?,
        Some(other) => {
            return Err(RpcError::invalid_params(format!(
                "encoding {other:?} unsupported"
            )))
        }
    };
    let transaction: VersionedTransaction = bincode_deserialize(&bytes)
        .ok_or_else(|| RpcError::invalid_params("transaction bytes do not decode"))?;
    Ok((transaction, config))
}

fn bincode_deserialize(bytes: &[u8]) -> Option<VersionedTransaction> {
    bincode::deserialize(bytes).ok()
}

/// An account as the RPC encodes it (base64).
pub fn encode_account_json(account: &Account) -> Value {
    encode_account(account, None)
}

pub fn transaction_error_value(error: &TransactionError) -> Value {
    transaction_error_json(error)
}

fn transaction_error_json(error: &TransactionError) -> Value {
    serde_json::to_value(error).unwrap_or_else(|_| json!(format!("{error:?}")))
}

fn simulation_failure(error: &TransactionError, logs: &[String]) -> RpcError {
    RpcError {
        code: -32002,
        message: format!("Transaction simulation failed: {error}"),
        data: Some(
            json!({ "err": transaction_error_json(error), "logs": logs, "accounts": null, "unitsConsumed": 0, "returnData": null }),
        ),
    }
}

/// Dispatches one JSON-RPC call against the bank.
pub fn call(bank: &mut Bank, method: &str, params: &Value) -> RpcResult {
    match method {
        "getHealth" => Ok(json!("ok")),
        "getVersion" => Ok(json!({ "solana-core": SOLANA_CORE_VERSION, "feature-set": 0 })),
        "getSlot" => Ok(json!(bank.slot_at(commitment(params, 0)?))),
        // No fee market locally: every recent slot paid no priority fee.
        "getRecentPrioritizationFees" => {
            Ok(json!([{ "slot": bank.slot(), "prioritizationFee": 0 }]))
        }
        "getBlockHeight" => Ok(json!(bank.slot_at(commitment(params, 0)?))),
        "getGenesisHash" => Ok(json!(bank.genesis_hash.to_string())),
        "getEpochInfo" => Ok(
            json!({ "absoluteSlot": bank.slot(), "blockHeight": bank.block_height(), "epoch": 0, "slotIndex": bank.slot(), "slotsInEpoch": 432_000, "transactionCount": 0 }),
        ),
        "getLatestBlockhash" => {
            let (hash, last_valid) = bank.latest_blockhash();
            Ok(context(
                bank,
                json!({ "blockhash": hash.to_string(), "lastValidBlockHeight": last_valid }),
            ))
        }
        "isBlockhashValid" => {
            let text = param(params, 0)
                .and_then(Value::as_str)
                .ok_or_else(|| RpcError::invalid_params("param 0: expected a blockhash"))?;
            let hash: Hash = text
                .parse()
                .map_err(|_| RpcError::invalid_params("invalid blockhash"))?;
            Ok(context(bank, json!(bank.is_blockhash_valid(&hash))))
        }
        "getBalance" => {
            let address = address_param(params, 0)?;
            let lamports = bank.account(&address).map(|a| a.lamports).unwrap_or(0);
            Ok(context(bank, json!(lamports)))
        }
        "getMinimumBalanceForRentExemption" => {
            let size = param(params, 0)
                .and_then(Value::as_u64)
                .ok_or_else(|| RpcError::invalid_params("param 0: expected a data size"))?;
            Ok(json!(bank
                .env
                .svm
                .minimum_balance_for_rent_exemption(size as usize)))
        }
        "getAccountInfo" => {
            let address = address_param(params, 0)?;
            let config = config(params, 1);
            check_encoding(&config)?;
            let value = bank
                .account(&address)
                .map(|account| encode_account(&account, data_slice(&config)))
                .unwrap_or(Value::Null);
            Ok(context(bank, value))
        }
        "getMultipleAccounts" => {
            let list = param(params, 0)
                .and_then(Value::as_array)
                .ok_or_else(|| RpcError::invalid_params("param 0: expected a list of addresses"))?;
            if list.len() > 100 {
                return Err(RpcError::invalid_params(
                    "too many accounts requested (max 100)",
                ));
            }
            let config = config(params, 1);
            check_encoding(&config)?;
            let mut values = Vec::with_capacity(list.len());
            for entry in list {
                let text = entry
                    .as_str()
                    .ok_or_else(|| RpcError::invalid_params("addresses must be strings"))?;
                let address: Address = text
                    .parse()
                    .map_err(|_| RpcError::invalid_params(format!("invalid address {text:?}")))?;
                values.push(
                    bank.account(&address)
                        .map(|account| encode_account(&account, data_slice(&config)))
                        .unwrap_or(Value::Null),
                );
            }
            Ok(context(bank, Value::Array(values)))
        }
        "getProgramAccounts" => {
            let program = address_param(params, 0)?;
            let config = config(params, 1);
            check_encoding(&config)?;
            let filters = config
                .get("filters")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let mut values = Vec::new();
            for (address, account) in bank.program_accounts(&program) {
                if matches_filters(&account, &filters)? {
                    values.push(json!({ "pubkey": address.to_string(), "account": encode_account(&account, data_slice(&config)) }));
                }
            }
            values.sort_by(|a, b| a["pubkey"].as_str().cmp(&b["pubkey"].as_str()));
            if config
                .get("withContext")
                .and_then(Value::as_bool)
                .unwrap_or(false)
            {
                Ok(context(bank, Value::Array(values)))
            } else {
                Ok(Value::Array(values))
            }
        }
        "requestAirdrop" => {
            let address = address_param(params, 0)?;
            let lamports = param(params, 1)
                .and_then(Value::as_u64)
                .ok_or_else(|| RpcError::invalid_params("param 1: expected lamports"))?;
            match bank.airdrop(&address, lamports) {
                Ok(signature) => Ok(json!(signature.to_string())),
                Err(error) => Err(RpcError {
                    code: -32603,
                    message: format!("airdrop failed: {error:?}"),
                    data: None,
                }),
            }
        }
        "sendTransaction" => {
            let (transaction, config) = decode_transaction(params)?;
            let skip_preflight = config
                .get("skipPreflight")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let transaction_signature = transaction.signatures.first().copied().unwrap_or_default();
            if !bank.is_blockhash_valid(transaction.message.recent_blockhash()) {
                return Err(simulation_failure(
                    &TransactionError::BlockhashNotFound,
                    &[],
                ));
            }
            if !skip_preflight {
                if let Err(failed) = bank.env.svm.simulate_transaction(transaction.clone()) {
                    return Err(simulation_failure(&failed.err, &failed.meta.logs));
                }
            }
            match bank.submit(transaction) {
                Ok(signature) => Ok(json!(signature.to_string())),
                // Without preflight a real validator accepts the transaction and the failure shows
                // in its status; the bank recorded it, so answer with the signature.
                Err(SubmitError::Failed { .. }) if skip_preflight => {
                    Ok(json!(transaction_signature.to_string()))
                }
                Err(SubmitError::Failed { error, logs }) => Err(simulation_failure(&error, &logs)),
                Err(SubmitError::BlockhashNotFound) => Err(simulation_failure(
                    &TransactionError::BlockhashNotFound,
                    &[],
                )),
                Err(SubmitError::AlreadyProcessed) => {
                    Err(simulation_failure(&TransactionError::AlreadyProcessed, &[]))
                }
            }
        }
        "simulateTransaction" => {
            let (transaction, _) = decode_transaction(params)?;
            let value = match bank.env.svm.simulate_transaction(transaction) {
                Ok(info) => {
                    json!({ "err": null, "logs": info.meta.logs, "accounts": null, "unitsConsumed": info.meta.compute_units_consumed, "returnData": null })
                }
                Err(failed) => {
                    json!({ "err": transaction_error_json(&failed.err), "logs": failed.meta.logs, "accounts": null, "unitsConsumed": failed.meta.compute_units_consumed, "returnData": null })
                }
            };
            Ok(context(bank, value))
        }
        "getSignatureStatuses" => {
            let list = param(params, 0).and_then(Value::as_array).ok_or_else(|| {
                RpcError::invalid_params("param 0: expected a list of signatures")
            })?;
            let mut values = Vec::with_capacity(list.len());
            for entry in list {
                let text = entry
                    .as_str()
                    .ok_or_else(|| RpcError::invalid_params("signatures must be strings"))?;
                let signature: Signature = text
                    .parse()
                    .map_err(|_| RpcError::invalid_params(format!("invalid signature {text:?}")))?;
                values.push(match bank.record(&signature) {
                    None => Value::Null,
                    Some(record) => {
                        let err = record.error.as_ref().map(transaction_error_json).unwrap_or(Value::Null);
                        let status = match &record.error {
                            None => json!({ "Ok": null }),
                            Some(error) => json!({ "Err": transaction_error_json(error) }),
                        };
                        let reached = bank.commitment_of(record.slot);
                        let confirmations = match reached {
                            Commitment::Finalized => Value::Null,
                            _ => json!(bank.slot().saturating_sub(record.slot)),
                        };
                        json!({ "slot": record.slot, "confirmations": confirmations, "err": err, "status": status, "confirmationStatus": reached.as_str() })
                    }
                });
            }
            Ok(context(bank, Value::Array(values)))
        }
        "getTransaction" => {
            let text = param(params, 0)
                .and_then(Value::as_str)
                .ok_or_else(|| RpcError::invalid_params("param 0: expected a signature"))?;
            let signature: Signature = text
                .parse()
                .map_err(|_| RpcError::invalid_params(format!("invalid signature {text:?}")))?;
            // As a validator: confirmed or finalized (the default), and only once reached.
            let wanted = commitment(params, 1)?;
            if wanted == Commitment::Processed {
                return Err(RpcError::invalid_params(
                    "Method does not support commitment below `confirmed`",
                ));
            }
            let Some(record) = bank.record(&signature) else {
                return Ok(Value::Null);
            };
            if bank.commitment_of(record.slot) < wanted {
                return Ok(Value::Null);
            }
            let inner: Vec<Value> = record
                .inner_instructions
                .iter()
                .map(|(index, instructions)| {
                    json!({
                        "index": index,
                        "instructions": instructions.iter().map(|(program, accounts, data, height)| json!({
                            "programIdIndex": program,
                            "accounts": accounts,
                            "data": bs58::encode(data).into_string(),
                            "stackHeight": height,
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let bytes = bincode::serialize(&record.transaction).unwrap_or_default();
            Ok(json!({
                "slot": record.slot,
                "blockTime": record.block_time,
                "version": "legacy",
                "transaction": [base64::engine::general_purpose::STANDARD.encode(bytes), "base64"],
                "meta": {
                    "err": record.error.as_ref().map(transaction_error_json).unwrap_or(Value::Null),
                    "status": match &record.error { None => json!({ "Ok": null }), Some(e) => json!({ "Err": transaction_error_json(e) }) },
                    "fee": record.fee,
                    "preBalances": [],
                    "postBalances": [],
                    "innerInstructions": inner,
                    "logMessages": record.logs,
                    "preTokenBalances": [],
                    "postTokenBalances": [],
                    "rewards": [],
                    "loadedAddresses": { "writable": [], "readonly": [] },
                    "computeUnitsConsumed": record.compute_units_consumed,
                },
            }))
        }
        other => Err(RpcError {
            code: -32601,
            message: format!("Method not found: {other}"),
            data: None,
        }),
    }
}
