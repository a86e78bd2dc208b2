//! The market-maker quote venue in a real runtime: maker lifecycle, quote refusals, routed swaps
//! across makers and the curve, expiry, and a conservation property over random sequences.

use proptest::prelude::*;
use rwa_harness::market::*;
use rwa_harness::solana_keypair::Keypair;
use rwa_harness::solana_signer::Signer;
use rwa_harness::{TestEnv, TxFailure, TxSuccess};
use rwa_market::errors::MarketError;
use rwa_market::events::*;
use rwa_market::instructions::{MarketParamsUpdate, QuoteParams};
use rwa_math::fees::fee_on;
use rwa_math::route::{notional, Level};
use rwa_math::{Curve, CurveMarket, Decimal, Rounding};

const MAX_SUPPLY: u64 = 1_000_000_000_000;
const TOKEN: u64 = 1_000_000;

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn price(text: &str) -> u128 {
    d(text).raw()
}

/// Linear curve: price 1.0 at zero supply, +0.001 per token.
fn curve() -> Curve {
    Curve::Linear {
        slope: d("0.001"),
        intercept: d("1"),
    }
}

fn code(error: MarketError) -> u32 {
    anchor_lang::error::ERROR_CODE_OFFSET + error as u32
}

#[track_caller]
fn expect_code(result: Result<TxSuccess, TxFailure>, error: MarketError) {
    match result {
        Ok(_) => panic!("succeeded, expected {error:?}"),
        Err(failure) => assert_eq!(failure.custom_code(), Some(code(error)), "{failure}"),
    }
}

struct Venue {
    env: TestEnv,
    market: MarketFixture,
    taker: Keypair,
    taker_accounts: TraderAccounts,
}

/// The routing stories quote up to ~50% from the curve: a venue with the widest band allowed.
/// The default 10% band has its own attack tests below.
fn venue() -> Venue {
    venue_with_band(Some(5_000))
}

fn venue_with_band(band_bps: Option<u16>) -> Venue {
    let mut env = TestEnv::new();
    let (market, _) = env
        .create_market(None, market_args(curve(), 6, MAX_SUPPLY))
        .unwrap();
    if band_bps.is_some() {
        let widen = MarketParamsUpdate {
            quote_band_bps: band_bps,
            ..Default::default()
        };
        env.send(
            &[set_market_params_ix(
                &market.addresses,
                &market.authority.pubkey(),
                widen,
            )],
            &[&market.authority],
        )
        .unwrap();
    }
    let (taker, taker_accounts) = env.create_trader(&market.addresses, 10_000_000 * TOKEN);
    Venue {
        env,
        market,
        taker,
        taker_accounts,
    }
}

fn quote(
    bid: &str,
    bid_size: u64,
    ask: &str,
    ask_size: u64,
    expiry_slot: u64,
    sequence: u64,
) -> QuoteParams {
    QuoteParams {
        bid_price: price(bid),
        bid_size,
        ask_price: price(ask),
        ask_size,
        expiry_slot,
        sequence,
    }
}

impl Venue {
    fn a(&self) -> MarketAddresses {
        self.market.addresses
    }

