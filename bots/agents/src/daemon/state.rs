//! One running strategy: its accounts, its maker, and the market snapshot each tick reads.

use super::*;

pub(crate) struct Running {
    pub(crate) config: StrategyConfig,
    pub(crate) market: MarketAddresses,
    pub(crate) accounts: TraderAccounts,
    pub(crate) maker: Option<MakerAddresses>,
    pub(crate) mm: market_maker::MarketMakerParams,
    pub(crate) arb: arbitrage::ArbitrageParams,
    pub(crate) noise: noise::NoiseParams,
    pub(crate) resting_mid: Option<f64>,
    pub(crate) start_value: Option<i64>,
    /// Mark-to-market PnL of this strategy since start, quote base units.
    pub(crate) pnl: i64,
    /// RWA held and own live quotes at the last tick (the metrics sum them over strategies).
    pub(crate) inventory: u64,
    /// The RuleSet the market named at the last snapshot (default: none).
    pub(crate) rule_set: Address,
    pub(crate) quotes_live: u64,
    /// The last quote this strategy posted (bid, ask).
    pub(crate) last_quote: Option<(f64, f64)>,
    pub(crate) landed: u64,
    pub(crate) refused: u64,
    pub(crate) oracle_age: u64,
    pub(crate) state_dir: PathBuf,
    /// Governance: EWMA volatility forecast.
    pub(crate) forecast: f64,
    /// Risk parity: each market with the agent's RWA token account...
    pub(crate) portfolio: Vec<(MarketAddresses, Address)>,
    /// ...and the targets held between scheduled re-estimations, the last rebalance slot.
    pub(crate) schedule: rwa_agent_core::strategies::risk_parity::Schedule,
    pub(crate) invested: u64,
    /// Risk parity: the portfolio's RWA holdings at the oracle TWAP, quote base units.
    pub(crate) holdings_value: f64,
    /// Cross-venue arbitrage: the other venues, each with its own client and cluster id (0 is
    /// the daemon's cluster; venues on one cluster share an id and can trade atomically).
    pub(crate) venues: Vec<(Arc<RpcClient>, u32, Running)>,
    /// Maker PDAs by owner (derived once: a derivation is curve arithmetic, on every tick).
    pub(crate) maker_addresses: std::collections::HashMap<Address, MakerAddresses>,
}

pub(crate) async fn account<T: AccountDeserialize>(
    rpc: &RpcClient,
    address: &Address,
) -> Result<T> {
    let account = rpc
        .get_account(address)
        .await
        .with_context(|| format!("fetching {address}"))?;
    T::try_deserialize(&mut account.data.as_slice()).map_err(|e| anyhow!("decoding {address}: {e}"))
}

pub(crate) async fn token_balance(rpc: &RpcClient, address: &Address) -> u64 {
    use rwa_client::solana_program_pack::Pack;
    match rpc.get_account(address).await {
        Ok(account) => anchor_spl::token::spl_token::state::Account::unpack(&account.data)
            .map(|a| a.amount)
            .unwrap_or(0),
        Err(_) => 0,
    }
}

/// One batched read: market, oracle, the agent's maker; then the maker list and balances.
pub(crate) async fn snapshot(
    rpc: &RpcClient,
    running: &mut Running,
) -> Result<(MarketView, Vec<MakerAddresses>)> {
    // The RuleSet rides in the same batch, at the address the market named last tick; a
    // primary-market participant also reads the NAV account and the redemption vault.
    let primary = rwa_client::primary::PrimaryAddresses::derive(&running.market.market);
    let mut wanted = vec![
        running.market.market,
        running.market.oracle,
        running.rule_set,
    ];
    // A learned strategy reads the NAV too: the attested NAV is its fair value.
    let participant = matches!(
        running.config.kind,
        StrategyKind::ApArbitrage | StrategyKind::Learned
    );
    if participant {
        wanted.extend([primary.nav, primary.redemption_vault]);
    }
    let accounts = rpc.get_multiple_accounts(&wanted).await?;
    let market: Market = Market::try_deserialize(
        &mut accounts[0]
            .as_ref()
            .ok_or_else(|| anyhow!("market missing"))?
            .data
            .as_slice(),
    )
    .map_err(|e| anyhow!("{e}"))?;
    let oracle_data = &accounts[1]
        .as_ref()
        .ok_or_else(|| anyhow!("oracle missing"))?
        .data;
    let oracle = crate::chain::decode_oracle(oracle_data, &running.market.oracle)?;
    let slot = rpc.get_slot().await?;
    let makers = crate::chain::fetch_market(rpc, &running.market.market)
        .await?
        .makers;
    running.oracle_age = oracle
        .latest()
        .map(|o| slot.saturating_sub(o.slot))
        .unwrap_or(u64::MAX);
    let market_address = running.market.market;
    let maker_addresses = makers
        .iter()
        .map(|(_, maker)| {
            *running
                .maker_addresses
                .entry(maker.owner)
                .or_insert_with(|| MakerAddresses::derive(&market_address, &maker.owner))
        })
        .collect();
    // The agent's own maker, if open, is among the market's makers (market_view finds it there).
    let holder = rwa_client::agent::Holder {
        own_maker: running.maker.map(|m| m.maker),
        wallet_rwa: token_balance(rpc, &running.accounts.rwa_account).await,
        wallet_quote: token_balance(rpc, &running.accounts.quote_account).await,
        resting_mid: running.resting_mid,
    };
    let rules = if market.rule_set == Address::default() {
        rwa_agent_core::view::RulesView::default()
    } else if market.rule_set == running.rule_set {
        match &accounts[2] {
            Some(account) => crate::chain::decode_rules(&market.rule_set, account)?,
            None => anyhow::bail!("RuleSet {} missing", market.rule_set),
        }
    } else {
        // A RuleSet attached since the last tick: read it once, batch it from the next tick.
        crate::chain::fetch_rules(rpc, &market.rule_set).await?
    };
    running.rule_set = market.rule_set;
    let mut view = rwa_client::agent::market_view(slot, &market, &oracle, &makers, holder, rules)
        .map_err(|e| anyhow!("{e}"))?;
    if participant {
        if let Some(nav_account) = &accounts[3] {
            let nav = rwa_market::state::NavAttestation::try_deserialize(
                &mut nav_account.data.as_slice(),
            )
            .map_err(|e| anyhow!("NAV account {}: {e}", primary.nav))?;
            let vault = accounts[4]
                .as_ref()
                .and_then(|a| {
                    use rwa_client::solana_program_pack::Pack;
                    anchor_spl::token::spl_token::state::Account::unpack(&a.data).ok()
                })
                .map_or(0, |a| a.amount);
            view.primary = Some(rwa_client::agent::primary_view(&nav, vault, slot));
        }
    }
    Ok((view, maker_addresses))
}

