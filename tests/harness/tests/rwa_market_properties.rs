//! Property tests against the real runtime: after any random sequence of the four trades by several
//! traders, the books balance and the reserve covers selling the whole supply back.

use std::cell::RefCell;

use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use rwa_harness::market::*;
use rwa_harness::solana_keypair::Keypair;
use rwa_harness::solana_signer::Signer;
use rwa_harness::TestEnv;
use rwa_market::errors::MarketError;
use rwa_math::{Curve, CurveMarket, Decimal};

const MAX_SUPPLY: u64 = 1_000_000_000_000;
const QUOTE_EACH: u64 = 5_000_000_000_000;
const TRADERS: usize = 3;

fn market_code(error: MarketError) -> u32 {
    anchor_lang::error::ERROR_CODE_OFFSET + error as u32
}

/// Random curves of all three kinds, parameters drawn across the ranges a market would use
/// (prices from ~0.01 to ~100 quote tokens); the strategy keeps only those the program accepts.
fn any_curve() -> impl Strategy<Value = Curve> {
    let raw = |low: u128, high: u128| (low..high).prop_map(Decimal::from_raw);
    prop_oneof![
        (
            raw(1_000_000_000, 10_000_000_000_000),
            raw(0, 10_000_000_000_000_000_000)
        )
            .prop_map(|(slope, intercept)| Curve::Linear { slope, intercept }),
        (
            raw(10_000_000_000_000_000, 10_000_000_000_000_000_000),
            raw(1_000_000_000, 40_000_000_000_000)
        )
            .prop_map(|(a, k)| Curve::Exponential { a, k }),
        (
            raw(100_000_000_000_000_000, 100_000_000_000_000_000_000),
            raw(100_000_000_000, 1_000_000_000_000_000),
            raw(0, 1_000_000 * 1_000_000_000_000_000_000),
        )
            .prop_map(|(max_price, k, midpoint)| Curve::Sigmoid {
                max_price,
                k,
                midpoint
            }),
    ]
    .prop_filter("the program refuses these parameters", |curve| {
        CurveMarket::new(*curve, 6, 6)
            .and_then(|m| m.validate(MAX_SUPPLY))
            .is_ok()
    })
}

#[derive(Clone, Debug)]
struct Step {
    trader: usize,
    kind: u8,
    size: u64,
    fee_bps: Option<u16>,
}

fn step() -> impl Strategy<Value = Step> {
    (
        0..TRADERS,
        0u8..4,
        1u64..200_000_000_000,
        prop::option::weighted(0.1, 0u16..=1_000),
    )
        .prop_map(|(trader, kind, size, fee_bps)| Step {
            trader,
            kind,
            size,
            fee_bps,
        })
}

/// What the runs did, over all cases: so a run where everything was refused cannot pass.
#[derive(Default, Debug)]
struct Counts {
    cases: u64,
    by_kind: [(u64, u64); 4],
    refusal_codes: std::collections::BTreeMap<u32, u64>,
    curve_kinds: [u64; 3],
}

