//! rule_dao in a real runtime: voting arithmetic at the boundary, snapshot weights, locks,
//! lifecycle (hold-up, veto, cancel, config versioning), and every rule enforced by rwa_market.

use anchor_lang::Discriminator;
use rule_dao::errors::DaoError;
use rule_dao::events::{ProposalStateChanged, RulesUpdated};
use rule_dao::state::{
    DaoConfig, Proposal, ProposalKind, ProposalState, RuleSet, StakePosition, VoteChoice,
};
use rwa_harness::dao::*;
use rwa_harness::market::*;
use rwa_harness::solana_address::Address;
use rwa_harness::solana_keypair::Keypair;
use rwa_harness::solana_signer::Signer;
use rwa_harness::{TestEnv, TxFailure, TxSuccess};
use rwa_market::errors::MarketError;
use rwa_market::events::CircuitBreakerTripped;
use rwa_market::instructions::{MarketParamsUpdate, QuoteParams};
use rwa_rules::RuleValues;

const TOKEN: u64 = 1_000_000;

fn dao_code(error: DaoError) -> u32 {
    anchor_lang::error::ERROR_CODE_OFFSET + error as u32
}

fn market_code(error: MarketError) -> u32 {
    anchor_lang::error::ERROR_CODE_OFFSET + error as u32
}

#[track_caller]
fn expect(result: Result<TxSuccess, TxFailure>, code: u32) {
    match result {
        Ok(_) => panic!("succeeded, expected error {code}"),
        Err(failure) => assert_eq!(failure.custom_code(), Some(code), "{failure}"),
    }
}

fn rules() -> RuleValues {
    RuleValues {
        max_quote_lifetime_slots: 500,
        ..RuleValues::default()
    }
}

struct Gov {
    env: TestEnv,
    dao: DaoFixture,
    voters: Vec<(Keypair, Address)>,
}

/// A DAO over a fresh stake mint with voters holding `stakes` (already staked, one slot ago).
fn gov(stakes: &[u64], config: DaoConfig) -> Gov {
    let mut env = TestEnv::new();
    let mint = env.create_mint(6);
    let dao = env
        .create_dao(mint, 7, config, rules())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut voters = Vec::new();
    for &stake in stakes {
        let (voter, account) = env.create_voter(&mint, stake + 1_000 * TOKEN);
        env.send(
            &[staking_ix(
                &dao.addresses,
                &voter.pubkey(),
                &account,
                StakeAction::Stake(stake),
            )],
            &[&voter],
        )
        .unwrap();
        voters.push((voter, account));
    }
    env.advance_slots(1);
    Gov { env, dao, voters }
}

impl Gov {
    fn a(&self) -> DaoAddresses {
        self.dao.addresses
    }

    fn propose(&mut self, voter: usize, kind: ProposalKind) -> Result<u64, TxFailure> {
        let index = self
            .env
            .anchor_account::<rule_dao::state::Dao>(&self.a().dao)
            .proposal_count;
        let (keypair, _) = &self.voters[voter];
        let ix = propose_ix(&self.a(), &keypair.pubkey(), index, kind, "ipfs://proposal");
        self.env.send(&[ix], &[keypair]).map(|_| index)
    }

    fn vote(
        &mut self,
        voter: usize,
        index: u64,
        choice: VoteChoice,
    ) -> Result<TxSuccess, TxFailure> {
        let (keypair, _) = &self.voters[voter];
        let ix = vote_ix(&self.a(), &keypair.pubkey(), index, choice);
        self.env.send(&[ix], &[keypair])
    }

    fn execute(
        &mut self,
        index: u64,
        market: Option<&MarketAddresses>,
    ) -> Result<TxSuccess, TxFailure> {
        let payer = self.env.payer.pubkey();
        let ix = execute_ix(&self.a(), &payer, index, market);
        self.env.send(&[ix], &[])
    }

    fn proposal(&self, index: u64) -> Proposal {
        self.env.anchor_account(&self.a().proposal(index))
    }

    /// Rules that differ by their max trade size (in thousands of base units: the smallest
    /// non-zero limit the bounds allow is 1,000).
    fn rules_kind(&self, thousands: u64) -> ProposalKind {
        ProposalKind::Rules {
            rules: RuleValues {
                max_trade_amount: thousands * 1_000,
                ..rules()
            },
        }
    }

    /// Votes yes with every voter, waits out voting and hold-up, executes.
    fn pass(&mut self, index: u64, market: Option<&MarketAddresses>) -> TxSuccess {
        for voter in 0..self.voters.len() {
            self.vote(voter, index, VoteChoice::Yes).unwrap();
        }
        let config = default_config();
        self.env
            .advance_slots(config.voting_period_slots + config.hold_up_slots + 1);
        self.execute(index, market)
            .unwrap_or_else(|e| panic!("{e}"))
    }
}

