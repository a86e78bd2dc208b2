//! rwa_market in a real runtime: every instruction's success path and each refusal, checking that a
//! refused transaction changes nothing.

use anchor_lang::error::ErrorCode as AnchorError;
use anchor_lang::Discriminator;
use rwa_harness::market::*;
use rwa_harness::solana_address::Address;
use rwa_harness::solana_keypair::Keypair;
use rwa_harness::solana_program_pack::Pack as _;
use rwa_harness::solana_signer::Signer;
use rwa_harness::{TestEnv, TxFailure};
use rwa_market::errors::MarketError;
use rwa_market::events::*;
use rwa_market::instructions::{InitializeMarketArgs, MarketParamsUpdate};
use rwa_math::fees::fee_on;
use rwa_math::{Curve, CurveMarket, Decimal};

const MAX_SUPPLY: u64 = 1_000_000_000_000; // one million tokens at 6 decimals
const QUOTE: u64 = 10_000_000_000_000; // ten million quote tokens

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn curves() -> [Curve; 3] {
    [
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
    ]
}

fn market_code(error: MarketError) -> u32 {
    anchor_lang::error::ERROR_CODE_OFFSET + error as u32
}

fn anchor_code(error: AnchorError) -> u32 {
    error as u32
}

#[track_caller]
fn expect_code(result: Result<rwa_harness::TxSuccess, TxFailure>, code: u32) {
    match result {
        Ok(_) => panic!("transaction succeeded, expected error code {code}"),
        Err(failure) => assert_eq!(failure.custom_code(), Some(code), "{failure}"),
    }
}

struct Setup {
    env: TestEnv,
    market: MarketFixture,
    trader: Keypair,
    accounts: TraderAccounts,
    curve: CurveMarket,
}

fn setup(curve: Curve) -> Setup {
    let mut env = TestEnv::new();
    let (market, _) = env
        .create_market(None, market_args(curve, 6, MAX_SUPPLY))
        .unwrap_or_else(|e| panic!("{e}"));
    let (trader, accounts) = env.create_trader(&market.addresses, QUOTE);
    let curve = CurveMarket::new(curve, 6, 6).unwrap();
    Setup {
        env,
        market,
        trader,
        accounts,
        curve,
    }
}

impl Setup {
    fn trade(&mut self, kind: TradeKind) -> Result<rwa_harness::TxSuccess, TxFailure> {
        let ix = trade_ix(&self.market.addresses, &self.accounts, kind);
        self.env.send(&[ix], &[&self.trader])
    }

    /// Everything a refused transaction must leave untouched.
    fn snapshot(&self) -> Vec<Vec<u8>> {
        let a = &self.market.addresses;
        [
            a.market,
            a.oracle,
            a.reserve_vault,
            a.fee_vault,
            a.rwa_mint,
            self.accounts.rwa_account,
            self.accounts.quote_account,
        ]
        .iter()
        .map(|address| {
            self.env
                .account(address)
                .map(|account| account.data)
                .unwrap_or_default()
        })
        .collect()
    }
}

#[test]
fn initialize_market_for_each_curve() {
    for curve in curves() {
        let mut env = TestEnv::new();
        let (fixture, result) = env
            .create_market(None, market_args(curve, 6, MAX_SUPPLY))
            .unwrap();
        let a = fixture.addresses;
        let market = env.market_state(&a);
        assert_eq!(market.authority, fixture.authority.pubkey());
        assert_eq!(
            (market.supply, market.reserve, market.paused),
            (0, 0, false)
        );
        assert_eq!(market.curve().unwrap(), curve);
        assert_eq!(market.name, "Test RWA");
        // Only the market PDA can mint the RWA token; vaults belong to the market.
        let mint = anchor_spl::token::spl_token::state::Mint::unpack_from_slice(
            &env.account(&a.rwa_mint).unwrap().data,
        )
        .unwrap();
        assert_eq!(mint.mint_authority, Some(a.market).into());
        let vault = anchor_spl::token::spl_token::state::Account::unpack_from_slice(
            &env.account(&a.reserve_vault).unwrap().data,
        )
        .unwrap();
        assert_eq!((vault.owner, vault.mint), (a.market, a.quote_mint));
        let oracle = env.oracle_state(&a);
        assert_eq!(({ oracle.len }, { oracle.twap_window_slots }), (1, 150));
        let events: Vec<MarketInitialized> = result.events(&rwa_market::ID);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].curve_params, curve.params().map(|p| p.raw()));
    }
}

