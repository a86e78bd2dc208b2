//! Stateful adversarial fuzzing over all three programs (issue 12): two DAO-governed markets
//! (linear and exponential curves) with an honest maker and an adversarial one, a lending market
//! taking both as collateral with two borrowers, and a rule DAO. Every step one actor acts, chosen
//! by a seeded ChaCha stream: honest trades and swaps, a maker self-filling at the band's edges and
//! posting absurd prices, update_oracle spam, dust trades, whale crashes and pumps, borrows,
//! repayments, liquidations, bricking proposals and flash stake. After every step:
//!
//! * books: RWA mint supply == curve supply; reserve and fee vaults == the market's books;
//!   maker vaults == maker inventories; liquidity vault == `available`; collateral vaults ==
//!   `total_collateral` == the obligations' deposits; `total_debt` == the obligations' debts;
//! * solvency: reserve >= the proceeds of selling the whole supply back down the curve;
//! * oracle: the TWAP lies within the range of the curve's end-of-slot spot over the recent
//!   window (no maker print, dust or spam can move it outside what the curve really did);
//! * no permanent halt: a halt never reaches past `MAX_HALT_SLOTS` from now;
//! * liquidation: an obligation that is underwater even at the HIGHEST spot of the recent
//!   window is liquidatable right now, and a liquidation of it succeeds;
//! * no overflow: no action is ever refused with a math-overflow code.
//!
//! The test prints the steps and the actions run, landed and refused (by code), and asserts that
//! each kind of action both happened and did something. `FUZZ_STEPS` and `FUZZ_SEED` override the
//! defaults: `FUZZ_STEPS=400000 cargo test --release -p rwa-harness --test adversarial_fuzz --
//! --nocapture` runs 100x the CI budget.

use std::collections::BTreeMap;

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use rule_dao::state::ProposalKind;
use rwa_harness::dao::*;
use rwa_harness::lending::*;
use rwa_harness::market::*;
use rwa_harness::solana_address::Address;
use rwa_harness::solana_keypair::Keypair;
use rwa_harness::solana_signer::Signer;
use rwa_harness::{TestEnv, TxFailure, TxSuccess};
use rwa_lending::instructions::LendingMarketParams;
use rwa_market::events::TradeSide;
use rwa_market::instructions::PrimaryMarketArgs;
use rwa_market::instructions::QuoteParams;
use rwa_math::lending::DEFAULT_SLOTS_PER_YEAR;
use rwa_math::{Curve, Decimal};
use rwa_rules::RuleValues;

const TOKEN: u64 = 1_000_000;
const TWAP_WINDOW: u64 = 50;
const BREAKER_WINDOW: u64 = 20;
const HALT_SLOTS: u64 = 30;
const DEFAULT_STEPS: u64 = 4_000;
const DEFAULT_SEED: u64 = 0x5eed_0012;

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn market_code(code: rwa_market::errors::MarketError) -> u32 {
    anchor_lang::error::ERROR_CODE_OFFSET + code as u32
}

fn lending_code(code: rwa_lending::errors::LendingError) -> u32 {
    anchor_lang::error::ERROR_CODE_OFFSET + code as u32
}

fn dao_code(code: rule_dao::errors::DaoError) -> u32 {
    anchor_lang::error::ERROR_CODE_OFFSET + code as u32
}

/// A keypair with a quote account and one RWA account per market.
struct Actor {
    keypair: Keypair,
    quote: Address,
    rwa: Vec<Address>,
}

impl Actor {
    fn on(&self, market: usize) -> TraderAccounts {
        TraderAccounts {
            trader: self.keypair.pubkey(),
            rwa_account: self.rwa[market],
            quote_account: self.quote,
        }
    }
}

struct Maker {
    owner: Actor,
    addresses: MakerAddresses,
    sequence: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    HonestTrade,
    HonestSwap,
    HonestQuote,
    ExtremeQuote,
    SelfFill,
    OracleSpam,
    DustTrade,
    Crash,
    Pump,
    Borrow,
    Repay,
    Liquidate,
    BrickingProposal,
    FlashStake,
    Wait,
    /// The primary market: the authorised participant subscribes and redeems at NAV, the issuer
    /// publishes NAVs around the spot (and a forger tries to), a stranger tries to subscribe.
    Subscribe,
    Redeem,
    PublishNav,
    StrangerPrimary,
}

const ACTIONS: [(Action, u64); 19] = [
    (Action::HonestTrade, 14),
    (Action::HonestSwap, 8),
    (Action::HonestQuote, 6),
    (Action::ExtremeQuote, 5),
    (Action::SelfFill, 8),
    (Action::OracleSpam, 6),
    (Action::DustTrade, 6),
    (Action::Crash, 4),
    (Action::Pump, 3),
    (Action::Borrow, 10),
    (Action::Repay, 2),
    (Action::Liquidate, 4),
    (Action::BrickingProposal, 2),
    (Action::FlashStake, 2),
    (Action::Wait, 3),
    (Action::Subscribe, 4),
    (Action::Redeem, 3),
    (Action::PublishNav, 3),
    (Action::StrangerPrimary, 1),
];

#[derive(Default)]
struct Tally {
    landed: u64,
    refused: BTreeMap<u32, u64>,
}