#[test]
fn rule_set_layout_matches_the_shared_reader() {
    assert_eq!(RuleSet::DISCRIMINATOR, &rwa_rules::RULE_SET_DISCRIMINATOR);
    assert_eq!(rule_dao::ID, rwa_rules::RULE_DAO_PROGRAM_ID);
    let g = gov(&[10], default_config());
    let data = g.env.account(&g.a().rule_set).unwrap().data;
    let view: rwa_rules::RuleSetView =
        anchor_lang::AnchorDeserialize::deserialize(&mut &data[8..]).unwrap();
    let account: RuleSet = g.env.anchor_account(&g.a().rule_set);
    assert_eq!(
        (view.dao, view.version, view.rules),
        (account.dao, account.version, account.rules)
    );
}

#[test]
fn supermajority_boundary_66_66_fails_66_67_passes() {
    for (yes, no, passes) in [(6_666u64, 3_334u64, false), (6_667, 3_333, true)] {
        let mut g = gov(&[yes * TOKEN, no * TOKEN], default_config());
        let index = g.propose(0, g.rules_kind(42)).unwrap();
        g.vote(0, index, VoteChoice::Yes).unwrap();
        g.vote(1, index, VoteChoice::No).unwrap();
        g.env.advance_slots(121);
        let result = g.execute(index, None);
        if passes {
            let events: Vec<RulesUpdated> = result.unwrap().events(&rule_dao::ID);
            assert_eq!(events[0].rules.max_trade_amount, 42_000);
        } else {
            expect(result, dao_code(DaoError::ProposalDefeated));
        }
    }
}

#[test]
fn quorum_counts_all_votes_against_the_creation_snapshot() {
    // 20% quorum: 19 of 100 voting fails even if unanimous; abstentions count toward quorum
    let mut g = gov(&[19, 81], default_config());
    let index = g.propose(0, g.rules_kind(1)).unwrap();
    g.vote(0, index, VoteChoice::Yes).unwrap();
    g.env.advance_slots(121);
    expect(g.execute(index, None), dao_code(DaoError::ProposalDefeated));

    let mut g = gov(&[19, 1, 80], default_config());
    let index = g.propose(0, g.rules_kind(1)).unwrap();
    g.vote(0, index, VoteChoice::Yes).unwrap();
    g.vote(1, index, VoteChoice::Abstain).unwrap();
    g.env.advance_slots(121);
    g.execute(index, None).unwrap();
}

#[test]
fn stake_after_creation_and_flash_stake_cannot_vote() {
    let mut g = gov(&[100, 100], default_config());
    let index = g.propose(0, g.rules_kind(5)).unwrap();
    let a = g.a();
    // a newcomer stakes after the proposal exists: no vote, whatever the slot
    let mint = a.stake_mint;
    let (late, late_account) = g.env.create_voter(&mint, 1_000);
    g.env
        .send(
            &[staking_ix(
                &a,
                &late.pubkey(),
                &late_account,
                StakeAction::Stake(1_000),
            )],
            &[&late],
        )
        .unwrap();
    g.voters.push((late.insecure_clone(), late_account));
    expect(
        g.vote(2, index, VoteChoice::Yes),
        dao_code(DaoError::StakeAfterSnapshot),
    );
    g.env.advance_slots(5);
    expect(
        g.vote(2, index, VoteChoice::Yes),
        dao_code(DaoError::StakeAfterSnapshot),
    );

    // stake-vote-unstake in one slot: the top-up forfeits the vote, and voted stake is locked
    let (voter, account) = (g.voters[1].0.insecure_clone(), g.voters[1].1);
    let stake_more = staking_ix(&a, &voter.pubkey(), &account, StakeAction::Stake(900));
    let vote = vote_ix(&a, &voter.pubkey(), index, VoteChoice::Yes);
    let unstake = staking_ix(
        &a,
        &voter.pubkey(),
        &account,
        StakeAction::RequestUnstake(1_000),
    );
    expect(
        g.env.send(&[stake_more, vote, unstake.clone()], &[&voter]),
        dao_code(DaoError::StakeAfterSnapshot),
    );
    // without the top-up the vote counts, and then the stake cannot leave until voting ends
    g.vote(1, index, VoteChoice::Yes).unwrap();
    expect(
        g.env.send(&[unstake], &[&voter]),
        dao_code(DaoError::VotesLocked),
    );
    let proposal = g.proposal(index);
    assert_eq!((proposal.yes, proposal.total_stake_snapshot), (100, 200));
    // double vote
    g.env.advance_slots(1);
    expect(
        g.vote(1, index, VoteChoice::No),
        dao_code(DaoError::AlreadyVoted),
    );
}

