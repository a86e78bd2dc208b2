use rwa_harness::market::{market_args, trade_ix, TradeKind};
use rwa_harness::TestEnv;
use rwa_market::events::TradeExecuted;
use rwa_math::{Curve, Decimal};

#[test]
fn create_buy_sell() {
    let mut env = TestEnv::new();
    let curve = Curve::Linear {
        slope: "0.000001".parse().unwrap(),
        intercept: Decimal::ONE,
    };
    let (fixture, _) = env
        .create_market(None, market_args(curve, 6, 1_000_000_000_000))
        .unwrap();
    let a = fixture.addresses;
    let (trader, accounts) = env.create_trader(&a, 10_000_000_000);
    let result = env
        .send(
            &[trade_ix(
                &a,
                &accounts,
                TradeKind::BuyExactOut {
                    amount: 1_000_000_000,
                    max_quote_in: u64::MAX,
                },
            )],
            &[&trader],
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let events: Vec<TradeExecuted> = result.events(&rwa_market::ID);
    println!("{:?}\n{:#?}", events, result.logs);
    assert_eq!(env.token_balance(&accounts.rwa_account), 1_000_000_000);
    assert_eq!(env.market_state(&a).reserve, 1_000_500_000);
}