#[test]
fn initialize_refuses_bad_parameters() {
    let mut env = TestEnv::new();
    let quote = env.create_mint(6);
    let good = market_args(curves()[0], 6, MAX_SUPPLY);
    let with = |change: &dyn Fn(&mut InitializeMarketArgs)| {
        let mut args = good.clone();
        change(&mut args);
        args
    };
    let cases = [
        (with(&|a| a.fee_bps = 1_001), MarketError::InvalidFee),
        (with(&|a| a.curve_kind = 3), MarketError::InvalidCurveKind),
        (
            with(&|a| a.curve_params = [0, 0, 0]),
            MarketError::InvalidCurveParams,
        ),
        // an unused third parameter must be zero
        (
            with(&|a| a.curve_params = [1, 1, 7]),
            MarketError::InvalidCurveParams,
        ),
        (
            with(&|a| a.rwa_decimals = 10),
            MarketError::UnsupportedDecimals,
        ),
        (
            with(&|a| a.name = "x".repeat(33)),
            MarketError::MetadataTooLong,
        ),
        (with(&|a| a.max_supply = 0), MarketError::InvalidMaxSupply),
        // the whole supply would cost more than u64::MAX quote base units
        (
            with(&|a| a.max_supply = u64::MAX),
            MarketError::MathOverflow,
        ),
        (
            with(&|a| a.twap_window_slots = 0),
            MarketError::InvalidOracleConfig,
        ),
        (
            with(&|a| a.ewma_lambda_bps = 10_000),
            MarketError::InvalidOracleConfig,
        ),
    ];
    for (args, error) in cases {
        expect_code(
            env.create_market(Some(quote), args).map(|(_, s)| s),
            market_code(error),
        );
    }
    // exponential whose exponent at max supply exceeds 40
    let steep = market_args(
        Curve::Exponential {
            a: d("1"),
            k: d("0.001"),
        },
        6,
        41_000 * 1_000_000,
    );
    expect_code(
        env.create_market(Some(quote), steep).map(|(_, s)| s),
        market_code(MarketError::InvalidCurveParams),
    );
}