    fn maker(
        &mut self,
        rwa: u64,
        quote_inventory: u64,
    ) -> (Keypair, TraderAccounts, MakerAddresses) {
        let a = self.a();
        self.env
            .create_maker(&a, rwa, quote_inventory)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn post(
        &mut self,
        owner: &Keypair,
        maker: &MakerAddresses,
        params: QuoteParams,
    ) -> Result<TxSuccess, TxFailure> {
        let a = self.a();
        self.env.send(&[post_quote_ix(&a, maker, params)], &[owner])
    }

    /// The taker buys `amount` from the curve alone (no maker passed).
    fn buy_from_curve(&mut self, amount: u64) {
        let a = self.a();
        let kind = TradeKind::BuyExactOut {
            amount,
            max_quote_in: u64::MAX,
        };
        self.env
            .send(&[trade_ix(&a, &self.taker_accounts, kind)], &[&self.taker])
            .unwrap_or_else(|e| panic!("{e}"));
    }

    fn swap(
        &mut self,
        side: TradeSide,
        kind: SwapKind,
        makers: &[MakerAddresses],
    ) -> Result<TxSuccess, TxFailure> {
        let a = self.a();
        let ix = swap_ix(&a, &self.taker_accounts, side, kind, makers);
        self.env.send(&[ix], &[&self.taker])
    }
}

#[test]
fn maker_lifecycle_and_withdraw_limits() {
    let mut v = venue();
    let a = v.a();
    let (owner, owner_accounts, maker) = v.maker(100 * TOKEN, 500 * TOKEN);
    let state = v.env.maker_state(&maker);
    assert_eq!(
        (state.rwa_inventory, state.quote_inventory, state.owner),
        (100 * TOKEN, 500 * TOKEN, owner.pubkey())
    );
    assert_eq!(v.env.token_balance(&maker.rwa_vault), 100 * TOKEN);

    let slot = v.env.slot();
    // bid 300 tokens at 0.9 commits 270 quote; ask 80 tokens commits 80 RWA
    let posted = v
        .post(
            &owner,
            &maker,
            quote("0.9", 300 * TOKEN, "1.2", 80 * TOKEN, slot + 50, 1),
        )
        .unwrap();
    assert_eq!(posted.events::<QuotePosted>(&rwa_market::ID)[0].sequence, 1);

    let withdraw = |rwa, q| maker_inventory_ix(&a, &maker, &owner_accounts, false, rwa, q);
    expect_code(
        v.env.send(&[withdraw(21 * TOKEN, 0)], &[&owner]),
        MarketError::InventoryCommitted,
    );
    expect_code(
        v.env.send(&[withdraw(0, 231 * TOKEN)], &[&owner]),
        MarketError::InventoryCommitted,
    );
    expect_code(
        v.env.send(&[withdraw(101 * TOKEN, 0)], &[&owner]),
        MarketError::InsufficientInventory,
    );
    v.env
        .send(&[withdraw(20 * TOKEN, 230 * TOKEN)], &[&owner])
        .unwrap();

    // a stranger can neither withdraw nor requote
    let (stranger, stranger_accounts) = v.env.create_trader(&a, 0);
    let steal = maker_inventory_ix(
        &a,
        &MakerAddresses {
            owner: stranger.pubkey(),
            ..maker
        },
        &stranger_accounts,
        false,
        1,
        0,
    );
    expect_code(
        v.env.send(&[steal], &[&stranger]),
        MarketError::NotMakerOwner,
    );
    let requote = post_quote_ix_signed_by(
        &a,
        &maker,
        &stranger.pubkey(),
        quote("0.1", 1, "9", 1, slot + 5, 99),
    );
    expect_code(
        v.env.send(&[requote], &[&stranger]),
        MarketError::NotMakerOwner,
    );

    // after cancel (or expiry) nothing is committed
    let cancelled = v
        .env
        .send(&[cancel_quote_ix(&a, &maker)], &[&owner])
        .unwrap();
    assert_eq!(cancelled.events::<QuoteCancelled>(&rwa_market::ID).len(), 1);
    v.env
        .send(&[withdraw(80 * TOKEN, 270 * TOKEN)], &[&owner])
        .unwrap();

    // close returns everything left (including a donation to the vault) and the rent
    v.env.mint_to(&a.quote_mint, &maker.quote_vault, 7);
    let before = v.env.token_balance(&owner_accounts.quote_account);
    let closed = v
        .env
        .send(&[close_maker_ix(&a, &maker, &owner_accounts)], &[&owner])
        .unwrap();
    assert_eq!(
        closed.events::<MakerClosed>(&rwa_market::ID)[0].quote_returned,
        7
    );
    assert_eq!(
        v.env.token_balance(&owner_accounts.quote_account),
        before + 7
    );
    assert!(v
        .env
        .account(&maker.maker)
        .is_none_or(|acc| acc.lamports == 0));
    assert!(v
        .env
        .account(&maker.rwa_vault)
        .is_none_or(|acc| acc.lamports == 0));
}

#[test]
fn post_quote_refusals_change_nothing() {
    let mut v = venue();
    let (owner, _, maker) = v.maker(100 * TOKEN, 100 * TOKEN);
    let slot = v.env.slot();
    v.post(
        &owner,
        &maker,
        quote("0.9", 10 * TOKEN, "1.1", 10 * TOKEN, slot + 10, 5),
    )
    .unwrap();
    let cases = [
        (
            quote("0.9", 10 * TOKEN, "1.1", 10 * TOKEN, slot + 10, 5),
            MarketError::InvalidSequence,
        ), // replay
        (
            quote("0.9", 10 * TOKEN, "1.1", 10 * TOKEN, slot + 10, 4),
            MarketError::InvalidSequence,
        ), // out of order
        (
            quote("1.1", 10 * TOKEN, "1.1", 10 * TOKEN, slot + 10, 6),
            MarketError::CrossedQuote,
        ),
        (
            quote("1.2", 10 * TOKEN, "1.1", 10 * TOKEN, slot + 10, 6),
            MarketError::CrossedQuote,
        ),
        (
            quote("0.9", 10 * TOKEN, "1.1", 101 * TOKEN, slot + 10, 6),
            MarketError::QuoteExceedsInventory,
        ),
        // bid notional 0.9 * 112 = 100.8 > 100 escrowed
        (
            quote("0.9", 112 * TOKEN, "1.1", 1, slot + 10, 6),
            MarketError::QuoteExceedsInventory,
        ),
        (
            quote("0.9", 10 * TOKEN, "1.1", 10 * TOKEN, slot - 1, 6),
            MarketError::QuoteExpiryInPast,
        ),
        (
            quote("0.9", 10 * TOKEN, "1.1", 10 * TOKEN, slot + 9_001, 6),
            MarketError::QuoteExpiryTooFar,
        ),
        (
            quote("0", 10 * TOKEN, "1.1", 10 * TOKEN, slot + 10, 6),
            MarketError::InvalidQuotePrice,
        ),
        (
            quote("0.9", 0, "1.1", 0, slot + 10, 6),
            MarketError::ZeroAmount,
        ),
    ];
    for (params, error) in cases {
        let before = v.env.account(&maker.maker).unwrap().data;
        expect_code(v.post(&owner, &maker, params), error);
        assert_eq!(
            v.env.account(&maker.maker).unwrap().data,
            before,
            "{error:?} changed the maker"
        );
    }
    // paused market: no new quotes, but cancelling stays possible
    let a = v.a();
    let authority = v.market.authority.insecure_clone();
    v.env
        .send(
            &[set_paused_ix(&a, &authority.pubkey(), true)],
            &[&authority],
        )
        .unwrap();
    expect_code(
        v.post(&owner, &maker, quote("0.9", 1, "1.1", 1, slot + 10, 7)),
        MarketError::MarketPaused,
    );
    v.env
        .send(&[cancel_quote_ix(&a, &maker)], &[&owner])
        .unwrap();
}

/// Reference: walk the order in `chunk` steps, each from whichever source is cheapest for that
/// chunk right now (curve chunk cost vs ask notional), the brute-force "best at every step" rule.
fn stepwise_buy_reference(
    market: &CurveMarket,
    mut supply: u64,
    asks: &[Level],
    amount: u64,
    chunk: u64,
) -> u64 {
    let mut left: Vec<u64> = asks.iter().map(|l| l.size).collect();
    let mut total = 0;
    let mut remaining = amount;
    while remaining > 0 {
        let step = chunk.min(remaining);
        let curve_cost = market.buy_cost(supply, step).unwrap();
        let best = (0..asks.len())
            .filter(|&i| left[i] >= step)
            .map(|i| {
                (
                    notional(step, asks[i].price, 6, 6, Rounding::Up).unwrap(),
                    i,
                )
            })
            .min();
        match best {
            Some((cost, index)) if cost < curve_cost => {
                left[index] -= step;
                total += cost;
            }
            _ => {
                supply += step;
                total += curve_cost;
            }
        }
        remaining -= step;
    }
    total
}

#[test]
fn buy_fills_makers_then_curve_at_the_best_price_at_every_step() {
    let mut v = venue();
    let a = v.a();
    // The makers bought their inventory on the curve: supply is now 300 tokens (price 1.3).
    let (owner1, _, maker1) = v.maker(100 * TOKEN, 0);
    let (owner2, _, maker2) = v.maker(100 * TOKEN, 0);
    let (owner3, _, maker3) = v.maker(100 * TOKEN, 0);
    let slot = v.env.slot();
    v.post(
        &owner1,
        &maker1,
        quote("0", 0, "1.25", 40 * TOKEN, slot + 100, 1),
    )
    .unwrap();
    v.post(
        &owner2,
        &maker2,
        quote("0", 0, "1.28", 60 * TOKEN, slot + 100, 1),
    )
    .unwrap();
    v.post(
        &owner3,
        &maker3,
        quote("0", 0, "1.40", 100 * TOKEN, slot + 100, 1),
    )
    .unwrap();
    let market_state = v.env.market_state(&a);
    assert_eq!(market_state.supply, 300 * TOKEN);
    let curve_market = market_state.curve_market().unwrap();
    let asks = [
        Level {
            price: d("1.25"),
            size: 40 * TOKEN,
        },
        Level {
            price: d("1.28"),
            size: 60 * TOKEN,
        },
        Level {
            price: d("1.40"),
            size: 100 * TOKEN,
        },
    ];
    let amount = 250 * TOKEN;
    let expected = rwa_math::route::route_buy(
        &curve_market,
        300 * TOKEN,
        MAX_SUPPLY,
        &asks,
        rwa_math::route::Target::Amount(amount),
    )
    .unwrap();
    let reference = stepwise_buy_reference(&curve_market, 300 * TOKEN, &asks, amount, TOKEN / 10);
    assert!(
        expected.total_quote <= reference,
        "router {} worse than stepwise reference {}",
        expected.total_quote,
        reference
    );

    let quote_before = v.env.token_balance(&v.taker_accounts.quote_account);
    let result = v
        .swap(
            TradeSide::Buy,
            SwapKind::ExactOut {
                amount_out: amount,
                max_amount_in: u64::MAX,
            },
            &[maker1, maker2, maker3],
        )
        .unwrap();
    let fills: Vec<QuoteFilled> = result.events(&rwa_market::ID);
    let summary = &result.events::<SwapExecuted>(&rwa_market::ID)[0];
    // both cheap makers drained, the curve from 1.3 up to 1.40, then the 1.40 maker
    assert_eq!(
        fills.iter().map(|f| (f.maker, f.size)).collect::<Vec<_>>(),
        vec![
            (maker1.maker, 40 * TOKEN),
            (maker2.maker, 60 * TOKEN),
            (maker3.maker, 50 * TOKEN)
        ]
    );
    assert_eq!(summary.curve_amount, 100 * TOKEN);
    assert_eq!(
        (summary.amount, summary.quote_amount),
        (amount, expected.total_quote)
    );
    let fee = fee_on(expected.total_quote, 30).unwrap();
    assert_eq!(summary.fee, fee);
    assert_eq!(
        v.env.token_balance(&v.taker_accounts.quote_account),
        quote_before - expected.total_quote - fee
    );
    assert_eq!(v.env.token_balance(&v.taker_accounts.rwa_account), amount);
    // makers' inventory moved exactly
    let m1 = v.env.maker_state(&maker1);
    assert_eq!(
        (m1.rwa_inventory, m1.quote_inventory, m1.ask_size),
        (60 * TOKEN, 50 * TOKEN, 0)
    );
    assert_eq!(v.env.token_balance(&maker1.quote_vault), 50 * TOKEN);
    let m3 = v.env.maker_state(&maker3);
    assert_eq!((m3.ask_size, m3.quote_inventory), (50 * TOKEN, 70 * TOKEN));
    // the oracle records the curve's spot after settlement (1.40 here), never a maker's price
    let oracle = v.env.oracle_state(&a);
    assert_eq!(oracle.latest().unwrap().price, d("1.4"));
}

#[test]
fn sell_fills_best_bids_and_skips_expired_quotes() {
    let mut v = venue();
    let (owner1, _, maker1) = v.maker(0, 1_000 * TOKEN);
    let (owner2, _, maker2) = v.maker(0, 1_000 * TOKEN);
    // the taker holds 200 tokens bought on the curve: supply 200, price 1.2
    v.buy_from_curve(200 * TOKEN);
    let slot = v.env.slot();
    v.post(
        &owner1,
        &maker1,
        quote("1.5", 30 * TOKEN, "2", 0, slot + 100, 1),
    )
    .unwrap(); // best bid, live
    v.post(
        &owner2,
        &maker2,
        quote("1.75", 30 * TOKEN, "2", 0, slot + 2, 1),
    )
    .unwrap(); // better bid, but expires
    v.env.advance_slots(3);
    let before = v.env.maker_state(&maker2);
    let result = v
        .swap(
            TradeSide::Sell,
            SwapKind::ExactIn {
                amount_in: 50 * TOKEN,
                min_amount_out: 1,
            },
            &[maker1, maker2],
        )
        .unwrap();
    let fills: Vec<QuoteFilled> = result.events(&rwa_market::ID);
    assert_eq!(fills.len(), 1, "expired quote must not fill");
    assert_eq!(
        (fills[0].maker, fills[0].size, fills[0].quote_amount),
        (maker1.maker, 30 * TOKEN, 45 * TOKEN)
    );
    let summary = &result.events::<SwapExecuted>(&rwa_market::ID)[0];
    assert_eq!(summary.curve_amount, 20 * TOKEN);
    assert_eq!(
        v.env.maker_state(&maker2).quote_inventory,
        before.quote_inventory
    );
    let m1 = v.env.maker_state(&maker1);
    assert_eq!(
        (m1.rwa_inventory, m1.quote_inventory, m1.bid_size),
        (30 * TOKEN, 955 * TOKEN, 0)
    );
}

#[test]
fn swap_bounds_and_bad_maker_accounts_are_refused() {
    let mut v = venue();
    let a = v.a();
    let (owner, _, maker) = v.maker(100 * TOKEN, 100 * TOKEN);
    let slot = v.env.slot();
    v.post(
        &owner,
        &maker,
        quote("0.9", 10 * TOKEN, "1.05", 50 * TOKEN, slot + 100, 1),
    )
    .unwrap();
    let buy = SwapKind::ExactOut {
        amount_out: 10 * TOKEN,
        max_amount_in: u64::MAX,
    };

    // slippage both ways
    expect_code(
        v.swap(
            TradeSide::Buy,
            SwapKind::ExactOut {
                amount_out: 10 * TOKEN,
                max_amount_in: 10 * TOKEN,
            },
            &[maker],
        ),
        MarketError::SlippageExceeded,
    );
    expect_code(
        v.swap(
            TradeSide::Buy,
            SwapKind::ExactIn {
                amount_in: 10 * TOKEN,
                min_amount_out: 10 * TOKEN,
            },
            &[maker],
        ),
        MarketError::SlippageExceeded,
    );
    // selling more than the bids and the curve can absorb
    expect_code(
        v.swap(
            TradeSide::Sell,
            SwapKind::ExactOut {
                amount_out: u64::MAX / 4,
                max_amount_in: u64::MAX,
            },
            &[maker],
        ),
        MarketError::InsufficientLiquidity,
    );

    // a maker of another market
    let (second, _) = v
        .env
        .create_market(Some(a.quote_mint), market_args(curve(), 6, MAX_SUPPLY))
        .unwrap();
    let (_, _, foreign) = v
        .env
        .create_maker(&second.addresses, 0, 10 * TOKEN)
        .unwrap();
    expect_code(
        v.swap(TradeSide::Buy, buy, &[foreign]),
        MarketError::InvalidMakerAccount,
    );
    // the right maker with someone else's vault
    expect_code(
        v.swap(
            TradeSide::Buy,
            buy,
            &[MakerAddresses {
                rwa_vault: foreign.rwa_vault,
                ..maker
            }],
        ),
        MarketError::InvalidMakerAccount,
    );
    // the same maker twice
    expect_code(
        v.swap(TradeSide::Buy, buy, &[maker, maker]),
        MarketError::InvalidMakerAccount,
    );
    // nine makers
    expect_code(
        v.swap(TradeSide::Buy, buy, &[maker; 9]),
        MarketError::TooManyMakers,
    );
    // a non-maker account in the maker slot
    let fake = MakerAddresses {
        maker: a.reserve_vault,
        ..maker
    };
    let result = v.swap(TradeSide::Buy, buy, &[fake]);
    assert!(result.is_err());
    // nothing moved through all of that
    assert_eq!(v.env.maker_state(&maker).ask_size, 50 * TOKEN);
    v.swap(TradeSide::Buy, buy, &[maker]).unwrap();
    assert_eq!(v.env.maker_state(&maker).ask_size, 40 * TOKEN);
}

#[derive(Clone, Debug)]
enum Action {
    Post {
        maker: usize,
        bid: u16,
        bid_size: u64,
        spread: u16,
        ask_size: u64,
        life: u64,
    },
    Cancel {
        maker: usize,
    },
    Swap {
        sell: bool,
        exact_in: bool,
        size: u64,
    },
    Wait {
        slots: u64,
    },
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (
            0usize..3,
            800u16..1_600,
            0u64..80,
            1u16..200,
            0u64..80,
            0u64..6
        )
            .prop_map(
                |(maker, bid, bid_size, spread, ask_size, life)| Action::Post {
                    maker,
                    bid,
                    bid_size,
                    spread,
                    ask_size,
                    life
                }
            ),
        (0usize..3).prop_map(|maker| Action::Cancel { maker }),
        (any::<bool>(), any::<bool>(), 1u64..150).prop_map(|(sell, exact_in, size)| Action::Swap {
            sell,
            exact_in,
            size
        }),
        (1u64..4).prop_map(|slots| Action::Wait { slots }),
    ]
}