#[test]
fn unstake_cooldown_and_withdraw() {
    let mut g = gov(&[100], default_config());
    let a = g.a();
    let (voter, account) = (g.voters[0].0.insecure_clone(), g.voters[0].1);
    let before = g.env.token_balance(&account);
    g.env
        .send(
            &[staking_ix(
                &a,
                &voter.pubkey(),
                &account,
                StakeAction::RequestUnstake(60),
            )],
            &[&voter],
        )
        .unwrap();
    let position: StakePosition = g.env.anchor_account(&a.position(&voter.pubkey()));
    assert_eq!((position.amount, position.unstaking_amount), (40, 60));
    assert_eq!(
        g.env
            .anchor_account::<rule_dao::state::Dao>(&a.dao)
            .total_staked,
        40
    );
    expect(
        g.env.send(
            &[staking_ix(
                &a,
                &voter.pubkey(),
                &account,
                StakeAction::Withdraw,
            )],
            &[&voter],
        ),
        dao_code(DaoError::CooldownNotElapsed),
    );
    expect(
        g.env.send(
            &[staking_ix(
                &a,
                &voter.pubkey(),
                &account,
                StakeAction::RequestUnstake(41),
            )],
            &[&voter],
        ),
        dao_code(DaoError::InsufficientStake),
    );
    g.env.advance_slots(50);
    g.env
        .send(
            &[staking_ix(
                &a,
                &voter.pubkey(),
                &account,
                StakeAction::Withdraw,
            )],
            &[&voter],
        )
        .unwrap();
    assert_eq!(g.env.token_balance(&account), before + 60);
}

#[test]
fn hold_up_veto_cancel_and_timing() {
    let mut g = gov(&[100, 100], default_config());
    let index = g.propose(0, g.rules_kind(9)).unwrap();
    expect(g.execute(index, None), dao_code(DaoError::VotingOpen));
    g.vote(0, index, VoteChoice::Yes).unwrap();
    g.vote(1, index, VoteChoice::Yes).unwrap();
    g.env.advance_slots(101);
    expect(g.execute(index, None), dao_code(DaoError::HoldUpNotElapsed));
    // only the veto authority, only within the hold-up
    let (stranger, _) = (g.voters[0].0.insecure_clone(), ());
    expect(
        g.env
            .send(&[veto_ix(&g.a(), &stranger.pubkey(), index)], &[&stranger]),
        dao_code(DaoError::NotVetoAuthority),
    );
    let veto = g.dao.veto.insecure_clone();
    let result = g
        .env
        .send(&[veto_ix(&g.a(), &veto.pubkey(), index)], &[&veto])
        .unwrap();
    assert_eq!(
        result.events::<ProposalStateChanged>(&rule_dao::ID)[0].state,
        ProposalState::Vetoed
    );
    g.env.advance_slots(30);
    expect(
        g.execute(index, None),
        dao_code(DaoError::InvalidProposalState),
    );

    // a veto after the hold-up is too late
    let second = g.propose(0, g.rules_kind(10)).unwrap();
    g.vote(0, second, VoteChoice::Yes).unwrap();
    g.env.advance_slots(125);
    expect(
        g.env
            .send(&[veto_ix(&g.a(), &veto.pubkey(), second)], &[&veto]),
        dao_code(DaoError::VetoWindowClosed),
    );
    g.execute(second, None).unwrap();
    expect(
        g.execute(second, None),
        dao_code(DaoError::InvalidProposalState),
    );

    // cancel: proposer only, before any vote
    let third = g.propose(0, g.rules_kind(11)).unwrap();
    let (other, proposer) = (
        g.voters[1].0.insecure_clone(),
        g.voters[0].0.insecure_clone(),
    );
    expect(
        g.env
            .send(&[cancel_ix(&g.a(), &other.pubkey(), third)], &[&other]),
        dao_code(DaoError::CannotCancel),
    );
    g.env
        .send(
            &[cancel_ix(&g.a(), &proposer.pubkey(), third)],
            &[&proposer],
        )
        .unwrap();
    let fourth = g.propose(0, g.rules_kind(12)).unwrap();
    g.vote(1, fourth, VoteChoice::No).unwrap();
    expect(
        g.env.send(
            &[cancel_ix(&g.a(), &proposer.pubkey(), fourth)],
            &[&proposer],
        ),
        dao_code(DaoError::CannotCancel),
    );
}

#[test]
fn config_change_invalidates_open_proposals() {
    let mut g = gov(&[100, 100], default_config());
    let old = g.propose(0, g.rules_kind(1)).unwrap();
    let new_config = DaoConfig {
        threshold_bps: 7_500,
        ..default_config()
    };
    let change = g
        .propose(1, ProposalKind::Config { config: new_config })
        .unwrap();
    g.vote(0, old, VoteChoice::Yes).unwrap();
    g.pass(change, None);
    let dao: rule_dao::state::Dao = g.env.anchor_account(&g.a().dao);
    assert_eq!((dao.config.threshold_bps, dao.config_version), (7_500, 2));
    expect(
        g.vote(1, old, VoteChoice::Yes),
        dao_code(DaoError::ProposalStale),
    );
    expect(g.execute(old, None), dao_code(DaoError::ProposalStale));
    // an invalid config cannot even be proposed
    expect(
        g.propose(
            0,
            ProposalKind::Config {
                config: DaoConfig {
                    threshold_bps: 5_000,
                    ..default_config()
                },
            },
        )
        .map(|_| unreachable_success()),
        dao_code(DaoError::InvalidConfig),
    );
}