#[test]
fn four_trades_settle_at_curve_prices_for_each_curve() {
    for curve in curves() {
        let mut s = setup(curve);
        let a = s.market.addresses;
        // buy_exact_out: pays ceil(integral) + ceil(fee)
        let cost = s.curve.buy_cost(0, 2_000_000_000).unwrap();
        let fee = fee_on(cost, 30).unwrap();
        let result = s
            .trade(TradeKind::BuyExactOut {
                amount: 2_000_000_000,
                max_quote_in: cost + fee,
            })
            .unwrap();
        let event = &result.events::<TradeExecuted>(&rwa_market::ID)[0];
        assert_eq!(
            (event.side, event.amount, event.quote_amount, event.fee),
            (TradeSide::Buy, 2_000_000_000, cost, fee)
        );
        assert_eq!(
            s.env.token_balance(&s.accounts.quote_account),
            QUOTE - cost - fee
        );
        assert_eq!(s.env.token_balance(&a.reserve_vault), cost);
        assert_eq!(s.env.token_balance(&a.fee_vault), fee);
        assert_eq!(s.env.mint_supply(&a.rwa_mint), 2_000_000_000);

        // buy_exact_in: spends at most quote_in, buys the most it can
        let before = s.env.token_balance(&s.accounts.quote_account);
        let result = s
            .trade(TradeKind::BuyExactIn {
                quote_in: 50_000_000,
                min_amount_out: 1,
            })
            .unwrap();
        let event = &result.events::<TradeExecuted>(&rwa_market::ID)[0];
        let spent = before - s.env.token_balance(&s.accounts.quote_account);
        assert!(spent <= 50_000_000 && spent == event.quote_amount + event.fee);
        let more = s.curve.buy_cost(2_000_000_000, event.amount + 1).unwrap();
        assert!(
            more + fee_on(more, 30).unwrap() > 50_000_000,
            "could have bought one more unit"
        );

        // sell_exact_in: receives floor(integral) - ceil(fee)
        let supply = s.env.market_state(&a).supply;
        let proceeds = s.curve.sell_proceeds(supply, 500_000_000).unwrap();
        let fee = fee_on(proceeds, 30).unwrap();
        let before = s.env.token_balance(&s.accounts.quote_account);
        s.trade(TradeKind::SellExactIn {
            amount: 500_000_000,
            min_quote_out: proceeds - fee,
        })
        .unwrap();
        assert_eq!(
            s.env.token_balance(&s.accounts.quote_account) - before,
            proceeds - fee
        );

        // sell_exact_out: receives at least quote_out, selling the fewest tokens
        let before_rwa = s.env.token_balance(&s.accounts.rwa_account);
        let before = s.env.token_balance(&s.accounts.quote_account);
        s.trade(TradeKind::SellExactOut {
            quote_out: 1_000_000,
            max_amount_in: u64::MAX,
        })
        .unwrap();
        let received = s.env.token_balance(&s.accounts.quote_account) - before;
        let sold = before_rwa - s.env.token_balance(&s.accounts.rwa_account);
        assert!(received >= 1_000_000);
        let supply_before_sale = s.env.market_state(&a).supply + sold;
        let one_less = s.curve.sell_proceeds(supply_before_sale, sold - 1).unwrap();
        assert!(
            one_less - fee_on(one_less, 30).unwrap() < 1_000_000,
            "sold more than needed"
        );

        let market = s.env.market_state(&a);
        assert_eq!(market.reserve, s.env.token_balance(&a.reserve_vault));
        assert_eq!(market.total_fees, s.env.token_balance(&a.fee_vault));
        assert_eq!(market.trade_count, 4);
        assert!(market.reserve >= s.curve.sell_proceeds(market.supply, market.supply).unwrap());
    }
}

#[test]
fn slippage_zero_amounts_and_supply_limits_are_refused_without_state_change() {
    let mut s = setup(curves()[0]);
    s.trade(TradeKind::BuyExactOut {
        amount: 1_000_000_000,
        max_quote_in: u64::MAX,
    })
    .unwrap();
    let cost = s.curve.buy_cost(1_000_000_000, 1_000_000).unwrap();
    let cases = [
        (
            TradeKind::BuyExactOut {
                amount: 1_000_000,
                max_quote_in: cost,
            },
            MarketError::SlippageExceeded,
        ),
        (
            TradeKind::BuyExactIn {
                quote_in: 1_000_000,
                min_amount_out: 1_000_000,
            },
            MarketError::SlippageExceeded,
        ),
        (
            TradeKind::SellExactIn {
                amount: 1_000_000,
                min_quote_out: 2_000_000,
            },
            MarketError::SlippageExceeded,
        ),
        (
            TradeKind::SellExactOut {
                quote_out: 1_000_000,
                max_amount_in: 900_000,
            },
            MarketError::SlippageExceeded,
        ),
        (
            TradeKind::BuyExactOut {
                amount: 0,
                max_quote_in: u64::MAX,
            },
            MarketError::ZeroAmount,
        ),
        (
            TradeKind::BuyExactIn {
                quote_in: 0,
                min_amount_out: 0,
            },
            MarketError::ZeroAmount,
        ),
        (
            TradeKind::SellExactIn {
                amount: 0,
                min_quote_out: 0,
            },
            MarketError::ZeroAmount,
        ),
        (
            TradeKind::SellExactOut {
                quote_out: 0,
                max_amount_in: 0,
            },
            MarketError::ZeroAmount,
        ),
        // one quote base unit buys nothing at a price of ~1 quote per token... with a 30 bps fee
        (
            TradeKind::BuyExactIn {
                quote_in: 1,
                min_amount_out: 0,
            },
            MarketError::TradeTooSmall,
        ),
        (
            TradeKind::BuyExactOut {
                amount: MAX_SUPPLY,
                max_quote_in: u64::MAX,
            },
            MarketError::MaxSupplyExceeded,
        ),
        // overflow of supply + amount is a typed error, not a panic
        (
            TradeKind::BuyExactOut {
                amount: u64::MAX,
                max_quote_in: u64::MAX,
            },
            MarketError::MaxSupplyExceeded,
        ),
        (
            TradeKind::SellExactIn {
                amount: 1_000_000_001,
                min_quote_out: 0,
            },
            MarketError::InsufficientSupply,
        ),
        (
            TradeKind::SellExactOut {
                quote_out: u64::MAX / 2,
                max_amount_in: u64::MAX,
            },
            MarketError::InsufficientSupply,
        ),
    ];
    for (kind, error) in cases {
        let before = s.snapshot();
        expect_code(s.trade(kind), market_code(error));
        assert_eq!(before, s.snapshot(), "state changed by refused {kind:?}");
    }
}

