//! One full story per program, through JSON-RPC and websocket only. Runs against the embedded
//! localnet, or unchanged against the cluster `anchor test` starts (SBF builds deployed there).

use anyhow::Result;
use futures_util::StreamExt;
use rwa_e2e::rwa_harness::dao::*;
use rwa_e2e::rwa_harness::lending::*;
use rwa_e2e::rwa_harness::market::*;
use rwa_e2e::rwa_harness::solana_address::Address;
use rwa_e2e::rwa_harness::solana_keypair::Keypair;
use rwa_e2e::rwa_harness::solana_signer::Signer;
use rwa_e2e::{program_error, Cluster};
use rwa_market::events::{QuoteFilled, SwapExecuted, TradeExecuted, TradeSide};
use rwa_market::instructions::QuoteParams;
use rwa_math::{Curve, Decimal};

const TOKEN: u64 = 1_000_000;

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

/// A market on `curve` over a fresh quote mint, with a trader holding quote tokens.
async fn market(
    cluster: &Cluster,
    quote_mint: Address,
    curve: Curve,
    twap_window_slots: u64,
) -> Result<(MarketAddresses, Keypair, Keypair, TraderAccounts)> {
    let rwa_mint = Keypair::new();
    let authority = Keypair::new();
    let addresses = MarketAddresses::derive(rwa_mint.pubkey(), quote_mint);
    let mut args = market_args(curve, 6, 1_000_000 * TOKEN);
    args.twap_window_slots = twap_window_slots;
    cluster
        .send(
            &[initialize_market_ix(
                &cluster.payer.pubkey(),
                &authority.pubkey(),
                &addresses,
                args,
            )],
            &[&rwa_mint, &authority],
        )
        .await?;
    let (trader, accounts) = cluster
        .trader(&addresses.rwa_mint, &quote_mint, 10_000_000 * TOKEN)
        .await?;
    Ok((addresses, authority, trader, accounts))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn market_story_buy_and_sell_on_each_curve() -> Result<()> {
    let cluster = Cluster::connect().await?;
    let quote_mint = cluster.create_mint(6).await?;
    let curves = [
        Curve::Linear {
            slope: d("0.000001"),
            intercept: d("1"),
        },
        Curve::Exponential {
            a: d("0.5"),
            k: d("0.00001"),
        },
        Curve::Sigmoid {
            max_price: d("100"),
            k: d("0.0005"),
            midpoint: d("10000"),
        },
    ];
    for curve in curves {
        let (a, _, trader, accounts) = market(&cluster, quote_mint, curve, 150).await?;
        // watch the market account over the websocket while trading
        let pubsub =
            solana_pubsub_client::nonblocking::pubsub_client::PubsubClient::new(&cluster.ws_url)
                .await?;
        let (mut updates, unsubscribe) = pubsub.account_subscribe(&a.market, None).await?;
        let bought = cluster
            .send(
                &[trade_ix(
                    &a,
                    &accounts,
                    TradeKind::BuyExactOut {
                        amount: 1_000 * TOKEN,
                        max_quote_in: u64::MAX,
                    },
                )],
                &[&trader],
            )
            .await?;
        let event = &bought.events::<TradeExecuted>(&rwa_market::ID)[0];
        let expected = rwa_math::CurveMarket::new(curve, 6, 6)?.buy_cost(0, 1_000 * TOKEN)?;
        assert_eq!(
            (event.side, event.amount, event.quote_amount),
            (TradeSide::Buy, 1_000 * TOKEN, expected)
        );
        let update = tokio::time::timeout(std::time::Duration::from_secs(10), updates.next())
            .await?
            .expect("market update");
        assert_eq!(update.value.owner, rwa_market::ID.to_string());
        unsubscribe().await;
        drop(updates);
        pubsub.shutdown().await?;

        let sold = cluster
            .send(
                &[trade_ix(
                    &a,
                    &accounts,
                    TradeKind::SellExactIn {
                        amount: 400 * TOKEN,
                        min_quote_out: 1,
                    },
                )],
                &[&trader],
            )
            .await?;
        assert_eq!(
            sold.events::<TradeExecuted>(&rwa_market::ID)[0].side,
            TradeSide::Sell
        );
        let state: rwa_market::state::Market = cluster.account(&a.market).await?;
        assert_eq!(state.supply, 600 * TOKEN);
        assert_eq!(
            cluster.token_balance(&accounts.rwa_account).await?,
            600 * TOKEN
        );
        assert_eq!(
            cluster.token_balance(&a.reserve_vault).await?,
            state.reserve
        );
    }
    cluster.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn venue_story_post_a_quote_and_fill_it() -> Result<()> {
    let cluster = Cluster::connect().await?;
    let quote_mint = cluster.create_mint(6).await?;
    let (a, _, taker, taker_accounts) = market(
        &cluster,
        quote_mint,
        Curve::Linear {
            slope: d("0.001"),
            intercept: d("1"),
        },
        150,
    )
    .await?;
    // the maker buys inventory on the curve (price 1 -> 1.1), escrows it and quotes inside the curve
    let (maker_owner, _, maker_accounts) = market_trader(&cluster, &a, quote_mint).await?;
    cluster
        .send(
            &[trade_ix(
                &a,
                &maker_accounts,
                TradeKind::BuyExactOut {
                    amount: 100 * TOKEN,
                    max_quote_in: u64::MAX,
                },
            )],
            &[&maker_owner],
        )
        .await?;
    let maker = MakerAddresses::derive(&a.market, &maker_owner.pubkey());
    cluster
        .send(
            &[
                open_maker_ix(&a, &maker),
                maker_inventory_ix(&a, &maker, &maker_accounts, true, 100 * TOKEN, 50 * TOKEN),
            ],
            &[&maker_owner],
        )
        .await?;
    let slot = cluster.slot().await?;
    let quote = QuoteParams {
        bid_price: d("1.0").raw(),
        bid_size: 40 * TOKEN,
        ask_price: d("1.05").raw(),
        ask_size: 60 * TOKEN,
        expiry_slot: slot + 2_000,
        sequence: 1,
    };
    cluster
        .send(&[post_quote_ix(&a, &maker, quote)], &[&maker_owner])
        .await?;
    // a replayed sequence is refused (in a later slot, so it is a new transaction)
    cluster.wait_for_slot(cluster.slot().await? + 1).await?;
    let code = cluster
        .refused(&[post_quote_ix(&a, &maker, quote)], &[&maker_owner])
        .await?;
    assert_eq!(
        code,
        program_error(rwa_market::errors::MarketError::InvalidSequence as u32)
    );
    let swap = swap_ix(
        &a,
        &taker_accounts,
        TradeSide::Buy,
        SwapKind::ExactOut {
            amount_out: 80 * TOKEN,
            max_amount_in: u64::MAX,
        },
        &[maker],
    );
    let landed = cluster.send(&[swap], &[&taker]).await?;
    let fills: Vec<QuoteFilled> = landed.events(&rwa_market::ID);
    assert_eq!((fills[0].maker, fills[0].size), (maker.maker, 60 * TOKEN));
    let summary = &landed.events::<SwapExecuted>(&rwa_market::ID)[0];
    assert_eq!(
        (summary.amount, summary.curve_amount),
        (80 * TOKEN, 20 * TOKEN)
    );
    let state: rwa_market::state::Maker = cluster.account(&maker.maker).await?;
    assert_eq!((state.ask_size, state.rwa_inventory), (0, 40 * TOKEN));
    cluster.shutdown().await;
    Ok(())
}

async fn market_trader(
    cluster: &Cluster,
    a: &MarketAddresses,
    quote_mint: Address,
) -> Result<(Keypair, Address, TraderAccounts)> {
    let (owner, accounts) = cluster
        .trader(&a.rwa_mint, &quote_mint, 10_000_000 * TOKEN)
        .await?;
    Ok((owner, accounts.quote_account, accounts))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lending_story_deposit_borrow_crash_liquidate() -> Result<()> {
    let cluster = Cluster::connect().await?;
    let usdc = cluster.create_mint(6).await?;
    // price = 0.001 * supply; a whale holds the supply; one-slot TWAP so the crash shows at once
    let (m, _, whale, whale_accounts) = market(
        &cluster,
        usdc,
        Curve::Linear {
            slope: d("0.001"),
            intercept: Decimal::ZERO,
        },
        1,
    )
    .await?;
    cluster
        .send(
            &[trade_ix(
                &m,
                &whale_accounts,
                TradeKind::BuyExactOut {
                    amount: 100_000 * TOKEN,
                    max_quote_in: u64::MAX,
                },
            )],
            &[&whale],
        )
        .await?;
    let admin = cluster.funded_keypair(2_000_000_000).await?;
    let a = LendingAddresses::derive(usdc, 9);
    let params = rwa_lending::instructions::LendingMarketParams {
        reserve_factor_bps: 1_000,
        sigma_p_cap: 0,
        slots_per_year: rwa_math::lending::DEFAULT_SLOTS_PER_YEAR,
        risk_authority: admin.pubkey(),
    };
    cluster
        .send(
            &[init_lending_market_ix(&admin.pubkey(), &a, 9, params)],
            &[&admin],
        )
        .await?;
    cluster
        .send(
            &[add_collateral_ix(
                &admin.pubkey(),
                &a,
                &m,
                default_collateral_params(),
            )],
            &[&admin],
        )
        .await?;
    let whale_shares = cluster
        .create_token_account(&a.share_mint, &whale.pubkey())
        .await?;
    cluster
        .send(
            &[liquidity_ix(
                &a,
                &whale.pubkey(),
                &whale_accounts.quote_account,
                &whale_shares,
                true,
                100_000 * TOKEN,
            )],
            &[&whale],
        )
        .await?;

    // the borrower gets 100 tokens from the whale and pledges them
    let borrower = cluster.funded_keypair(2_000_000_000).await?;
    let borrower_rwa = cluster
        .create_token_account(&m.rwa_mint, &borrower.pubkey())
        .await?;
    let borrower_quote = cluster
        .create_token_account(&usdc, &borrower.pubkey())
        .await?;
    let transfer = anchor_spl::token::spl_token::instruction::transfer(
        &anchor_spl::token::spl_token::ID,
        &whale_accounts.rwa_account,
        &borrower_rwa,
        &whale.pubkey(),
        &[],
        100 * TOKEN,
    )?;
    cluster.send(&[transfer], &[&whale]).await?;
    cluster
        .send(
            &[
                init_obligation_ix(&borrower.pubkey(), &a),
                deposit_collateral_ix(&a, &borrower.pubkey(), &m, &borrower_rwa, 100 * TOKEN),
            ],
            &[&borrower],
        )
        .await?;
    let next = cluster.slot().await? + 2;
    cluster.wait_for_slot(next).await?;
    cluster.send(&[update_oracle_ix(&m)], &[]).await?;
    let next = cluster.slot().await? + 2;
    cluster.wait_for_slot(next).await?;
    let markets = [m];
    let mut borrow = refresh_all(&a, &borrower.pubkey(), &markets);
    borrow.push(borrow_ix(
        &a,
        &borrower.pubkey(),
        &borrower_quote,
        6_250 * TOKEN,
        &markets,
    ));
    cluster.send(&borrow, &[&borrower]).await?;
    assert_eq!(cluster.token_balance(&borrower_quote).await?, 6_250 * TOKEN);

    // 30% crash: the whale sells 30% of the supply
    let supply = cluster
        .account::<rwa_market::state::Market>(&m.market)
        .await?
        .supply;
    cluster
        .send(
            &[trade_ix(
                &m,
                &whale_accounts,
                TradeKind::SellExactIn {
                    amount: supply * 3 / 10,
                    min_quote_out: 0,
                },
            )],
            &[&whale],
        )
        .await?;
    let next = cluster.slot().await? + 2;
    cluster.wait_for_slot(next).await?;
    cluster.send(&[update_oracle_ix(&m)], &[]).await?;
    let next = cluster.slot().await? + 2;
    cluster.wait_for_slot(next).await?;
    let liquidator_rwa = cluster
        .create_token_account(&m.rwa_mint, &whale.pubkey())
        .await?;
    let mut liquidate = refresh_all(&a, &borrower.pubkey(), &markets);
    liquidate.push(liquidate_ix(
        &a,
        &whale.pubkey(),
        &borrower.pubkey(),
        &m,
        &whale_accounts.quote_account,
        &liquidator_rwa,
        u64::MAX,
        1,
        &markets,
    ));
    let landed = cluster.send(&liquidate, &[&whale]).await?;
    let event = &landed.events::<rwa_lending::events::Liquidated>(&rwa_lending::ID)[0];
    assert!(event.repaid >= 3_125 * TOKEN && event.collateral_seized > 0);
    let state: rwa_lending::state::LendingMarket = cluster.account(&a.lending_market).await?;
    assert_eq!(state.bad_debt, 0);
    cluster.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dao_story_stake_propose_vote_execute_and_enforce() -> Result<()> {
    let cluster = Cluster::connect().await?;
    let stake_mint = cluster.create_mint(6).await?;
    let dao = DaoAddresses::derive(stake_mint, 1);
    let veto = Keypair::new();
    let config = rule_dao::state::DaoConfig {
        // Long enough for two votes to confirm (a transaction confirms a slot after it lands).
        voting_period_slots: 50,
        hold_up_slots: 2,
        unstake_cooldown_slots: 2,
        quorum_bps: 2_000,
        threshold_bps: 6_667,
        min_proposal_stake: 1,
    };
    cluster
        .send(
            &[create_dao_ix(
                &cluster.payer.pubkey(),
                &dao,
                1,
                config,
                rwa_rules::RuleValues::default(),
                veto.pubkey(),
            )],
            &[],
        )
        .await?;
    let mut voters = Vec::new();
    for stake in [600 * TOKEN, 400 * TOKEN] {
        let voter = cluster.funded_keypair(2_000_000_000).await?;
        let account = cluster
            .create_token_account(&stake_mint, &voter.pubkey())
            .await?;
        cluster.mint_to(&stake_mint, &account, stake).await?;
        cluster
            .send(
                &[staking_ix(
                    &dao,
                    &voter.pubkey(),
                    &account,
                    StakeAction::Stake(stake),
                )],
                &[&voter],
            )
            .await?;
        voters.push(voter);
    }
    let next = cluster.slot().await? + 1;
    cluster.wait_for_slot(next).await?;
    let rules = rwa_rules::RuleValues {
        max_trade_amount: 10 * TOKEN,
        ..Default::default()
    };
    let proposal = rule_dao::state::ProposalKind::Rules { rules };
    cluster
        .send(
            &[propose_ix(
                &dao,
                &voters[0].pubkey(),
                0,
                proposal,
                "ipfs://max-trade",
            )],
            &[&voters[0]],
        )
        .await?;
    for voter in &voters {
        cluster
            .send(
                &[vote_ix(
                    &dao,
                    &voter.pubkey(),
                    0,
                    rule_dao::state::VoteChoice::Yes,
                )],
                &[voter],
            )
            .await?;
    }
    let proposal_state: rule_dao::state::Proposal = cluster.account(&dao.proposal(0)).await?;
    cluster
        .wait_for_slot(proposal_state.voting_ends_slot + config.hold_up_slots + 1)
        .await?;
    cluster
        .send(&[execute_ix(&dao, &cluster.payer.pubkey(), 0, None)], &[])
        .await?;
    let rule_set: rule_dao::state::RuleSet = cluster.account(&dao.rule_set).await?;
    assert_eq!(
        (rule_set.version, rule_set.rules.max_trade_amount),
        (2, 10 * TOKEN)
    );

    // a market joins the DAO and the rule bites
    let quote_mint = cluster.create_mint(6).await?;
    let (mut m, authority, trader, accounts) = market(
        &cluster,
        quote_mint,
        Curve::Linear {
            slope: d("0.001"),
            intercept: d("1"),
        },
        150,
    )
    .await?;
    cluster
        .send(
            &[attach_rule_set_ix(&m, &authority.pubkey(), &dao.rule_set)],
            &[&authority],
        )
        .await?;
    m.rule_set = Some(dao.rule_set);
    let too_big = trade_ix(
        &m,
        &accounts,
        TradeKind::BuyExactOut {
            amount: 11 * TOKEN,
            max_quote_in: u64::MAX,
        },
    );
    let code = cluster.refused(&[too_big], &[&trader]).await?;
    assert_eq!(
        code,
        program_error(rwa_market::errors::MarketError::MaxTradeSizeExceeded as u32)
    );
    cluster
        .send(
            &[trade_ix(
                &m,
                &accounts,
                TradeKind::BuyExactOut {
                    amount: 10 * TOKEN,
                    max_quote_in: u64::MAX,
                },
            )],
            &[&trader],
        )
        .await?;
    cluster.shutdown().await;
    Ok(())
}
