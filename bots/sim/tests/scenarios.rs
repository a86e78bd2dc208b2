//! Every built-in scenario, small: the run completes with every invariant checked after every
//! step (conservation of every mint, solvency of every market, maker escrows and lending
//! collateral within their vaults); plus determinism, the shocks' effects and the checks'
//! ability to fail.

use rwa_sim::scenario::{Overrides, Scenario, BUILT_IN};
use rwa_sim::{run, RunOptions, SimError};

fn small(name: &str, steps: u64) -> Scenario {
    Scenario::load(name)
        .unwrap()
        .with(Overrides {
            agents: Some(26),
            assets: Some(3),
            steps: Some(steps),
            seed: None,
        })
        .unwrap()
}

#[test]
fn every_built_in_scenario_runs_small_with_invariants_checked_every_step() {
    for (name, _) in BUILT_IN {
        let scenario = small(name, 60);
        let out = run(&scenario, RunOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let s = &out.summary;
        assert_eq!(out.steps.len(), 61, "{name}");
        assert!(
            s.landed > 100,
            "{name}: only {} transactions landed",
            s.landed
        );
        assert!(
            s.per_asset.iter().all(|a| a.price_volatility > 0.0),
            "{name}: a market never traded"
        );
        // wealth is marked at spot; no agent can end below zero (borrowers included: bad debt
        // would show as negative equity)
        assert!(out.agents.iter().all(|a| a.end_wealth >= 0.0), "{name}");
        println!(
            "{name}: {} landed, {} refused, {:.1} steps/s",
            s.landed, s.refused, s.steps_per_second
        );
    }
}

#[test]
fn a_seed_fixes_the_run() {
    let a = run(&small("baseline", 30), RunOptions::default()).unwrap();
    let b = run(&small("baseline", 30), RunOptions::default()).unwrap();
    let spots = |o: &rwa_sim::RunOutput| o.steps.iter().map(|r| r.spot.clone()).collect::<Vec<_>>();
    assert_eq!(spots(&a), spots(&b));
    assert_eq!(a.summary.landed, b.summary.landed);
    let mut other = small("baseline", 30);
    other.seed += 1;
    let c = run(&other, RunOptions::default()).unwrap();
    assert_ne!(spots(&a), spots(&c));
}

#[test]
fn prices_follow_a_crash_of_the_nav() {
    // the full population (two value funds on the crashing market), asset 0 loses 30% of its
    // NAV at step 60 of 120
    let scenario = Scenario::load("crash")
        .unwrap()
        .with(Overrides {
            steps: Some(120),
            ..Overrides::default()
        })
        .unwrap();
    let out = run(&scenario, RunOptions::default()).unwrap();
    let before = out.steps[59].spot[0];
    let after = out.steps[119].spot[0];
    let nav_drop = out.steps[119].nav[0] / out.steps[59].nav[0];
    assert!(nav_drop < 0.8, "nav fell to {nav_drop}");
    // The price follows at least a third of the way within 60 steps. Not all of it: the value
    // funds run out of tokens to sell while makers and rebalancers buy the dip (README, "what
    // the simulator found").
    assert!(
        after / before < 1.0 - (1.0 - nav_drop) / 3.0,
        "price went {before} -> {after} while the NAV fell to {nav_drop}"
    );
    // the calm assets stay within a few percent of their NAV throughout
    for asset in 1..3 {
        assert!(
            out.summary.per_asset[asset].mean_gap < 0.05,
            "{:?}",
            out.summary.per_asset[asset]
        );
    }
}

#[test]
fn stopped_agents_stop_and_council_rules_pass_through_the_dao() {
    let out = run(&small("agent-failure", 60), RunOptions::default()).unwrap();
    let makers: Vec<_> = out
        .agents
        .iter()
        .filter(|a| a.kind == "market_maker")
        .collect();
    assert!(!makers.is_empty() && makers.iter().all(|a| a.status == "stopped"));

    let out = run(&small("rule-change", 80), RunOptions::default()).unwrap();
    let last = out.steps.last().unwrap();
    assert!(out.summary.rule_changes >= 1);
    assert_eq!(
        last.circuit_breaker_bps, 500,
        "the council's 5% breaker is in force"
    );
}

#[test]
fn without_the_dao_no_rule_ever_changes() {
    let scenario = small("volatility-regime", 60);
    let out = run(
        &scenario,
        RunOptions {
            dao: false,
            ..RunOptions::default()
        },
    )
    .unwrap();
    assert_eq!(out.summary.rule_changes, 0);
    assert_eq!(out.summary.proposals, 0);
    assert!(out.steps.iter().all(|r| r.circuit_breaker_bps == 0));
    assert!(!out.summary.dao);
}

#[test]
fn the_conservation_check_catches_a_token_outside_the_books() {
    let scenario = small("baseline", 5);
    let (mut world, _population) = rwa_sim::setup::build(&scenario).unwrap();
    world.check_invariants().unwrap();
    // quote minted to an account the simulation does not know: the books no longer add up
    let stranger = world.env.payer.insecure_clone();
    let mint = world.quote_mint;
    let account = world.env.create_token_account(
        &mint,
        &rwa_harness::solana_signer::Signer::pubkey(&stranger),
    );
    world.env.mint_to(&mint, &account, 1);
    match world.check_invariants() {
        Err(SimError::Invariant(what)) => assert!(what.contains("conservation"), "{what}"),
        other => panic!("expected a conservation failure, got {other:?}"),
    }
}

#[test]
fn bad_scenarios_are_refused_naming_the_field() {
    let base = BUILT_IN[0].1;
    let cases = [
        (base.replace("count = 4\n", "count = 0\n"), "assets.count"),
        (
            base.replace("correlation = 0.3", "correlation = 1.5"),
            "assets.correlation",
        ),
        (base.replace("count = 40", "count = 5"), "agents.count"),
        (
            format!("{base}\n[[shock]]\nkind = \"failure\"\nstep = 10\nagent = \"wizard\"\n"),
            "wizard",
        ),
        (
            format!("{base}\n[[shock]]\nkind = \"crash\"\nstep = 9999\nsize = 0.3\n"),
            "past the last step",
        ),
        (base.replace("[dao]", "[dao]\nquorum = 3"), "unknown field"),
    ];
    for (text, needle) in cases {
        let error = Scenario::parse(&text, "test").unwrap_err().to_string();
        assert!(error.contains(needle), "{needle}: {error}");
    }
    let error = Scenario::load("no-such-scenario").unwrap_err().to_string();
    assert!(error.contains("not a built-in scenario"), "{error}");
}

#[test]
fn the_coordination_experiment_pairs_runs_on_identical_fundamentals() {
    let scenario = small("volatility-regime", 40);
    let report =
        rwa_sim::experiment::coordination(&scenario, &[1, 2], RunOptions::default()).unwrap();
    assert_eq!(report.pairs.len(), 2);
    assert!(report.price_volatility.ratio.is_finite() && report.price_volatility.ratio > 0.0);
    for pair in &report.pairs {
        assert!(!pair.control.dao && pair.control.rule_changes == 0);
        // same NAV paths in both arms
        assert_eq!(
            pair.treated
                .per_asset
                .iter()
                .map(|a| a.nav_volatility)
                .collect::<Vec<_>>(),
            pair.control
                .per_asset
                .iter()
                .map(|a| a.nav_volatility)
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn risk_parity_investors_re_solve_on_their_schedule() {
    // 200 steps, re-solve every 50 from step 20 (enough history): 4 scheduled re-solves
    let scenario = Scenario::load("risk-parity")
        .unwrap()
        .with(Overrides {
            steps: Some(200),
            ..Overrides::default()
        })
        .unwrap();
    let out = run(&scenario, RunOptions::default()).unwrap();
    let book = out
        .summary
        .risk_parity
        .expect("risk-parity investors hold a book");
    assert!(book.reestimations_per_investor >= 4.0, "{book:?}");
    assert!(book.target_gap < 0.1, "{book:?}");
    // the RC spread is measured at every rebalance that traded, both ways
    assert!(book.rebalances >= 4, "{book:?}");
    for s in [
        &book.spread_at_rebalance_ex_ante,
        &book.spread_at_rebalance_realised,
    ] {
        assert!(
            s.median > 0.0 && s.median <= s.p90 && s.p90 <= s.max,
            "{book:?}"
        );
        assert!((0.0..=1.0).contains(&s.within_5pct));
    }
}

/// The primary market at NAV through a 30% NAV crash: participants subscribe and redeem against
/// the curve, every invariant (conservation with primary mints and burns, solvency) holds every
/// step, and the market price ends nearer the NAV than without them, on the same fundamentals.
#[test]
fn the_primary_market_pulls_a_crashed_price_toward_nav() {
    let mut scenario = small("crash", 60);
    assert!(scenario.agents.ap_arbitrageurs > 0);
    let report = rwa_sim::experiment::primary(&scenario, &[1], RunOptions::default()).unwrap();
    let pair = &report.pairs[0];
    let gap = |s: &rwa_sim::metrics::RunSummary| {
        s.per_asset.iter().map(|a| a.final_gap).sum::<f64>() / s.per_asset.len() as f64
    };
    assert!(
        gap(&pair.treated) < gap(&pair.control),
        "final gap with the primary market {} vs without {}",
        gap(&pair.treated),
        gap(&pair.control)
    );
    let participants = &pair.treated.pnl_by_kind["ap_arbitrage"];
    assert!(participants.landed > 0, "participants traded");
    assert!(!pair.control.pnl_by_kind.contains_key("ap_arbitrage"));
    // a closed primary market leaves the scenario exactly as it was
    scenario.primary.enabled = false;
    let closed = rwa_sim::run(&scenario, RunOptions::default()).unwrap();
    assert_eq!(closed.summary.per_asset.len(), pair.control.per_asset.len());
    assert_eq!(
        closed.summary.mean_price_volatility,
        pair.control.mean_price_volatility
    );
}

fn incentives(steps: u64) -> Scenario {
    Scenario::load("incentives")
        .unwrap()
        .with(Overrides {
            steps: Some(steps),
            ..Overrides::default()
        })
        .unwrap()
}

/// Referrers are paid by the market program: every fee charged goes either to the pool's fee
/// vault or to a referrer (nothing lost, nothing minted), referrers earn only when k > 0, and
/// with k = 0 nobody recruits (a recruit is worth nothing to its referrer).
#[test]
fn referrers_are_paid_their_share_of_the_fees_their_recruits_pay() {
    let mut scenario = incentives(80);
    scenario.incentives.referrer_share_bps = 5_000;
    scenario.incentives.recruit_rate = 1.0;
    scenario.incentives.recruit_cost = 0.01;
    let paid = run(&scenario, RunOptions::default()).unwrap();
    let s = paid.summary.incentives.clone().expect("incentives on");
    assert!(s.joined_referred > 0, "{s:?}");
    assert!(s.referral_paid > 0.0, "{s:?}");
    assert!(
        (s.fees - s.fees_to_pool - s.referral_paid).abs() < 1e-6,
        "fees {} = pool {} + referrers {}",
        s.fees,
        s.fees_to_pool,
        s.referral_paid
    );
    // a referrer gets at most half of the fee (k = 5,000 bps), and only on its recruits' trades
    assert!(s.referral_paid <= s.fees * 0.5, "{s:?}");
    assert!(s.holders_end > s.holders_start, "{s:?}");
    scenario.incentives.referrer_share_bps = 0;
    let unpaid = run(&scenario, RunOptions::default()).unwrap();
    let u = unpaid.summary.incentives.expect("incentives on");
    assert_eq!((u.joined_referred, u.referral_paid), (0, 0.0), "{u:?}");
    assert!((u.fees - u.fees_to_pool).abs() < 1e-6, "{u:?}");
    // organic joins draw from their own stream, the same draws in both arms: without referrers
    // at least as many join on their own (a recruited prospect cannot join organically later)
    assert!(
        u.joined_organic > 0 && u.joined_organic >= s.joined_organic,
        "{u:?} {s:?}"
    );
    assert!(
        u.joined_organic <= s.joined_organic + s.joined_referred,
        "{u:?} {s:?}"
    );
}

/// Each drop rule executed on the token program makes exactly the holders its plan predicts,
/// within the budget; the planner makes the most; no drop changes nothing; dumps land.
#[test]
fn the_airdrop_makes_the_planned_holders_and_the_planner_makes_the_most() {
    let base = incentives(60);
    let drop = base.incentives.airdrop.clone().expect("the scenario drops");
    let mut after = std::collections::BTreeMap::new();
    for rule in rwa_sim::scenario::AirdropRule::ALL {
        let mut s = base.clone();
        let d = s.incentives.airdrop.as_mut().unwrap();
        d.rule = rule;
        d.dump_probability = 1.0;
        let out = run(&s, RunOptions::default()).unwrap();
        let o = out.summary.incentives.unwrap().airdrop.expect("a drop ran");
        assert_eq!(o.holders_after, o.predicted_holders, "{rule:?}: {o:?}");
        assert!(
            o.spent <= drop.budget * s.assets.count as f64 + 1e-9,
            "{rule:?}: {o:?}"
        );
        assert_eq!(o.dumps_landed, o.dumps_scheduled, "{rule:?}: {o:?}");
        if rule == rwa_sim::scenario::AirdropRule::None {
            assert_eq!((o.holders_after, o.recipients), (o.holders_before, 0));
        }
        after.insert(rule.name(), o.holders_after);
    }
    assert!(after["planner"] >= after["uniform"], "{after:?}");
    assert!(after["planner"] >= after["pro_rata"], "{after:?}");
    assert!(after["planner"] > after["none"], "{after:?}");
}

#[test]
fn bad_incentive_settings_are_refused_naming_the_field() {
    let base = include_str!("../scenarios/incentives.toml");
    let cases = [
        (
            base.replace("referrer_share_bps = 2500", "referrer_share_bps = 5001"),
            "incentives.referrer_share_bps",
        ),
        (
            base.replace("step = 100", "step = 300"),
            "incentives.airdrop.step",
        ),
        (
            base.replace("dump_probability = 0.3", "dump_probability = 1.5"),
            "incentives.airdrop.dump_probability",
        ),
        (
            base.replace("recruit_rate = 0.05", "recruit_rate = -1"),
            "incentives.recruit_rate",
        ),
        (
            base.replace("rule = \"planner\"", "rule = \"lottery\""),
            "lottery",
        ),
    ];
    for (text, needle) in cases {
        let error = Scenario::parse(&text, "test").unwrap_err().to_string();
        assert!(error.contains(needle), "{needle}: {error}");
    }
}

/// The three coordination arms: no rules never halts or changes a rule; fixed rules has the
/// tightened breaker in force from genesis and never changes it; the adaptive arm's rule changes
/// come from votes of staked traders and governors. Paired: the same NAV paths in every arm.
#[test]
fn coordination_sweep_runs_three_arms_on_the_same_fundamentals() {
    let scenario = small("volatility-regime", 60);
    let report =
        rwa_sim::experiment::coordination_sweep(&scenario, &[1], RunOptions::default(), &[0.0])
            .unwrap();
    let arms: Vec<&str> = report.arms.iter().map(|a| a.arm.as_str()).collect();
    assert_eq!(arms, ["no rules", "fixed rules", "alpha=0"]);
    let run = |arm: &str| &report.runs.iter().find(|r| r.0 == arm).unwrap().2;
    let (none, fixed, adaptive) = (run("no rules"), run("fixed rules"), run("alpha=0"));
    assert_eq!((none.rule_changes, none.halted_share), (0, 0.0));
    assert_eq!(fixed.rule_changes, 0);
    assert!(
        fixed.breaker_trips > 0,
        "a 7.5% breaker trips in a x3 regime"
    );
    assert!(fixed.halted_share > 0.0);
    for r in [fixed, adaptive] {
        assert_eq!(
            r.sigma_system_nav, none.sigma_system_nav,
            "paired fundamentals"
        );
        assert!(r.open_price_volatility > 0.0);
    }
}