#[test]
fn selling_more_than_held_fails_in_spl_token() {
    let mut s = setup(curves()[0]);
    let a = s.market.addresses;
    s.trade(TradeKind::BuyExactOut {
        amount: 1_000_000,
        max_quote_in: u64::MAX,
    })
    .unwrap();
    // a second holder makes the curve supply larger than this trader's balance
    let (other, other_accounts) = s.env.create_trader(&a, QUOTE);
    s.env
        .send(
            &[trade_ix(
                &a,
                &other_accounts,
                TradeKind::BuyExactOut {
                    amount: 5_000_000,
                    max_quote_in: u64::MAX,
                },
            )],
            &[&other],
        )
        .unwrap();
    let before = s.snapshot();
    // SPL Token's InsufficientFunds (1) on burn; the whole transaction reverts
    expect_code(
        s.trade(TradeKind::SellExactIn {
            amount: 1_000_001,
            min_quote_out: 0,
        }),
        1,
    );
    assert_eq!(before, s.snapshot());
}

#[test]
fn wrong_accounts_are_refused() {
    let mut s = setup(curves()[0]);
    let a = s.market.addresses;
    s.trade(TradeKind::BuyExactOut {
        amount: 1_000_000,
        max_quote_in: u64::MAX,
    })
    .unwrap();
    let buy = TradeKind::BuyExactOut {
        amount: 1_000,
        max_quote_in: u64::MAX,
    };

    // wrong quote mint (with a matching token account, so only the market binding can catch it)
    let other_mint = s.env.create_mint(6);
    let other_quote = s.env.create_token_account(&other_mint, &s.trader.pubkey());
    s.env.mint_to(&other_mint, &other_quote, QUOTE);
    let wrong_mint = MarketAddresses {
        quote_mint: other_mint,
        ..a
    };
    let accounts = TraderAccounts {
        quote_account: other_quote,
        ..s.accounts
    };
    expect_code(
        s.env
            .send(&[trade_ix(&wrong_mint, &accounts, buy)], &[&s.trader]),
        market_code(MarketError::InvalidMint),
    );

    // wrong vaults: an attacker's quote account in place of the reserve or fee vault
    let attacker_vault = s
        .env
        .create_token_account(&a.quote_mint, &s.trader.pubkey());
    for (addresses, error) in [
        (
            MarketAddresses {
                reserve_vault: attacker_vault,
                ..a
            },
            MarketError::InvalidReserveVault,
        ),
        (
            MarketAddresses {
                fee_vault: attacker_vault,
                ..a
            },
            MarketError::InvalidFeeVault,
        ),
    ] {
        expect_code(
            s.env
                .send(&[trade_ix(&addresses, &s.accounts, buy)], &[&s.trader]),
            market_code(error),
        );
    }

    // another market's oracle
    let (second, _) = s
        .env
        .create_market(Some(a.quote_mint), market_args(curves()[1], 6, MAX_SUPPLY))
        .unwrap();
    let foreign_oracle = MarketAddresses {
        oracle: second.addresses.oracle,
        ..a
    };
    expect_code(
        s.env
            .send(&[trade_ix(&foreign_oracle, &s.accounts, buy)], &[&s.trader]),
        market_code(MarketError::InvalidOracle),
    );

    // a signer who does not own the token accounts
    let (intruder, _) = s.env.create_trader(&a, 0);
    let stolen = TraderAccounts {
        trader: intruder.pubkey(),
        ..s.accounts
    };
    expect_code(
        s.env.send(&[trade_ix(&a, &stolen, buy)], &[&intruder]),
        anchor_code(AnchorError::ConstraintTokenOwner),
    );

    // token account of the wrong mint for the RWA side
    let quote_side = s
        .env
        .create_token_account(&a.quote_mint, &s.trader.pubkey());
    let bad_rwa = TraderAccounts {
        rwa_account: quote_side,
        ..s.accounts
    };
    expect_code(
        s.env.send(&[trade_ix(&a, &bad_rwa, buy)], &[&s.trader]),
        anchor_code(AnchorError::ConstraintTokenMint),
    );
}

