//! Cross-venue arbitrage across markets and clusters.

use super::*;

/// Cross-venue arbitrage: snapshot every venue, pick the best bounded trade with the pure
/// strategy, then send it: one transaction when both legs share a cluster (a bad fill reverts
/// both), otherwise the sell leg first (it spends inventory already held) and then the buy leg,
/// each journalled under the same trade id so a restart sends neither twice.
pub(crate) async fn cross_arbitrage(
    rpc: &RpcClient,
    payer: &Keypair,
    running: &mut Running,
    journal: &mut Journal,
    metrics: &Metrics,
    home_view: &MarketView,
    home_makers: &[MakerAddresses],
) -> Result<()> {
    use rwa_agent_core::strategies::cross_venue::{self, CrossVenueParams, Venue};
    let mut snapshots = vec![(home_view.clone(), home_makers.to_vec())];
    for (venue_rpc, _, venue) in running.venues.iter_mut() {
        snapshots.push(snapshot(venue_rpc, venue).await?);
    }
    let clusters: Vec<u32> = std::iter::once(0)
        .chain(running.venues.iter().map(|(_, id, _)| *id))
        .collect();
    // Sell only what sits in the wallet: the snapshot's position is wallet balances (no maker).
    let venues: Vec<Venue> = snapshots
        .iter()
        .zip(&clusters)
        .map(|((view, _), &cluster)| Venue {
            view,
            cluster,
            rwa_inventory: view.position.rwa,
            quote_inventory: view.position.quote,
        })
        .collect();
    let mut params = CrossVenueParams::default();
    if let Some(cost) = running.config.transaction_cost {
        params.transaction_cost = cost;
    }
    if let Some(bps) = running.config.delay_cost_bps {
        params.delay_cost_bps = bps;
    }
    let Some(trade) = cross_venue::step(&venues, &params) else {
        return Ok(());
    };
    let leg = |index: usize, side: TradeSide| -> Instruction {
        let (market, accounts) = if index == 0 {
            (running.market, running.accounts)
        } else {
            let venue = &running.venues[index - 1].2;
            (venue.market, venue.accounts)
        };
        let kind = match side {
            TradeSide::Buy => SwapKind::ExactOut {
                amount_out: trade.amount,
                max_amount_in: trade.max_quote_in,
            },
            TradeSide::Sell => SwapKind::ExactIn {
                amount_in: trade.amount,
                min_amount_out: trade.min_quote_out,
            },
        };
        let makers: Vec<MakerAddresses> = snapshots[index].1.iter().copied().take(8).collect();
        swap_ix(&market, &accounts, side, kind, &makers)
    };
    let buy = leg(trade.buy_venue, TradeSide::Buy);
    let sell = leg(trade.sell_venue, TradeSide::Sell);
    let id = format!(
        "{}:{}:cross:{}->{}:{}",
        running.config.name, home_view.slot, trade.buy_venue, trade.sell_venue, trade.amount
    );
    let record = serde_json::json!({
        "cross_arbitrage": {
            "buy_venue": trade.buy_venue,
            "sell_venue": trade.sell_venue,
            "amount": trade.amount,
            "max_quote_in": trade.max_quote_in,
            "min_quote_out": trade.min_quote_out,
            "expected_profit": trade.expected_profit,
            "atomic": trade.atomic,
        }
    });
    let venue_rpc = |index: usize| -> Option<Arc<RpcClient>> {
        (index > 0).then(|| Arc::clone(&running.venues[index - 1].0))
    };
    let (buy_rpc, sell_rpc) = (venue_rpc(trade.buy_venue), venue_rpc(trade.sell_venue));
    if trade.atomic {
        let on = buy_rpc.as_deref().unwrap_or(rpc);
        send_recorded(
            on,
            payer,
            running,
            journal,
            metrics,
            id,
            record,
            &[buy, sell],
        )
        .await?;
    } else {
        let on = sell_rpc.as_deref().unwrap_or(rpc);
        let sold = send_recorded(
            on,
            payer,
            running,
            journal,
            metrics,
            format!("{id}:sell"),
            record.clone(),
            &[sell],
        )
        .await?;
        if sold {
            let on = buy_rpc.as_deref().unwrap_or(rpc);
            send_recorded(
                on,
                payer,
                running,
                journal,
                metrics,
                format!("{id}:buy"),
                record,
                &[buy],
            )
            .await?;
        }
    }
    Ok(())
}
