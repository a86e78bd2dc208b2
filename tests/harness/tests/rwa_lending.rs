//! rwa_lending in a real runtime, against real rwa_market oracles: accrual, risk-driven terms, a 30%
//! crash with liquidations, oracle refusals (stale, uncertain, foreign, Pyth), the same-transaction
//! refresh rule, the portfolio-volatility cap, and share accounting.

use proptest::prelude::*;
use rwa_harness::lending::*;
use rwa_harness::market::*;
use rwa_harness::solana_address::Address;
use rwa_harness::solana_keypair::Keypair;
use rwa_harness::solana_signer::Signer;
use rwa_harness::{TestEnv, TxFailure, TxSuccess};
use rwa_lending::errors::LendingError;
use rwa_lending::events::{BadDebtRecorded, CollateralRefreshed, Liquidated};
use rwa_lending::instructions::LendingMarketParams;
use rwa_lending::state::{CollateralConfig, CollateralParams, LendingMarket, Obligation};
use rwa_math::lending::DEFAULT_SLOTS_PER_YEAR;
use rwa_math::{Curve, Decimal};

const TOKEN: u64 = 1_000_000;

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn code(error: LendingError) -> u32 {
    anchor_lang::error::ERROR_CODE_OFFSET + error as u32
}

#[track_caller]
fn expect(result: Result<TxSuccess, TxFailure>, expected: u32) {
    match result {
        Ok(_) => panic!("succeeded, expected error {expected}"),
        Err(failure) => assert_eq!(failure.custom_code(), Some(expected), "{failure}"),
    }
}

struct Borrower {
    keypair: Keypair,
    accounts: TraderAccounts,
}

struct Lending {
    env: TestEnv,
    a: LendingAddresses,
    admin: Keypair,
    usdc: Address,
    markets: Vec<MarketAddresses>,
    whale: Keypair,
    whale_accounts: Vec<TraderAccounts>,
    /// Each market's authority (opens its primary market).
    authorities: Vec<Keypair>,
}

