//! The embedded localnet (surfpool with the project's programs) through the standard Rust clients
//! (`solana-rpc-client`, `solana-pubsub-client`), exactly as a user's program talks to a
//! validator. The TypeScript clients (web3.js, Anchor, spl-token) run against it in
//! clients/ts/tests/conformance.test.ts.

use std::time::Duration;

use anchor_spl::token::spl_token;
use rwa_harness::solana_keypair::Keypair;
use rwa_harness::solana_signer::Signer;
use rwa_harness::solana_transaction::Transaction;
use rwa_localnet::{Localnet, LocalnetConfig};
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::config::RpcTransactionConfig;
use solana_transaction_status_client_types::{
    TransactionConfirmationStatus, UiTransactionEncoding,
};

async fn start(slot_duration: Option<Duration>) -> (Localnet, RpcClient) {
    let config = LocalnetConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        slot_duration,
    };
    let localnet = Localnet::start(config).await.unwrap();
    let rpc = RpcClient::new_with_commitment(localnet.url(), CommitmentConfig::confirmed());
    (localnet, rpc)
}

/// Polls `check` every 10 ms for up to `seconds`; panics naming `what` when it never holds.
async fn eventually<F: std::future::Future<Output = bool>>(
    seconds: u64,
    what: &str,
    mut check: impl FnMut() -> F,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn at(commitment: CommitmentConfig) -> RpcTransactionConfig {
    RpcTransactionConfig {
        encoding: Some(UiTransactionEncoding::Base64),
        commitment: Some(commitment),
        max_supported_transaction_version: Some(0),
    }
}

fn create_mint_instructions(
    payer: &Keypair,
    mint: &Keypair,
    rent: u64,
) -> Vec<rwa_harness::SolInstruction> {
    vec![
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
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn airdrop_send_confirm_and_read_back_with_history_and_indexes() {
    use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
    use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
    let (localnet, rpc) = start(Some(Duration::from_millis(20))).await;
    assert!(rpc.get_version().await.is_ok());
    let payer = Keypair::new();
    let airdrop = rpc
        .request_airdrop(&payer.pubkey(), 5_000_000_000)
        .await
        .unwrap();
    rpc.poll_for_signature_with_commitment(&airdrop, CommitmentConfig::confirmed())
        .await
        .unwrap();
    assert!(rpc.confirm_transaction(&airdrop).await.unwrap());
    assert_eq!(
        rpc.get_balance(&payer.pubkey()).await.unwrap(),
        5_000_000_000
    );

    // an SPL mint and a token account through the real token program, send_and_confirm
    let mint = Keypair::new();
    let rent = rpc
        .get_minimum_balance_for_rent_exemption(82)
        .await
        .unwrap();
    let instructions = create_mint_instructions(&payer, &mint, rent);
    let transaction = Transaction::new_signed_with_payer(
        &instructions,
        Some(&payer.pubkey()),
        &[&payer, &mint],
        rpc.get_latest_blockhash().await.unwrap(),
    );
    let signature = rpc
        .send_and_confirm_transaction(&transaction)
        .await
        .unwrap();
    let account = rpc.get_account(&mint.pubkey()).await.unwrap();
    assert_eq!(account.owner, spl_token::ID);
    assert_eq!(account.data.len(), 82);

    // getTransaction with meta: fee, balances, version, block time near the wall clock
    let fetched = rpc
        .get_transaction_with_config(&signature, at(CommitmentConfig::confirmed()))
        .await
        .unwrap();
    let meta = fetched.transaction.meta.as_ref().unwrap();
    assert!(meta.err.is_none());
    assert_eq!(meta.fee, 10_000, "two signatures at 5,000 lamports");
    assert_eq!(
        meta.pre_balances[0] - meta.post_balances[0],
        10_000 + rent,
        "the payer paid the fee and the mint's rent"
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let block_time = fetched.block_time.expect("blockTime");
    assert!(
        (block_time - now).abs() <= 10,
        "blockTime {block_time} vs {now}"
    );

    // getSignaturesForAddress: newest first, both of the payer's transactions
    let history = rpc
        .get_signatures_for_address(&payer.pubkey())
        .await
        .unwrap();
    let signatures: Vec<String> = history.iter().map(|s| s.signature.clone()).collect();
    assert!(
        signatures.contains(&signature.to_string()) && signatures.contains(&airdrop.to_string()),
        "{signatures:?}"
    );

    // a token account, then the token indexes and a memcmp filter on the mint
    let holder = Keypair::new();
    let token_account = Keypair::new();
    let token_rent = rpc
        .get_minimum_balance_for_rent_exemption(165)
        .await
        .unwrap();
    let create_token = [
        rwa_harness::solana_instruction_compat::create_account(
            &payer.pubkey(),
            &token_account.pubkey(),
            token_rent,
            165,
            &spl_token::ID,
        ),
        spl_token::instruction::initialize_account3(
            &spl_token::ID,
            &token_account.pubkey(),
            &mint.pubkey(),
            &holder.pubkey(),
        )
        .unwrap(),
        spl_token::instruction::mint_to(
            &spl_token::ID,
            &mint.pubkey(),
            &token_account.pubkey(),
            &payer.pubkey(),
            &[],
            1_234_567,
        )
        .unwrap(),
    ];
    rpc.send_and_confirm_transaction(&Transaction::new_signed_with_payer(
        &create_token,
        Some(&payer.pubkey()),
        &[&payer, &token_account],
        rpc.get_latest_blockhash().await.unwrap(),
    ))
    .await
    .unwrap();
    let balance = rpc
        .get_token_account_balance(&token_account.pubkey())
        .await
        .unwrap();
    assert_eq!(balance.amount, "1234567");
    assert_eq!(balance.decimals, 6);
    let owned = rpc
        .get_token_accounts_by_owner(
            &holder.pubkey(),
            solana_rpc_client_api::request::TokenAccountsFilter::Mint(mint.pubkey()),
        )
        .await
        .unwrap();
    assert_eq!(owned.len(), 1);
    assert_eq!(owned[0].pubkey, token_account.pubkey().to_string());
    let by_mint = rpc
        .get_program_ui_accounts_with_config(
            &spl_token::ID,
            RpcProgramAccountsConfig {
                filters: Some(vec![
                    RpcFilterType::DataSize(165),
                    RpcFilterType::Memcmp(Memcmp::new_base58_encoded(0, &mint.pubkey().to_bytes())),
                ]),
                account_config: RpcAccountInfoConfig {
                    encoding: Some(solana_rpc_client_api::response::UiAccountEncoding::Base64),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        by_mint.len(),
        1,
        "exactly the one token account of this mint"
    );
    assert_eq!(by_mint[0].0, token_account.pubkey());

    // a failing transaction (the mint exists) is refused at preflight with its logs
    let again = Transaction::new_signed_with_payer(
        &instructions,
        Some(&payer.pubkey()),
        &[&payer, &mint],
        rpc.get_latest_blockhash().await.unwrap(),
    );
    let error = rpc.send_and_confirm_transaction(&again).await.unwrap_err();
    assert!(
        error
            .to_string()
            .to_lowercase()
            .contains("simulation failed"),
        "{error}"
    );

    // the slot advances on its own
    let first = rpc.get_slot().await.unwrap();
    eventually(5, "the slot advances", || async {
        rpc.get_slot().await.unwrap() > first
    })
    .await;
    localnet.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_blockhash_and_unknown_method_are_refused() {
    let (localnet, rpc) = start(None).await;
    let payer = Keypair::new();
    localnet.airdrop(&payer.pubkey(), 1_000_000_000).unwrap();
    let stale = rpc.get_latest_blockhash().await.unwrap();
    for _ in 0..160 {
        localnet.advance_slot();
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
    let raw = raw_post(
        &localnet.url(),
        r#"{"jsonrpc":"2.0","id":7,"method":"getFancyThing","params":[]}"#,
    )
    .await;
    assert!(raw.contains("-32601") && raw.contains("\"id\":7"), "{raw}");
    localnet.shutdown().await;
}

/// A raw HTTP POST over a TcpStream, so the test sees the exact JSON-RPC envelope.
async fn raw_post(url: &str, body: &str) -> String {
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
async fn websocket_subscriptions_notify_accounts_signatures_slots_and_logs() {
    use futures_util::StreamExt;
    use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
    use solana_rpc_client_api::config::{RpcTransactionLogsConfig, RpcTransactionLogsFilter};
    let (localnet, rpc) = start(Some(Duration::from_millis(20))).await;
    let pubsub = PubsubClient::new(&localnet.ws_url()).await.unwrap();
    let watched = Keypair::new();
    let (mut account_updates, account_unsubscribe) = pubsub
        .account_subscribe(&watched.pubkey(), None)
        .await
        .unwrap();
    let (mut slots, slot_unsubscribe) = pubsub.slot_subscribe().await.unwrap();
    let (mut logs, logs_unsubscribe) = pubsub
        .logs_subscribe(
            RpcTransactionLogsFilter::Mentions(vec![watched.pubkey().to_string()]),
            RpcTransactionLogsConfig {
                commitment: Some(CommitmentConfig::confirmed()),
            },
        )
        .await
        .unwrap();
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
    let logged = tokio::time::timeout(Duration::from_secs(5), logs.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(logged.value.signature, signature.to_string());
    assert!(logged.value.err.is_none());
    // a signature subscription (made before sending, as clients do) hears the confirmation
    rpc.poll_for_signature_with_commitment(&signature, CommitmentConfig::confirmed())
        .await
        .unwrap();
    let transfer = Transaction::new_signed_with_payer(
        &[rwa_harness::solana_instruction_compat::transfer(
            &watched.pubkey(),
            &Keypair::new().pubkey(),
            1_000_000_000,
        )],
        Some(&watched.pubkey()),
        &[&watched],
        rpc.get_latest_blockhash().await.unwrap(),
    );
    let (mut statuses, signature_unsubscribe) = pubsub
        .signature_subscribe(
            &transfer.signatures[0],
            Some(solana_rpc_client_api::config::RpcSignatureSubscribeConfig {
                commitment: Some(CommitmentConfig::confirmed()),
                enable_received_notification: None,
            }),
        )
        .await
        .unwrap();
    rpc.send_transaction(&transfer).await.unwrap();
    let status = tokio::time::timeout(Duration::from_secs(10), statuses.next())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(status.value, solana_rpc_client_api::response::RpcSignatureResult::ProcessedSignature(ref r) if r.err.is_none()),
        "{:?}",
        status.value
    );
    drop((statuses, account_updates, slots, logs));
    signature_unsubscribe().await;
    account_unsubscribe().await;
    slot_unsubscribe().await;
    logs_unsubscribe().await;
    pubsub.shutdown().await.unwrap();
    localnet.shutdown().await;
}

async fn signature_status(
    rpc: &RpcClient,
    signature: solana_signature::Signature,
) -> Option<solana_transaction_status_client_types::TransactionStatus> {
    rpc.get_signature_statuses(&[signature])
        .await
        .unwrap()
        .value[0]
        .clone()
}

/// Commitment levels behave as a validator's: processed < confirmed < finalized, for a
/// transaction's status, for getTransaction (null until the level is reached) and for slots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commitment_levels_are_ordered_like_a_validators() {
    let (localnet, rpc) = start(None).await;
    let payer = Keypair::new();
    let signature = rpc
        .request_airdrop(&payer.pubkey(), 1_000_000_000)
        .await
        .unwrap();
    // Manual block production: the airdrop waits in the current block until the next one.
    let mut seen = Vec::new();
    for _ in 0..64 {
        if let Some(status) = signature_status(&rpc, signature).await {
            if seen.last() != Some(&status.confirmation_status) {
                seen.push(status.confirmation_status.clone());
            }
            let confirmed = rpc
                .get_transaction_with_config(&signature, at(CommitmentConfig::confirmed()))
                .await
                .is_ok();
            // (surfpool answers getTransaction at `finalized` once the transaction is confirmed,
            // a validator only once it is rooted: the statuses below are the exact signal.)
            match status.confirmation_status {
                Some(TransactionConfirmationStatus::Processed) => {
                    assert_eq!(status.confirmations, Some(0))
                }
                Some(TransactionConfirmationStatus::Confirmed) => {
                    assert!(confirmed, "getTransaction at confirmed, status {status:?}");
                    assert!(status.confirmations.is_some_and(|n| n >= 1));
                }
                Some(TransactionConfirmationStatus::Finalized) => {
                    assert!(confirmed);
                    assert_eq!(status.confirmations, None);
                    break;
                }
                None => panic!("no confirmation status"),
            }
        }
        localnet.advance_slot();
    }
    assert!(
        seen.ends_with(&[
            Some(TransactionConfirmationStatus::Confirmed),
            Some(TransactionConfirmationStatus::Finalized)
        ]),
        "statuses seen: {seen:?}"
    );
    let slot = |commitment| {
        let rpc = &rpc;
        async move { rpc.get_slot_with_commitment(commitment).await.unwrap() }
    };
    let processed = slot(CommitmentConfig::processed()).await;
    let confirmed = slot(CommitmentConfig::confirmed()).await;
    let finalized = slot(CommitmentConfig::finalized()).await;
    assert!(
        finalized < confirmed && confirmed <= processed,
        "finalized {finalized} < confirmed {confirmed} <= processed {processed}"
    );
    localnet.shutdown().await;
}

/// Each localnet is its own cluster (a state file can tell them apart), and its clock follows
/// wall time instead of starting in 1970.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn genesis_hash_is_unique_and_the_clock_is_wall_time() {
    let (first, first_rpc) = start(Some(Duration::from_millis(100))).await;
    let (second, second_rpc) = start(None).await;
    let a = first_rpc.get_genesis_hash().await.unwrap();
    let b = second_rpc.get_genesis_hash().await.unwrap();
    assert_ne!(a, b);
    assert_eq!(a, first.chain.genesis_hash());
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
        first.with_env(|env| {
            env.svm
                .get_sysvar::<rwa_harness::solana_clock::Clock>()
                .unix_timestamp
        })
    };
    let before = clock_now();
    assert!((before - now).abs() <= 5, "clock {before} vs wall {now}");
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(clock_now() > before, "the clock moved with wall time");
    first.shutdown().await;
    second.shutdown().await;
}

/// programSubscribe honours its filters; fixtures written with `with_env` reach surfpool's
/// indexes and subscribers like transactions do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn program_filters_and_fixtures_reach_indexes_and_subscribers() {
    use futures_util::StreamExt;
    use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
    use solana_rpc_client_api::config::RpcProgramAccountsConfig;
    use solana_rpc_client_api::filter::RpcFilterType;
    let (localnet, rpc) = start(Some(Duration::from_millis(20))).await;
    let pubsub = PubsubClient::new(&localnet.ws_url()).await.unwrap();
    let program_config = |size: u64| RpcProgramAccountsConfig {
        filters: Some(vec![RpcFilterType::DataSize(size)]),
        ..Default::default()
    };
    // token accounts are 165 bytes, mints 82
    let (mut accounts, unsubscribe_accounts) = pubsub
        .program_subscribe(&spl_token::ID, Some(program_config(165)))
        .await
        .unwrap();
    let (mut mints, unsubscribe_mints) = pubsub
        .program_subscribe(&spl_token::ID, Some(program_config(82)))
        .await
        .unwrap();
    let holder = Keypair::new();
    let (mint, token_account) = localnet.with_env(|env| {
        let mint = env.create_mint(6);
        let token_account = env.create_token_account(&mint, &holder.pubkey());
        env.mint_to(&mint, &token_account, 42);
        (mint, token_account)
    });
    let owned = rpc
        .get_token_accounts_by_owner(
            &holder.pubkey(),
            solana_rpc_client_api::request::TokenAccountsFilter::ProgramId(spl_token::ID),
        )
        .await
        .unwrap();
    assert_eq!(owned.len(), 1, "the fixture's token account is indexed");
    assert_eq!(owned[0].pubkey, token_account.to_string());
    assert_eq!(
        rpc.get_token_account_balance(&token_account)
            .await
            .unwrap()
            .amount,
        "42"
    );
    let hit = tokio::time::timeout(Duration::from_secs(5), accounts.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hit.value.pubkey, token_account.to_string());
    let minted = tokio::time::timeout(Duration::from_secs(5), mints.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(minted.value.pubkey, mint.to_string());
    drop((accounts, mints));
    unsubscribe_accounts().await;
    unsubscribe_mints().await;
    pubsub.shutdown().await.unwrap();
    localnet.shutdown().await;
}

/// A stopped localnet serves the same chain again on the same ports (a validator restarted on
/// its ledger): accounts and history survive, clients reconnect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_on_the_same_chain_and_ports() {
    let (localnet, rpc) = start(Some(Duration::from_millis(20))).await;
    let payer = Keypair::new();
    let signature = rpc
        .request_airdrop(&payer.pubkey(), 2_000_000_000)
        .await
        .unwrap();
    rpc.poll_for_signature_with_commitment(&signature, CommitmentConfig::confirmed())
        .await
        .unwrap();
    let slot = rpc.get_slot().await.unwrap();
    let (chain, address) = (localnet.chain.clone(), localnet.address);
    localnet.shutdown().await;
    assert!(rpc.get_slot().await.is_err(), "stopped");
    let restarted = Localnet::start_shared(
        LocalnetConfig {
            listen: address,
            slot_duration: Some(Duration::from_millis(20)),
        },
        chain,
    )
    .await
    .unwrap();
    assert_eq!(
        rpc.get_balance(&payer.pubkey()).await.unwrap(),
        2_000_000_000
    );
    assert!(rpc.get_slot().await.unwrap() >= slot);
    assert!(
        signature_status(&rpc, signature).await.is_some(),
        "history kept"
    );
    restarted.shutdown().await;
}

/// surfpool's `surfnet_resetNetwork` empties the chain; the project's programs are loaded again
/// (surfpool alone would come back without them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_network_empties_the_chain_but_keeps_the_programs() {
    let (localnet, rpc) = start(Some(Duration::from_millis(20))).await;
    let funded = Keypair::new();
    localnet.airdrop(&funded.pubkey(), 1_000_000_000).unwrap();
    assert!(rpc.get_account(&rwa_market::ID).await.unwrap().executable);
    let raw = raw_post(
        &localnet.url(),
        r#"{"jsonrpc":"2.0","id":1,"method":"surfnet_resetNetwork","params":[]}"#,
    )
    .await;
    assert!(raw.contains("\"result\""), "{raw}");
    eventually(5, "the funded account is gone", || async {
        rpc.get_balance(&funded.pubkey()).await.unwrap_or(1) == 0
    })
    .await;
    eventually(5, "rwa_market is loaded again", || async {
        rpc.get_account(&rwa_market::ID)
            .await
            .is_ok_and(|account| account.executable)
    })
    .await;
    // and it runs: a fixture market through the reloaded program
    localnet.with_env(|env| {
        let payer = env.payer.insecure_clone();
        assert!(
            env.account(&payer.pubkey()).is_some(),
            "fixture payer funded again"
        );
        let mint = env.create_mint(6);
        assert!(env.account(&mint).is_some());
    });
    localnet.shutdown().await;
}

/// warp_slots moves slot and clock together and leaves a usable blockhash; a fixture that moves
/// the clock itself is refused (the chain would run backwards at the next block).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warp_moves_the_chain_and_fixtures_cannot_move_the_clock() {
    // A validator's slots: the test's own steps take far less than the 10 slots checked below.
    let (localnet, rpc) = start(Some(Duration::from_millis(400))).await;
    let payer = Keypair::new();
    localnet.airdrop(&payer.pubkey(), 1_000_000_000).unwrap();
    let before = rpc
        .get_slot_with_commitment(CommitmentConfig::processed())
        .await
        .unwrap();
    let clock_before =
        localnet.with_env(|env| env.svm.get_sysvar::<rwa_harness::solana_clock::Clock>());
    let after = localnet.warp_slots(500).unwrap();
    assert!(after >= before + 500, "{before} -> {after}");
    let clock_after =
        localnet.with_env(|env| env.svm.get_sysvar::<rwa_harness::solana_clock::Clock>());
    assert!(clock_after.slot >= clock_before.slot + 500);
    assert!(
        clock_after.unix_timestamp >= clock_before.unix_timestamp + 500 * 400 / 1000,
        "block time moves with the slots"
    );
    let transfer = rwa_harness::solana_instruction_compat::transfer(
        &payer.pubkey(),
        &Keypair::new().pubkey(),
        10_000_000,
    );
    rpc.send_and_confirm_transaction(&Transaction::new_signed_with_payer(
        &[transfer],
        Some(&payer.pubkey()),
        &[&payer],
        rpc.get_latest_blockhash().await.unwrap(),
    ))
    .await
    .expect("a fresh blockhash right after the warp");
    let moved = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        localnet.with_env(|env| env.advance_slots(10))
    }));
    let message = moved
        .expect_err("a fixture moving the clock must be refused")
        .downcast::<String>()
        .map(|m| *m)
        .unwrap_or_default();
    assert!(message.contains("warp_slots"), "{message}");
    // the refused fixture left the clock where it was
    let clock_now =
        localnet.with_env(|env| env.svm.get_sysvar::<rwa_harness::solana_clock::Clock>());
    assert!(clock_now.slot >= clock_after.slot && clock_now.slot < clock_after.slot + 10);
    localnet.shutdown().await;
}