#[test]
fn forged_and_foreign_owned_accounts_are_refused() {
    let mut s = setup(curves()[0]);
    let a = s.market.addresses;
    let buy = TradeKind::BuyExactOut {
        amount: 1_000,
        max_quote_in: u64::MAX,
    };
    let market_account = s.env.account(&a.market).unwrap();

    // The real market's bytes at a non-canonical PDA of the same seeds (program-owned): the seeds
    // check with the stored canonical bump refuses it.
    let (_, canonical) =
        Address::find_program_address(&[b"market", a.rwa_mint.as_ref()], &rwa_market::ID);
    let non_canonical = (0..canonical)
        .rev()
        .find_map(|bump| {
            Address::create_program_address(
                &[b"market", a.rwa_mint.as_ref(), &[bump]],
                &rwa_market::ID,
            )
            .ok()
        })
        .expect("a non-canonical bump exists");
    s.env
        .svm
        .set_account(non_canonical, market_account.clone())
        .unwrap();
    let forged = MarketAddresses {
        market: non_canonical,
        ..a
    };
    expect_code(
        s.env
            .send(&[trade_ix(&forged, &s.accounts, buy)], &[&s.trader]),
        anchor_code(AnchorError::ConstraintSeeds),
    );

    // Market and oracle data copied into accounts owned by another program.
    for target in [a.market, a.oracle] {
        let fake = Address::new_unique();
        let mut account = s.env.account(&target).unwrap();
        account.owner = anchor_spl::token::spl_token::ID;
        s.env.svm.set_account(fake, account).unwrap();
        let addresses = if target == a.market {
            MarketAddresses { market: fake, ..a }
        } else {
            MarketAddresses { oracle: fake, ..a }
        };
        // the market is checked first; a fake oracle next to the real market trips the same owner check
        expect_code(
            s.env
                .send(&[trade_ix(&addresses, &s.accounts, buy)], &[&s.trader]),
            anchor_code(AnchorError::AccountOwnedByWrongProgram),
        );
    }

    // A market account with a tampered discriminator, still program-owned.
    let mut tampered = market_account;
    tampered.data[..8].copy_from_slice(&[0u8; 8]);
    s.env.svm.set_account(a.market, tampered).unwrap();
    expect_code(
        s.trade(buy),
        anchor_code(AnchorError::AccountDiscriminatorMismatch),
    );
    assert_ne!(rwa_market::state::Market::DISCRIMINATOR, &[0u8; 8]);
}