fn unreachable_success() -> TxSuccess {
    TxSuccess {
        logs: vec![],
        inner: vec![],
    }
}

/// A market attached to the DAO, with a trader.
fn governed_market(g: &mut Gov) -> (MarketAddresses, Keypair, TraderAccounts, Keypair) {
    let curve = rwa_math::Curve::Linear {
        slope: "0.001".parse().unwrap(),
        intercept: "1".parse().unwrap(),
    };
    let (fixture, _) = g
        .env
        .create_market(None, market_args(curve, 6, 1_000_000 * TOKEN))
        .unwrap();
    let mut a = fixture.addresses;
    let (trader, accounts) = g.env.create_trader(&a, 1_000_000 * TOKEN);
    let authority = fixture.authority.insecure_clone();
    g.env
        .send(
            &[attach_rule_set_ix(&a, &authority.pubkey(), &g.a().rule_set)],
            &[&authority],
        )
        .unwrap();
    a.rule_set = Some(g.a().rule_set);
    (a, trader, accounts, authority)
}

#[test]
fn attached_market_obeys_the_rule_set() {
    let mut g = gov(&[100, 100], default_config());
    let (a, trader, accounts, old_authority) = governed_market(&mut g);
    let market = g.env.market_state(&a);
    assert_eq!(market.authority, g.a().authority);
    assert_eq!(market.rule_set, g.a().rule_set);

    // the RuleSet must come along, and be the right one
    let without = MarketAddresses {
        rule_set: None,
        ..a
    };
    expect(
        g.env
            .send(&[trade_ix(&without, &accounts, buy(TOKEN))], &[&trader]),
        9_003,
    );
    let forged = MarketAddresses {
        rule_set: Some(a.oracle),
        ..a
    };
    expect(
        g.env
            .send(&[trade_ix(&forged, &accounts, buy(TOKEN))], &[&trader]),
        9_000,
    );
    g.env
        .send(&[trade_ix(&a, &accounts, buy(TOKEN))], &[&trader])
        .unwrap();

    // the old authority path is gone: parameters only by executed proposal
    let update = MarketParamsUpdate {
        fee_bps: Some(75),
        ..Default::default()
    };
    expect(
        g.env.send(
            &[set_market_params_ix(
                &a,
                &old_authority.pubkey(),
                update.clone(),
            )],
            &[&old_authority],
        ),
        market_code(MarketError::Unauthorized),
    );
    let index = g
        .propose(
            0,
            ProposalKind::MarketParams {
                market: a.market,
                update,
            },
        )
        .unwrap();
    g.pass(index, Some(&a));
    assert_eq!(g.env.market_state(&a).fee_bps, 75);

    // max trade size, voted in, blocks larger trades
    let index = g.propose(0, g.rules_kind(50 * TOKEN / 1_000)).unwrap();
    g.pass(index, None);
    expect(
        g.env
            .send(&[trade_ix(&a, &accounts, buy(51 * TOKEN))], &[&trader]),
        market_code(MarketError::MaxTradeSizeExceeded),
    );
    g.env
        .send(&[trade_ix(&a, &accounts, buy(50 * TOKEN))], &[&trader])
        .unwrap();

    // quote lifetime bound (500 slots); a new slot, since the maker's inventory purchase counts
    // toward the per-slot trade limit
    g.env.advance_slots(1);
    let spot = g.env.market_state(&a).spot_price().unwrap().raw();
    let (owner, _, maker) = g
        .env
        .create_maker(
            &MarketAddresses {
                rule_set: Some(g.a().rule_set),
                ..a
            },
            10 * TOKEN,
            0,
        )
        .unwrap();
    let slot = g.env.slot();
    let quote = |expiry_slot| QuoteParams {
        bid_price: 0,
        bid_size: 0,
        ask_price: spot,
        ask_size: TOKEN,
        expiry_slot,
        sequence: expiry_slot,
    };
    expect(
        g.env
            .send(&[post_quote_ix(&a, &maker, quote(slot + 501))], &[&owner]),
        market_code(MarketError::QuoteExpiryTooFar),
    );
    g.env
        .send(&[post_quote_ix(&a, &maker, quote(slot + 500))], &[&owner])
        .unwrap();
}

