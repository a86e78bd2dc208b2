//! Solana's websocket subscriptions (`accountSubscribe`, `signatureSubscribe`, `slotSubscribe`,
//! `programSubscribe` and their unsubscribes), fed by the bank's events. Served on the RPC port
//! + 1, as validators do, so clients that derive the websocket URL find it.

use std::collections::HashMap;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use rwa_harness::solana_address::Address;
use serde_json::{json, Value};
use solana_signature::Signature;
use tokio::sync::broadcast::error::RecvError;

use crate::bank::{BankEvent, Commitment};
use crate::rpc::{encode_account_json, matches_filters, transaction_error_value};
use crate::SharedBank;

enum Subscription {
    Account(Address),
    /// The program and its `filters` (memcmp / dataSize), applied like `getProgramAccounts`.
    Program(Address, Vec<Value>),
    /// Notified once, when the transaction reaches the commitment (default finalized).
    Signature(Signature, Commitment),
    Slot,
}

/// The websocket server's state: the cluster and the localnet's stop signal (open subscriptions
/// are closed when it stops, as a validator's are when it restarts).
#[derive(Clone)]
pub struct WsState {
    pub bank: SharedBank,
    pub stop: tokio::sync::watch::Receiver<bool>,
}

pub async fn upgrade(State(state): State<WsState>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| serve(socket, state.bank, state.stop))
}

fn notification(method: &str, subscription: u64, result: Value) -> Message {
    Message::Text(json!({ "jsonrpc": "2.0", "method": method, "params": { "result": result, "subscription": subscription } }).to_string().into())
}