struct World {
    env: TestEnv,
    rng: ChaCha8Rng,
    usdc: Address,
    markets: Vec<MarketAddresses>,
    lending: LendingAddresses,
    dao: DaoAddresses,
    rules: RuleValues,
    trader: Actor,
    whale: Actor,
    dust: Actor,
    liquidator: Actor,
    borrowers: Vec<Actor>,
    honest_makers: Vec<Maker>,
    adversaries: Vec<Maker>,
    proposer: (Keypair, Address),
    flash: (Keypair, Address),
    /// The primary markets' NAV publisher and authorised participant.
    publisher: Keypair,
    participant: Actor,
    /// End-of-slot curve spot per market: (slot, spot) at the end of every step.
    path: Vec<Vec<(u64, Decimal)>>,
    /// Slots the circuit breaker tripped in, per market.
    trips: Vec<Vec<u64>>,
    /// Oracle checks made against the recent window, and against a window stretched back over
    /// a chain of breaker trips.
    recent_checks: u64,
    chained_checks: u64,
    tally: BTreeMap<Action, Tally>,
    liquidations_forced: u64,
    /// Obligation-steps underwater at the curve's current spot (liquidation ratio).
    underwater_at_spot: u64,
}

impl World {
    fn below(&mut self, n: u64) -> u64 {
        self.rng.next_u64() % n.max(1)
    }

    fn actor(&mut self, quote_amount: u64) -> Actor {
        let keypair = self.env.new_funded_keypair(100_000_000_000);
        let quote = self.env.create_token_account(&self.usdc, &keypair.pubkey());
        if quote_amount > 0 {
            self.env.mint_to(&self.usdc, &quote, quote_amount);
        }
        let rwa = self
            .markets
            .clone()
            .iter()
            .map(|m| {
                self.env
                    .create_token_account(&m.rwa_mint, &keypair.pubkey())
            })
            .collect();
        Actor {
            keypair,
            quote,
            rwa,
        }
    }