#[test]
fn circuit_breaker_trips_halts_and_lifts() {
    let mut g = gov(&[100, 100], default_config());
    let (a, trader, accounts, _) = governed_market(&mut g);
    // 5% band over 10 slots, halt 30 slots
    let breaker = RuleValues {
        circuit_breaker_bps: 500,
        circuit_breaker_window_slots: 10,
        circuit_breaker_halt_slots: 30,
        ..rules()
    };
    let index = g
        .propose(0, ProposalKind::Rules { rules: breaker })
        .unwrap();
    g.pass(index, None);
    // price 1.0 -> 1.04: inside the band
    g.env
        .send(&[trade_ix(&a, &accounts, buy(40 * TOKEN))], &[&trader])
        .unwrap();
    // -> 1.07 within the same window: 7% from the window start, trips
    let result = g
        .env
        .send(&[trade_ix(&a, &accounts, buy(30 * TOKEN))], &[&trader])
        .unwrap();
    let tripped: Vec<CircuitBreakerTripped> = result.events(&rwa_market::ID);
    assert_eq!(tripped.len(), 1);
    assert_eq!(tripped[0].move_bps, 700);
    let halted_until = tripped[0].halted_until_slot;
    expect(
        g.env
            .send(&[trade_ix(&a, &accounts, buy(TOKEN))], &[&trader]),
        market_code(MarketError::CircuitBreakerActive),
    );
    expect(
        g.env.send(
            &[trade_ix(
                &a,
                &accounts,
                TradeKind::SellExactIn {
                    amount: TOKEN,
                    min_quote_out: 0,
                },
            )],
            &[&trader],
        ),
        market_code(MarketError::CircuitBreakerActive),
    );
    let now = g.env.slot();
    g.env.advance_slots(halted_until - now - 1);
    expect(
        g.env
            .send(&[trade_ix(&a, &accounts, buy(TOKEN))], &[&trader]),
        market_code(MarketError::CircuitBreakerActive),
    );
    g.env.advance_slots(1);
    g.env
        .send(&[trade_ix(&a, &accounts, buy(TOKEN))], &[&trader])
        .unwrap();
}

#[test]
fn rule_changes_respect_the_update_cadence() {
    let mut g = gov(&[100, 100], default_config());
    let slow = RuleValues {
        update_cadence_slots: 1_000,
        ..rules()
    };
    let index = g.propose(0, ProposalKind::Rules { rules: slow }).unwrap();
    g.pass(index, None);
    let next = g.propose(0, g.rules_kind(3)).unwrap();
    for voter in 0..2 {
        g.vote(voter, next, VoteChoice::Yes).unwrap();
    }
    g.env.advance_slots(121);
    expect(g.execute(next, None), dao_code(DaoError::RuleCadence));
    g.env.advance_slots(1_000);
    g.execute(next, None).unwrap();
    let rule_set: RuleSet = g.env.anchor_account(&g.a().rule_set);
    assert_eq!(
        (rule_set.version, rule_set.rules.max_trade_amount),
        (3, 3_000)
    );
}

/// Attack (issue 12, finding 6): rule values that would brick the system (a halt of u64::MAX
/// slots, a cadence that never ends) are refused by the DAO, whatever the vote; and a veto key
/// is no longer forever: a passed `VetoAuthority` proposal replaces it.
#[test]
fn rules_that_would_brick_are_refused_and_the_veto_key_can_change() {
    let mut g = gov(&[100, 100], default_config());
    let bricks = [
        RuleValues {
            circuit_breaker_bps: 500,
            circuit_breaker_window_slots: 10,
            circuit_breaker_halt_slots: u64::MAX,
            ..rules()
        },
        RuleValues {
            update_cadence_slots: u64::MAX,
            ..rules()
        },
        RuleValues {
            circuit_breaker_bps: 1,
            circuit_breaker_window_slots: 10,
            ..rules()
        },
        RuleValues {
            max_trade_amount: 1,
            ..rules()
        },
        RuleValues {
            volatility_limit: 1,
            ..rules()
        },
        RuleValues {
            max_quote_band_bps: 9_000,
            ..rules()
        },
    ];
    for rules in bricks {
        let refused = g.propose(0, ProposalKind::Rules { rules }).unwrap_err();
        assert_eq!(
            refused.custom_code(),
            Some(dao_code(DaoError::InvalidRules)),
            "{rules:?}"
        );
    }
    let old_veto = g.dao.veto.insecure_clone();
    let new_veto = Keypair::new();
    let index = g
        .propose(
            0,
            ProposalKind::VetoAuthority {
                veto_authority: new_veto.pubkey(),
            },
        )
        .unwrap();
    g.pass(index, None);
    let dao: rule_dao::state::Dao = g.env.anchor_account(&g.a().dao);
    assert_eq!(dao.veto_authority, new_veto.pubkey());
    let next = g.propose(0, g.rules_kind(7)).unwrap();
    expect(
        g.env
            .send(&[veto_ix(&g.a(), &old_veto.pubkey(), next)], &[&old_veto]),
        dao_code(DaoError::NotVetoAuthority),
    );
    g.env
        .send(&[veto_ix(&g.a(), &new_veto.pubkey(), next)], &[&new_veto])
        .unwrap();
    assert_eq!(g.proposal(next).state, ProposalState::Vetoed);
}

