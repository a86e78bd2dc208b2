//! One strategy tick: snapshot, intents, admissibility, journaled sends.

use super::*;

/// A learned strategy's parameters: its clip and slippage bound from the config, and the primary
/// market's attested NAV as the fair value while the attestation is usable (otherwise none: the
/// policy's value-gap feature reads 0).
pub(crate) fn learned_params(config: &StrategyConfig, view: &MarketView) -> learned::LearnedParams {
    learned::LearnedParams {
        clip: config.clip.unwrap_or(0),
        max_slippage: config.max_slippage.unwrap_or(0.05),
        reference: rwa_agent_core::learning::Reference {
            fair_value: view
                .primary
                .filter(|p| p.usable)
                .map(|p| p.nav().to_f64())
                .filter(|nav| *nav > 0.0),
        },
    }
}

pub(crate) async fn tick(
    rpc: &RpcClient,
    payer: &Keypair,
    running: &mut Running,
    journal: &mut Journal,
    metrics: &Metrics,
) -> Result<()> {
    let started = std::time::Instant::now();
    let (view, makers) = snapshot(rpc, running).await?;
    let intents = match running.config.kind {
        StrategyKind::MarketMaker => market_maker::step(&view, &running.mm),
        StrategyKind::Noise => noise::step(&view, &running.noise),
        StrategyKind::Arbitrage => arbitrage::step(&view, &running.arb),
        StrategyKind::ApArbitrage => rwa_agent_core::strategies::ap_arbitrage::step(
            &view,
            &rwa_agent_core::strategies::ap_arbitrage::ApParams::default(),
        ),
        StrategyKind::Learned => match running.config.learned_policy.as_deref() {
            Some(policy) => learned::step(&view, policy, &learned_params(&running.config, &view)),
            None => {
                tracing::warn!(strategy = %running.config.name, "learned: no policy loaded");
                vec![]
            }
        },
        // These run their own multi-market logic below.
        StrategyKind::Governance | StrategyKind::RiskParity | StrategyKind::CrossArbitrage => {
            vec![]
        }
        StrategyKind::Keeper => {
            let limit = running.config.max_oracle_age_slots.unwrap_or(150);
            if running.oracle_age > limit {
                vec![Intent::UpdateOracle]
            } else {
                vec![]
            }
        }
    };
    // Nothing the program would refuse in the market's current state (halt, pause).
    let (intents, held) = rwa_agent_core::intent::admissible(&view, intents);
    if held > 0 {
        tracing::info!(strategy = %running.config.name, held, paused = view.paused, halted_until = view.halted_until_slot, "intents held back: trading halted");
    }
    if running.config.kind == StrategyKind::CrossArbitrage {
        if let Err(error) =
            cross_arbitrage(rpc, payer, running, journal, metrics, &view, &makers).await
        {
            tracing::warn!(strategy = %running.config.name, "cross arbitrage: {error:#}");
        }
    }
    if running.config.kind == StrategyKind::RiskParity {
        if let Err(error) = rebalance(rpc, payer, running, journal, metrics, view.slot).await {
            tracing::warn!(strategy = %running.config.name, "risk parity: {error:#}");
        }
    }
    if running.config.kind == StrategyKind::Governance {
        if let Err(error) = govern(
            rpc,
            payer,
            running,
            journal,
            metrics,
            view.volatility,
            view.slot,
        )
        .await
        {
            tracing::warn!(strategy = %running.config.name, "governance: {error:#}");
        }
    }
    if running.config.kind == StrategyKind::Keeper {
        if let Some(lending_market) = running.config.lending_market.clone() {
            if let Err(error) = keeper_liquidations(
                rpc,
                payer,
                running,
                journal,
                metrics,
                &lending_market,
                view.slot,
            )
            .await
            {
                tracing::warn!(strategy = %running.config.name, "keeper: liquidation scan failed: {error:#}");
            }
        }
    }
    // Mark-to-market at the TWAP for the kill switch (a portfolio: every market it holds).
    let rwa_value = if running.config.kind == StrategyKind::RiskParity {
        running.holdings_value
    } else {
        view.position.rwa as f64 / view.token_unit() * view.twap * view.quote_unit()
    };
    let value = view.position.quote as i64 + rwa_value as i64;
    let start = *running.start_value.get_or_insert(value);
    running.pnl = value - start;
    running.inventory = view.position.rwa;
    running.quotes_live = view.live_quotes().filter(|q| q.own).count() as u64;
    // Per strategy here; the run loop sets the process totals from every strategy.
    let labels = StrategySeries::labels(&running.config.name, running.config.kind);
    let series = &metrics.by_strategy;
    series.pnl.get_or_create(&labels).set(running.pnl);
    series
        .inventory
        .get_or_create(&labels)
        .set(running.inventory as i64);
    series
        .quotes_live
        .get_or_create(&labels)
        .set(running.quotes_live as i64);
    for (index, intent) in intents.iter().enumerate() {
        let id = format!(
            "{}:{}:{}:{}",
            running.config.name,
            view.slot,
            index,
            serde_json::to_string(intent)?
        );
        if journal.get(&id).is_some() {
            continue; // already sent by an earlier run: never twice
        }
        let instructions = rwa_client::agent::instructions_for(
            intent,
            &running.market,
            &running.accounts,
            running.maker,
            &makers,
        );
        if instructions.is_empty() {
            continue;
        }
        metrics.intents.fetch_add(1, Ordering::Relaxed);
        metrics.by_strategy.intents.get_or_create(&labels).inc();
        let entry = Entry {
            id: id.clone(),
            strategy: running.config.name.clone(),
            intent: serde_json::to_value(intent)?,
            status: Status::Pending,
        };
        metrics.tx_sent.fetch_add(1, Ordering::Relaxed);
        match send_journaled(rpc, payer, journal, entry, &instructions).await {
            Ok(Outcome::Landed(_)) => {
                metrics.tx_landed.fetch_add(1, Ordering::Relaxed);
                metrics.by_strategy.landed.get_or_create(&labels).inc();
                running.landed += 1;
                tracing::info!(strategy = %running.config.name, %id, "landed");
                let latency = started.elapsed().as_micros() as u64;
                metrics.last_latency_us.store(latency, Ordering::Relaxed);
                metrics.by_strategy.latency.observe(latency as f64 / 1e6);
                if let Ok(mut latencies) = metrics.latencies_us.lock() {
                    if latencies.len() >= MAX_LATENCY_SAMPLES {
                        latencies.drain(..MAX_LATENCY_SAMPLES / 2);
                    }
                    latencies.push(latency);
                }
                if let Intent::PostQuote {
                    bid_price,
                    ask_price,
                    ..
                } = intent
                {
                    running.resting_mid = Some((bid_price + ask_price) / 2.0);
                    running.last_quote = Some((*bid_price, *ask_price));
                }
                if let Intent::CancelQuote = intent {
                    running.resting_mid = None;
                }
            }
            Ok(Outcome::Refused(reason)) => {
                tracing::info!(strategy = %running.config.name, %id, %reason, "refused");
                metrics.tx_failed.fetch_add(1, Ordering::Relaxed);
                metrics.by_strategy.failed.get_or_create(&labels).inc();
                running.refused += 1;
            }
            Err(error) => {
                // Signed and possibly on chain, but not settled (the RPC is failing): the entry
                // stays `Sent` and the next start settles it. Nothing more this tick.
                tracing::warn!(strategy = %running.config.name, %id, "send not settled: {error:#}");
                metrics.tx_failed.fetch_add(1, Ordering::Relaxed);
                metrics.by_strategy.failed.get_or_create(&labels).inc();
                running.refused += 1;
                return Err(error);
            }
        }
    }
    Ok(())
}
