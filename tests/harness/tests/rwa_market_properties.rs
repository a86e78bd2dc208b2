//! Property tests against the real runtime: after any random sequence of the four trades by several
//! traders, the books balance and the reserve covers selling the whole supply back.

use proptest::prelude::*;
use rwa_harness::market::*;
use rwa_harness::solana_keypair::Keypair;
use rwa_harness::solana_signer::Signer;
use rwa_harness::TestEnv;
use rwa_math::{Curve, CurveMarket, Decimal};

const MAX_SUPPLY: u64 = 1_000_000_000_000;
const QUOTE_EACH: u64 = 5_000_000_000_000;
const TRADERS: usize = 3;

fn curve(index: usize) -> Curve {
    let d = |t: &str| t.parse::<Decimal>().unwrap();
    match index {
        0 => Curve::Linear {
            slope: d("0.000001"),
            intercept: d("1"),
        },
        1 => Curve::Exponential {
            a: d("0.5"),
            k: d("0.00001"),
        },
        _ => Curve::Sigmoid {
            max_price: d("100"),
            k: d("0.0005"),
            midpoint: d("10000"),
        },
    }
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn books_balance_after_random_trades(curve_index in 0usize..3, steps in prop::collection::vec(step(), 1..16)) {
        let mut env = TestEnv::new();
        let (market, _) = env.create_market(None, market_args(curve(curve_index), 6, MAX_SUPPLY)).unwrap();
        let a = market.addresses;
        let traders: Vec<(Keypair, TraderAccounts)> = (0..TRADERS).map(|_| env.create_trader(&a, QUOTE_EACH)).collect();
        let curve_market = CurveMarket::new(curve(curve_index), 6, 6).unwrap();
        let (mut successes, mut refusals) = (0, 0);
        for step in steps {
            if let Some(fee_bps) = step.fee_bps {
                let update = rwa_market::instructions::MarketParamsUpdate { fee_bps: Some(fee_bps), ..Default::default() };
                env.send(&[set_market_params_ix(&a, &market.authority.pubkey(), update)], &[&market.authority]).unwrap();
            }
            let (keypair, accounts) = &traders[step.trader];
            let held = env.token_balance(&accounts.rwa_account);
            let kind = match step.kind {
                0 => TradeKind::BuyExactOut { amount: step.size, max_quote_in: u64::MAX },
                1 => TradeKind::BuyExactIn { quote_in: step.size / 100, min_amount_out: 0 },
                2 => TradeKind::SellExactIn { amount: step.size % (held + 1), min_quote_out: 0 },
                _ => TradeKind::SellExactOut { quote_out: step.size / 1_000, max_amount_in: held },
            };
            let before = env.market_state(&a);
            match env.send(&[trade_ix(&a, accounts, kind)], &[keypair]) {
                Ok(_) => successes += 1,
                Err(_) => {
                    refusals += 1;
                    let after = env.market_state(&a);
                    prop_assert_eq!((before.supply, before.reserve, before.total_fees), (after.supply, after.reserve, after.total_fees));
                }
            }
            let state = env.market_state(&a);
            // conservation: every quote unit is with a trader, in the reserve or in the fee vault
            let traders_quote: u64 = traders.iter().map(|(_, t)| env.token_balance(&t.quote_account)).sum();
            prop_assert_eq!(traders_quote + env.token_balance(&a.reserve_vault) + env.token_balance(&a.fee_vault), QUOTE_EACH * TRADERS as u64);
            let traders_rwa: u64 = traders.iter().map(|(_, t)| env.token_balance(&t.rwa_account)).sum();
            prop_assert_eq!(traders_rwa, state.supply);
            prop_assert_eq!(env.mint_supply(&a.rwa_mint), state.supply);
            prop_assert_eq!(env.token_balance(&a.reserve_vault), state.reserve);
            prop_assert_eq!(env.token_balance(&a.fee_vault), state.total_fees);
            // solvency
            prop_assert!(state.reserve >= curve_market.sell_proceeds(state.supply, state.supply).unwrap());
        }
        prop_assert!(successes + refusals > 0);
    }
}
