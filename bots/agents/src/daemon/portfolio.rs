//! The risk-parity investor's rebalancing.

use super::*;

/// One risk-parity step: price histories from the markets' oracles, holdings from the wallet,
/// the plan from the pure strategy, one swap per leg (sells first, so they fund the buys).
pub(crate) async fn rebalance(
    rpc: &RpcClient,
    payer: &Keypair,
    running: &mut Running,
    journal: &mut Journal,
    metrics: &Metrics,
    slot: u64,
) -> Result<()> {
    use rwa_agent_core::strategies::risk_parity;
    let mut histories = Vec::new();
    let mut prices = Vec::new();
    let mut holdings = Vec::new();
    let mut costs = Vec::new();
    let mut units = Vec::new();
    let mut curves = Vec::new();
    for (m, rwa_account) in &running.portfolio {
        let state: Market = account(rpc, &m.market).await?;
        curves.push((
            state.curve_market().map_err(|e| anyhow!("{e}"))?,
            state.supply,
            state.fee_bps,
        ));
        let oracle_account = rpc.get_account(&m.oracle).await?;
        let oracle = crate::chain::decode_oracle(&oracle_account.data, &m.oracle)?;
        let history: Vec<f64> = oracle
            .chronological()
            .map(|o| o.price.to_f64())
            .filter(|p| *p > 0.0)
            .collect();
        let price = oracle
            .twap(slot)
            .map(|p| p.to_f64())
            .unwrap_or(state.spot_price().map_err(|e| anyhow!("{e}"))?.to_f64());
        let unit = 10f64.powi(state.rwa_decimals as i32);
        histories.push(history);
        prices.push(price);
        holdings.push(token_balance(rpc, rwa_account).await as f64 / unit);
        // fee plus a slippage allowance
        costs.push(state.fee_bps as f64 / 10_000.0 + 0.002);
        units.push((unit, 10f64.powi(state.quote_decimals as i32)));
    }
    running.holdings_value = holdings
        .iter()
        .zip(&prices)
        .zip(&units)
        .map(|((held, price), (_, quote_unit))| held * price * quote_unit)
        .sum();
    // Align the histories on their most recent common length.
    let length = histories.iter().map(Vec::len).min().unwrap_or(0);
    if length < 3 {
        return Ok(());
    }
    let histories: Vec<Vec<f64>> = histories
        .into_iter()
        .map(|h| h[h.len() - length..].to_vec())
        .collect();
    let quote_unit = units.first().map(|u| u.1).unwrap_or(1e6);
    let budget = running
        .config
        .capital
        .unwrap_or(0)
        .saturating_sub(running.invested);
    let cash =
        (budget.min(token_balance(rpc, &running.accounts.quote_account).await)) as f64 / quote_unit;
    let n = prices.len();
    let view = risk_parity::PortfolioView {
        slot,
        price_history: histories,
        prices,
        holdings,
        cash,
        caps: running.config.caps.clone().unwrap_or_else(|| vec![1.0; n]),
        costs,
        last_rebalance_slot: running.schedule.last_rebalance_slot,
        held_targets: running.schedule.held_targets.clone(),
    };
    let params = risk_parity::RiskParityParams {
        drift_band: running.config.drift_band.unwrap_or(0.05),
        rebalance_every_slots: running.config.rebalance_every_slots.unwrap_or(216_000),
        ..risk_parity::RiskParityParams::default()
    };
    let Some(mut plan) = risk_parity::plan(&view, &params) else {
        return Ok(());
    };
    running.schedule.adopt(&plan, slot);
    plan.trades.sort_by_key(|t| t.side == Side::Buy);
    let mut all_landed = true;
    for trade in &plan.trades {
        let (m, rwa_account) = running.portfolio[trade.asset];
        let (unit, quote) = units[trade.asset];
        let amount = (trade.amount * unit).floor() as u64;
        if amount == 0 {
            continue;
        }
        let accounts = TraderAccounts {
            trader: payer.pubkey(),
            rwa_account,
            quote_account: running.accounts.quote_account,
        };
        let (curve, supply, fee_bps) = &curves[trade.asset];
        let cash = token_balance(rpc, &running.accounts.quote_account).await;
        let Some((side, kind)) =
            rwa_client::agent::rebalance_leg(curve, *supply, *fee_bps, trade.side, amount, cash)
        else {
            continue;
        };
        let id = format!("{}:rebalance:{slot}:{}", running.config.name, trade.asset);
        let intent = serde_json::json!({ "Rebalance": { "market": m.market.to_string(), "side": format!("{:?}", trade.side), "amount": amount, "target_weight": plan.targets[trade.asset] } });
        let landed = send_recorded(
            rpc,
            payer,
            running,
            journal,
            metrics,
            id,
            intent,
            &[swap_ix(&m, &accounts, side, kind, &[])],
        )
        .await?;
        if landed && trade.side == Side::Buy {
            running.invested = running
                .invested
                .saturating_add((trade.notional * quote) as u64);
        }
        all_landed &= landed;
    }
    running.schedule.settle(&plan, all_landed, slot);
    Ok(())
}
