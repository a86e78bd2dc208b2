//! The embedded localnet through the standard Solana client (`solana-rpc-client`), exactly as a
//! user's program would talk to solana-test-validator.

use std::time::Duration;

use anchor_spl::token::spl_token;
use rwa_harness::solana_keypair::Keypair;
use rwa_harness::solana_signer::Signer;
use rwa_harness::solana_transaction::Transaction;
use rwa_localnet::{Localnet, LocalnetConfig};
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;

async fn start(slot_duration: Option<Duration>) -> (Localnet, RpcClient) {
    let config = LocalnetConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        slot_duration,
    };
    let localnet = Localnet::start(config).await.unwrap();
    let rpc = RpcClient::new_with_commitment(localnet.url(), CommitmentConfig::confirmed());
    (localnet, rpc)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn airdrop_send_and_confirm_and_read_back() {
    let (localnet, rpc) = start(Some(Duration::from_millis(20))).await;
    assert!(rpc.get_version().await.is_ok());
    let payer = Keypair::new();
    let signature = rpc
        .request_airdrop(&payer.pubkey(), 5_000_000_000)
        .await
        .unwrap();
    // Processed in the current slot, confirmed one slot later, finalized 32 slots later.
    let status = rpc
        .get_signature_statuses(&[signature])
        .await
        .unwrap()
        .value[0]
        .clone()
        .expect("airdrop recorded");
    assert!(status.confirmations.is_some(), "not finalized at once");
    rpc.poll_for_signature_with_commitment(&signature, CommitmentConfig::confirmed())
        .await
        .unwrap();
    assert!(
        rpc.confirm_transaction(&signature).await.unwrap(),
        "airdrop confirmed"
    );
    assert_eq!(
        rpc.get_balance(&payer.pubkey()).await.unwrap(),
        5_000_000_000
    );

    // create an SPL mint through the real token program, with send_and_confirm
    let mint = Keypair::new();
    let rent = rpc
        .get_minimum_balance_for_rent_exemption(82)
        .await
        .unwrap();
    let instructions = [
        rwa_harness::solana_instruction_compat::create_account(
            &payer.pubkey(),
            &mint.pubkey(),
            rent,
            82,
            &spl_token::ID,
        ),
        spl_token::instruction::initialize_mint2(
            &spl_token::ID,
            &mint.pubkey(),
            &payer.pubkey(),
            None,
            6,
        )
        .unwrap(),
    ];
    let blockhash = rpc.get_latest_blockhash().await.unwrap();
    let transaction = Transaction::new_signed_with_payer(
        &instructions,
        Some(&payer.pubkey()),
        &[&payer, &mint],
        blockhash,
    );
    let signature = rpc
        .send_and_confirm_transaction(&transaction)
        .await
        .unwrap();
    let account = rpc.get_account(&mint.pubkey()).await.unwrap();
    assert_eq!(account.owner, spl_token::ID);
    assert_eq!(account.data.len(), 82);
    let statuses = rpc.get_signature_statuses(&[signature]).await.unwrap();
    assert!(statuses.value[0].as_ref().unwrap().err.is_none());

    // the slot advances on its own; a failing transaction is refused at preflight with its logs
    let first = rpc.get_slot().await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(rpc.get_slot().await.unwrap() > first);
    let again = Transaction::new_signed_with_payer(
        &instructions,
        Some(&payer.pubkey()),
        &[&payer, &mint],
        rpc.get_latest_blockhash().await.unwrap(),
    );
    let error = rpc.send_and_confirm_transaction(&again).await.unwrap_err();
    assert!(error.to_string().contains("simulation failed"), "{error}");
    localnet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_blockhash_and_unknown_method_are_refused() {
    let (localnet, rpc) = start(None).await;
    let payer = Keypair::new();
    rpc.request_airdrop(&payer.pubkey(), 1_000_000_000)
        .await
        .unwrap();
    let stale = rpc.get_latest_blockhash().await.unwrap();
    {
        let mut bank = localnet.bank.lock().unwrap();
        for _ in 0..(rwa_localnet::bank::MAX_BLOCKHASH_AGE_SLOTS + 1) {
            bank.tick();
        }
    }
    let transfer = rwa_harness::solana_instruction_compat::transfer(
        &payer.pubkey(),
        &Keypair::new().pubkey(),
        100_000_000,
    );
    let transaction =
        Transaction::new_signed_with_payer(&[transfer], Some(&payer.pubkey()), &[&payer], stale);
    let error = rpc.send_transaction(&transaction).await.unwrap_err();
    assert!(
        error.to_string().contains("Blockhash not found")
            || error.to_string().contains("BlockhashNotFound"),
        "{error}"
    );
    let raw = reqwest_like_post(
        &localnet.url(),
        r#"{"jsonrpc":"2.0","id":7,"method":"getFancyThing","params":[]}"#,
    )
    .await;
    assert!(raw.contains("-32601") && raw.contains("\"id\":7"), "{raw}");
    localnet.shutdown().await;
}

/// A raw HTTP POST over a TcpStream, so the test sees the exact JSON-RPC envelope.
async fn reqwest_like_post(url: &str, body: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_subscriptions_notify_accounts_signatures_and_slots() {
    use futures_util::StreamExt;
    use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
    let (localnet, rpc) = start(Some(Duration::from_millis(20))).await;
    let pubsub = PubsubClient::new(&localnet.ws_url()).await.unwrap();
    let watched = Keypair::new();
    let (mut account_updates, account_unsubscribe) = pubsub
        .account_subscribe(&watched.pubkey(), None)
        .await
        .unwrap();
    let (mut slots, slot_unsubscribe) = pubsub.slot_subscribe().await.unwrap();
    let signature = rpc
        .request_airdrop(&watched.pubkey(), 3_000_000_000)
        .await
        .unwrap();
    let update = tokio::time::timeout(Duration::from_secs(5), account_updates.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(update.value.lamports, 3_000_000_000);
    let slot = tokio::time::timeout(Duration::from_secs(5), slots.next())
        .await
        .unwrap()
        .unwrap();
    assert!(slot.slot > slot.parent);
    // a signature already processed is answered at once
    let (mut statuses, signature_unsubscribe) =
        pubsub.signature_subscribe(&signature, None).await.unwrap();
    let status = tokio::time::timeout(Duration::from_secs(5), statuses.next())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(status.value, solana_rpc_client_api::response::RpcSignatureResult::ProcessedSignature(ref r) if r.err.is_none()),
        "{:?}",
        status.value
    );
    drop(statuses);
    signature_unsubscribe().await;
    account_unsubscribe().await;
    slot_unsubscribe().await;
    drop((account_updates, slots));
    pubsub.shutdown().await.unwrap();
    localnet.shutdown().await;
}

async fn signature_status(
    rpc: &RpcClient,
    signature: solana_signature::Signature,
) -> solana_transaction_status_client_types::TransactionStatus {
    rpc.get_signature_statuses(&[signature])
        .await
        .unwrap()
        .value[0]
        .clone()
        .unwrap()
}

/// Commitment levels behave as a validator's: a transaction is processed in its slot, confirmed
/// a slot later and finalized 32 slots later; slots at lower commitments lead; getTransaction
/// refuses `processed` and answers only once the requested level is reached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commitment_levels_are_ordered_like_a_validators() {
    use solana_rpc_client_api::config::RpcTransactionConfig;
    use solana_transaction_status_client_types::{
        TransactionConfirmationStatus, UiTransactionEncoding,
    };
    let (localnet, rpc) = start(None).await;
    let payer = Keypair::new();
    let signature = rpc
        .request_airdrop(&payer.pubkey(), 1_000_000_000)
        .await
        .unwrap();
    let at = |commitment: CommitmentConfig| RpcTransactionConfig {
        encoding: Some(UiTransactionEncoding::Base64),
        commitment: Some(commitment),
        max_supported_transaction_version: Some(0),
    };
    let processed = signature_status(&rpc, signature).await;
    assert_eq!(
        processed.confirmation_status,
        Some(TransactionConfirmationStatus::Processed)
    );
    assert_eq!(processed.confirmations, Some(0));
    assert!(rpc
        .get_transaction_with_config(&signature, at(CommitmentConfig::processed()))
        .await
        .is_err());
    assert!(
        rpc.get_transaction_with_config(&signature, at(CommitmentConfig::confirmed()))
            .await
            .is_err(),
        "not confirmed yet: the RPC answers null"
    );
    let tick = |n: usize| {
        let mut bank = localnet.bank.lock().unwrap();
        for _ in 0..n {
            bank.tick();
        }
    };
    tick(1);
    let confirmed = signature_status(&rpc, signature).await;
    assert_eq!(
        confirmed.confirmation_status,
        Some(TransactionConfirmationStatus::Confirmed)
    );
    assert_eq!(confirmed.confirmations, Some(1));
    let meta = rpc
        .get_transaction_with_config(&signature, at(CommitmentConfig::confirmed()))
        .await
        .unwrap();
    assert_eq!(meta.slot, processed.slot);
    assert!(
        rpc.get_transaction_with_config(&signature, at(CommitmentConfig::finalized()))
            .await
            .is_err(),
        "not finalized yet"
    );
    tick(31);
    let finalized = signature_status(&rpc, signature).await;
    assert_eq!(
        finalized.confirmation_status,
        Some(TransactionConfirmationStatus::Finalized)
    );
    assert_eq!(finalized.confirmations, None);
    rpc.get_transaction_with_config(&signature, at(CommitmentConfig::finalized()))
        .await
        .unwrap();
    let processed_slot = rpc
        .get_slot_with_commitment(CommitmentConfig::processed())
        .await
        .unwrap();
    let confirmed_slot = rpc
        .get_slot_with_commitment(CommitmentConfig::confirmed())
        .await
        .unwrap();
    let finalized_slot = rpc
        .get_slot_with_commitment(CommitmentConfig::finalized())
        .await
        .unwrap();
    assert_eq!(confirmed_slot + 1, processed_slot);
    assert_eq!(finalized_slot + 32, processed_slot);
    assert_eq!(
        finalized_slot, processed.slot,
        "the airdrop's slot is the root now"
    );
    localnet.shutdown().await;
}

/// Each localnet is its own cluster (a state file can tell them apart), and its clock follows
/// wall time instead of starting in 1970.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn genesis_hash_is_unique_and_the_clock_is_wall_time() {
    let (first, first_rpc) = start(None).await;
    let (second, second_rpc) = start(None).await;
    let a = first_rpc.get_genesis_hash().await.unwrap();
    let b = second_rpc.get_genesis_hash().await.unwrap();
    assert_ne!(a, b);
    assert_eq!(
        a,
        first_rpc.get_genesis_hash().await.unwrap(),
        "stable per cluster"
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let clock_now = || {
        first
            .bank
            .lock()
            .unwrap()
            .env
            .svm
            .get_sysvar::<rwa_harness::solana_clock::Clock>()
            .unix_timestamp
    };
    let before = clock_now();
    assert!((before - now).abs() <= 5, "clock {before} vs wall {now}");
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    first.bank.lock().unwrap().tick();
    assert!(clock_now() > before, "the clock moved with wall time");
    first.shutdown().await;
    second.shutdown().await;
}

/// signatureSubscribe honours its commitment (finalized by default, 32 slots later) and
/// programSubscribe its filters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_honour_commitment_and_program_filters() {
    use futures_util::StreamExt;
    use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
    use solana_rpc_client_api::config::{RpcProgramAccountsConfig, RpcSignatureSubscribeConfig};
    use solana_rpc_client_api::filter::RpcFilterType;
    let (localnet, rpc) = start(Some(Duration::from_millis(10))).await;
    let pubsub = PubsubClient::new(&localnet.ws_url()).await.unwrap();
    let system = rwa_harness::solana_address::Address::default();
    let program_config = |size: u64| RpcProgramAccountsConfig {
        filters: Some(vec![RpcFilterType::DataSize(size)]),
        ..Default::default()
    };
    // System accounts holding lamports have no data: a dataSize(0) filter matches them, 165 not.
    let (mut matching, unsubscribe_matching) = pubsub
        .program_subscribe(&system, Some(program_config(0)))
        .await
        .unwrap();
    let (mut other, unsubscribe_other) = pubsub
        .program_subscribe(&system, Some(program_config(165)))
        .await
        .unwrap();
    let funded = Keypair::new();
    let signature = rpc
        .request_airdrop(&funded.pubkey(), 2_000_000_000)
        .await
        .unwrap();
    let processed_slot = localnet
        .bank
        .lock()
        .unwrap()
        .record(&signature)
        .unwrap()
        .slot;
    let (mut finalized, unsubscribe_finalized) = pubsub
        .signature_subscribe(&signature, Some(RpcSignatureSubscribeConfig::default()))
        .await
        .unwrap();
    let hit = tokio::time::timeout(Duration::from_secs(5), matching.next())
        .await
        .unwrap()
        .unwrap();
    assert!(hit.value.account.lamports >= 2_000_000_000);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), other.next())
            .await
            .is_err(),
        "a dataSize(165) filter must not match a system account"
    );
    tokio::time::timeout(Duration::from_secs(10), finalized.next())
        .await
        .unwrap()
        .unwrap();
    let slot_at_notification = localnet.bank.lock().unwrap().slot();
    assert!(
        slot_at_notification >= processed_slot + 32,
        "finalized notification at slot {slot_at_notification}, processed at {processed_slot}"
    );
    drop((matching, other, finalized));
    unsubscribe_matching().await;
    unsubscribe_other().await;
    unsubscribe_finalized().await;
    pubsub.shutdown().await.unwrap();
    localnet.shutdown().await;
}