    fn new(seed: u64) -> World {
        let mut env = TestEnv::new();
        let usdc = env.create_mint(6);
        let stake_mint = env.create_mint(6);
        let rules = RuleValues {
            max_trade_amount: 20_000 * TOKEN,
            circuit_breaker_bps: 1_500,
            circuit_breaker_window_slots: BREAKER_WINDOW,
            circuit_breaker_halt_slots: HALT_SLOTS,
            circuit_breaker_min_notional: 500 * TOKEN,
            max_quote_lifetime_slots: 200,
            ..RuleValues::default()
        };
        let dao = env
            .create_dao(stake_mint, 1, default_config(), rules)
            .unwrap_or_else(|e| panic!("{e}"))
            .addresses;
        let lending = LendingAddresses {
            rule_set: Some(dao.rule_set),
            ..LendingAddresses::derive(usdc, 1)
        };
        let admin = env.new_funded_keypair(100_000_000_000);
        env.send(
            &[init_lending_market_ix(
                &admin.pubkey(),
                &lending,
                1,
                LendingMarketParams {
                    reserve_factor_bps: 1_000,
                    sigma_p_cap: 0,
                    slots_per_year: DEFAULT_SLOTS_PER_YEAR,
                    risk_authority: admin.pubkey(),
                },
            )],
            &[&admin],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let curves = [
            Curve::Linear {
                slope: d("0.0001"),
                intercept: d("1"),
            },
            Curve::Exponential {
                a: d("2"),
                k: d("0.00001"),
            },
        ];
        let mut markets = Vec::new();
        let mut authorities = Vec::new();
        // a wide confidence limit, so borrowers keep borrowing through volatile stretches and
        // crashes can leave them underwater
        let params = rwa_lending::state::CollateralParams {
            max_confidence_bps: 9_000,
            ..default_collateral_params()
        };
        for (i, curve) in curves.into_iter().enumerate() {
            let mut args = market_args(curve, 6, 1_000_000 * TOKEN);
            args.twap_window_slots = TWAP_WINDOW;
            args.ewma_lambda_bps = 9_900;
            args.symbol = format!("FZ{i}");
            let (fixture, _) = env.create_market(Some(usdc), args).unwrap();
            let m = fixture.addresses;
            env.send(
                &[add_collateral_ix(&admin.pubkey(), &lending, &m, params)],
                &[&admin],
            )
            .unwrap_or_else(|e| panic!("{e}"));
            markets.push(m);
            authorities.push(fixture.authority);
        }
        let proposer = env.create_voter(&stake_mint, 1_000 * TOKEN);
        env.send(
            &[staking_ix(
                &dao,
                &proposer.0.pubkey(),
                &proposer.1,
                StakeAction::Stake(500 * TOKEN),
            )],
            &[&proposer.0],
        )
        .unwrap();
        let flash = env.create_voter(&stake_mint, 1_000_000 * TOKEN);
        let placeholder = || Actor {
            keypair: Keypair::new(),
            quote: Address::default(),
            rwa: Vec::new(),
        };
        let mut world = World {
            env,
            rng: ChaCha8Rng::seed_from_u64(seed),
            usdc,
            path: vec![Vec::new(); markets.len()],
            trips: vec![Vec::new(); markets.len()],
            recent_checks: 0,
            chained_checks: 0,
            markets,
            lending,
            dao,
            rules,
            trader: placeholder(),
            whale: placeholder(),
            dust: placeholder(),
            liquidator: placeholder(),
            borrowers: Vec::new(),
            honest_makers: Vec::new(),
            adversaries: Vec::new(),
            proposer,
            flash,
            publisher: Keypair::new(),
            participant: placeholder(),
            tally: BTreeMap::new(),
            liquidations_forced: 0,
            underwater_at_spot: 0,
        };
        world.trader = world.actor(50_000_000 * TOKEN);
        world.whale = world.actor(500_000_000 * TOKEN);
        world.dust = world.actor(1_000 * TOKEN);
        world.liquidator = world.actor(100_000_000 * TOKEN);
        world.participant = world.actor(50_000_000 * TOKEN);
        // genesis, before the rules apply: the whale buys 40,000 tokens of each market; then
        // the markets and the lending market are put under the DAO's RuleSet
        for i in 0..world.markets.len() {
            let ix = trade_ix(
                &world.markets[i],
                &world.whale.on(i),
                TradeKind::BuyExactOut {
                    amount: 40_000 * TOKEN,
                    max_quote_in: u64::MAX,
                },
            );
            world
                .env
                .send(&[ix], &[&world.whale.keypair])
                .unwrap_or_else(|e| panic!("{e}"));
            // a primary market at the spot, with the participant allowed and redemptions funded,
            // before the DAO holds the authority
            let m = world.markets[i];
            let spot = world.env.market_state(&m).spot_price().unwrap();
            let payer = world.env.payer.pubkey();
            let open = [
                init_primary_market_ix(
                    &payer,
                    &authorities[i].pubkey(),
                    &m,
                    PrimaryMarketArgs {
                        // publications come every ~30 steps; borrowing needs a fresh NAV
                        max_staleness_slots: 600,
                        ..primary_args(world.publisher.pubkey())
                    },
                ),
                add_participant_ix(
                    &payer,
                    &authorities[i].pubkey(),
                    &m,
                    &world.participant.keypair.pubkey(),
                ),
            ];
            world
                .env
                .send(&open, &[&authorities[i]])
                .unwrap_or_else(|e| panic!("{e}"));
            let publisher = world.publisher.insecure_clone();
            world
                .env
                .send(
                    &[publish_nav_ix(&publisher.pubkey(), &m, spot.raw(), 10)],
                    &[&publisher],
                )
                .unwrap_or_else(|e| panic!("{e}"));
            let redemptions = PrimaryAddresses::derive(&m.market).redemption_vault;
            world
                .env
                .mint_to(&world.usdc, &redemptions, 2_000_000 * TOKEN);
            let attach = attach_rule_set_ix(
                &world.markets[i],
                &authorities[i].pubkey(),
                &world.dao.rule_set,
            );
            world
                .env
                .send(&[attach], &[&authorities[i]])
                .unwrap_or_else(|e| panic!("{e}"));
            world.markets[i].rule_set = Some(world.dao.rule_set);
        }
        let attach =
            attach_lending_rule_set_ix(&world.lending, &admin.pubkey(), &world.dao.rule_set);
        world
            .env
            .send(&[attach], &[&admin])
            .unwrap_or_else(|e| panic!("{e}"));
        let shares = world
            .env
            .create_token_account(&world.lending.share_mint, &world.whale.keypair.pubkey());
        let deposit = liquidity_ix(
            &world.lending,
            &world.whale.keypair.pubkey(),
            &world.whale.quote,
            &shares,
            true,
            5_000_000 * TOKEN,
        );
        world
            .env
            .send(&[deposit], &[&world.whale.keypair])
            .unwrap_or_else(|e| panic!("{e}"));
        // two borrowers holding 2,000 tokens of each market, all deposited as collateral
        for _ in 0..2 {
            let borrower = world.actor(0);
            world
                .env
                .send(
                    &[init_obligation_ix(
                        &borrower.keypair.pubkey(),
                        &world.lending,
                    )],
                    &[&borrower.keypair],
                )
                .unwrap();
            for i in 0..world.markets.len() {
                let transfer = anchor_spl::token::spl_token::instruction::transfer(
                    &anchor_spl::token::spl_token::ID,
                    &world.whale.rwa[i],
                    &borrower.rwa[i],
                    &world.whale.keypair.pubkey(),
                    &[],
                    2_000 * TOKEN,
                )
                .unwrap();
                let deposit = deposit_collateral_ix(
                    &world.lending,
                    &borrower.keypair.pubkey(),
                    &world.markets[i],
                    &borrower.rwa[i],
                    2_000 * TOKEN,
                );
                world
                    .env
                    .send(
                        &[transfer, deposit],
                        &[&world.whale.keypair, &borrower.keypair],
                    )
                    .unwrap_or_else(|e| panic!("{e}"));
            }
            world.borrowers.push(borrower);
        }
        // per market: an honest maker and an adversarial one, each escrowing 1,000 tokens and
        // 2,000 USDC (tokens from the whale, so prices stay put)
        for i in 0..world.markets.len() {
            for honest in [true, false] {
                let owner = world.actor(100_000 * TOKEN);
                let transfer = anchor_spl::token::spl_token::instruction::transfer(
                    &anchor_spl::token::spl_token::ID,
                    &world.whale.rwa[i],
                    &owner.rwa[i],
                    &world.whale.keypair.pubkey(),
                    &[],
                    1_100 * TOKEN,
                )
                .unwrap();
                world
                    .env
                    .send(&[transfer], &[&world.whale.keypair])
                    .unwrap();
                let addresses =
                    MakerAddresses::derive(&world.markets[i].market, &owner.keypair.pubkey());
                let open = [
                    open_maker_ix(&world.markets[i], &addresses),
                    maker_inventory_ix(
                        &world.markets[i],
                        &addresses,
                        &owner.on(i),
                        true,
                        1_000 * TOKEN,
                        2_000 * TOKEN,
                    ),
                ];
                world
                    .env
                    .send(&open, &[&owner.keypair])
                    .unwrap_or_else(|e| panic!("{e}"));
                let maker = Maker {
                    owner,
                    addresses,
                    sequence: 0,
                };
                if honest {
                    world.honest_makers.push(maker);
                } else {
                    world.adversaries.push(maker);
                }
            }
        }
        world.env.advance_slots(TWAP_WINDOW + 1);
        world.record_path();
        world
    }

    fn spot(&self, i: usize) -> Decimal {
        self.env
            .market_state(&self.markets[i])
            .spot_price()
            .unwrap()
    }

    fn record_path(&mut self) {
        let slot = self.env.slot();
        for i in 0..self.markets.len() {
            let spot = self.spot(i);
            self.path[i].push((slot, spot));
            let market = self.env.market_state(&self.markets[i]);
            if market.halted && self.trips[i].last() != Some(&market.halt_started_slot) {
                self.trips[i].push(market.halt_started_slot);
            }
        }
    }

    /// Where the oracle's inputs can start: the TWAP window widened by one checkpoint interval,
    /// a halt and the breaker's window (a halt holds the breaker's reference, itself a TWAP over
    /// that window); and, when a breaker trip falls inside, the same span before that trip, and
    /// so on back through a chain of trips (each hold can carry the previous one's reference).
    fn inputs_from(&self, i: usize, now: u64) -> (u64, bool) {
        let interval = rwa_math::oracle::checkpoint_interval(
            TWAP_WINDOW,
            rwa_market::constants::ORACLE_CAPACITY,
        );
        let span = TWAP_WINDOW + interval + BREAKER_WINDOW + HALT_SLOTS + 3;
        let recent = now.saturating_sub(span);
        let mut from = recent;
        for &trip in self.trips[i].iter().rev() {
            if trip >= from {
                from = trip.saturating_sub(span);
            } else {
                break;
            }
        }
        (from, from < recent)
    }

    fn outcome(&mut self, action: Action, result: Result<TxSuccess, TxFailure>) {
        let tally = self.tally.entry(action).or_default();
        match result {
            Ok(_) => tally.landed += 1,
            Err(failure) => {
                let code = failure.custom_code().unwrap_or_else(|| {
                    // a panic or a runtime abort instead of a program's error code is a finding
                    panic!("{action:?} failed without a program error code: {failure}")
                });
                // which program refused: the innermost "Program <id> failed" log line
                let failed = failure
                    .logs
                    .iter()
                    .rev()
                    .find_map(|line| {
                        line.strip_prefix("Program ")
                            .and_then(|rest| rest.split_once(" failed"))
                            .map(|(id, _)| id.to_string())
                    })
                    .unwrap_or_default();
                let overflow = [
                    (
                        rwa_market::ID,
                        market_code(rwa_market::errors::MarketError::MathOverflow),
                    ),
                    (
                        rwa_lending::ID,
                        lending_code(rwa_lending::errors::LendingError::MathOverflow),
                    ),
                    (
                        rule_dao::ID,
                        dao_code(rule_dao::errors::DaoError::MathOverflow),
                    ),
                ];
                assert!(
                    !overflow
                        .iter()
                        .any(|(program, overflow)| failed == program.to_string()
                            && code == *overflow),
                    "{action:?} overflowed: {failure}"
                );
                *tally.refused.entry(code).or_default() += 1;
            }
        }
    }

    fn send(
        &mut self,
        action: Action,
        instructions: &[rwa_harness::SolInstruction],
        signer: &Keypair,
    ) {
        let result = self.env.send(instructions, &[signer]);
        self.outcome(action, result);
    }

    fn act(&mut self, action: Action) {
        let i = self.below(self.markets.len() as u64) as usize;
        let m = self.markets[i];
        match action {
            Action::HonestTrade => {
                let amount = (1 + self.below(300)) * TOKEN;
                let kind = if self.below(2) == 0 {
                    TradeKind::BuyExactOut {
                        amount,
                        max_quote_in: u64::MAX,
                    }
                } else {
                    TradeKind::SellExactIn {
                        amount,
                        min_quote_out: 0,
                    }
                };
                let ix = trade_ix(&m, &self.trader.on(i), kind);
                let signer = self.trader.keypair.insecure_clone();
                self.send(action, &[ix], &signer);
            }
            Action::HonestSwap => {
                let side = if self.below(2) == 0 {
                    TradeSide::Buy
                } else {
                    TradeSide::Sell
                };
                let amount = (1 + self.below(200)) * TOKEN;
                let makers = [
                    self.honest_makers[i].addresses,
                    self.adversaries[i].addresses,
                ];
                let ix = swap_ix(
                    &m,
                    &self.trader.on(i),
                    side,
                    SwapKind::ExactIn {
                        amount_in: amount,
                        min_amount_out: 0,
                    },
                    &makers,
                );
                let signer = self.trader.keypair.insecure_clone();
                self.send(action, &[ix], &signer);
            }
            Action::HonestQuote => {
                // bid and ask 0.5% around the TWAP, within the band
                let slot = self.env.slot();
                let twap = self.env.oracle_state(&m).twap(slot).unwrap().raw();
                let maker = &mut self.honest_makers[i];
                maker.sequence += 1;
                let quote = QuoteParams {
                    bid_price: twap / 1_000 * 995,
                    bid_size: 100 * TOKEN,
                    ask_price: twap / 1_000 * 1_005,
                    ask_size: 100 * TOKEN,
                    expiry_slot: slot + 100,
                    sequence: maker.sequence,
                };
                let ix = post_quote_ix(&m, &maker.addresses, quote);
                let signer = maker.owner.keypair.insecure_clone();
                self.send(action, &[ix], &signer);
            }
            Action::ExtremeQuote => {
                // a price 1e-12x to 1e12x the spot: the reproduced brick used 1000x and 1e-18
                let spot = self.spot(i).raw();
                let exponent = self.below(25) as i32 - 12;
                let price = if exponent >= 0 {
                    spot.saturating_mul(10u128.pow(exponent as u32))
                } else {
                    (spot / 10u128.pow((-exponent) as u32)).max(1)
                };
                let slot = self.env.slot();
                let maker = &mut self.adversaries[i];
                maker.sequence += 1;
                let bid = self.rng.next_u64().is_multiple_of(2);
                let quote = QuoteParams {
                    bid_price: if bid { price } else { 0 },
                    bid_size: if bid { 1 } else { 0 },
                    ask_price: if bid { 0 } else { price },
                    ask_size: if bid { 0 } else { 1 },
                    expiry_slot: slot + 10,
                    sequence: maker.sequence,
                };
                let ix = post_quote_ix(&m, &maker.addresses, quote);
                let signer = maker.owner.keypair.insecure_clone();
                self.send(action, &[ix], &signer);
            }
            Action::SelfFill => {
                // quote at the band's edge and fill it yourself for a thousand base units
                let spot = self.spot(i).raw();
                let slot = self.env.slot();
                let buy = self.below(2) == 0;
                let maker = &mut self.adversaries[i];
                maker.sequence += 1;
                let quote = if buy {
                    QuoteParams {
                        bid_price: 0,
                        bid_size: 0,
                        ask_price: spot / 10_000 * 9_010,
                        ask_size: 1_000,
                        expiry_slot: slot + 10,
                        sequence: maker.sequence,
                    }
                } else {
                    QuoteParams {
                        bid_price: spot / 10_000 * 10_990,
                        bid_size: 1_000,
                        ask_price: 0,
                        ask_size: 0,
                        expiry_slot: slot + 10,
                        sequence: maker.sequence,
                    }
                };
                let (side, kind) = if buy {
                    (
                        TradeSide::Buy,
                        SwapKind::ExactOut {
                            amount_out: 1_000,
                            max_amount_in: u64::MAX,
                        },
                    )
                } else {
                    (
                        TradeSide::Sell,
                        SwapKind::ExactIn {
                            amount_in: 1_000,
                            min_amount_out: 0,
                        },
                    )
                };
                let instructions = [
                    post_quote_ix(&m, &maker.addresses, quote),
                    swap_ix(&m, &maker.owner.on(i), side, kind, &[maker.addresses]),
                ];
                let signer = maker.owner.keypair.insecure_clone();
                self.send(action, &instructions, &signer);
            }
            Action::OracleSpam => {
                let calls = 1 + self.below(8) as usize;
                // permissionless: only the fee payer signs
                let result = self.env.send(&vec![update_oracle_ix(&m); calls], &[]);
                self.outcome(action, result);
            }
            Action::DustTrade => {
                let kind = if self.below(2) == 0 {
                    TradeKind::BuyExactOut {
                        amount: 1 + self.below(10),
                        max_quote_in: u64::MAX,
                    }
                } else {
                    TradeKind::SellExactIn {
                        amount: 1 + self.below(10),
                        min_quote_out: 0,
                    }
                };
                let ix = trade_ix(&m, &self.dust.on(i), kind);
                let signer = self.dust.keypair.insecure_clone();
                self.send(action, &[ix], &signer);
            }
            Action::Crash | Action::Pump => {
                let amount = (5_000 + self.below(20_000)) * TOKEN;
                let kind = if action == Action::Crash {
                    TradeKind::SellExactIn {
                        amount,
                        min_quote_out: 0,
                    }
                } else {
                    TradeKind::BuyExactOut {
                        amount,
                        max_quote_in: u64::MAX,
                    }
                };
                let ix = trade_ix(&m, &self.whale.on(i), kind);
                let signer = self.whale.keypair.insecure_clone();
                self.send(action, &[ix], &signer);
            }
            Action::Borrow => {
                let b = self.below(self.borrowers.len() as u64) as usize;
                let amount = (1 + self.below(5_000)) * TOKEN;
                let owner = self.borrowers[b].keypair.pubkey();
                let mut instructions = refresh_all(&self.lending, &owner, &self.markets);
                instructions.push(borrow_ix(
                    &self.lending,
                    &owner,
                    &self.borrowers[b].quote,
                    amount,
                    &self.markets,
                ));
                let signer = self.borrowers[b].keypair.insecure_clone();
                self.send(action, &instructions, &signer);
            }
            Action::Repay => {
                let b = self.below(self.borrowers.len() as u64) as usize;
                let owner = self.borrowers[b].keypair.pubkey();
                let held = self.env.token_balance(&self.borrowers[b].quote);
                let amount = (1 + self.below(held.max(1))).min(held.max(1));
                let ix = repay_ix(
                    &self.lending,
                    &owner,
                    &owner,
                    &self.borrowers[b].quote,
                    amount,
                );
                let signer = self.borrowers[b].keypair.insecure_clone();
                self.send(action, &[ix], &signer);
            }
            Action::Liquidate => {
                let b = self.below(self.borrowers.len() as u64) as usize;
                let owner = self.borrowers[b].keypair.pubkey();
                let ix = self.liquidation(&owner, i);
                let signer = self.liquidator.keypair.insecure_clone();
                self.send(action, &ix, &signer);
            }
            Action::BrickingProposal => {
                let bricks = [
                    RuleValues {
                        circuit_breaker_halt_slots: u64::MAX,
                        ..self.rules
                    },
                    RuleValues {
                        update_cadence_slots: u64::MAX,
                        ..self.rules
                    },
                    RuleValues {
                        max_trade_amount: 1,
                        ..self.rules
                    },
                    RuleValues {
                        circuit_breaker_bps: 1,
                        ..self.rules
                    },
                ];
                let rules = bricks[self.below(bricks.len() as u64) as usize];
                let index = self
                    .env
                    .anchor_account::<rule_dao::state::Dao>(&self.dao.dao)
                    .proposal_count;
                let ix = propose_ix(
                    &self.dao,
                    &self.proposer.0.pubkey(),
                    index,
                    ProposalKind::Rules { rules },
                    "ipfs://brick",
                );
                let signer = self.proposer.0.insecure_clone();
                self.send(action, &[ix], &signer);
            }
            Action::FlashStake => {
                // stake and propose in the same slot: the weight must not count
                let index = self
                    .env
                    .anchor_account::<rule_dao::state::Dao>(&self.dao.dao)
                    .proposal_count;
                let (flash, account) = (self.flash.0.insecure_clone(), self.flash.1);
                let instructions = [
                    staking_ix(
                        &self.dao,
                        &flash.pubkey(),
                        &account,
                        StakeAction::Stake(1_000),
                    ),
                    propose_ix(
                        &self.dao,
                        &flash.pubkey(),
                        index,
                        ProposalKind::Rules { rules: self.rules },
                        "ipfs://flash",
                    ),
                ];
                self.send(action, &instructions, &flash);
            }
            Action::Subscribe | Action::Redeem => {
                let i = self.below(self.markets.len() as u64) as usize;
                let m = self.markets[i];
                let actor = &self.participant;
                let who = actor.on(i);
                let ix = if action == Action::Subscribe {
                    let quote_in = 1 + self.below(20_000 * TOKEN);
                    subscribe_ix(&m, &who, quote_in, 0)
                } else {
                    let held = self.env.token_balance(&actor.rwa[i]);
                    let amount = 1 + self.below(held.max(1) + held / 10);
                    redeem_ix(&m, &who, amount, 0)
                };
                let keypair = self.participant.keypair.insecure_clone();
                let result = self.env.send(&[ix], &[&keypair]);
                self.outcome(action, result);
            }
            Action::PublishNav => {
                let i = self.below(self.markets.len() as u64) as usize;
                let m = self.markets[i];
                let spot = self.spot(i);
                // the issuer's NAV within 5% of the spot; one time in ten a forger signs instead
                let bps = 9_500 + self.below(1_001) as u128;
                let nav = spot
                    .mul_div_int(bps, 10_000, rwa_math::Rounding::Down)
                    .unwrap();
                let forger = self.below(10) == 0;
                let signer = if forger {
                    self.dust.keypair.insecure_clone()
                } else {
                    self.publisher.insecure_clone()
                };
                let result = self.env.send(
                    &[publish_nav_ix(&signer.pubkey(), &m, nav.raw(), 10)],
                    &[&signer],
                );
                self.outcome(action, result);
            }
            Action::StrangerPrimary => {
                let i = self.below(self.markets.len() as u64) as usize;
                let m = self.markets[i];
                let who = self.dust.on(i);
                let keypair = self.dust.keypair.insecure_clone();
                let result = self
                    .env
                    .send(&[subscribe_ix(&m, &who, 10 * TOKEN, 0)], &[&keypair]);
                self.outcome(action, result);
            }
            Action::Wait => {
                let slots = 1 + self.below(60);
                self.env.advance_slots(slots);
                self.tally.entry(action).or_default().landed += 1;
            }
        }
    }

    /// Refresh everything, then liquidate `owner`'s collateral in market `i`.
    fn liquidation(&self, owner: &Address, i: usize) -> Vec<rwa_harness::SolInstruction> {
        let mut instructions = refresh_all(&self.lending, owner, &self.markets);
        instructions.push(liquidate_ix(
            &self.lending,
            &self.liquidator.keypair.pubkey(),
            owner,
            &self.markets[i],
            &self.liquidator.quote,
            &self.liquidator.rwa[i],
            u64::MAX,
            1,
            &self.markets,
        ));
        instructions
    }

    /// Highest end-of-slot spot of market `i` since `from` (the price in force at `from`
    /// included), and the lowest.
    fn spot_range(&self, i: usize, from: u64) -> (Decimal, Decimal) {
        let path = &self.path[i];
        let start = path
            .partition_point(|(slot, _)| *slot <= from)
            .saturating_sub(1);
        path[start..]
            .iter()
            .fold((Decimal::MAX, Decimal::ZERO), |(low, high), (_, spot)| {
                (low.min(*spot), high.max(*spot))
            })
    }

    fn check(&mut self) {
        let env = &self.env;
        let now = env.slot();
        let (mut recent_checks, mut chained_checks) = (0, 0);
        // markets: books, solvency, oracle, halts
        for (i, m) in self.markets.iter().enumerate() {
            let market = env.market_state(m);
            // mint supply = what the curve issued + what the primary market minted - burned
            let nav: rwa_market::state::NavAttestation =
                env.anchor_account(&PrimaryAddresses::derive(&m.market).nav);
            assert_eq!(
                env.mint_supply(&m.rwa_mint) as u128 + nav.primary_burned as u128,
                market.supply as u128 + nav.primary_minted as u128,
                "RWA supply"
            );
            assert!(
                nav.redeemed_in_window <= nav.redemption_cap_per_window,
                "redemption cap"
            );
            assert_eq!(
                env.token_balance(&m.reserve_vault),
                market.reserve,
                "reserve"
            );
            assert_eq!(env.token_balance(&m.fee_vault), market.total_fees, "fees");
            let buy_back = market
                .curve_market()
                .unwrap()
                .sell_proceeds(market.supply, market.supply)
                .unwrap();
            assert!(
                market.reserve >= buy_back,
                "insolvent: {} < {buy_back}",
                market.reserve
            );
            let oracle = env.oracle_state(m);
            let twap = oracle.twap(now).unwrap();
            let (from, chained) = self.inputs_from(i, now);
            if chained {
                chained_checks += 1;
            } else {
                recent_checks += 1;
            }
            let (low, high) = self.spot_range(i, from);
            let tolerance = high.raw() / 1_000_000_000 + 1;
            assert!(
                twap.raw() + tolerance >= low.raw() && twap.raw() <= high.raw() + tolerance,
                "market {i}: TWAP {twap:?} outside the spot range [{low:?}, {high:?}] at slot {now}"
            );
            assert!(
                market.halted_until(&self.rules) <= now + rwa_rules::MAX_HALT_SLOTS + 1,
                "halt beyond its bound"
            );
        }
        self.recent_checks += recent_checks;
        self.chained_checks += chained_checks;
        for maker in self.honest_makers.iter().chain(&self.adversaries) {
            let state = env.maker_state(&maker.addresses);
            assert_eq!(
                env.token_balance(&maker.addresses.rwa_vault),
                state.rwa_inventory
            );
            assert_eq!(
                env.token_balance(&maker.addresses.quote_vault),
                state.quote_inventory
            );
        }
        // lending books
        let lending: rwa_lending::state::LendingMarket =
            env.anchor_account(&self.lending.lending_market);
        assert_eq!(
            env.token_balance(&self.lending.liquidity_vault),
            lending.available,
            "available"
        );
        let obligations: Vec<rwa_lending::state::Obligation> = self
            .borrowers
            .iter()
            .map(|b| env.anchor_account(&self.lending.obligation(&b.keypair.pubkey())))
            .collect();
        let debts: u64 = obligations.iter().map(|o| o.debt).sum();
        assert_eq!(lending.total_debt, debts, "total debt");
        for m in &self.markets {
            let c = self.lending.collateral(&m.market);
            let config: rwa_lending::state::CollateralConfig = env.anchor_account(&c.config);
            let held: u64 = obligations
                .iter()
                .flat_map(|o| o.active())
                .filter(|entry| entry.config == c.config)
                .map(|entry| entry.amount)
                .sum();
            assert_eq!(env.token_balance(&c.vault), config.total_collateral);
            assert_eq!(config.total_collateral, held);
        }
    }

    /// An obligation underwater even at the highest spot of the recent window must be
    /// liquidatable now, and its liquidation must land.
    fn check_liquidations(&mut self) {
        let now = self.env.slot();
        for b in 0..self.borrowers.len() {
            let owner = self.borrowers[b].keypair.pubkey();
            let obligation: rwa_lending::state::Obligation =
                self.env.anchor_account(&self.lending.obligation(&owner));
            if obligation.debt < TOKEN {
                continue;
            }
            let mut best_case_limit: u128 = 0;
            let mut spot_limit: u128 = 0;
            let mut holds = None;
            for (i, m) in self.markets.iter().enumerate() {
                let config = self.lending.collateral(&m.market).config;
                let Some(entry) = obligation.active().find(|e| e.config == config) else {
                    continue;
                };
                holds.get_or_insert(i);
                let (_, high) = self.spot_range(i, self.inputs_from(i, now).0);
                let at_spot = rwa_math::lending::collateral_value(
                    entry.amount,
                    self.spot(i),
                    6,
                    6,
                    rwa_math::Rounding::Down,
                )
                .unwrap() as u128;
                spot_limit +=
                    at_spot * 10_000 / default_collateral_params().liquidation_cr_bps as u128;
                let value = rwa_math::lending::collateral_value(
                    entry.amount,
                    high,
                    6,
                    6,
                    rwa_math::Rounding::Up,
                )
                .unwrap() as u128;
                let params = default_collateral_params();
                best_case_limit += value * 10_000 / params.liquidation_cr_bps as u128;
            }
            let Some(i) = holds else { continue };
            if (obligation.debt as u128) > spot_limit {
                self.underwater_at_spot += 1;
            }
            if (obligation.debt as u128) <= best_case_limit {
                continue;
            }
            let instructions = self.liquidation(&owner, i);
            let liquidator = self.liquidator.keypair.insecure_clone();
            self.env
                .send(&instructions, &[&liquidator])
                .unwrap_or_else(|e| {
                    panic!("underwater at the window's best price yet not liquidated at slot {now}: {e}")
                });
            self.liquidations_forced += 1;
        }
    }
}

#[test]
fn adversarial_actors_cannot_break_the_invariants() {
    let steps: u64 = std::env::var("FUZZ_STEPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_STEPS);
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let mut world = World::new(seed);
    world.check();
    let total_weight: u64 = ACTIONS.iter().map(|(_, w)| w).sum();
    for _ in 0..steps {
        let mut pick = world.below(total_weight);
        let action = ACTIONS
            .iter()
            .find(|(_, weight)| {
                if pick < *weight {
                    true
                } else {
                    pick -= weight;
                    false
                }
            })
            .map(|(action, _)| *action)
            .unwrap();
        world.act(action);
        world.env.advance_slots(1);
        world.record_path();
        world.check();
        world.check_liquidations();
    }
    println!("adversarial fuzz: seed {seed}, {steps} steps");
    let mut actions = 0;
    for (action, tally) in &world.tally {
        let refused: u64 = tally.refused.values().sum();
        actions += tally.landed + refused;
        println!(
            "  {action:?}: {} landed, {refused} refused {:?}",
            tally.landed, tally.refused
        );
    }
    println!(
        "  {actions} actions; {} obligation-steps underwater at the spot, {} liquidations forced by \
         the underwater check; oracle within the recent spot range {} times, within a range \
         stretched over a chain of breaker trips {} times",
        world.underwater_at_spot,
        world.liquidations_forced,
        world.recent_checks,
        world.chained_checks
    );
    let landed = |action: Action| world.tally.get(&action).map_or(0, |t| t.landed);
    let refused_with = |action: Action, code: u32| {
        world
            .tally
            .get(&action)
            .and_then(|t| t.refused.get(&code).copied())
            .unwrap_or(0)
    };
    // every kind of action ran, and the ones that can land did
    for (action, _) in ACTIONS {
        assert!(world.tally.contains_key(&action), "{action:?} never ran");
    }
    for action in [
        Action::HonestTrade,
        Action::HonestSwap,
        Action::HonestQuote,
        Action::SelfFill,
        Action::OracleSpam,
        Action::Crash,
        Action::Pump,
        Action::Borrow,
        Action::Repay,
    ] {
        assert!(landed(action) > 0, "{action:?} never landed");
    }
    assert!(
        landed(Action::Liquidate) + world.liquidations_forced > 0,
        "no liquidation ever happened: the run did not exercise the lending defences"
    );
    // what must always be refused was, with the defending code
    let extreme = &world.tally[&Action::ExtremeQuote];
    let out_of_band = refused_with(
        Action::ExtremeQuote,
        market_code(rwa_market::errors::MarketError::QuoteOutsideBand),
    );
    assert!(
        out_of_band > 0 && extreme.landed <= out_of_band / 5,
        "extreme quotes landed"
    );
    let bricks = &world.tally[&Action::BrickingProposal];
    assert_eq!(bricks.landed, 0);
    assert_eq!(
        refused_with(
            Action::BrickingProposal,
            dao_code(rule_dao::errors::DaoError::InvalidRules)
        ),
        bricks.refused.values().sum::<u64>()
    );
    assert_eq!(world.tally[&Action::FlashStake].landed, 0);
    // the primary market worked for its participant and for no one else
    assert!(landed(Action::Subscribe) > 0 && landed(Action::Redeem) > 0);
    let stranger = &world.tally[&Action::StrangerPrimary];
    assert_eq!(stranger.landed, 0);
    assert_eq!(
        refused_with(
            Action::StrangerPrimary,
            market_code(rwa_market::errors::MarketError::NotParticipant)
        ),
        stranger.refused.values().sum::<u64>()
    );
    let publications = &world.tally[&Action::PublishNav];
    assert!(publications.landed > 0);
    assert_eq!(
        refused_with(
            Action::PublishNav,
            market_code(rwa_market::errors::MarketError::NotNavPublisher)
        ),
        publications.refused.values().sum::<u64>(),
        "only forged publications are refused"
    );
}
