//! The oracle keeper's liquidations on an rwa_lending market.

use super::*;

/// rwa_lending accounts of `discriminator` whose `lending_market` field (at `offset`) matches.
pub(crate) async fn lending_accounts<T: AccountDeserialize>(
    rpc: &RpcClient,
    discriminator: &[u8],
    offset: usize,
    lending_market: &Address,
) -> Result<Vec<(Address, T)>> {
    use solana_account_decoder_client_types::UiAccountEncoding;
    use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
    use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
    let config = RpcProgramAccountsConfig {
        filters: Some(vec![
            RpcFilterType::Memcmp(Memcmp::new_base58_encoded(0, discriminator)),
            RpcFilterType::Memcmp(Memcmp::new_base58_encoded(offset, lending_market.as_ref())),
        ]),
        account_config: RpcAccountInfoConfig {
            encoding: Some(UiAccountEncoding::Base64),
            ..Default::default()
        },
        with_context: None,
        sort_results: None,
    };
    let accounts = rpc
        .get_program_ui_accounts_with_config(&rwa_client::rwa_lending_id(), config)
        .await?;
    let mut decoded = Vec::new();
    for (address, account) in accounts {
        let data = account
            .data
            .decode()
            .ok_or_else(|| anyhow!("{address}: undecodable"))?;
        decoded.push((
            address,
            T::try_deserialize(&mut data.as_slice()).map_err(|e| anyhow!("{address}: {e}"))?,
        ));
    }
    Ok(decoded)
}

/// The keeper's liquidation pass: scan obligations, plan with the pure keeper, and send
/// refresh + liquidate for each candidate (simulation refuses the ones healthy at fresh prices).
pub(crate) async fn keeper_liquidations(
    rpc: &RpcClient,
    payer: &Keypair,
    running: &mut Running,
    journal: &mut Journal,
    metrics: &Metrics,
    lending_market: &str,
    slot: u64,
) -> Result<()> {
    use anchor_lang::Discriminator;
    use rwa_agent_core::strategies::keeper;
    use rwa_client::lending::{liquidate_ix, refresh_all, LendingAddresses};
    use rwa_lending::state::{CollateralConfig, LendingMarket, Obligation};
    let lending_address = crate::chain::parse_address(lending_market, "keeper lending_market")?;
    let lending: LendingMarket = account(rpc, &lending_address).await?;
    let mut addresses = LendingAddresses::derive(lending.quote_mint, lending.id);
    if addresses.lending_market != lending_address {
        bail!("{lending_address} is not a canonical rwa_lending market");
    }
    if lending.rule_set != Address::default() {
        addresses.rule_set = Some(lending.rule_set);
    }
    // CollateralConfig: discriminator, three one-byte fields, then lending_market.
    let configs: Vec<(Address, CollateralConfig)> = lending_accounts(
        rpc,
        CollateralConfig::DISCRIMINATOR,
        8 + 3,
        &lending_address,
    )
    .await?;
    // Obligation: discriminator, bump, then lending_market.
    let obligations: Vec<(Address, Obligation)> =
        lending_accounts(rpc, Obligation::DISCRIMINATOR, 8 + 1, &lending_address).await?;
    let mut infos: Vec<keeper::CollateralInfo> = Vec::with_capacity(configs.len());
    for (_, c) in &configs {
        // Price now: the collateral market's oracle TWAP (the config's price is from its last refresh).
        let twap = match rpc.get_account(&c.oracle).await {
            Ok(oracle) => crate::chain::decode_oracle(&oracle.data, &c.oracle)
                .ok()
                .and_then(|o| o.twap(slot))
                .map(|p| p.to_f64()),
            Err(_) => None,
        };
        infos.push(rwa_client::agent::collateral_info(c, twap));
    }
    let config_addresses: Vec<Address> = configs.iter().map(|(address, _)| *address).collect();
    let views: Vec<keeper::ObligationView> = obligations
        .iter()
        .map(|(_, o)| rwa_client::agent::obligation_view(o, &config_addresses))
        .collect();
    let available = token_balance(rpc, &running.accounts.quote_account).await;
    let params = keeper::KeeperParams {
        transaction_cost: running.arb.transaction_cost,
        ..keeper::KeeperParams::default()
    };
    let market_of = |config: &CollateralConfig| MarketAddresses {
        market: config.rwa_market,
        rwa_mint: config.rwa_mint,
        quote_mint: lending.quote_mint,
        reserve_vault: Address::default(),
        fee_vault: Address::default(),
        oracle: config.oracle,
        rule_set: None,
    };
    for plan in keeper::liquidations(&views, &infos, lending.quote_decimals, available, &params) {
        let (obligation_address, obligation) = &obligations[plan.obligation];
        let id = format!(
            "{}:liquidate:{obligation_address}:{slot}",
            running.config.name
        );
        if journal.get(&id).is_some() {
            continue;
        }
        let held: Vec<MarketAddresses> = obligation
            .active()
            .filter_map(|entry| {
                configs
                    .iter()
                    .find(|(address, _)| *address == entry.config)
                    .map(|(_, c)| market_of(c))
            })
            .collect();
        let (_, seized_config) = &configs[plan.collateral];
        let seized_market = market_of(seized_config);
        let rwa_account = token_account_for(
            rpc,
            payer,
            &seized_config.rwa_mint,
            &running.state_dir.clone(),
            &format!("{}-liq", running.config.name),
        )
        .await?;
        let mut instructions = refresh_all(&addresses, &obligation.owner, &held);
        instructions.push(liquidate_ix(
            &addresses,
            &payer.pubkey(),
            &obligation.owner,
            &seized_market,
            &running.accounts.quote_account,
            &rwa_account,
            plan.repay,
            1,
            &held,
        ));
        let entry = Entry {
            id: id.clone(),
            strategy: running.config.name.clone(),
            intent: serde_json::json!({ "Liquidate": { "obligation": obligation_address.to_string(), "repay": plan.repay, "expected_profit": plan.expected_profit } }),
            status: Status::Pending,
        };
        metrics.intents.fetch_add(1, Ordering::Relaxed);
        let labels = StrategySeries::labels(&running.config.name, running.config.kind);
        metrics.by_strategy.intents.get_or_create(&labels).inc();
        metrics.tx_sent.fetch_add(1, Ordering::Relaxed);
        match send_journaled(rpc, payer, journal, entry, &instructions).await? {
            Outcome::Landed(_) => {
                metrics.tx_landed.fetch_add(1, Ordering::Relaxed);
                metrics.by_strategy.landed.get_or_create(&labels).inc();
                running.landed += 1;
            }
            // Healthy at fresh prices (or outbid): nothing was spent.
            Outcome::Refused(_) => {
                metrics.tx_failed.fetch_add(1, Ordering::Relaxed);
                metrics.by_strategy.failed.get_or_create(&labels).inc();
                running.refused += 1;
            }
        }
    }
    Ok(())
}