pub(crate) async fn token_account_for(
    rpc: &RpcClient,
    payer: &Keypair,
    mint: &Address,
    state_dir: &std::path::Path,
    name: &str,
) -> Result<Address> {
    // One token account per (strategy, mint). Runs before this derivation recorded a random
    // account's address in the state dir: keep using it.
    let legacy = state_dir.join(format!("{name}-{mint}.account"));
    if let Ok(text) = std::fs::read_to_string(&legacy) {
        if let Ok(address) = text.trim().parse::<Address>() {
            if rpc.get_account(&address).await.is_ok() {
                return Ok(address);
            }
        }
    }
    let seed = crate::chain::token_account_seed(name, mint);
    let (address, instructions) =
        crate::chain::seeded_token_account_ixs(rpc, &payer.pubkey(), &seed, mint, &payer.pubkey())
            .await?;
    if rpc.get_account(&address).await.is_err() {
        match pipeline::send(
            rpc,
            payer,
            &[],
            &instructions,
            &PipelineConfig::default(),
            &mut pipeline::unjournaled,
        )
        .await?
        {
            Outcome::Landed(_) => {}
            // Another process of this wallet created it between the check and the send.
            Outcome::Refused(_) if rpc.get_account(&address).await.is_ok() => {}
            Outcome::Refused(reason) => bail!("creating a token account for {mint}: {reason}"),
        }
    }
    // For operators and tools that read the state dir (the address is derivable anyway).
    std::fs::write(&legacy, address.to_string())?;
    Ok(address)
}

/// The market's addresses and the agent's token accounts for it (created on first use).
pub(crate) async fn trader_accounts(
    rpc: &RpcClient,
    payer: &Keypair,
    market_text: &str,
    quote_account: Option<&str>,
    state_dir: &std::path::Path,
    name: &str,
) -> Result<(MarketAddresses, TraderAccounts)> {
    let market_address = crate::chain::parse_address(market_text, "strategy market")?;
    let market: Market = account(rpc, &market_address).await?;
    let mut addresses = MarketAddresses::derive(market.rwa_mint, market.quote_mint);
    if addresses.market != market_address {
        bail!("{market_address} is not a canonical rwa_market market");
    }
    if market.rule_set != Address::default() {
        addresses.rule_set = Some(market.rule_set);
    }
    let rwa_account = token_account_for(rpc, payer, &market.rwa_mint, state_dir, name).await?;
    let quote_account = match quote_account {
        Some(text) => crate::chain::parse_address(text, "strategy quote_account")?,
        None => token_account_for(rpc, payer, &market.quote_mint, state_dir, name).await?,
    };
    let accounts = TraderAccounts {
        trader: payer.pubkey(),
        rwa_account,
        quote_account,
    };
    Ok((addresses, accounts))
}