async fn serve(
    mut socket: WebSocket,
    bank: SharedBank,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut events = match bank.lock() {
        Ok(bank) => bank.events.subscribe(),
        Err(_) => return,
    };
    let mut subscriptions: HashMap<u64, Subscription> = HashMap::new();
    let mut next_id: u64 = 1;
    loop {
        tokio::select! {
            _ = async { let _ = stop.wait_for(|stopped| *stopped).await; } => {
                let _ = socket.send(Message::Close(None)).await;
                break;
            }
            incoming = socket.recv() => {
                let Some(Ok(message)) = incoming else { break };
                let Message::Text(text) = message else { continue };
                let reply = handle_request(&text, &bank, &mut subscriptions, &mut next_id);
                for message in reply {
                    if socket.send(message).await.is_err() {
                        return;
                    }
                }
            }
            event = events.recv() => {
                let event = match event {
                    Ok(event) => event,
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => break,
                };
                for message in notifications(&event, &bank, &mut subscriptions) {
                    if socket.send(message).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

fn handle_request(
    text: &str,
    bank: &SharedBank,
    subscriptions: &mut HashMap<u64, Subscription>,
    next_id: &mut u64,
) -> Vec<Message> {
    let request: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(_) => return vec![Message::Text(json!({ "jsonrpc": "2.0", "error": { "code": -32700, "message": "Parse error" }, "id": null }).to_string().into())],
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let method = request
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let params = request
        .get("params")
        .cloned()
        .unwrap_or(Value::Array(Vec::new()));
    let first = params
        .get(0)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let error = |code: i64, message: String| {
        vec![Message::Text(
            json!({ "jsonrpc": "2.0", "error": { "code": code, "message": message }, "id": id })
                .to_string()
                .into(),
        )]
    };
    let subscribe = |subscriptions: &mut HashMap<u64, Subscription>,
                     next_id: &mut u64,
                     subscription: Subscription| {
        let sub_id = *next_id;
        *next_id += 1;
        subscriptions.insert(sub_id, subscription);
        sub_id
    };
    let ok = |result: Value| {
        Message::Text(
            json!({ "jsonrpc": "2.0", "result": result, "id": id })
                .to_string()
                .into(),
        )
    };
    match method {
        "accountSubscribe" | "programSubscribe" => {
            let Ok(address) = first.parse::<Address>() else {
                return error(-32602, format!("invalid address {first:?}"));
            };
            let subscription = if method == "accountSubscribe" {
                Subscription::Account(address)
            } else {
                let filters = match params.get(1).and_then(|config| config.get("filters")) {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(filters)) => filters.clone(),
                    Some(_) => return error(-32602, "filters must be a list".into()),
                };
                // Refuse a malformed filter now rather than at the first notification.
                let probe = rwa_harness::solana_account::Account::default();
                if let Err(refused) = matches_filters(&probe, &filters) {
                    return error(refused.code, refused.message);
                }
                Subscription::Program(address, filters)
            };
            vec![ok(json!(subscribe(subscriptions, next_id, subscription)))]
        }
        "signatureSubscribe" => {
            let Ok(signature) = first.parse::<Signature>() else {
                return error(-32602, format!("invalid signature {first:?}"));
            };
            let wanted = match Commitment::from_config(params.get(1).unwrap_or(&Value::Null)) {
                Ok(commitment) => commitment,
                Err(message) => return error(-32602, message),
            };
            let sub_id = subscribe(
                subscriptions,
                next_id,
                Subscription::Signature(signature, wanted),
            );
            let mut replies = vec![ok(json!(sub_id))];
            // Already at the wanted commitment: answer now, as a validator does.
            let known = bank.lock().ok().and_then(|bank| {
                bank.record(&signature)
                    .filter(|record| bank.commitment_of(record.slot) >= wanted)
                    .map(|record| (record.slot, record.error.clone()))
            });
            if let Some((slot, error)) = known {
                subscriptions.remove(&sub_id);
                replies.push(notification(
                    "signatureNotification",
                    sub_id,
                    signature_result(slot, &error),
                ));
            }
            replies
        }
        "slotSubscribe" => vec![ok(json!(subscribe(
            subscriptions,
            next_id,
            Subscription::Slot
        )))],
        "accountUnsubscribe"
        | "programUnsubscribe"
        | "signatureUnsubscribe"
        | "slotUnsubscribe" => {
            let sub_id = params.get(0).and_then(Value::as_u64).unwrap_or(0);
            vec![ok(json!(subscriptions.remove(&sub_id).is_some()))]
        }
        other => error(-32601, format!("Method not found: {other}")),
    }
}

fn signature_result(
    slot: u64,
    error: &Option<rwa_harness::solana_transaction_error::TransactionError>,
) -> Value {
    json!({ "context": { "slot": slot }, "value": { "err": error.as_ref().map(transaction_error_value).unwrap_or(Value::Null) } })
}

fn notifications(
    event: &BankEvent,
    bank: &SharedBank,
    subscriptions: &mut HashMap<u64, Subscription>,
) -> Vec<Message> {
    let mut messages = Vec::new();
    let mut finished = Vec::new();
    match event {
        BankEvent::Slot { slot, parent } => {
            let bank = bank.lock().ok();
            for (sub_id, subscription) in subscriptions.iter() {
                match subscription {
                    Subscription::Slot => {
                        let root = bank
                            .as_ref()
                            .map(|bank| bank.slot_at(Commitment::Finalized))
                            .unwrap_or(*parent);
                        messages.push(notification(
                            "slotNotification",
                            *sub_id,
                            json!({ "parent": parent, "root": root, "slot": slot }),
                        ));
                    }
                    // A new slot may carry a pending signature to its commitment.
                    Subscription::Signature(signature, wanted) => {
                        let Some(bank) = bank.as_ref() else { continue };
                        if let Some(record) = bank
                            .record(signature)
                            .filter(|record| bank.commitment_of(record.slot) >= *wanted)
                        {
                            messages.push(notification(
                                "signatureNotification",
                                *sub_id,
                                signature_result(record.slot, &record.error),
                            ));
                            finished.push(*sub_id);
                        }
                    }
                    _ => {}
                }
            }
        }
        BankEvent::Transaction {
            signature,
            slot,
            error,
            accounts,
        } => {
            let Ok(bank) = bank.lock() else {
                return messages;
            };
            for (sub_id, subscription) in subscriptions.iter() {
                match subscription {
                    Subscription::Signature(wanted, Commitment::Processed)
                        if wanted == signature =>
                    {
                        messages.push(notification(
                            "signatureNotification",
                            *sub_id,
                            signature_result(*slot, error),
                        ));
                        finished.push(*sub_id);
                    }
                    Subscription::Account(address) if accounts.contains(address) => {
                        let value = bank
                            .account(address)
                            .map(|account| encode_account_json(&account))
                            .unwrap_or(Value::Null);
                        messages.push(notification(
                            "accountNotification",
                            *sub_id,
                            json!({ "context": { "slot": slot }, "value": value }),
                        ));
                    }
                    Subscription::Program(program, filters) => {
                        for address in accounts {
                            if let Some(account) = bank.account(address).filter(|account| {
                                account.owner == *program
                                    && matches_filters(account, filters).unwrap_or(false)
                            }) {
                                let value = json!({ "pubkey": address.to_string(), "account": encode_account_json(&account) });
                                messages.push(notification(
                                    "programNotification",
                                    *sub_id,
                                    json!({ "context": { "slot": slot }, "value": value }),
                                ));
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    for sub_id in finished {
        subscriptions.remove(&sub_id);
    }
    messages
}
