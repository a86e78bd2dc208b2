//! Websocket account subscriptions that wake the loop early (with reconnection).

use super::*;

/// The websocket URL a validator serves next to `rpc_url`.
pub fn websocket_url(rpc_url: &str) -> String {
    let ws = rpc_url
        .replacen("https://", "wss://", 1)
        .replacen("http://", "ws://", 1);
    // Local validators (and the embedded localnet) serve websocket on the RPC port + 1.
    if let Some((prefix, port)) = ws.rsplit_once(':') {
        if let Ok(port) = port.trim_end_matches('/').parse::<u16>() {
            if prefix.contains("127.0.0.1") || prefix.contains("localhost") {
                return format!("{prefix}:{}", port + 1);
            }
        }
    }
    ws
}

/// Subscribes to `accounts` and wakes the loop on every change; reconnects with exponential
/// backoff (0.5 s doubling to 30 s, with jitter) when the connection fails or drops. Without a
/// websocket the daemon still runs on its timer.
pub(crate) async fn watch(
    ws_url: String,
    accounts: Vec<Address>,
    wake: Arc<tokio::sync::Notify>,
    metrics: Arc<Metrics>,
) {
    use futures_util::StreamExt;
    // At confirmed, as the daemon reads state: the default (finalized) is ~13 s late on devnet.
    let config = solana_rpc_client_api::config::RpcAccountInfoConfig {
        commitment: Some(solana_commitment_config::CommitmentConfig::confirmed()),
        encoding: Some(solana_account_decoder_client_types::UiAccountEncoding::Base64),
        ..Default::default()
    };
    metrics.ws_expected.fetch_add(1, Ordering::Relaxed);
    let mut delay = Duration::from_millis(500);
    loop {
        match solana_pubsub_client::nonblocking::pubsub_client::PubsubClient::new(&ws_url).await {
            Ok(client) => {
                let mut streams = Vec::new();
                for account in &accounts {
                    match client
                        .account_subscribe(account, Some(config.clone()))
                        .await
                    {
                        Ok((stream, _unsubscribe)) => streams.push(stream),
                        Err(error) => tracing::warn!(%account, "accountSubscribe failed: {error}"),
                    }
                }
                if !streams.is_empty() {
                    metrics.ws_connected.fetch_add(1, Ordering::Relaxed);
                    delay = Duration::from_millis(500);
                    let mut merged = futures_util::stream::select_all(streams);
                    while merged.next().await.is_some() {
                        metrics.ws_updates.fetch_add(1, Ordering::Relaxed);
                        wake.notify_one();
                    }
                    metrics.ws_connected.fetch_sub(1, Ordering::Relaxed);
                }
                tracing::warn!(%ws_url, "websocket closed; reconnecting in {delay:?}");
            }
            Err(error) => {
                tracing::warn!(%ws_url, "websocket unavailable ({error}); ticking on the timer, retrying in {delay:?}");
            }
        }
        metrics.ws_reconnects.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() as u64)
            .unwrap_or(0);
        tokio::time::sleep(delay + Duration::from_nanos(nanos % (delay.as_nanos() as u64 / 4 + 1)))
            .await;
        delay = (delay * 2).min(Duration::from_secs(30));
    }
}