/// Attack (finding 4): a dust print tripped the breaker for ~1 base unit per halt, and during the
/// halt the pumped spot kept feeding the oracle. Defended: the breaker's reference is the TWAP,
/// it trips only once the slot's notional reaches the rule's minimum and the trade moves the spot
/// away from the reference; while halted the oracle holds the reference; the halt's end follows
/// the rules in force (a shorter halt voted in lifts a running one).
#[test]
fn breaker_ignores_dust_holds_the_reference_while_halted_and_follows_rule_changes() {
    let mut g = gov(&[100, 100], default_config());
    let (a, trader, accounts, _) = governed_market(&mut g);
    let breaker = RuleValues {
        circuit_breaker_bps: 500,
        circuit_breaker_window_slots: 20,
        circuit_breaker_halt_slots: rwa_rules::MAX_HALT_SLOTS,
        circuit_breaker_min_notional: 100 * TOKEN,
        ..rules()
    };
    let index = g
        .propose(0, ProposalKind::Rules { rules: breaker })
        .unwrap();
    g.pass(index, None);
    // price 1.0 -> 1.06: 6% from the TWAP, but 61.8 notional < 100: no trip
    let result = g
        .env
        .send(&[trade_ix(&a, &accounts, buy(60 * TOKEN))], &[&trader])
        .unwrap();
    assert!(result
        .events::<CircuitBreakerTripped>(&rwa_market::ID)
        .is_empty());
    // same slot, -> 1.11: the slot's notional passes 100 and the move grows: trips
    let result = g
        .env
        .send(&[trade_ix(&a, &accounts, buy(50 * TOKEN))], &[&trader])
        .unwrap();
    let tripped: Vec<CircuitBreakerTripped> = result.events(&rwa_market::ID);
    assert_eq!(tripped.len(), 1);
    assert_eq!(tripped[0].reference_price, d_raw("1"));
    assert!(tripped[0].move_bps > 1_000);
    // the oracle holds the reference, not the pumped spot, through the halt
    let oracle = g.env.oracle_state(&a);
    assert_eq!(oracle.spot().raw(), tripped[0].reference_price);
    g.env.advance_slots(50);
    let update = g.env.send(&[update_oracle_ix(&a)], &[]).unwrap();
    let updated = &update.events::<rwa_market::events::OracleUpdated>(&rwa_market::ID)[0];
    assert_eq!(updated.price, tripped[0].reference_price);
    let now = g.env.slot();
    assert_eq!(
        g.env.oracle_state(&a).twap_over(now, 20).unwrap().raw(),
        tripped[0].reference_price
    );
    expect(
        g.env
            .send(&[trade_ix(&a, &accounts, buy(TOKEN))], &[&trader]),
        market_code(MarketError::CircuitBreakerActive),
    );
    // the DAO shortens halts to 10 slots: the running 9,000-slot halt ends with the new rule
    let shorter = RuleValues {
        circuit_breaker_halt_slots: 10,
        ..breaker
    };
    let index = g
        .propose(0, ProposalKind::Rules { rules: shorter })
        .unwrap();
    g.pass(index, None);
    assert!(g.env.market_state(&a).halted_until_slot > g.env.slot());
    // a sale back toward the reference never trips, however far the spot still is
    let result = g
        .env
        .send(
            &[trade_ix(
                &a,
                &accounts,
                TradeKind::SellExactIn {
                    amount: 20 * TOKEN,
                    min_quote_out: 0,
                },
            )],
            &[&trader],
        )
        .unwrap();
    assert!(result
        .events::<CircuitBreakerTripped>(&rwa_market::ID)
        .is_empty());
    // that trade ended the oracle's hold: it records the curve's spot again
    let oracle = g.env.oracle_state(&a);
    assert_eq!({ oracle.hold_until_slot }, 0);
    assert_eq!(oracle.spot(), g.env.market_state(&a).spot_price().unwrap());
}

/// Buy exactly `amount` from the curve, whatever it costs.
fn buy(amount: u64) -> TradeKind {
    TradeKind::BuyExactOut {
        amount,
        max_quote_in: u64::MAX,
    }
}

fn d_raw(text: &str) -> u128 {
    text.parse::<rwa_math::Decimal>().unwrap().raw()
}

/// Attack (finding 8): the size limit was per instruction, so N trades in one transaction traded
/// N times the limit. Defended: it counts per market per slot, across instructions and
/// transactions.
#[test]
fn max_trade_amount_counts_per_slot_across_transactions() {
    let mut g = gov(&[100, 100], default_config());
    let (a, trader, accounts, _) = governed_market(&mut g);
    let index = g.propose(0, g.rules_kind(50 * TOKEN / 1_000)).unwrap();
    g.pass(index, None);
    let buy = |amount| trade_ix(&a, &accounts, buy(amount));
    let supply = g.env.market_state(&a).supply;
    expect(
        g.env.send(&[buy(30 * TOKEN), buy(30 * TOKEN)], &[&trader]),
        market_code(MarketError::MaxTradeSizeExceeded),
    );
    g.env.send(&[buy(30 * TOKEN)], &[&trader]).unwrap();
    expect(
        g.env.send(&[buy(21 * TOKEN)], &[&trader]),
        market_code(MarketError::MaxTradeSizeExceeded),
    );
    g.env.send(&[buy(20 * TOKEN)], &[&trader]).unwrap();
    g.env.advance_slots(1);
    g.env.send(&[buy(50 * TOKEN)], &[&trader]).unwrap();
    assert_eq!(g.env.market_state(&a).supply, supply + 100 * TOKEN);
}