#[test]
fn authority_only_params_pause_and_fees() {
    let mut s = setup(curves()[0]);
    let a = s.market.addresses;
    let authority = s.market.authority.insecure_clone();
    let intruder = s.env.new_funded_keypair(1_000_000_000);
    let update = MarketParamsUpdate {
        fee_bps: Some(100),
        ..Default::default()
    };

    expect_code(
        s.env.send(
            &[set_market_params_ix(&a, &intruder.pubkey(), update.clone())],
            &[&intruder],
        ),
        market_code(MarketError::Unauthorized),
    );
    expect_code(
        s.env
            .send(&[set_paused_ix(&a, &intruder.pubkey(), true)], &[&intruder]),
        market_code(MarketError::Unauthorized),
    );
    expect_code(
        s.env.send(
            &[set_market_params_ix(
                &a,
                &authority.pubkey(),
                MarketParamsUpdate {
                    fee_bps: Some(2_000),
                    ..Default::default()
                },
            )],
            &[&authority],
        ),
        market_code(MarketError::InvalidFee),
    );
    expect_code(
        s.env.send(
            &[set_market_params_ix(
                &a,
                &authority.pubkey(),
                MarketParamsUpdate::default(),
            )],
            &[&authority],
        ),
        market_code(MarketError::NoParamsChanged),
    );

    let result = s
        .env
        .send(
            &[set_market_params_ix(&a, &authority.pubkey(), update)],
            &[&authority],
        )
        .unwrap();
    assert_eq!(
        result.events::<MarketParamsUpdated>(&rwa_market::ID)[0].fee_bps,
        100
    );
    let trade = s
        .trade(TradeKind::BuyExactOut {
            amount: 1_000_000_000,
            max_quote_in: u64::MAX,
        })
        .unwrap();
    let event = &trade.events::<TradeExecuted>(&rwa_market::ID)[0];
    assert_eq!(event.fee, fee_on(event.quote_amount, 100).unwrap());

    // max supply cannot drop below the supply already issued
    expect_code(
        s.env.send(
            &[set_market_params_ix(
                &a,
                &authority.pubkey(),
                MarketParamsUpdate {
                    max_supply: Some(999_999_999),
                    ..Default::default()
                },
            )],
            &[&authority],
        ),
        market_code(MarketError::InvalidMaxSupply),
    );

    // pause blocks every trade; unpause restores trading
    let result = s
        .env
        .send(
            &[set_paused_ix(&a, &authority.pubkey(), true)],
            &[&authority],
        )
        .unwrap();
    assert!(result.events::<MarketPauseChanged>(&rwa_market::ID)[0].paused);
    expect_code(
        s.env.send(
            &[set_paused_ix(&a, &authority.pubkey(), true)],
            &[&authority],
        ),
        market_code(MarketError::PauseStateUnchanged),
    );
    for kind in [
        TradeKind::BuyExactOut {
            amount: 1,
            max_quote_in: u64::MAX,
        },
        TradeKind::BuyExactIn {
            quote_in: 1_000_000,
            min_amount_out: 0,
        },
        TradeKind::SellExactIn {
            amount: 1,
            min_quote_out: 0,
        },
        TradeKind::SellExactOut {
            quote_out: 1,
            max_amount_in: u64::MAX,
        },
    ] {
        expect_code(s.trade(kind), market_code(MarketError::MarketPaused));
    }
    s.env
        .send(
            &[set_paused_ix(&a, &authority.pubkey(), false)],
            &[&authority],
        )
        .unwrap();
    s.trade(TradeKind::SellExactIn {
        amount: 1_000,
        min_quote_out: 0,
    })
    .unwrap();

    // fees: only the authority, only what is there, never the reserve
    let destination = s
        .env
        .create_token_account(&a.quote_mint, &authority.pubkey());
    let fees = s.env.token_balance(&a.fee_vault);
    expect_code(
        s.env.send(
            &[withdraw_fees_ix(&a, &intruder.pubkey(), &destination, 1)],
            &[&intruder],
        ),
        market_code(MarketError::Unauthorized),
    );
    expect_code(
        s.env.send(
            &[withdraw_fees_ix(
                &a,
                &authority.pubkey(),
                &destination,
                fees + 1,
            )],
            &[&authority],
        ),
        market_code(MarketError::InsufficientFees),
    );
    s.env
        .send(
            &[withdraw_fees_ix(
                &a,
                &authority.pubkey(),
                &destination,
                fees,
            )],
            &[&authority],
        )
        .unwrap();
    assert_eq!(s.env.token_balance(&destination), fees);
    assert_eq!(s.env.token_balance(&a.fee_vault), 0);

    // authority transfer: the old key loses control
    let successor = s.env.new_funded_keypair(1_000_000_000);
    s.env
        .send(
            &[set_market_params_ix(
                &a,
                &authority.pubkey(),
                MarketParamsUpdate {
                    new_authority: Some(successor.pubkey()),
                    ..Default::default()
                },
            )],
            &[&authority],
        )
        .unwrap();
    expect_code(
        s.env.send(
            &[set_paused_ix(&a, &authority.pubkey(), true)],
            &[&authority],
        ),
        market_code(MarketError::Unauthorized),
    );
    s.env
        .send(
            &[set_paused_ix(&a, &successor.pubkey(), true)],
            &[&successor],
        )
        .unwrap();
}