/// After any random sequence of the four trades by several traders on a random curve, the books
/// balance and the reserve covers selling the whole supply back; a refused trade changes nothing
/// and is refused with a typed code, never an overflow.
#[test]
fn books_balance_after_random_trades() {
    let counts = RefCell::new(Counts::default());
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let strategy = (
        any_curve(),
        1u64..50_000_000_000,
        prop::collection::vec(step(), 1..16),
    );
    runner
        .run(&strategy, |(curve, first_buy, steps)| {
            let mut env = TestEnv::new();
            let (market, _) = env
                .create_market(None, market_args(curve, 6, MAX_SUPPLY))
                .unwrap();
            let a = market.addresses;
            let traders: Vec<(Keypair, TraderAccounts)> = (0..TRADERS)
                .map(|_| env.create_trader(&a, QUOTE_EACH))
                .collect();
            let curve_market = CurveMarket::new(curve, 6, 6).unwrap();
            let mut counts = counts.borrow_mut();
            counts.cases += 1;
            counts.curve_kinds[curve.kind() as usize] += 1;
            // every case starts with a buy, so the sells that follow have something to sell
            let opening = Step {
                trader: 0,
                kind: 0,
                size: first_buy,
                fee_bps: None,
            };
            let mut case_successes = 0;
            for step in std::iter::once(opening).chain(steps) {
                if let Some(fee_bps) = step.fee_bps {
                    let update = rwa_market::instructions::MarketParamsUpdate {
                        fee_bps: Some(fee_bps),
                        ..Default::default()
                    };
                    env.send(
                        &[set_market_params_ix(&a, &market.authority.pubkey(), update)],
                        &[&market.authority],
                    )
                    .unwrap();
                }
                let (keypair, accounts) = &traders[step.trader];
                let held = env.token_balance(&accounts.rwa_account);
                let kind = match step.kind {
                    0 => TradeKind::BuyExactOut {
                        amount: step.size,
                        max_quote_in: u64::MAX,
                    },
                    1 => TradeKind::BuyExactIn {
                        quote_in: step.size / 100,
                        min_amount_out: 0,
                    },
                    2 => TradeKind::SellExactIn {
                        amount: step.size % (held + 1),
                        min_quote_out: 0,
                    },
                    _ => TradeKind::SellExactOut {
                        quote_out: step.size / 1_000,
                        max_amount_in: held,
                    },
                };
                let before = env.market_state(&a);
                match env.send(&[trade_ix(&a, accounts, kind)], &[keypair]) {
                    Ok(_) => {
                        case_successes += 1;
                        counts.by_kind[step.kind as usize].0 += 1;
                    }
                    Err(failure) => {
                        counts.by_kind[step.kind as usize].1 += 1;
                        let code = failure.custom_code();
                        prop_assert!(code.is_some(), "untyped refusal: {}", failure);
                        prop_assert_ne!(
                            code,
                            Some(market_code(MarketError::MathOverflow)),
                            "{}",
                            failure
                        );
                        *counts.refusal_codes.entry(code.unwrap()).or_default() += 1;
                        let after = env.market_state(&a);
                        prop_assert_eq!(
                            (before.supply, before.reserve, before.total_fees),
                            (after.supply, after.reserve, after.total_fees)
                        );
                    }
                }
                let state = env.market_state(&a);
                // conservation: every quote unit is with a trader, in the reserve or in the fee vault
                let traders_quote: u64 = traders
                    .iter()
                    .map(|(_, t)| env.token_balance(&t.quote_account))
                    .sum();
                prop_assert_eq!(
                    traders_quote
                        + env.token_balance(&a.reserve_vault)
                        + env.token_balance(&a.fee_vault),
                    QUOTE_EACH * TRADERS as u64
                );
                let traders_rwa: u64 = traders
                    .iter()
                    .map(|(_, t)| env.token_balance(&t.rwa_account))
                    .sum();
                prop_assert_eq!(traders_rwa, state.supply);
                prop_assert_eq!(env.mint_supply(&a.rwa_mint), state.supply);
                prop_assert_eq!(env.token_balance(&a.reserve_vault), state.reserve);
                prop_assert_eq!(env.token_balance(&a.fee_vault), state.total_fees);
                // solvency, from the math crate's own integral (not the program's books)
                prop_assert!(
                    state.reserve
                        >= curve_market
                            .sell_proceeds(state.supply, state.supply)
                            .unwrap()
                );
            }
            prop_assert!(case_successes > 0, "no trade landed in this case");
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let counts = counts.into_inner();
    println!("{counts:?}");
    assert_eq!(counts.cases, 64);
    assert!(
        counts.curve_kinds.iter().all(|&n| n > 0),
        "a curve kind never ran: {:?}",
        counts.curve_kinds
    );
    for (kind, (landed, refused)) in counts.by_kind.iter().enumerate() {
        assert!(
            *landed > 0,
            "trade kind {kind} never landed ({refused} refused)"
        );
    }
}