/// Finding 7: once attached, no one could pause a market in an emergency. Defended: the
/// RuleSet's guardian pauses (only pauses); resuming takes an executed proposal.
#[test]
fn guardian_pauses_only_and_the_dao_resumes() {
    let mut g = gov(&[100, 100], default_config());
    let (a, trader, accounts, old_authority) = governed_market(&mut g);
    let guardian = g.env.new_funded_keypair(1_000_000_000);
    let with_guardian = RuleValues {
        guardian: guardian.pubkey(),
        ..rules()
    };
    let rule_set = g.a().rule_set;
    // no guardian yet: nobody, not even the old authority, can use the guardian's pause
    expect(
        g.env.send(
            &[guardian_pause_ix(&a, &old_authority.pubkey(), &rule_set)],
            &[&old_authority],
        ),
        market_code(MarketError::NotGuardian),
    );
    let index = g
        .propose(
            0,
            ProposalKind::Rules {
                rules: with_guardian,
            },
        )
        .unwrap();
    g.pass(index, None);
    g.env
        .send(
            &[guardian_pause_ix(&a, &guardian.pubkey(), &rule_set)],
            &[&guardian],
        )
        .unwrap();
    let buy = trade_ix(&a, &accounts, buy(TOKEN));
    expect(
        g.env.send(std::slice::from_ref(&buy), &[&trader]),
        market_code(MarketError::MarketPaused),
    );
    // the guardian cannot resume (it is not the market authority)
    expect(
        g.env.send(
            &[set_paused_ix(&a, &guardian.pubkey(), false)],
            &[&guardian],
        ),
        market_code(MarketError::Unauthorized),
    );
    let index = g
        .propose(
            0,
            ProposalKind::MarketParams {
                market: a.market,
                update: MarketParamsUpdate {
                    paused: Some(false),
                    ..Default::default()
                },
            },
        )
        .unwrap();
    g.pass(index, Some(&a));
    assert!(!g.env.market_state(&a).paused);
    g.env.advance_slots(1);
    g.env.send(&[buy], &[&trader]).unwrap();
}

/// The remaining DAO refusals, each performed and asserted: a zero stake, an over-long
/// description, a proposer below the minimum stake, a vote after voting closed, a vote by a
/// position whose whole stake is in cooldown, and a `MarketParams` proposal executed without
/// the market's accounts.
#[test]
fn remaining_dao_refusals_are_typed() {
    let mut g = gov(&[100, 100], default_config());
    let (voter, account) = (g.voters[0].0.insecure_clone(), g.voters[0].1);
    expect(
        g.env.send(
            &[staking_ix(
                &g.a(),
                &voter.pubkey(),
                &account,
                StakeAction::Stake(0),
            )],
            &[&voter],
        ),
        dao_code(DaoError::ZeroAmount),
    );
    let index = g
        .env
        .anchor_account::<rule_dao::state::Dao>(&g.a().dao)
        .proposal_count;
    let long = "x".repeat(rule_dao::constants::MAX_URI_LEN + 1);
    expect(
        g.env.send(
            &[propose_ix(
                &g.a(),
                &voter.pubkey(),
                index,
                g.rules_kind(5),
                &long,
            )],
            &[&voter],
        ),
        dao_code(DaoError::UriTooLong),
    );
    // voter 1 puts its whole stake in cooldown: no weight left to vote with
    let (quitter, quitter_account) = (g.voters[1].0.insecure_clone(), g.voters[1].1);
    g.env
        .send(
            &[staking_ix(
                &g.a(),
                &quitter.pubkey(),
                &quitter_account,
                StakeAction::RequestUnstake(100),
            )],
            &[&quitter],
        )
        .unwrap();
    let index = g.propose(0, g.rules_kind(5)).unwrap();
    expect(
        g.vote(1, index, VoteChoice::Yes),
        dao_code(DaoError::NoVotingWeight),
    );
    g.env
        .advance_slots(default_config().voting_period_slots + 1);
    expect(
        g.vote(0, index, VoteChoice::Yes),
        dao_code(DaoError::VotingClosed),
    );
    // a MarketParams proposal executed without the market's accounts
    let (a, _, _, _) = governed_market(&mut g);
    let index = g
        .propose(
            0,
            ProposalKind::MarketParams {
                market: a.market,
                update: MarketParamsUpdate {
                    fee_bps: Some(10),
                    ..Default::default()
                },
            },
        )
        .unwrap();
    g.vote(0, index, VoteChoice::Yes).unwrap();
    let config = default_config();
    g.env
        .advance_slots(config.voting_period_slots + config.hold_up_slots + 1);
    expect(
        g.execute(index, None),
        dao_code(DaoError::InvalidMarketAccounts),
    );
    // a proposer below the DAO's minimum stake
    let mut strict = gov(
        &[100],
        DaoConfig {
            min_proposal_stake: 1_000,
            ..default_config()
        },
    );
    expect(
        strict.propose(0, strict.rules_kind(5)).map(|_| TxSuccess {
            logs: vec![],
            inner: vec![],
        }),
        dao_code(DaoError::ProposerStakeTooLow),
    );
}