/// A USDC lending market with `count` RWA markets as collateral (price = 0.001 * supply; the
/// whale's 100,000 tokens put it at 100), one-slot TWAP windows, 1M USDC of deposits.
fn lending(count: usize, params: CollateralParams, sigma_p_cap: u128) -> Lending {
    let mut env = TestEnv::new();
    let usdc = env.create_mint(6);
    let admin = env.new_funded_keypair(10_000_000_000);
    let a = LendingAddresses::derive(usdc, 1);
    let market_params = LendingMarketParams {
        reserve_factor_bps: 1_000,
        sigma_p_cap,
        slots_per_year: DEFAULT_SLOTS_PER_YEAR,
        risk_authority: admin.pubkey(),
    };
    env.send(
        &[init_lending_market_ix(
            &admin.pubkey(),
            &a,
            1,
            market_params,
        )],
        &[&admin],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let whale = env.new_funded_keypair(10_000_000_000);
    let whale_quote = env.create_token_account(&usdc, &whale.pubkey());
    env.mint_to(&usdc, &whale_quote, 1_000_000_000 * TOKEN);
    let mut markets = Vec::new();
    let mut whale_accounts = Vec::new();
    let mut authorities = Vec::new();
    for i in 0..count {
        let mut args = market_args(
            Curve::Linear {
                slope: d("0.001"),
                intercept: Decimal::ZERO,
            },
            6,
            10_000_000 * TOKEN,
        );
        args.twap_window_slots = 1;
        args.ewma_lambda_bps = 9_999;
        args.fee_bps = 0;
        args.symbol = format!("RWA{i}");
        let (fixture, _) = env.create_market(Some(usdc), args).unwrap();
        let m = fixture.addresses;
        authorities.push(fixture.authority);
        let rwa = env.create_token_account(&m.rwa_mint, &whale.pubkey());
        let accounts = TraderAccounts {
            trader: whale.pubkey(),
            rwa_account: rwa,
            quote_account: whale_quote,
        };
        env.send(
            &[trade_ix(
                &m,
                &accounts,
                TradeKind::BuyExactOut {
                    amount: 100_000 * TOKEN,
                    max_quote_in: u64::MAX,
                },
            )],
            &[&whale],
        )
        .unwrap();
        env.send(
            &[add_collateral_ix(&admin.pubkey(), &a, &m, params)],
            &[&admin],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        markets.push(m);
        whale_accounts.push(accounts);
    }
    let whale_shares = env.create_token_account(&a.share_mint, &whale.pubkey());
    env.send(
        &[liquidity_ix(
            &a,
            &whale.pubkey(),
            &whale_quote,
            &whale_shares,
            true,
            1_000_000 * TOKEN,
        )],
        &[&whale],
    )
    .unwrap();
    let mut l = Lending {
        env,
        a,
        admin,
        usdc,
        markets,
        whale,
        whale_accounts,
        authorities,
    };
    l.tick();
    l
}

struct Liquidator {
    keypair: Keypair,
    quote: Address,
    rwa: Address,
}

impl Lending {
    /// Next slot, fresh oracle observations.
    fn tick(&mut self) {
        self.env.advance_slots(1);
        let updates: Vec<_> = self.markets.iter().map(update_oracle_ix).collect();
        self.env.send(&updates, &[]).unwrap();
    }

    /// A borrower holding `amount` tokens of each market (bought from the whale's curve side),
    /// with an obligation holding `deposit` of each as collateral.
    fn borrower(&mut self, amount: u64, deposit: u64) -> Borrower {
        let keypair = self.env.new_funded_keypair(10_000_000_000);
        let quote = self.env.create_token_account(&self.usdc, &keypair.pubkey());
        let mut accounts = TraderAccounts {
            trader: keypair.pubkey(),
            rwa_account: Address::default(),
            quote_account: quote,
        };
        self.env
            .send(
                &[init_obligation_ix(&keypair.pubkey(), &self.a)],
                &[&keypair],
            )
            .unwrap();
        for m in self.markets.clone() {
            let rwa = self
                .env
                .create_token_account(&m.rwa_mint, &keypair.pubkey());
            // transfer from the whale rather than buying, so prices stay put
            let transfer = anchor_spl::token::spl_token::instruction::transfer(
                &anchor_spl::token::spl_token::ID,
                &self.whale_accounts[self
                    .markets
                    .iter()
                    .position(|x| x.market == m.market)
                    .unwrap()]
                .rwa_account,
                &rwa,
                &self.whale.pubkey(),
                &[],
                amount,
            )
            .unwrap();
            let whale = self.whale.insecure_clone();
            self.env.send(&[transfer], &[&whale]).unwrap();
            if deposit > 0 {
                self.env
                    .send(
                        &[deposit_collateral_ix(
                            &self.a,
                            &keypair.pubkey(),
                            &m,
                            &rwa,
                            deposit,
                        )],
                        &[&keypair],
                    )
                    .unwrap();
            }
            accounts.rwa_account = rwa;
        }
        Borrower { keypair, accounts }
    }

    fn borrow(&mut self, who: &Borrower, amount: u64) -> Result<TxSuccess, TxFailure> {
        let mut instructions = refresh_all(&self.a, &who.keypair.pubkey(), &self.markets);
        instructions.push(borrow_ix(
            &self.a,
            &who.keypair.pubkey(),
            &who.accounts.quote_account,
            amount,
            &self.markets,
        ));
        self.env.send(&instructions, &[&who.keypair])
    }

    fn refresh(&mut self, owner: &Address) -> TxSuccess {
        let instructions = refresh_all(&self.a, owner, &self.markets);
        self.env
            .send(&instructions, &[])
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn obligation(&self, owner: &Address) -> Obligation {
        self.env.anchor_account(&self.a.obligation(owner))
    }

    fn config(&self, market: usize) -> CollateralConfig {
        self.env
            .anchor_account(&self.a.collateral(&self.markets[market].market).config)
    }

    fn state(&self) -> LendingMarket {
        self.env.anchor_account(&self.a.lending_market)
    }

    /// A liquidator holding 100,000 USDC and an empty account for market 0's token.
    fn liquidator(&mut self) -> Liquidator {
        let keypair = self.env.new_funded_keypair(10_000_000_000);
        let quote = self.env.create_token_account(&self.usdc, &keypair.pubkey());
        self.env.mint_to(&self.usdc, &quote, 100_000 * TOKEN);
        let rwa = self
            .env
            .create_token_account(&self.markets[0].rwa_mint, &keypair.pubkey());
        Liquidator {
            keypair,
            quote,
            rwa,
        }
    }

    /// The whale sells `fraction_bps` of market `i`'s supply to the curve.
    fn crash(&mut self, i: usize, fraction_bps: u64) {
        let supply = self.env.market_state(&self.markets[i]).supply;
        let amount = supply * fraction_bps / 10_000;
        let ix = trade_ix(
            &self.markets[i],
            &self.whale_accounts[i],
            TradeKind::SellExactIn {
                amount,
                min_quote_out: 0,
            },
        );
        let whale = self.whale.insecure_clone();
        self.env.send(&[ix], &[&whale]).unwrap();
    }
}

#[test]
fn interest_accrues_as_closed_form_continuous_compounding() {
    let mut l = lending(1, default_collateral_params(), 0);
    let b = l.borrower(1_000 * TOKEN, 1_000 * TOKEN);
    l.borrow(&b, 10_000 * TOKEN).unwrap();
    let before = l.obligation(&b.keypair.pubkey());
    let rate = Decimal::from_raw(before.rate);
    let slots = 2_000_000;
    l.env.advance_slots(slots);
    l.tick();
    let result = l.refresh(&b.keypair.pubkey());
    let after = l.obligation(&b.keypair.pubkey());
    // reference: D * e^(r t), computed in f64 independently of the program's fixed point
    let reference = 10_000.0
        * TOKEN as f64
        * (rate.to_f64() * (slots + 1) as f64 / DEFAULT_SLOTS_PER_YEAR as f64).exp();
    assert!(
        (after.debt as f64 - reference).abs() <= reference * 1e-9 + 2.0,
        "debt {} reference {reference}",
        after.debt
    );
    let interest = after.debt - before.debt;
    let events: Vec<rwa_lending::events::ObligationRefreshed> = result.events(&rwa_lending::ID);
    assert_eq!(events[0].interest_accrued, interest);
    // the market's debt and the protocol's 10% share grow with it
    let market = l.state();
    assert_eq!(market.total_debt, after.debt);
    assert_eq!(market.protocol_fees, interest / 10);
}

#[test]
fn rate_and_collateral_ratio_follow_sigma() {
    let mut params = default_collateral_params();
    params.gamma = d("0.25").raw();
    let mut l = lending(1, params, 0);
    // price path: 100 -> 105 -> 99, one observation every 50 slots, builds EWMA variance
    for (fraction, buy) in [(500, true), (600, false)] {
        l.env.advance_slots(50);
        let supply = l.env.market_state(&l.markets[0]).supply;
        let kind = if buy {
            TradeKind::BuyExactOut {
                amount: supply * fraction / 10_000,
                max_quote_in: u64::MAX,
            }
        } else {
            TradeKind::SellExactIn {
                amount: supply * fraction / 10_000,
                min_quote_out: 0,
            }
        };
        let whale = l.whale.insecure_clone();
        l.env
            .send(
                &[trade_ix(&l.markets[0], &l.whale_accounts[0], kind)],
                &[&whale],
            )
            .unwrap();
    }
    l.env.advance_slots(50);
    l.tick();
    let result = l
        .env
        .send(
            &[refresh_collateral_ix(&l.a, &l.markets[0], None, None)],
            &[],
        )
        .unwrap();
    let event = &result.events::<CollateralRefreshed>(&rwa_lending::ID)[0];
    let oracle = l.env.oracle_state(&l.markets[0]);
    let measured = rwa_math::lending::annualize(
        oracle.volatility_per_slot(l.env.slot()),
        DEFAULT_SLOTS_PER_YEAR,
    )
    .unwrap();
    // the terms use sigma capped at the collateral's max_sigma (5 = 500% here)
    let sigma = measured.min(d("5"));
    assert!(sigma > Decimal::ZERO);
    assert_eq!(event.sigma, sigma.raw());
    // r = r0 + beta * sigma; CR = CRmin + gamma * sigma
    assert_eq!(
        event.rate,
        rwa_math::lending::borrow_rate(d("0.02"), d("0.5"), sigma)
            .unwrap()
            .raw()
    );
    let expected_cr = 15_000.0 + 0.25 * sigma.to_f64() * 10_000.0;
    assert!(
        (event.collateral_ratio_bps as f64 - expected_cr).abs() <= 1.0,
        "{} vs {expected_cr}",
        event.collateral_ratio_bps
    );
    let config = l.config(0);
    assert_eq!(
        (config.rate, config.cr_bps),
        (event.rate, event.collateral_ratio_bps)
    );
}

#[test]
fn a_30_percent_drop_liquidates_only_the_thin_obligations_without_bad_debt() {
    let mut l = lending(1, default_collateral_params(), 0);
    // collateral 100 tokens at price 100 = 10,000 USDC (low price a hair below)
    let thin = l.borrower(100 * TOKEN, 100 * TOKEN); // borrows at CR ~1.6
    let thick = l.borrower(100 * TOKEN, 100 * TOKEN); // borrows at CR ~1.8
    l.borrow(&thin, 6_250 * TOKEN).unwrap();
    l.borrow(&thick, 5_500 * TOKEN).unwrap();
    // above the 150% CR: refused
    expect(
        l.borrow(&thick, 1_300 * TOKEN),
        code(LendingError::BorrowLimitExceeded),
    );

    l.crash(0, 3_000);
    l.env.advance_slots(100);
    l.tick();
    let price = Decimal::from_raw(l.config(0).price);
    l.refresh(&thin.keypair.pubkey());
    l.refresh(&thick.keypair.pubkey());
    let price_after = Decimal::from_raw(l.config(0).price);
    assert!(
        price_after.to_f64() < price.to_f64() || price.to_f64() < 71.0,
        "price fell: {price} -> {price_after}"
    );
    assert!(
        (price_after.to_f64() - 70.0).abs() < 0.5,
        "price after the crash {price_after}"
    );
    assert!(
        l.obligation(&thin.keypair.pubkey()).is_liquidatable(),
        "CR 1.6 * 0.7 = 1.12 < 1.2"
    );
    assert!(
        !l.obligation(&thick.keypair.pubkey()).is_liquidatable(),
        "CR 1.82 * 0.7 = 1.27 > 1.2"
    );

    // a liquidator with USDC and an RWA account
    let Liquidator {
        keypair: liquidator,
        quote: liquidator_quote,
        rwa: liquidator_rwa,
    } = l.liquidator();
    let markets = l.markets.clone();
    let liquidate = |l: &mut Lending, owner: &Address, repay: u64, min_out: u64| {
        let mut instructions = refresh_all(&l.a, owner, &markets);
        instructions.push(liquidate_ix(
            &l.a,
            &liquidator.pubkey(),
            owner,
            &markets[0],
            &liquidator_quote,
            &liquidator_rwa,
            repay,
            min_out,
            &markets,
        ));
        l.env.send(&instructions, &[&liquidator])
    };
    // the healthy one cannot be liquidated; slippage bound holds
    expect(
        liquidate(&mut l, &thick.keypair.pubkey(), 1_000 * TOKEN, 0),
        code(LendingError::ObligationHealthy),
    );
    expect(
        liquidate(&mut l, &thin.keypair.pubkey(), 1_000 * TOKEN, 1_000 * TOKEN),
        code(LendingError::LiquidationSlippage),
    );
    // close factor: asking for everything repays half
    let first = liquidate(&mut l, &thin.keypair.pubkey(), u64::MAX, 1).unwrap();
    let event = &first.events::<Liquidated>(&rwa_lending::ID)[0];
    // half of the debt as it stood (interest included), rounded up
    assert_eq!(
        event.repaid,
        (event.repaid + event.debt_after).div_ceil(2),
        "repaid {}",
        event.repaid
    );
    assert!(event.repaid >= 3_125 * TOKEN);
    // seized = repaid * 1.05 / price
    let expected_seized = event.repaid as f64 * 1.05 / price_after.to_f64();
    assert!((event.collateral_seized as f64 - expected_seized).abs() <= 2.0);
    let mut rounds = 1;
    while l.obligation(&thin.keypair.pubkey()).is_liquidatable() {
        liquidate(&mut l, &thin.keypair.pubkey(), u64::MAX, 1).unwrap();
        rounds += 1;
        assert!(rounds < 5, "liquidation does not restore health");
    }
    let restored = l.obligation(&thin.keypair.pubkey());
    assert!(
        restored.debt > 0 && restored.liquidation_limit >= restored.debt,
        "health restored after {rounds} liquidations"
    );
    assert_eq!(
        l.state().bad_debt,
        0,
        "no bad debt while CR held above 100%"
    );
}

#[test]
fn exhausted_collateral_records_bad_debt() {
    let mut l = lending(1, default_collateral_params(), 0);
    let b = l.borrower(100 * TOKEN, 100 * TOKEN);
    l.borrow(&b, 6_600 * TOKEN).unwrap();
    l.crash(0, 6_000); // price 100 -> 40: collateral 4,000 against 6,600 of debt
    l.env.advance_slots(100);
    l.tick();
    let Liquidator {
        keypair: liquidator,
        quote: liquidator_quote,
        rwa: liquidator_rwa,
    } = l.liquidator();
    let owner = b.keypair.pubkey();
    let markets = l.markets.clone();
    let mut bad_debt_events = Vec::new();
    for _ in 0..4 {
        if l.obligation(&owner).debt == 0 {
            break;
        }
        let mut instructions = refresh_all(&l.a, &owner, &markets);
        instructions.push(liquidate_ix(
            &l.a,
            &liquidator.pubkey(),
            &owner,
            &markets[0],
            &liquidator_quote,
            &liquidator_rwa,
            u64::MAX,
            1,
            &markets,
        ));
        let result = l
            .env
            .send(&instructions, &[&liquidator])
            .unwrap_or_else(|e| panic!("{e}"));
        bad_debt_events.extend(result.events::<BadDebtRecorded>(&rwa_lending::ID));
    }
    let obligation = l.obligation(&owner);
    assert_eq!((obligation.debt, obligation.active().count()), (0, 0));
    assert_eq!(bad_debt_events.len(), 1);
    let market = l.state();
    assert_eq!(market.bad_debt, bad_debt_events[0].amount);
    assert!(market.bad_debt > 0);
    assert_eq!(market.total_debt, 0);
}

#[test]
fn stale_uncertain_and_foreign_oracles_are_refused() {
    let mut l = lending(2, default_collateral_params(), 0);
    let m0 = l.markets[0];
    // another market's oracle, and a copy of ours owned by another program
    expect(
        l.env.send(
            &[refresh_collateral_ix(
                &l.a,
                &m0,
                Some(l.markets[1].oracle),
                None,
            )],
            &[],
        ),
        code(LendingError::InvalidOracle),
    );
    let fake = Address::new_unique();
    let mut copy = l.env.account(&m0.oracle).unwrap();
    copy.owner = anchor_spl::token::spl_token::ID;
    l.env.svm.set_account(fake, copy).unwrap();
    expect(
        l.env
            .send(&[refresh_collateral_ix(&l.a, &m0, Some(fake), None)], &[]),
        anchor_lang::error::ErrorCode::AccountOwnedByWrongProgram as u32,
    );
    // stale: no oracle write for longer than max_staleness_slots. The refresh still prices
    // the collateral (the accumulator extrapolates the curve's unchanged spot exactly) so repay
    // and liquidation go on, but new borrowing waits for a fresh write.
    let who = l.borrower(100 * TOKEN, 100 * TOKEN);
    l.env.advance_slots(1_001);
    l.env
        .send(&[refresh_collateral_ix(&l.a, &m0, None, None)], &[])
        .unwrap();
    expect(l.borrow(&who, TOKEN), code(LendingError::StaleOracle));
    l.tick();
    l.borrow(&who, TOKEN).unwrap();

    // uncertain: a confidence limit tighter than the market's volatility band refuses new
    // borrowing, never the refresh (a wide band must not shield positions from liquidation)
    let mut tight = default_collateral_params();
    tight.max_confidence_bps = 1;
    let mut l = lending(1, tight, 0);
    let who = l.borrower(100 * TOKEN, 100 * TOKEN);
    l.crash(0, 1_000);
    l.env.advance_slots(10);
    l.tick();
    l.env
        .send(
            &[refresh_collateral_ix(&l.a, &l.markets[0], None, None)],
            &[],
        )
        .unwrap();
    assert!(l.config(0).confidence_bps > 1);
    expect(
        l.borrow(&who, TOKEN),
        code(LendingError::OracleTooUncertain),
    );
}

#[test]
fn pyth_feed_is_checked_for_owner_verification_feed_age_and_agreement() {
    let feed = [7u8; 32];
    let mut params = default_collateral_params();
    params.pyth_feed_id = feed;
    let mut l = lending(1, params, 0);
    let m = l.markets[0];
    let now = l
        .env
        .svm
        .get_sysvar::<rwa_harness::solana_clock::Clock>()
        .unix_timestamp;
    let pyth = Address::new_unique();
    let refresh = |l: &mut Lending, account: Option<Address>| {
        l.env
            .send(&[refresh_collateral_ix(&l.a, &m, None, account)], &[])
    };
    // missing
    expect(refresh(&mut l, None), code(LendingError::InvalidPythPrice));
    // good: 100.5 with conf 0.1 (exponent -8)
    write_pyth_price(
        &mut l.env,
        pyth,
        feed,
        10_050_000_000,
        10_000_000,
        -8,
        now,
        true,
    );
    let result = refresh(&mut l, Some(pyth)).unwrap();
    let event = &result.events::<CollateralRefreshed>(&rwa_lending::ID)[0];
    assert!(event.used_pyth);
    assert_eq!(event.price, d("100.5").raw());
    assert!(event.price_low <= d("100.4").raw());
    // only partially verified
    write_pyth_price(
        &mut l.env,
        pyth,
        feed,
        10_050_000_000,
        10_000_000,
        -8,
        now,
        false,
    );
    expect(
        refresh(&mut l, Some(pyth)),
        code(LendingError::InvalidPythPrice),
    );
    // another feed
    write_pyth_price(
        &mut l.env,
        pyth,
        [8u8; 32],
        10_050_000_000,
        10_000_000,
        -8,
        now,
        true,
    );
    expect(
        refresh(&mut l, Some(pyth)),
        code(LendingError::InvalidPythPrice),
    );
    // too old
    write_pyth_price(
        &mut l.env,
        pyth,
        feed,
        10_050_000_000,
        10_000_000,
        -8,
        now - 120,
        true,
    );
    expect(
        refresh(&mut l, Some(pyth)),
        code(LendingError::InvalidPythPrice),
    );
    // disagrees with the TWAP (110 vs 100: 10% > 5%)
    write_pyth_price(
        &mut l.env,
        pyth,
        feed,
        11_000_000_000,
        10_000_000,
        -8,
        now,
        true,
    );
    expect(
        refresh(&mut l, Some(pyth)),
        code(LendingError::OracleDivergence),
    );
    // too uncertain (conf 30%)
    write_pyth_price(
        &mut l.env,
        pyth,
        feed,
        10_050_000_000,
        3_000_000_000,
        -8,
        now,
        true,
    );
    expect(
        refresh(&mut l, Some(pyth)),
        code(LendingError::OracleTooUncertain),
    );
    // owned by someone else than the Pyth receiver
    let mut foreign = l.env.account(&pyth).unwrap();
    foreign.owner = anchor_spl::token::spl_token::ID;
    let forged = Address::new_unique();
    l.env.svm.set_account(forged, foreign).unwrap();
    expect(
        refresh(&mut l, Some(forged)),
        anchor_lang::error::ErrorCode::AccountOwnedByWrongProgram as u32,
    );
}

#[test]
fn borrow_withdraw_and_liquidate_need_a_refresh_right_before() {
    let mut l = lending(1, default_collateral_params(), 0);
    let b = l.borrower(200 * TOKEN, 100 * TOKEN);
    let owner = b.keypair.pubkey();
    let markets = l.markets.clone();
    // no refresh at all
    expect(
        l.env.send(
            &[borrow_ix(
                &l.a,
                &owner,
                &b.accounts.quote_account,
                TOKEN,
                &markets,
            )],
            &[&b.keypair],
        ),
        code(LendingError::RefreshRequired),
    );
    // refreshed in an earlier transaction of the same slot: still refused
    l.refresh(&owner);
    expect(
        l.env.send(
            &[borrow_ix(
                &l.a,
                &owner,
                &b.accounts.quote_account,
                TOKEN,
                &markets,
            )],
            &[&b.keypair],
        ),
        code(LendingError::RefreshRequired),
    );
    // refresh, then something else, then borrow: refused
    let mut instructions = refresh_all(&l.a, &owner, &markets);
    instructions.push(deposit_collateral_ix(
        &l.a,
        &owner,
        &markets[0],
        &b.accounts.rwa_account,
        1,
    ));
    instructions.push(borrow_ix(
        &l.a,
        &owner,
        &b.accounts.quote_account,
        TOKEN,
        &markets,
    ));
    expect(
        l.env.send(&instructions, &[&b.keypair]),
        code(LendingError::RefreshRequired),
    );
    // the collateral refresh alone is not enough either: the obligation refresh must be last
    let mut instructions: Vec<_> = markets
        .iter()
        .map(|m| refresh_collateral_ix(&l.a, m, None, None))
        .collect();
    instructions.push(borrow_ix(
        &l.a,
        &owner,
        &b.accounts.quote_account,
        TOKEN,
        &markets,
    ));
    expect(
        l.env.send(&instructions, &[&b.keypair]),
        code(LendingError::RefreshRequired),
    );
    l.borrow(&b, TOKEN).unwrap();
    let withdraw = withdraw_collateral_ix(
        &l.a,
        &owner,
        &markets[0],
        &b.accounts.rwa_account,
        TOKEN,
        &markets,
    );
    expect(
        l.env.send(&[withdraw], &[&b.keypair]),
        code(LendingError::RefreshRequired),
    );
}

#[test]
fn withdraw_and_redeposit_cannot_bypass_the_borrow_limit() {
    let mut l = lending(1, default_collateral_params(), 0);
    let b = l.borrower(200 * TOKEN, 100 * TOKEN);
    let owner = b.keypair.pubkey();
    let markets = l.markets.clone();
    l.borrow(&b, 6_500 * TOKEN).unwrap();
    // taking collateral out below the limit is refused
    let mut instructions = refresh_all(&l.a, &owner, &markets);
    instructions.push(withdraw_collateral_ix(
        &l.a,
        &owner,
        &markets[0],
        &b.accounts.rwa_account,
        5 * TOKEN,
        &markets,
    ));
    expect(
        l.env.send(&instructions, &[&b.keypair]),
        code(LendingError::BorrowLimitExceeded),
    );
    // depositing more and borrowing in the same transaction without a fresh refresh is refused...
    let mut instructions = refresh_all(&l.a, &owner, &markets);
    instructions.push(deposit_collateral_ix(
        &l.a,
        &owner,
        &markets[0],
        &b.accounts.rwa_account,
        100 * TOKEN,
    ));
    instructions.push(borrow_ix(
        &l.a,
        &owner,
        &b.accounts.quote_account,
        6_000 * TOKEN,
        &markets,
    ));
    expect(
        l.env.send(&instructions, &[&b.keypair]),
        code(LendingError::RefreshRequired),
    );
    // ...and a deposit-withdraw-borrow cycle still meets the limit on what remains
    l.env
        .send(
            &[deposit_collateral_ix(
                &l.a,
                &owner,
                &markets[0],
                &b.accounts.rwa_account,
                100 * TOKEN,
            )],
            &[&b.keypair],
        )
        .unwrap();
    let mut instructions = refresh_all(&l.a, &owner, &markets);
    instructions.push(withdraw_collateral_ix(
        &l.a,
        &owner,
        &markets[0],
        &b.accounts.rwa_account,
        100 * TOKEN,
        &markets,
    ));
    l.env.send(&instructions, &[&b.keypair]).unwrap();
    expect(
        l.borrow(&b, 200 * TOKEN),
        code(LendingError::BorrowLimitExceeded),
    );
    // repay by anyone, partial then full; the debt and balances follow
    let payer = l.whale.insecure_clone();
    let whale_quote = l.whale_accounts[0].quote_account;
    l.env
        .send(
            &[repay_ix(
                &l.a,
                &payer.pubkey(),
                &owner,
                &whale_quote,
                1_000 * TOKEN,
            )],
            &[&payer],
        )
        .unwrap();
    let debt = l.obligation(&owner).debt;
    assert!((5_500 * TOKEN..=5_500 * TOKEN + 10).contains(&debt));
    let before = l.env.token_balance(&whale_quote);
    l.env
        .send(
            &[repay_ix(
                &l.a,
                &payer.pubkey(),
                &owner,
                &whale_quote,
                u64::MAX,
            )],
            &[&payer],
        )
        .unwrap();
    assert_eq!(l.obligation(&owner).debt, 0);
    assert!(before - l.env.token_balance(&whale_quote) >= debt);
    expect(
        l.env.send(
            &[repay_ix(&l.a, &payer.pubkey(), &owner, &whale_quote, 1)],
            &[&payer],
        ),
        code(LendingError::NoDebt),
    );
}

#[test]
fn borrows_over_the_portfolio_volatility_cap_are_refused() {
    // give both assets the same volatility, then cap between the correlated and independent sigma_p
    let mut l = lending(2, default_collateral_params(), 0);
    for i in 0..2 {
        l.env.advance_slots(50);
        let supply = l.env.market_state(&l.markets[i]).supply;
        let whale = l.whale.insecure_clone();
        let ix = trade_ix(
            &l.markets[i],
            &l.whale_accounts[i],
            TradeKind::BuyExactOut {
                amount: supply / 20,
                max_quote_in: u64::MAX,
            },
        );
        l.env.send(&[ix], &[&whale]).unwrap();
    }
    l.env.advance_slots(50);
    l.tick();
    l.tick();
    let b = l.borrower(50 * TOKEN, 50 * TOKEN);
    let admin = l.admin.insecure_clone();
    l.env
        .send(
            &[update_correlations_ix(
                &l.a,
                &admin.pubkey(),
                uniform_correlations(10_000),
            )],
            &[&admin],
        )
        .unwrap();
    l.refresh(&b.keypair.pubkey());
    let correlated = Decimal::from_raw(l.obligation(&b.keypair.pubkey()).sigma_p);
    l.env
        .send(
            &[update_correlations_ix(
                &l.a,
                &admin.pubkey(),
                uniform_correlations(0),
            )],
            &[&admin],
        )
        .unwrap();
    l.refresh(&b.keypair.pubkey());
    let independent = Decimal::from_raw(l.obligation(&b.keypair.pubkey()).sigma_p);
    assert!(independent < correlated, "{independent} < {correlated}");
    // cap between the two, then move rho back to 1
    let cap = Decimal::from_raw((independent.raw() + correlated.raw()) / 2);
    let params = LendingMarketParams {
        reserve_factor_bps: 1_000,
        sigma_p_cap: cap.raw(),
        slots_per_year: DEFAULT_SLOTS_PER_YEAR,
        risk_authority: admin.pubkey(),
    };
    let stranger = l.env.new_funded_keypair(1_000_000_000);
    expect(
        l.env.send(
            &[update_lending_params_ix(&l.a, &stranger.pubkey(), params)],
            &[&stranger],
        ),
        code(LendingError::Unauthorized),
    );
    l.env
        .send(
            &[update_lending_params_ix(&l.a, &admin.pubkey(), params)],
            &[&admin],
        )
        .unwrap();
    l.env
        .send(
            &[update_correlations_ix(
                &l.a,
                &admin.pubkey(),
                uniform_correlations(10_000),
            )],
            &[&admin],
        )
        .unwrap();
    expect(
        l.borrow(&b, 100 * TOKEN),
        code(LendingError::PortfolioVolatilityTooHigh),
    );
    l.env
        .send(
            &[update_correlations_ix(
                &l.a,
                &admin.pubkey(),
                uniform_correlations(0),
            )],
            &[&admin],
        )
        .unwrap();
    l.borrow(&b, 100 * TOKEN).unwrap();
    // the matrix is written only by the risk authority, within bounds
    expect(
        l.env.send(
            &[update_correlations_ix(
                &l.a,
                &stranger.pubkey(),
                uniform_correlations(0),
            )],
            &[&stranger],
        ),
        code(LendingError::Unauthorized),
    );
    let mut asymmetric = uniform_correlations(0);
    asymmetric[0][1] = 5_000;
    expect(
        l.env.send(
            &[update_correlations_ix(&l.a, &admin.pubkey(), asymmetric)],
            &[&admin],
        ),
        code(LendingError::InvalidCorrelations),
    );
}

/// What the share-accounting runs did over all cases: deposits, withdrawals, borrows, repayments
/// landed and refused, and how much interest the pool earned.
#[derive(Default, Debug)]
struct ShareCounts {
    cases: u64,
    deposits: (u64, u64),
    withdrawals: (u64, u64),
    borrows: (u64, u64),
    repayments: (u64, u64),
    interest_earned: u64,
}

/// Whatever depositors and borrowers do, a depositor never takes out more than they put in plus
/// the interest the pool earned, and the vault always holds what the books say. The bound comes
/// from token balances, not from the program's books: at the end the borrower's whole debt is
/// repaid, so the interest earned is what was repaid minus what was borrowed.
#[test]
fn share_accounting_never_overpays() {
    let counts = std::cell::RefCell::new(ShareCounts::default());
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let strategy = prop::collection::vec((0u8..5, 0usize..3, 1u64..50_000), 1..14);
    runner
        .run(&strategy, |steps| {
            let mut counts = counts.borrow_mut();
            counts.cases += 1;
            let count =
                |slot: &mut (u64, u64), ok: bool| if ok { slot.0 += 1 } else { slot.1 += 1 };
            let mut l = lending(1, default_collateral_params(), 0);
            let b = l.borrower(1_000 * TOKEN, 1_000 * TOKEN);
            let depositors: Vec<(Keypair, Address, Address)> = (0..3)
                .map(|_| {
                    let k = l.env.new_funded_keypair(1_000_000_000);
                    let q = l.env.create_token_account(&l.usdc, &k.pubkey());
                    l.env.mint_to(&l.usdc, &q, 1_000_000 * TOKEN);
                    let s = l.env.create_token_account(&l.a.share_mint, &k.pubkey());
                    (k, q, s)
                })
                .collect();
            let mut deposited = [0u64; 3];
            let mut withdrawn = [0u64; 3];
            let (mut borrowed, mut repaid) = (0u64, 0u64);
            let whale = l.whale.insecure_clone();
            let whale_quote = l.whale_accounts[0].quote_account;
            let repay = |l: &mut Lending, amount: u64| -> (bool, u64) {
                let before = l.env.token_balance(&whale_quote);
                let ok = l
                    .env
                    .send(
                        &[repay_ix(
                            &l.a,
                            &whale.pubkey(),
                            &b.keypair.pubkey(),
                            &whale_quote,
                            amount,
                        )],
                        &[&whale],
                    )
                    .is_ok();
                (ok, before - l.env.token_balance(&whale_quote))
            };
            for (action, who, size) in steps {
                let (k, q, s) = &depositors[who];
                match action {
                    0 => {
                        let before = l.env.token_balance(q);
                        let ok = l
                            .env
                            .send(
                                &[liquidity_ix(
                                    &l.a,
                                    &k.pubkey(),
                                    q,
                                    s,
                                    true,
                                    size * TOKEN / 10,
                                )],
                                &[k],
                            )
                            .is_ok();
                        deposited[who] += before - l.env.token_balance(q);
                        count(&mut counts.deposits, ok);
                    }
                    1 => {
                        let shares = l.env.token_balance(s) * (size % 100 + 1) / 100;
                        let before = l.env.token_balance(q);
                        let ok = shares > 0
                            && l.env
                                .send(
                                    &[liquidity_ix(&l.a, &k.pubkey(), q, s, false, shares)],
                                    &[k],
                                )
                                .is_ok();
                        withdrawn[who] += l.env.token_balance(q) - before;
                        count(&mut counts.withdrawals, ok);
                    }
                    2 => {
                        let before = l.env.token_balance(&b.accounts.quote_account);
                        let ok = l.borrow(&b, size * TOKEN / 100).is_ok();
                        borrowed += l.env.token_balance(&b.accounts.quote_account) - before;
                        count(&mut counts.borrows, ok);
                    }
                    3 => {
                        let (ok, paid) = repay(&mut l, size * TOKEN / 50);
                        repaid += paid;
                        count(&mut counts.repayments, ok);
                    }
                    _ => {
                        l.env.advance_slots(size * 100);
                        l.tick();
                        let owner = b.keypair.pubkey();
                        l.refresh(&owner);
                    }
                }
                let state = l.state();
                prop_assert_eq!(l.env.token_balance(&l.a.liquidity_vault), state.available);
                prop_assert_eq!(l.env.mint_supply(&l.a.share_mint), state.total_shares);
            }
            // the whole debt repaid: every unit of interest is now in the vault, in tokens
            if l.obligation(&b.keypair.pubkey()).debt > 0 {
                let (ok, paid) = repay(&mut l, u64::MAX);
                prop_assert!(ok, "repaying the whole debt failed");
                repaid += paid;
            }
            prop_assert!(
                repaid >= borrowed,
                "repaid {} of {} borrowed",
                repaid,
                borrowed
            );
            let interest_earned = repaid - borrowed;
            counts.interest_earned += interest_earned;
            // everyone redeems everything they can; nobody beats deposits + all interest earned
            for who in 0..3 {
                let (k, q, s) = &depositors[who];
                let shares = l.env.token_balance(s);
                if shares > 0 {
                    let before = l.env.token_balance(q);
                    if l.env
                        .send(
                            &[liquidity_ix(&l.a, &k.pubkey(), q, s, false, shares)],
                            &[k],
                        )
                        .is_ok()
                    {
                        withdrawn[who] += l.env.token_balance(q) - before;
                    }
                }
                prop_assert!(
                    withdrawn[who] <= deposited[who] + interest_earned,
                    "depositor {} took {} of {} deposited (+{} interest)",
                    who,
                    withdrawn[who],
                    deposited[who],
                    interest_earned
                );
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let counts = counts.into_inner();
    println!("{counts:?}");
    assert_eq!(counts.cases, 24);
    for (name, (landed, refused)) in [
        ("deposits", counts.deposits),
        ("withdrawals", counts.withdrawals),
        ("borrows", counts.borrows),
        ("repayments", counts.repayments),
    ] {
        assert!(landed > 0, "no {name} landed ({refused} refused)");
    }
    assert!(
        counts.interest_earned > 0,
        "no interest was ever earned: {counts:?}"
    );
}

#[test]
fn rule_set_floors_ratio_limits_volatility_and_names_the_covariance_authority() {
    use rwa_harness::dao::default_config;
    let mut l = lending(1, default_collateral_params(), 0);
    // some volatility on the market
    l.env.advance_slots(50);
    l.crash(0, 500);
    l.env.advance_slots(50);
    l.tick();
    let mint = l.env.create_mint(6);
    let risk_desk = l.env.new_funded_keypair(1_000_000_000);
    let rules = rwa_rules::RuleValues {
        // the smallest limit the bounds allow (1e-5 per sqrt(slot), ~9% a year): the crash
        // above is far more
        volatility_limit: rwa_rules::MIN_VOLATILITY_LIMIT,
        min_collateral_ratio_bps: 20_000,
        covariance_authority: risk_desk.pubkey(),
        ..Default::default()
    };
    let dao = l.env.create_dao(mint, 1, default_config(), rules).unwrap();
    let admin = l.admin.insecure_clone();
    l.env
        .send(
            &[attach_lending_rule_set_ix(
                &l.a,
                &admin.pubkey(),
                &dao.addresses.rule_set,
            )],
            &[&admin],
        )
        .unwrap();
    let m = l.markets[0];
    // the RuleSet must come along now
    expect(
        l.env
            .send(&[refresh_collateral_ix(&l.a, &m, None, None)], &[]),
        9_003,
    );
    l.a.rule_set = Some(dao.addresses.rule_set);
    l.env
        .send(&[refresh_collateral_ix(&l.a, &m, None, None)], &[])
        .unwrap();
    assert!(
        l.config(0).cr_bps >= 20_000,
        "the DAO's CRmin floor applies"
    );
    // new borrows are refused while volatility is above the limit
    let b = l.borrower(100 * TOKEN, 100 * TOKEN);
    expect(l.borrow(&b, TOKEN), code(LendingError::VolatilityTooHigh));
    // the covariance authority is the rule's, not the lending admin's
    expect(
        l.env.send(
            &[update_correlations_ix(
                &l.a,
                &admin.pubkey(),
                uniform_correlations(0),
            )],
            &[&admin],
        ),
        code(LendingError::Unauthorized),
    );
    l.env
        .send(
            &[update_correlations_ix(
                &l.a,
                &risk_desk.pubkey(),
                uniform_correlations(0),
            )],
            &[&risk_desk],
        )
        .unwrap();
}

/// Attacks (issue 12, findings 2 and 3): dump the curve's spot and liquidate in the same slot,
/// and lock a one-slot volatility spike into a borrower's rate with the permissionless refresh.
/// Defended: liquidation limits use the TWAP, never the spot (the dump only stops new borrowing,
/// which uses the lower of the two); the collateral rate moves toward its capped target by at
/// most `MAX_RATE_STEP_PER_SLOT` per slot since the last refresh (at most 100 slots counted).
#[test]
fn a_spot_dump_cannot_force_liquidations_and_rate_spikes_are_ramped() {
    let mut l = lending(1, default_collateral_params(), 0);
    let thin = l.borrower(100 * TOKEN, 100 * TOKEN);
    l.borrow(&thin, 6_250 * TOKEN).unwrap();
    let owner = thin.keypair.pubkey();
    let before = l.config(0);
    let Liquidator {
        keypair: liquidator,
        quote: liquidator_quote,
        rwa: liquidator_rwa,
    } = l.liquidator();
    let markets = l.markets.clone();
    // the dump: 30% of supply sold to the curve, then refresh + liquidate in the same slot
    l.crash(0, 3_000);
    let mut instructions = refresh_all(&l.a, &owner, &markets);
    instructions.push(liquidate_ix(
        &l.a,
        &liquidator.pubkey(),
        &owner,
        &markets[0],
        &liquidator_quote,
        &liquidator_rwa,
        u64::MAX,
        1,
        &markets,
    ));
    expect(
        l.env.send(&instructions, &[&liquidator]),
        code(LendingError::ObligationHealthy),
    );
    // (the failed transaction rolled its refresh back: refresh again, same slot, to look)
    l.refresh(&owner);
    let during = l.config(0);
    assert_eq!(during.price_liquidation, before.price_liquidation);
    assert!(
        during.price_low < before.price_low,
        "borrowing follows the spot down"
    );
    expect(
        l.borrow(&thin, TOKEN),
        code(LendingError::BorrowLimitExceeded),
    );
    // next slot the dump's return enters the variance: the target rate jumps, the rate steps
    l.tick();
    l.refresh(&owner);
    let after = l.config(0);
    let params = default_collateral_params();
    let target = rwa_math::lending::borrow_rate(
        Decimal::from_raw(params.r0),
        Decimal::from_raw(params.beta),
        Decimal::from_raw(after.sigma),
    )
    .unwrap()
    .min(Decimal::from_raw(params.max_rate));
    let elapsed = (after.last_refresh_slot - during.last_refresh_slot)
        .min(rwa_lending::constants::RATE_RAMP_CAP_SLOTS) as u128;
    let step = rwa_lending::constants::MAX_RATE_STEP_PER_SLOT * elapsed;
    assert!(
        target.raw() > during.rate + step,
        "the spike must exceed one step for this test to mean anything"
    );
    assert_eq!(after.rate, during.rate + step);
    assert_eq!(l.obligation(&owner).rate, after.rate);
}

/// Finding 3 (accrual): left unrefreshed long enough, `accrue` overflowed and repay/refresh
/// reverted forever. Defended: accrual saturates; repay and refresh still work after 20 years at
/// the highest allowed rate.
#[test]
fn accrual_saturates_and_never_blocks_repay() {
    let mut params = default_collateral_params();
    params.r0 = rwa_lending::constants::MAX_RATE_CAP;
    params.max_rate = rwa_lending::constants::MAX_RATE_CAP;
    let mut l = lending(1, params, 0);
    let b = l.borrower(100 * TOKEN, 100 * TOKEN);
    l.borrow(&b, 1_000 * TOKEN).unwrap();
    let owner = b.keypair.pubkey();
    l.env
        .advance_slots(20 * rwa_math::lending::DEFAULT_SLOTS_PER_YEAR);
    l.env
        .mint_to(&l.usdc, &b.accounts.quote_account, 10 * TOKEN);
    l.env
        .send(
            &[repay_ix(
                &l.a,
                &owner,
                &owner,
                &b.accounts.quote_account,
                10 * TOKEN,
            )],
            &[&b.keypair],
        )
        .unwrap();
    assert_eq!(l.obligation(&owner).debt, u64::MAX - 10 * TOKEN);
    l.tick();
    l.refresh(&owner);
    assert!(l.obligation(&owner).is_liquidatable());
}

/// Finding 7 (lending had no pause) and bounded parameters: the admin pauses (a stranger
/// cannot); a paused market refuses borrows but takes repayments; resuming restores borrowing;
/// a year length outside the bounds (the retroactive `slots_per_year` that overflowed accrual)
/// is refused.
#[test]
fn lending_pause_stops_new_risk_not_repayment_and_params_are_bounded() {
    let mut l = lending(1, default_collateral_params(), 0);
    let b = l.borrower(100 * TOKEN, 100 * TOKEN);
    l.borrow(&b, 1_000 * TOKEN).unwrap();
    let owner = b.keypair.pubkey();
    let admin = l.admin.insecure_clone();
    let stranger = l.env.new_funded_keypair(1_000_000_000);
    expect(
        l.env.send(
            &[set_lending_pause_ix(&l.a, &stranger.pubkey(), true)],
            &[&stranger],
        ),
        code(LendingError::Unauthorized),
    );
    l.env
        .send(
            &[set_lending_pause_ix(&l.a, &admin.pubkey(), true)],
            &[&admin],
        )
        .unwrap();
    expect(l.borrow(&b, TOKEN), code(LendingError::LendingPaused));
    l.env
        .send(
            &[repay_ix(
                &l.a,
                &owner,
                &owner,
                &b.accounts.quote_account,
                100 * TOKEN,
            )],
            &[&b.keypair],
        )
        .unwrap();
    expect(
        l.env.send(
            &[set_lending_pause_ix(&l.a, &admin.pubkey(), true)],
            &[&admin],
        ),
        code(LendingError::PauseStateUnchanged),
    );
    l.env
        .send(
            &[set_lending_pause_ix(&l.a, &admin.pubkey(), false)],
            &[&admin],
        )
        .unwrap();
    l.borrow(&b, TOKEN).unwrap();
    for slots_per_year in [0, rwa_lending::constants::MIN_SLOTS_PER_YEAR - 1, u64::MAX] {
        let params = LendingMarketParams {
            reserve_factor_bps: 1_000,
            sigma_p_cap: 0,
            slots_per_year,
            risk_authority: admin.pubkey(),
        };
        expect(
            l.env.send(
                &[update_lending_params_ix(&l.a, &admin.pubkey(), params)],
                &[&admin],
            ),
            code(LendingError::InvalidParams),
        );
    }
}

/// Every remaining lending refusal, each performed and asserted with its code (the rest are
/// asserted by the stories above): zero amounts, withdrawing more than deposited or what the
/// obligation does not hold, more than the vault can lend, a fifth collateral kind in one
/// obligation, a ninth collateral in one market, a config from another lending market, a wrong
/// mint, and new collateral on a DAO-governed lending market.
#[test]
fn remaining_lending_refusals_are_typed() {
    let mut l = lending(4, default_collateral_params(), 0);
    let b = l.borrower(100 * TOKEN, 100 * TOKEN);
    let owner = b.keypair.pubkey();
    let markets = l.markets.clone();
    let linear = || {
        market_args(
            Curve::Linear {
                slope: d("0.001"),
                intercept: d("1"),
            },
            6,
            1_000_000 * TOKEN,
        )
    };
    expect(l.borrow(&b, 0), code(LendingError::ZeroAmount));
    // withdraw more collateral than deposited
    let withdraw = |l: &Lending, who: &Address, rwa: &Address, amount: u64| {
        let mut instructions = refresh_all(&l.a, who, &markets);
        instructions.push(withdraw_collateral_ix(
            &l.a,
            who,
            &markets[3],
            rwa,
            amount,
            &markets,
        ));
        instructions
    };
    expect(
        l.env.send(
            &withdraw(&l, &owner, &b.accounts.rwa_account, 101 * TOKEN),
            &[&b.keypair],
        ),
        code(LendingError::InsufficientCollateral),
    );
    // a borrower that deposited nothing withdraws
    let empty = l.borrower(10 * TOKEN, 0);
    let empty_owner = empty.keypair.pubkey();
    expect(
        l.env.send(
            &withdraw(&l, &empty_owner, &empty.accounts.rwa_account, TOKEN),
            &[&empty.keypair],
        ),
        code(LendingError::CollateralNotFound),
    );
    // more than the vault holds (1M deposited; 50,000 tokens at 100 support far more)
    let rich = l.borrower(50_000 * TOKEN, 50_000 * TOKEN);
    expect(
        l.borrow(&rich, 1_500_000 * TOKEN),
        code(LendingError::InsufficientLiquidity),
    );
    // a fifth collateral kind in one obligation (four at most): a fifth market is added and the
    // obligation buys one token of each
    let admin = l.admin.insecure_clone();
    let (fifth, _) = l.env.create_market(Some(l.usdc), linear()).unwrap();
    l.env
        .send(
            &[add_collateral_ix(
                &admin.pubkey(),
                &l.a,
                &fifth.addresses,
                default_collateral_params(),
            )],
            &[&admin],
        )
        .unwrap();
    let five = l.env.new_funded_keypair(10_000_000_000);
    let five_quote = l.env.create_token_account(&l.usdc, &five.pubkey());
    l.env.mint_to(&l.usdc, &five_quote, 10_000 * TOKEN);
    l.env
        .send(&[init_obligation_ix(&five.pubkey(), &l.a)], &[&five])
        .unwrap();
    for (i, m) in markets.iter().chain([&fifth.addresses]).enumerate() {
        let rwa = l.env.create_token_account(&m.rwa_mint, &five.pubkey());
        let accounts = TraderAccounts {
            trader: five.pubkey(),
            rwa_account: rwa,
            quote_account: five_quote,
        };
        let buy = trade_ix(
            m,
            &accounts,
            TradeKind::BuyExactOut {
                amount: TOKEN,
                max_quote_in: u64::MAX,
            },
        );
        let deposit = deposit_collateral_ix(&l.a, &five.pubkey(), m, &rwa, TOKEN);
        let result = l.env.send(&[buy, deposit], &[&five]);
        if i < rwa_lending::constants::MAX_OBLIGATION_COLLATERALS {
            result.unwrap_or_else(|e| panic!("{e}"));
        } else {
            expect(result, code(LendingError::TooManyCollaterals));
        }
    }
    // a config of another lending market passed to this one's refresh
    let other = LendingAddresses::derive(l.usdc, 2);
    l.env
        .send(
            &[init_lending_market_ix(
                &admin.pubkey(),
                &other,
                2,
                LendingMarketParams {
                    reserve_factor_bps: 0,
                    sigma_p_cap: 0,
                    slots_per_year: DEFAULT_SLOTS_PER_YEAR,
                    risk_authority: admin.pubkey(),
                },
            )],
            &[&admin],
        )
        .unwrap();
    l.env
        .send(
            &[add_collateral_ix(
                &admin.pubkey(),
                &other,
                &markets[0],
                default_collateral_params(),
            )],
            &[&admin],
        )
        .unwrap();
    let mut foreign = refresh_obligation_ix(&l.a, &owner, &[]);
    foreign
        .accounts
        .push(rwa_harness::AccountMeta::new_readonly(
            other.collateral(&markets[0].market).config,
            false,
        ));
    expect(
        l.env.send(&[foreign], &[]),
        code(LendingError::InvalidCollateralConfig),
    );
    // a wrong mint for the market
    let (extra, _) = l.env.create_market(Some(l.usdc), linear()).unwrap();
    let wrong_mint = MarketAddresses {
        rwa_mint: markets[0].rwa_mint,
        ..extra.addresses
    };
    expect(
        l.env.send(
            &[add_collateral_ix(
                &admin.pubkey(),
                &l.a,
                &wrong_mint,
                default_collateral_params(),
            )],
            &[&admin],
        ),
        code(LendingError::InvalidMint),
    );
    // a ninth collateral on a market holding eight
    for _ in (markets.len() + 1)..rwa_lending::constants::MAX_COLLATERALS {
        let (m, _) = l.env.create_market(Some(l.usdc), linear()).unwrap();
        l.env
            .send(
                &[add_collateral_ix(
                    &admin.pubkey(),
                    &l.a,
                    &m.addresses,
                    default_collateral_params(),
                )],
                &[&admin],
            )
            .unwrap_or_else(|e| panic!("{e}"));
    }
    expect(
        l.env.send(
            &[add_collateral_ix(
                &admin.pubkey(),
                &l.a,
                &extra.addresses,
                default_collateral_params(),
            )],
            &[&admin],
        ),
        code(LendingError::CollateralListFull),
    );
    // after attaching a rule DAO, the admin can no longer add collateral
    let stake_mint = l.env.create_mint(6);
    let dao = l
        .env
        .create_dao(
            stake_mint,
            1,
            rwa_harness::dao::default_config(),
            rwa_rules::RuleValues::default(),
        )
        .unwrap();
    l.env
        .send(
            &[attach_lending_rule_set_ix(
                &other,
                &admin.pubkey(),
                &dao.addresses.rule_set,
            )],
            &[&admin],
        )
        .unwrap();
    expect(
        l.env.send(
            &[add_collateral_ix(
                &admin.pubkey(),
                &other,
                &markets[1],
                default_collateral_params(),
            )],
            &[&admin],
        ),
        code(LendingError::GovernedByDao),
    );
}

/// A market with a primary market: a fresh NAV below the market price caps the collateral's
/// value (borrowing and liquidation limits), a more volatile NAV raises the collateral ratio, and
/// a stale or too uncertain NAV blocks new borrowing but not repayment.
#[test]
fn nav_caps_collateral_value_and_only_a_fresh_certain_nav_allows_borrowing() {
    let mut params = default_collateral_params();
    params.gamma = d("0.5").raw();
    let mut l = lending(1, params, 0);
    let m0 = l.markets[0];
    let who = l.borrower(1_000 * TOKEN, 1_000 * TOKEN);
    l.refresh(&who.keypair.pubkey());
    let before = l.config(0);
    assert!(!before.nav_present && before.nav_price == 0);
    let market_low = before.price_low;
    // the issuer opens a primary market and attests a NAV 20% under the market price (100)
    let publisher = Keypair::new();
    let authority = l.authorities[0].insecure_clone();
    let payer = l.env.payer.pubkey();
    l.env
        .send(
            &[init_primary_market_ix(
                &payer,
                &authority.pubkey(),
                &m0,
                rwa_market::instructions::PrimaryMarketArgs {
                    max_staleness_slots: 50,
                    max_confidence_bps: 500,
                    ..primary_args(publisher.pubkey())
                },
            )],
            &[&authority],
        )
        .unwrap();
    // opened but nothing published yet: borrowing waits for a NAV
    l.tick();
    expect(l.borrow(&who, TOKEN), code(LendingError::StaleOracle));
    l.env
        .send(
            &[publish_nav_ix(&publisher.pubkey(), &m0, d("80").raw(), 0)],
            &[&publisher],
        )
        .unwrap();
    l.tick();
    let refreshed = l.refresh(&who.keypair.pubkey());
    let event = &refreshed.events::<CollateralRefreshed>(&rwa_lending::ID)[0];
    assert_eq!(event.nav, d("80").raw());
    let config = l.config(0);
    assert!(config.nav_present);
    assert_eq!(
        config.price_low,
        d("80").raw(),
        "the lower of market price and NAV"
    );
    assert_eq!(config.price_liquidation, d("80").raw());
    assert!(market_low > config.price_low);
    // borrowing limits follow: 1,000 tokens at 80 with the ratio in force
    let limit = l.obligation(&who.keypair.pubkey()).borrow_limit;
    let expected = (1_000u128 * 80 * TOKEN as u128 * 10_000 / config.cr_bps as u128) as u64;
    assert!(
        limit.abs_diff(expected) <= 1,
        "limit {limit}, expected {expected}"
    );
    expect(
        l.borrow(&who, limit + TOKEN),
        code(LendingError::BorrowLimitExceeded),
    );
    l.borrow(&who, TOKEN).unwrap();
    // a volatile NAV (80 -> 60 -> 80 within slots) raises sigma and so the collateral ratio
    let (calm_cr, calm_sigma) = (config.cr_bps, config.sigma);
    for nav in ["60", "80", "60"] {
        l.env.advance_slots(1);
        l.env
            .send(
                &[publish_nav_ix(&publisher.pubkey(), &m0, d(nav).raw(), 0)],
                &[&publisher],
            )
            .unwrap();
    }
    l.tick();
    l.refresh(&who.keypair.pubkey());
    let volatile = l.config(0);
    assert!(
        volatile.sigma > calm_sigma && volatile.cr_bps > calm_cr,
        "sigma {} vs {calm_sigma}, ratio {} vs {calm_cr}",
        volatile.sigma,
        volatile.cr_bps
    );
    // too uncertain (25% against lending's 20% limit): no new borrowing, repaying goes on
    l.env
        .send(
            &[publish_nav_ix(
                &publisher.pubkey(),
                &m0,
                d("60").raw(),
                2_500,
            )],
            &[&publisher],
        )
        .unwrap();
    l.tick();
    expect(
        l.borrow(&who, TOKEN),
        code(LendingError::OracleTooUncertain),
    );
    // stale (older than the issuer's 50 slots): the same
    l.env
        .send(
            &[publish_nav_ix(&publisher.pubkey(), &m0, d("60").raw(), 0)],
            &[&publisher],
        )
        .unwrap();
    l.env.advance_slots(51);
    l.tick();
    expect(l.borrow(&who, TOKEN), code(LendingError::StaleOracle));
    let stale = l.config(0);
    assert!(
        l.env
            .svm
            .get_sysvar::<rwa_harness::solana_clock::Clock>()
            .slot
            > stale.nav_fresh_until_slot
    );
    let mut repay = refresh_all(&l.a, &who.keypair.pubkey(), &l.markets);
    repay.push(repay_ix(
        &l.a,
        &who.keypair.pubkey(),
        &who.keypair.pubkey(),
        &who.accounts.quote_account,
        TOKEN / 2,
    ));
    l.env
        .send(&repay, &[&who.keypair])
        .unwrap_or_else(|e| panic!("{e}"));
    // the refresh cannot leave the NAV account out: its address is fixed
    let mut without = refresh_collateral_ix(&l.a, &m0, None, None);
    let nav_index = without
        .accounts
        .iter()
        .position(|meta| meta.pubkey == PrimaryAddresses::derive(&m0.market).nav)
        .unwrap();
    without.accounts[nav_index].pubkey = Address::new_unique();
    expect(
        l.env.send(&[without], &[]),
        anchor_lang::error::ErrorCode::ConstraintSeeds as u32,
    );
}