#[test]
fn oracle_records_trades_twap_and_volatility() {
    let mut s = setup(curves()[0]);
    let a = s.market.addresses;
    let start = s.env.slot();
    // price 1.0 at start; buy to move it, in later slots
    s.env.advance_slots(10);
    s.trade(TradeKind::BuyExactOut {
        amount: 100_000_000_000,
        max_quote_in: u64::MAX,
    })
    .unwrap(); // price -> 1.1
    s.env.advance_slots(10);
    s.trade(TradeKind::BuyExactOut {
        amount: 100_000_000_000,
        max_quote_in: u64::MAX,
    })
    .unwrap(); // price -> 1.2
               // same slot: the later price replaces the earlier one
    s.trade(TradeKind::SellExactIn {
        amount: 50_000_000_000,
        min_quote_out: 0,
    })
    .unwrap(); // price -> 1.15
    s.env.advance_slots(10);
    let result = s.env.send(&[update_oracle_ix(&a)], &[]).unwrap();
    let event = &result.events::<OracleUpdated>(&rwa_market::ID)[0];
    assert_eq!(event.price, d("1.15").raw());

    let oracle = s.env.oracle_state(&a);
    assert_eq!({ oracle.len }, 4);
    let now = start + 30;
    // TWAP over the last 30 slots: 1.0 for 10, 1.1 for 10, 1.15 for 10 = 1.0833...
    let twap = oracle.twap_over(now, 30).unwrap();
    assert_eq!(
        twap,
        Decimal::from_raw((d("1").raw() + d("1.1").raw() + d("1.15").raw()) / 3)
    );
    // per-slot EWMA (lambda 0.94) of end-of-slot log returns: ln(1.1) in slot +10, then nine
    // quiet slots, then ln(1.15/1.1) in slot +20 (the intra-slot 1.2 never counts)
    let r1 = 1.1f64.ln().powi(2);
    let r2 = (1.15f64 / 1.1).ln().powi(2);
    let expected = 0.94f64.powi(10) * (0.06 * r1) + 0.06 * r2;
    assert!((Decimal::from_raw(oracle.ewma_variance).to_f64() - expected).abs() < 1e-12);
    assert_eq!({ oracle.variance_samples }, 3);
    // the update is permissionless but cannot target another market's oracle
    let (second, _) = s
        .env
        .create_market(Some(a.quote_mint), market_args(curves()[1], 6, MAX_SUPPLY))
        .unwrap();
    let crossed = MarketAddresses {
        oracle: second.addresses.oracle,
        ..a
    };
    expect_code(
        s.env.send(&[update_oracle_ix(&crossed)], &[]),
        market_code(MarketError::InvalidOracle),
    );
}

#[test]
fn oracle_checkpoints_keep_spanning_the_window_whatever_the_call_rate() {
    let mut s = setup(curves()[0]);
    let a = s.market.addresses;
    let window = s.env.oracle_state(&a).twap_window_slots;
    let interval =
        rwa_math::oracle::checkpoint_interval(window, rwa_market::constants::ORACLE_CAPACITY);
    // a trade or an update every slot for three windows: far more calls than checkpoints
    for step in 0..(3 * window) {
        s.env.advance_slots(1);
        if step % 2 == 0 {
            s.trade(TradeKind::BuyExactOut {
                amount: 1_000_000,
                max_quote_in: u64::MAX,
            })
            .unwrap();
        } else {
            s.env.send(&[update_oracle_ix(&a)], &[]).unwrap();
        }
    }
    let oracle = s.env.oracle_state(&a);
    assert_eq!(
        { oracle.len } as usize,
        rwa_market::constants::ORACLE_CAPACITY
    );
    let slots: Vec<u64> = (0..oracle.len as usize)
        .map(|k| oracle.checkpoint(k).slot)
        .collect();
    assert!(
        slots.windows(2).all(|w| w[1] - w[0] >= interval),
        "checkpoints closer than {interval} slots: {slots:?}"
    );
    let now = s.env.slot();
    assert!(
        now - slots[0] >= window,
        "the ring spans {} slots, less than the {window}-slot window",
        now - slots[0]
    );
}