/// Finding 7, lending side: once attached, the lending admin's parameter changes are refused and
/// go through `LendingParams` proposals (bounded at proposal time); the guardian pauses lending
/// (only pauses) and an executed `LendingPause` proposal resumes it.
#[test]
fn lending_governed_by_the_dao_and_paused_by_its_guardian() {
    use rwa_harness::lending::*;
    use rwa_lending::instructions::LendingMarketParams;
    let mut g = gov(&[100, 100], default_config());
    let usdc = g.env.create_mint(6);
    let admin = g.env.new_funded_keypair(10_000_000_000);
    let lending = LendingAddresses {
        rule_set: Some(g.a().rule_set),
        ..LendingAddresses::derive(usdc, 1)
    };
    let params = |slots_per_year| LendingMarketParams {
        reserve_factor_bps: 1_000,
        sigma_p_cap: 0,
        slots_per_year,
        risk_authority: admin.pubkey(),
    };
    let year = rwa_math::lending::DEFAULT_SLOTS_PER_YEAR;
    g.env
        .send(
            &[init_lending_market_ix(
                &admin.pubkey(),
                &lending,
                1,
                params(year),
            )],
            &[&admin],
        )
        .unwrap();
    let rule_set = g.a().rule_set;
    g.env
        .send(
            &[attach_lending_rule_set_ix(
                &lending,
                &admin.pubkey(),
                &rule_set,
            )],
            &[&admin],
        )
        .unwrap();
    let lending_code =
        |e: rwa_lending::errors::LendingError| anchor_lang::error::ERROR_CODE_OFFSET + e as u32;
    let state = |g: &Gov| -> rwa_lending::state::LendingMarket {
        g.env.anchor_account(&lending.lending_market)
    };
    assert_eq!(state(&g).governance_authority, g.a().authority);
    // the admin's retroactive year-length change is refused now
    expect(
        g.env.send(
            &[update_lending_params_ix(
                &lending,
                &admin.pubkey(),
                params(1),
            )],
            &[&admin],
        ),
        lending_code(rwa_lending::errors::LendingError::Unauthorized),
    );
    // a proposal out of bounds is refused when proposed; one in bounds executes
    let kind = |slots_per_year| ProposalKind::LendingParams {
        lending_market: lending.lending_market,
        params: params(slots_per_year),
    };
    let refused = g.propose(0, kind(1)).unwrap_err();
    assert_eq!(
        refused.custom_code(),
        Some(lending_code(
            rwa_lending::errors::LendingError::InvalidParams
        ))
    );
    let index = g.propose(0, kind(year * 2)).unwrap();
    for voter in 0..2 {
        g.vote(voter, index, VoteChoice::Yes).unwrap();
    }
    let config = default_config();
    g.env
        .advance_slots(config.voting_period_slots + config.hold_up_slots + 1);
    let payer = g.env.payer.pubkey();
    let execute = |g: &mut Gov, index| {
        let ix = execute_lending_ix(&g.a(), &payer, index, &lending.lending_market);
        g.env.send(&[ix], &[])
    };
    execute(&mut g, index).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(state(&g).slots_per_year, year * 2);
    // the guardian pauses; it cannot resume; the DAO does
    let guardian = g.env.new_funded_keypair(1_000_000_000);
    let index = g
        .propose(
            0,
            ProposalKind::Rules {
                rules: RuleValues {
                    guardian: guardian.pubkey(),
                    ..rules()
                },
            },
        )
        .unwrap();
    g.pass(index, None);
    expect(
        g.env.send(
            &[set_lending_pause_ix(&lending, &admin.pubkey(), true)],
            &[&admin],
        ),
        lending_code(rwa_lending::errors::LendingError::Unauthorized),
    );
    g.env
        .send(
            &[set_lending_pause_ix(&lending, &guardian.pubkey(), true)],
            &[&guardian],
        )
        .unwrap();
    assert!(state(&g).paused);
    expect(
        g.env.send(
            &[set_lending_pause_ix(&lending, &guardian.pubkey(), false)],
            &[&guardian],
        ),
        lending_code(rwa_lending::errors::LendingError::Unauthorized),
    );
    let index = g
        .propose(
            0,
            ProposalKind::LendingPause {
                lending_market: lending.lending_market,
                paused: false,
            },
        )
        .unwrap();
    for voter in 0..2 {
        g.vote(voter, index, VoteChoice::Yes).unwrap();
    }
    g.env
        .advance_slots(config.voting_period_slots + config.hold_up_slots + 1);
    execute(&mut g, index).unwrap_or_else(|e| panic!("{e}"));
    assert!(!state(&g).paused);
}