/// What the venue runs did over all cases, so a run where every action was refused cannot pass.
#[derive(Default, Debug)]
struct VenueCounts {
    cases: u64,
    posts: (u64, u64),
    cancels: (u64, u64),
    swaps: (u64, u64),
    maker_fills: u64,
    curve_legs: u64,
}

/// Whatever makers quote and takers do, tokens are conserved: quote tokens only move between
/// taker, makers, reserve and fee vault; RWA outside the curve only moves between taker and
/// makers; each maker's tracked inventory equals its vaults; the curve stays solvent. Every
/// action's outcome is counted, and the run must have posted, cancelled, swapped and filled.
#[test]
fn inventory_conservation() {
    let counts = std::cell::RefCell::new(VenueCounts::default());
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 32,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&prop::collection::vec(action(), 1..20), |actions| {
            let mut counts = counts.borrow_mut();
            counts.cases += 1;
            let count =
                |slot: &mut (u64, u64), ok: bool| if ok { slot.0 += 1 } else { slot.1 += 1 };
            let mut v = venue();
            let a = v.a();
            let makers: Vec<(Keypair, TraderAccounts, MakerAddresses)> =
                (0..3).map(|_| v.maker(100 * TOKEN, 200 * TOKEN)).collect();
            v.buy_from_curve(150 * TOKEN);
            let quote_accounts: Vec<_> = std::iter::once(v.taker_accounts.quote_account)
                .chain(makers.iter().map(|m| m.1.quote_account))
                .collect();
            let rwa_accounts: Vec<_> = std::iter::once(v.taker_accounts.rwa_account)
                .chain(makers.iter().map(|m| m.1.rwa_account))
                .collect();
            let total_quote = |env: &TestEnv| -> u64 {
                quote_accounts
                    .iter()
                    .map(|acc| env.token_balance(acc))
                    .sum::<u64>()
                    + makers
                        .iter()
                        .map(|m| env.token_balance(&m.2.quote_vault))
                        .sum::<u64>()
                    + env.token_balance(&a.reserve_vault)
                    + env.token_balance(&a.fee_vault)
            };
            let quote_start = total_quote(&v.env);
            let mut sequence = 1;
            for action in actions {
                match action {
                    Action::Post {
                        maker,
                        bid,
                        bid_size,
                        spread,
                        ask_size,
                        life,
                    } => {
                        sequence += 1;
                        let bid_price = bid as u128 * 1_000_000_000_000_000;
                        let params = QuoteParams {
                            bid_price,
                            bid_size: bid_size * TOKEN,
                            ask_price: bid_price + spread as u128 * 1_000_000_000_000_000,
                            ask_size: ask_size * TOKEN,
                            expiry_slot: v.env.slot() + life,
                            sequence,
                        };
                        let (owner, _, addresses) = &makers[maker];
                        let landed = v
                            .env
                            .send(&[post_quote_ix(&a, addresses, params)], &[owner])
                            .is_ok();
                        count(&mut counts.posts, landed);
                    }
                    Action::Cancel { maker } => {
                        let (owner, _, addresses) = &makers[maker];
                        let landed = v
                            .env
                            .send(&[cancel_quote_ix(&a, addresses)], &[owner])
                            .is_ok();
                        count(&mut counts.cancels, landed);
                    }
                    Action::Swap {
                        sell,
                        exact_in,
                        size,
                    } => {
                        let side = if sell {
                            TradeSide::Sell
                        } else {
                            TradeSide::Buy
                        };
                        let kind = if exact_in {
                            SwapKind::ExactIn {
                                amount_in: size * TOKEN,
                                min_amount_out: 0,
                            }
                        } else {
                            SwapKind::ExactOut {
                                amount_out: size * TOKEN / 2,
                                max_amount_in: u64::MAX,
                            }
                        };
                        let all: Vec<MakerAddresses> = makers.iter().map(|m| m.2).collect();
                        match v.swap(side, kind, &all) {
                            Ok(result) => {
                                counts.swaps.0 += 1;
                                counts.maker_fills +=
                                    result.events::<QuoteFilled>(&rwa_market::ID).len() as u64;
                                let summary = &result.events::<SwapExecuted>(&rwa_market::ID)[0];
                                if summary.curve_amount > 0 {
                                    counts.curve_legs += 1;
                                }
                            }
                            Err(_) => counts.swaps.1 += 1,
                        }
                    }
                    Action::Wait { slots } => v.env.advance_slots(slots),
                }
                prop_assert_eq!(total_quote(&v.env), quote_start);
                let state = v.env.market_state(&a);
                let rwa_outside: u64 = rwa_accounts
                    .iter()
                    .map(|acc| v.env.token_balance(acc))
                    .sum::<u64>()
                    + makers
                        .iter()
                        .map(|m| v.env.token_balance(&m.2.rwa_vault))
                        .sum::<u64>();
                prop_assert_eq!(rwa_outside, state.supply);
                for (_, _, addresses) in &makers {
                    let maker = v.env.maker_state(addresses);
                    prop_assert_eq!(
                        maker.rwa_inventory,
                        v.env.token_balance(&addresses.rwa_vault)
                    );
                    prop_assert_eq!(
                        maker.quote_inventory,
                        v.env.token_balance(&addresses.quote_vault)
                    );
                    // a live quote is always backed by escrow
                    let slot = v.env.slot();
                    prop_assert!(maker.committed_rwa(slot) <= maker.rwa_inventory);
                    prop_assert!(
                        maker.committed_quote(slot, 6, 6).unwrap() <= maker.quote_inventory
                    );
                }
                let curve_market = state.curve_market().unwrap();
                prop_assert!(
                    state.reserve
                        >= curve_market
                            .sell_proceeds(state.supply, state.supply)
                            .unwrap()
                );
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let counts = counts.into_inner();
    println!("{counts:?}");
    assert_eq!(counts.cases, 32);
    assert!(
        counts.posts.0 > 0 && counts.cancels.0 > 0 && counts.swaps.0 > 0,
        "{counts:?}"
    );
    assert!(
        counts.maker_fills > 0 && counts.curve_legs > 0,
        "{counts:?}"
    );
}

/// Attack (issue 12, finding 1 and 2): a maker quotes absurd prices and fills itself for a base
/// unit to write them into the oracle (a 1000x bid then a 1e-18 ask overflowed the variance and
/// bricked the market; a 1-unit self-fill at 50x every slot dragged the TWAP to ~49x).
/// Defended: quotes outside the band around the curve's spot are refused; in-band self-fills
/// settle but the oracle records only the curve's spot, so after 60 slots of alternating
/// self-fills at the band's edges the TWAP is exactly the untouched curve's spot, update_oracle
/// and honest trades still work.
#[test]
fn self_fills_at_extreme_prices_cannot_poison_or_brick_the_oracle() {
    let mut v = venue_with_band(None);
    let a = v.a();
    assert_eq!(
        v.env.market_state(&a).quote_band_bps,
        rwa_market::constants::DEFAULT_QUOTE_BAND_BPS
    );
    let (owner, owner_accounts, maker) = v.maker(1_000 * TOKEN, 1_000 * TOKEN);
    // past the TWAP window, so the TWAP has settled at the spot the maker's purchase left
    v.env.advance_slots(200);
    let spot = v.env.market_state(&a).spot_price().unwrap();
    let slot = v.env.slot();
    // the reproduced brick: a bid at 1000x, an ask at 1e-18
    expect_code(
        v.post(&owner, &maker, quote("1000", 1, "2000", 0, slot + 50, 1)),
        MarketError::QuoteOutsideBand,
    );
    expect_code(
        v.post(
            &owner,
            &maker,
            QuoteParams {
                bid_price: 0,
                bid_size: 0,
                ask_price: 1,
                ask_size: 1,
                expiry_slot: slot + 50,
                sequence: 2,
            },
        ),
        MarketError::QuoteOutsideBand,
    );
    // 11% from spot is outside the default 10% band, 9.9% inside
    let edge = |bps: u128, up: bool| {
        let delta = spot.raw() * bps / 10_000;
        if up {
            spot.raw() + delta
        } else {
            spot.raw() - delta
        }
    };
    expect_code(
        v.post(
            &owner,
            &maker,
            QuoteParams {
                bid_price: edge(1_100, true),
                bid_size: 1,
                ask_price: 0,
                ask_size: 0,
                expiry_slot: slot + 50,
                sequence: 3,
            },
        ),
        MarketError::QuoteOutsideBand,
    );
    let before = v.env.oracle_state(&a).twap(v.env.slot()).unwrap();
    assert_eq!(before, spot);
    let mut fills = 0;
    for (sequence, step) in (11u64..).zip(0..60u64) {
        v.env.advance_slots(1);
        let slot = v.env.slot();
        let (params, side) = if step % 2 == 1 {
            // bid 9.9% above spot, then sell the base unit bought before into it
            (
                QuoteParams {
                    bid_price: edge(990, true),
                    bid_size: 1_000,
                    ask_price: 0,
                    ask_size: 0,
                    expiry_slot: slot + 5,
                    sequence,
                },
                TradeSide::Sell,
            )
        } else {
            // ask 9.9% below spot, then buy one base unit from it (first, so the owner holds one)
            (
                QuoteParams {
                    bid_price: 0,
                    bid_size: 0,
                    ask_price: edge(990, false),
                    ask_size: 1_000,
                    expiry_slot: slot + 5,
                    sequence,
                },
                TradeSide::Buy,
            )
        };
        v.post(&owner, &maker, params).unwrap();
        // a thousand base units (0.001 token) either way: dust
        let kind = match side {
            TradeSide::Buy => SwapKind::ExactOut {
                amount_out: 1_000,
                max_amount_in: u64::MAX,
            },
            TradeSide::Sell => SwapKind::ExactIn {
                amount_in: 1_000,
                min_amount_out: 0,
            },
        };
        let ix = swap_ix(&a, &owner_accounts, side, kind, &[maker]);
        let result = v.env.send(&[ix], &[&owner]).unwrap();
        fills += result.events::<QuoteFilled>(&rwa_market::ID).len();
    }
    assert!(fills >= 30, "only {fills} self-fills landed");
    let now = v.env.slot();
    let oracle = v.env.oracle_state(&a);
    assert_eq!(oracle.twap(now).unwrap(), spot, "the TWAP moved");
    assert_eq!(oracle.spot(), spot);
    assert_eq!(oracle.volatility_per_slot(now), Decimal::ZERO);
    // the market still works for everyone
    v.env.send(&[update_oracle_ix(&a)], &[]).unwrap();
    v.buy_from_curve(10 * TOKEN);
}

/// A quote that was in band when posted is skipped (like an expired one) once the curve moves
/// away from it, and a band wider than the bounds is refused.
#[test]
fn quotes_left_outside_the_band_by_the_curve_are_skipped() {
    let mut v = venue_with_band(Some(500));
    let a = v.a();
    let (owner, _, maker) = v.maker(100 * TOKEN, 0);
    let slot = v.env.slot();
    // an ask 4% above the spot is in the 5% band
    let spot = v.env.market_state(&a).spot_price().unwrap();
    let ask = QuoteParams {
        bid_price: 0,
        bid_size: 0,
        ask_price: spot.raw() / 100 * 104,
        ask_size: 50 * TOKEN,
        expiry_slot: slot + 100,
        sequence: 1,
    };
    v.post(&owner, &maker, ask).unwrap();
    // the curve moves up ~18% (200 tokens bought from the curve, no maker passed)
    v.buy_from_curve(200 * TOKEN);
    // the ask is now ~12% below the spot: the router skips it and the curve fills
    let result = v
        .swap(
            TradeSide::Buy,
            SwapKind::ExactOut {
                amount_out: TOKEN,
                max_amount_in: u64::MAX,
            },
            &[maker],
        )
        .unwrap();
    assert!(result.events::<QuoteFilled>(&rwa_market::ID).is_empty());
    assert_eq!(v.env.maker_state(&maker).ask_size, 50 * TOKEN);
    let authority = v.market.authority.insecure_clone();
    for band in [0u16, 9, 5_001] {
        expect_code(
            v.env.send(
                &[set_market_params_ix(
                    &a,
                    &authority.pubkey(),
                    MarketParamsUpdate {
                        quote_band_bps: Some(band),
                        ..Default::default()
                    },
                )],
                &[&authority],
            ),
            MarketError::InvalidQuoteBand,
        );
    }
}