/// Affiliate reward: a trade naming a referrer pays it `referrer_share_bps` of the fee (rounded
/// down, the vault keeps the rest) in the same transaction; bounded share, no self-referral.
#[test]
fn referrers_receive_their_share_of_the_fee() {
    let mut s = setup(curves()[0]);
    let a = s.market.addresses;
    let authority = s.market.authority.insecure_clone();
    // above 50% of the fee: refused, nothing changes
    let before = s.snapshot();
    expect_code(
        s.env.send(
            &[set_market_params_ix(
                &a,
                &authority.pubkey(),
                MarketParamsUpdate {
                    referrer_share_bps: Some(5_001),
                    ..Default::default()
                },
            )],
            &[&authority],
        ),
        market_code(MarketError::InvalidReferrer),
    );
    assert_eq!(s.snapshot(), before);
    let set = s
        .env
        .send(
            &[set_market_params_ix(
                &a,
                &authority.pubkey(),
                MarketParamsUpdate {
                    referrer_share_bps: Some(2_000),
                    ..Default::default()
                },
            )],
            &[&authority],
        )
        .unwrap();
    assert_eq!(
        set.events::<MarketParamsUpdated>(&rwa_market::ID)[0].referrer_share_bps,
        2_000
    );
    let referrer = Keypair::new();
    let referrer_quote = s
        .env
        .create_token_account(&a.quote_mint, &referrer.pubkey());
    let fee_vault_before = s.env.token_balance(&a.fee_vault);
    let buy = with_referrer(
        trade_ix(
            &a,
            &s.accounts,
            TradeKind::BuyExactOut {
                amount: 1_000_000_000,
                max_quote_in: u64::MAX,
            },
        ),
        referrer_quote,
    );
    let trader = s.trader.insecure_clone();
    let done = s.env.send(&[buy], &[&trader]).unwrap();
    let event = &done.events::<TradeExecuted>(&rwa_market::ID)[0];
    assert!(event.fee > 0);
    assert_eq!(event.referrer, referrer.pubkey());
    assert_eq!(event.referrer_fee, event.fee * 2_000 / 10_000);
    assert_eq!(s.env.token_balance(&referrer_quote), event.referrer_fee);
    assert_eq!(
        s.env.token_balance(&a.fee_vault) - fee_vault_before,
        event.fee - event.referrer_fee
    );
    // without a referrer the whole fee goes to the vault, and the event says so
    let plain = s
        .trade(TradeKind::SellExactIn {
            amount: 100_000_000,
            min_quote_out: 0,
        })
        .unwrap();
    let event = &plain.events::<TradeExecuted>(&rwa_market::ID)[0];
    assert_eq!(
        (event.referrer, event.referrer_fee),
        (Address::default(), 0)
    );
    // naming yourself is refused: your paying account (Anchor: a duplicate mutable account),
    // or another account you own
    let second_own = s.env.create_token_account(&a.quote_mint, &trader.pubkey());
    for (own, refusal) in [
        (
            s.accounts.quote_account,
            anchor_code(AnchorError::ConstraintDuplicateMutableAccount),
        ),
        (second_own, market_code(MarketError::InvalidReferrer)),
    ] {
        s.env.advance_slots(1);
        let before = s.snapshot();
        let result = s.env.send(
            &[with_referrer(
                trade_ix(
                    &a,
                    &s.accounts,
                    TradeKind::BuyExactOut {
                        amount: 1_000_000,
                        max_quote_in: u64::MAX,
                    },
                ),
                own,
            )],
            &[&trader],
        );
        expect_code(result, refusal);
        assert_eq!(s.snapshot(), before);
    }
}