impl Running {
    fn new(
        config: &StrategyConfig,
        market: MarketAddresses,
        accounts: TraderAccounts,
        state_dir: &std::path::Path,
    ) -> Running {
        Running {
            config: config.clone(),
            market,
            accounts,
            maker: None,
            mm: market_maker::MarketMakerParams::default(),
            arb: arbitrage::ArbitrageParams::default(),
            noise: noise::NoiseParams::default(),
            resting_mid: None,
            start_value: None,
            pnl: 0,
            inventory: 0,
            rule_set: Address::default(),
            quotes_live: 0,
            last_quote: None,
            landed: 0,
            refused: 0,
            oracle_age: 0,
            state_dir: state_dir.to_path_buf(),
            forecast: 0.0,
            portfolio: Vec::new(),
            schedule: Default::default(),
            invested: 0,
            holdings_value: 0.0,
            venues: Vec::new(),
            maker_addresses: Default::default(),
        }
    }
}

pub(crate) async fn prepare(
    rpc: &RpcClient,
    payer: &Keypair,
    config: &StrategyConfig,
    cluster: &str,
    max_requests_per_second: f64,
    state_dir: &std::path::Path,
) -> Result<Running> {
    let (addresses, accounts) = trader_accounts(
        rpc,
        payer,
        &config.market,
        config.quote_account.as_deref(),
        state_dir,
        &config.name,
    )
    .await?;
    let market_address = addresses.market;
    let mut mm = market_maker::MarketMakerParams::default();
    if let Some(size) = config.quote_size {
        mm.quote_size = size;
    }
    if let Some(spread) = config.base_half_spread {
        mm.base_half_spread = spread;
    }
    mm.target_inventory = config.escrow_rwa / 2;
    mm.max_inventory = config.escrow_rwa.saturating_mul(2).max(mm.quote_size);
    let mut arb = arbitrage::ArbitrageParams::default();
    if let Some(cost) = config.transaction_cost {
        arb.transaction_cost = cost;
    }
    let maker = if config.kind == StrategyKind::MarketMaker {
        let maker = MakerAddresses::derive(&market_address, &payer.pubkey());
        if rpc.get_account(&maker.maker).await.is_err() {
            // Buy the inventory on the market, then open the maker and escrow it.
            let mut instructions = Vec::new();
            if config.escrow_rwa > 0 {
                instructions.push(swap_ix(
                    &addresses,
                    &accounts,
                    TradeSide::Buy,
                    SwapKind::ExactOut {
                        amount_out: config.escrow_rwa,
                        max_amount_in: u64::MAX,
                    },
                    &[],
                ));
            }
            instructions.push(open_maker_ix(&addresses, &maker));
            instructions.push(maker_inventory_ix(
                &addresses,
                &maker,
                &accounts,
                true,
                config.escrow_rwa,
                config.escrow_quote,
            ));
            match pipeline::send(
                rpc,
                payer,
                &[],
                &instructions,
                &PipelineConfig::default(),
                &mut pipeline::unjournaled,
            )
            .await?
            {
                Outcome::Landed(_) => {}
                Outcome::Refused(reason) => {
                    bail!("opening the maker for {}: {reason}", config.name)
                }
            }
        }
        Some(maker)
    } else {
        None
    };
    if config.kind == StrategyKind::Governance {
        ensure_stake(rpc, payer, config).await?;
    }
    let mut portfolio = Vec::new();
    if config.kind == StrategyKind::RiskParity {
        for text in config.markets.clone().unwrap_or_default() {
            let address = crate::chain::parse_address(&text, "risk_parity market")?;
            let state: Market = account(rpc, &address).await?;
            let mut m = MarketAddresses::derive(state.rwa_mint, state.quote_mint);
            if state.rule_set != Address::default() {
                m.rule_set = Some(state.rule_set);
            }
            let rwa =
                token_account_for(rpc, payer, &state.rwa_mint, state_dir, &config.name).await?;
            portfolio.push((m, rwa));
        }
    }
    let mut venues = Vec::new();
    if config.kind == StrategyKind::CrossArbitrage {
        let home = crate::chain::cluster_url(cluster)?;
        let mut clusters = vec![home];
        for (index, venue) in config.venues.clone().unwrap_or_default().iter().enumerate() {
            let url = crate::chain::cluster_url(venue.cluster.as_deref().unwrap_or(cluster))?;
            let id = match clusters.iter().position(|known| *known == url) {
                Some(id) => id,
                None => {
                    clusters.push(url.clone());
                    clusters.len() - 1
                }
            };
            let venue_rpc = Arc::new(crate::chain::client_with_rate(
                &url,
                max_requests_per_second,
            )?);
            let (market, accounts) = trader_accounts(
                &venue_rpc,
                payer,
                &venue.market,
                venue.quote_account.as_deref(),
                state_dir,
                &format!("{}-venue{}", config.name, index + 1),
            )
            .await
            .with_context(|| format!("preparing venue {} of {}", index + 1, config.name))?;
            let running = Running::new(config, market, accounts, state_dir);
            venues.push((venue_rpc, id as u32, running));
        }
    }
    let mut running = Running::new(config, addresses, accounts, state_dir);
    running.maker = maker;
    running.mm = mm;
    running.arb = arb;
    running.noise = noise::NoiseParams {
        seed: config.seed.unwrap_or(7),
        ..noise::NoiseParams::default()
    };
    running.portfolio = portfolio;
    running.venues = venues;
    Ok(running)
}
