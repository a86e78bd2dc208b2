//! The governance agent: watches system stability, proposes tighter rules when its volatility
//! forecast crosses a threshold (and looser ones when calm returns), and votes by its reward
//! R = alpha * profit + (1 - alpha) * stability, with stability = 1 - sigma_system / sigma_max.

use crate::erc::risk_contributions;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GovernanceParams {
    /// Weight of profit in the reward (the research suggests ~0.7).
    pub alpha: f64,
    /// Volatility at which stability reaches zero (per sqrt(slot)).
    pub sigma_max: f64,
    /// Propose tighter rules above this forecast volatility...
    pub tighten_above: f64,
    /// ...and looser ones below this.
    pub relax_below: f64,
    /// EWMA decay of the volatility forecast.
    pub lambda: f64,
    /// The agent's profit over the voting horizon as a fraction of capital, with no breaker; a
    /// rule keeps the share of it earned while trading is not halted. A trading agent passes its
    /// realised rate (`realised_profit_rate`; negative when it is losing, and then halts raise its
    /// reward); an agent that does not trade has none of its own (the default is an assumption).
    pub profit_rate: f64,
}

impl Default for GovernanceParams {
    fn default() -> Self {
        GovernanceParams {
            alpha: 0.7,
            sigma_max: 0.01,
            tighten_above: 0.006,
            relax_below: 0.002,
            lambda: 0.94,
            profit_rate: 0.001,
        }
    }
}

/// Value-weighted system volatility: sqrt(w' Sigma w) over the markets' capitalisations.
pub fn sigma_system(cov: &[Vec<f64>], capitalisations: &[f64]) -> f64 {
    let total: f64 = capitalisations.iter().sum();
    if !(total > 0.0) {
        return 0.0;
    }
    let weights: Vec<f64> = capitalisations.iter().map(|c| c / total).collect();
    risk_contributions(cov, &weights).1
}

/// sigma_system as the research defines it, from what any reader of the chain records: the
/// sample covariance of per-step log returns of every market's price over `prices` (one series per
/// market, oldest first), weighted by `capitalisations`, in units per sqrt(slot) (a step is
/// `slots_per_step` slots). None without two prices per market.
pub fn sigma_system_of_prices(
    prices: &[Vec<f64>],
    capitalisations: &[f64],
    slots_per_step: u64,
) -> Option<f64> {
    if prices.is_empty()
        || prices.len() != capitalisations.len()
        || prices
            .iter()
            .any(|p| p.len() < 2 || p.iter().any(|x| !(*x > 0.0)))
    {
        return None;
    }
    let returns = crate::covariance::log_returns(prices);
    let cov = crate::covariance::sample_covariance(&returns);
    Some(sigma_system(&cov, capitalisations) / (slots_per_step.max(1) as f64).sqrt())
}

/// An agent's realised profit rate for the reward: its marked-to-market return on starting wealth
/// so far, per step, over `horizon_steps` (the period a rule change holds for at least).
pub fn realised_profit_rate(
    start_wealth: f64,
    wealth_now: f64,
    steps_elapsed: u64,
    horizon_steps: f64,
) -> f64 {
    if !(start_wealth > 0.0) || steps_elapsed == 0 {
        return 0.0;
    }
    (wealth_now / start_wealth - 1.0) / steps_elapsed as f64 * horizon_steps
}

pub fn stability(sigma_system: f64, sigma_max: f64) -> f64 {
    (1.0 - sigma_system / sigma_max).clamp(0.0, 1.0)
}

pub fn reward(alpha: f64, profit: f64, stability: f64) -> f64 {
    alpha * profit + (1.0 - alpha) * stability
}

/// One EWMA step of the volatility forecast.
pub fn forecast(previous: f64, observed: f64, lambda: f64) -> f64 {
    (lambda * previous * previous + (1.0 - lambda) * observed * observed).sqrt()
}

/// Standard normal CDF, via erfc (Abramowitz & Stegun 7.1.26, absolute error < 1.5e-7).
pub fn normal_cdf(x: f64) -> f64 {
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erfc = poly * (-z * z).exp();
    if x >= 0.0 {
        1.0 - 0.5 * erfc
    } else {
        0.5 * erfc
    }
}

/// What a circuit breaker does to a market whose log price diffuses at `sigma` per sqrt(slot).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BreakerImpact {
    /// Probability a window trips the breaker.
    pub trip_probability: f64,
    /// Long-run share of slots the market is halted.
    pub halted_fraction: f64,
    /// Volatility per sqrt(slot) left: moves clipped at the band, none while halted.
    pub sigma_after: f64,
}

/// The breaker's effect under a driftless Brownian model: a window of `window_slots` trips when
/// the running move leaves +-`band_bps` (reflection principle, both sides: at most 4(1 - Phi(z)),
/// z = band / (sigma sqrt(window))); a trip halts trading `halt_slots`; realised variance per window
/// is that of the move clipped at the band. `band_bps == 0` means no breaker.
pub fn breaker_impact(
    sigma: f64,
    band_bps: u16,
    window_slots: u64,
    halt_slots: u64,
) -> BreakerImpact {
    if band_bps == 0 || window_slots == 0 || !(sigma > 0.0) {
        return BreakerImpact {
            trip_probability: 0.0,
            halted_fraction: 0.0,
            sigma_after: sigma.max(0.0),
        };
    }
    let window = window_slots as f64;
    let spread = sigma * window.sqrt();
    let band = (1.0 + band_bps as f64 / 10_000.0).ln();
    let z = band / spread;
    let tail = 1.0 - normal_cdf(z);
    let trip_probability = (4.0 * tail).min(1.0);
    let halted = trip_probability * halt_slots as f64;
    let halted_fraction = halted / (window + halted);
    // E[min(X^2, b^2)] for X ~ N(0, s^2)
    let density = (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let clipped = spread * spread * ((2.0 * normal_cdf(z) - 1.0) - 2.0 * z * density)
        + band * band * 2.0 * tail;
    let sigma_after = (clipped.max(0.0) / window * (1.0 - halted_fraction)).sqrt();
    BreakerImpact {
        trip_probability,
        halted_fraction,
        sigma_after,
    }
}

/// A circuit-breaker setting: band (bps, 0 = off), window and halt (slots).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Breaker {
    pub band_bps: u16,
    pub window_slots: u64,
    pub halt_slots: u64,
}

/// The vote on replacing breaker `now` by `proposed`, at forecast volatility `sigma`: profit is
/// `profit_rate` times the share of time trading is open, stability comes from the volatility
/// left after clipping and halts (`breaker_impact`).
pub fn vote_on_breaker(
    p: &GovernanceParams,
    sigma: f64,
    now: Breaker,
    proposed: Breaker,
    indifference: f64,
) -> Vote {
    let before = breaker_impact(sigma, now.band_bps, now.window_slots, now.halt_slots);
    let after = breaker_impact(
        sigma,
        proposed.band_bps,
        proposed.window_slots,
        proposed.halt_slots,
    );
    vote(
        p,
        p.profit_rate * (1.0 - before.halted_fraction),
        p.profit_rate * (1.0 - after.halted_fraction),
        before.sigma_after,
        after.sigma_after,
        indifference,
    )
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RuleProposal {
    /// Halve the circuit-breaker band and the max trade size.
    Tighten,
    /// Double them back (bounded by the caller's defaults).
    Relax,
}

pub fn propose(
    forecast_sigma: f64,
    currently_tight: bool,
    p: &GovernanceParams,
) -> Option<RuleProposal> {
    if forecast_sigma > p.tighten_above && !currently_tight {
        Some(RuleProposal::Tighten)
    } else if forecast_sigma < p.relax_below && currently_tight {
        Some(RuleProposal::Relax)
    } else {
        None
    }
}

/// A proposal as the governance agent sees it on chain.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OpenProposal {
    pub index: u64,
    pub voting_ends_slot: u64,
    /// The breaker the proposal would install (`None`: not a rules proposal).
    pub breaker: Option<Breaker>,
    /// The agent already voted on it.
    pub voted: bool,
}

/// What the governance agent does this step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum GovernanceAction {
    /// Voting ended and the hold-up passed: execute it (the program refuses a defeated one).
    Execute {
        index: u64,
    },
    Vote {
        index: u64,
        vote: Vote,
    },
    /// Propose these rules, and back them with a Yes right after.
    Propose {
        proposal: RuleProposal,
    },
}

/// The governance agent's whole decision, shared by the daemon and the simulator: execute what
/// is due, vote on open rules proposals by the modelled effect of their breaker against the one in
/// force, and when nothing is open propose what the forecast calls for, but only what the agent
/// would itself vote for. `proposed_breaker` gives the breaker a proposal would install.
#[allow(clippy::too_many_arguments)]
pub fn decide(
    p: &GovernanceParams,
    forecast_sigma: f64,
    current: Breaker,
    currently_tight: bool,
    proposals: &[OpenProposal],
    slot: u64,
    hold_up_slots: u64,
    proposed_breaker: impl Fn(RuleProposal) -> Breaker,
) -> Vec<GovernanceAction> {
    const INDIFFERENCE: f64 = 1e-9;
    let mut actions = Vec::new();
    let mut open = false;
    for proposal in proposals {
        if slot > proposal.voting_ends_slot {
            if slot >= proposal.voting_ends_slot + hold_up_slots {
                actions.push(GovernanceAction::Execute {
                    index: proposal.index,
                });
            }
            continue;
        }
        open = true;
        if let (Some(breaker), false) = (proposal.breaker, proposal.voted) {
            let vote = vote_on_breaker(p, forecast_sigma, current, breaker, INDIFFERENCE);
            actions.push(GovernanceAction::Vote {
                index: proposal.index,
                vote,
            });
        }
    }
    if !open {
        if let Some(proposal) = propose(forecast_sigma, currently_tight, p) {
            let breaker = proposed_breaker(proposal);
            if vote_on_breaker(p, forecast_sigma, current, breaker, INDIFFERENCE) == Vote::Yes {
                actions.push(GovernanceAction::Propose { proposal });
            }
        }
    }
    actions
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vote {
    Yes,
    No,
    Abstain,
}

/// Yes when the proposal raises the agent's reward (profit normalised by its capital), no when it
/// lowers it, abstain within `indifference`.
#[allow(clippy::too_many_arguments)]
pub fn vote(
    p: &GovernanceParams,
    profit_now: f64,
    profit_after: f64,
    sigma_now: f64,
    sigma_after: f64,
    indifference: f64,
) -> Vote {
    let before = reward(p.alpha, profit_now, stability(sigma_now, p.sigma_max));
    let after = reward(p.alpha, profit_after, stability(sigma_after, p.sigma_max));
    if after > before + indifference {
        Vote::Yes
    } else if after < before - indifference {
        Vote::No
    } else {
        Vote::Abstain
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stability_and_reward() {
        assert_eq!(stability(0.0, 0.01), 1.0);
        assert_eq!(stability(0.02, 0.01), 0.0);
        assert!((reward(0.7, 0.1, 0.5) - (0.07 + 0.15)).abs() < 1e-12);
        let cov = vec![vec![0.0001, 0.0], vec![0.0, 0.0004]];
        assert!((sigma_system(&cov, &[1.0, 0.0]) - 0.01).abs() < 1e-12);
    }

    #[test]
    fn sigma_system_of_prices_is_the_weighted_return_volatility() {
        // two markets moving exactly together at +-1% per step: sigma_system = 1% per step
        let up_down: Vec<f64> = (0..41)
            .map(|t| if t % 2 == 0 { 1.0 } else { 1.01 })
            .collect();
        let prices = vec![up_down.clone(), up_down.iter().map(|p| p * 2.0).collect()];
        let per_step = sigma_system_of_prices(&prices, &[1.0, 3.0], 1).unwrap();
        let r = 1.01f64.ln();
        // returns alternate +r, -r: population variance r^2 (mean ~0 over an even count)
        assert!(
            (per_step - r).abs() < 1e-9 * r.max(1.0) + 1e-12,
            "{per_step} vs {r}"
        );
        let per_slot = sigma_system_of_prices(&prices, &[1.0, 3.0], 100).unwrap();
        assert!((per_slot - per_step / 10.0).abs() < 1e-12);
        // offsetting markets cancel: one up when the other is down, equal weights
        let opposite: Vec<f64> = up_down.iter().map(|p| 1.01 / p).collect();
        let hedged = sigma_system_of_prices(&[up_down.clone(), opposite], &[1.0, 1.0], 1).unwrap();
        assert!(hedged < 1e-9, "{hedged}");
        assert_eq!(sigma_system_of_prices(&[vec![1.0]], &[1.0], 1), None);
        assert_eq!(sigma_system_of_prices(&[vec![1.0, 0.0]], &[1.0], 1), None);
    }

    #[test]
    fn a_losing_trader_votes_for_halts_a_winning_one_against() {
        assert!((realised_profit_rate(100.0, 110.0, 10, 5.0) - 0.05).abs() < 1e-12);
        assert!(realised_profit_rate(100.0, 90.0, 10, 5.0) < 0.0);
        assert_eq!(realised_profit_rate(0.0, 90.0, 10, 5.0), 0.0);
        let now = Breaker {
            band_bps: 0,
            window_slots: 0,
            halt_slots: 0,
        };
        let tight = Breaker {
            band_bps: 750,
            window_slots: 150,
            halt_slots: 300,
        };
        let p = |profit_rate| GovernanceParams {
            alpha: 1.0,
            profit_rate,
            ..GovernanceParams::default()
        };
        // pure profit seekers: the breaker's halts cut a winner's profit and a loser's loss
        assert_eq!(vote_on_breaker(&p(0.05), 0.005, now, tight, 1e-9), Vote::No);
        assert_eq!(
            vote_on_breaker(&p(-0.05), 0.005, now, tight, 1e-9),
            Vote::Yes
        );
        // pure stability seekers back it whatever their profit
        let stable = GovernanceParams {
            alpha: 0.0,
            profit_rate: 0.05,
            ..GovernanceParams::default()
        };
        assert_eq!(vote_on_breaker(&stable, 0.005, now, tight, 1e-9), Vote::Yes);
    }

    #[test]
    fn proposes_on_threshold_crossings_only() {
        let p = GovernanceParams::default();
        assert_eq!(propose(0.008, false, &p), Some(RuleProposal::Tighten));
        assert_eq!(propose(0.008, true, &p), None);
        assert_eq!(propose(0.001, true, &p), Some(RuleProposal::Relax));
        assert_eq!(propose(0.004, false, &p), None);
        let rising = forecast(0.002, 0.02, 0.94);
        assert!(rising > 0.002 && rising < 0.02);
    }

    #[test]
    fn normal_cdf_matches_known_values() {
        for (x, expected) in [
            (0.0, 0.5),
            (1.0, 0.841_344_746),
            (-1.96, 0.024_997_895),
            (3.0, 0.998_650_102),
        ] {
            assert!((normal_cdf(x) - expected).abs() < 2e-7, "{x}");
        }
    }

    #[test]
    fn a_tighter_breaker_trades_trading_time_for_volatility() {
        let sigma = 0.008;
        let none = breaker_impact(sigma, 0, 100, 50);
        assert_eq!((none.halted_fraction, none.sigma_after), (0.0, sigma));
        let wide = breaker_impact(sigma, 3_000, 100, 50);
        let tight = breaker_impact(sigma, 1_000, 100, 50);
        // a band far beyond the window's spread (z ~ 3.3) barely trips and barely clips
        assert!(
            wide.halted_fraction < 0.01 && (wide.sigma_after - sigma).abs() / sigma < 0.02,
            "{wide:?}"
        );
        // a band near one window standard deviation trips often, halts more, and cuts volatility
        assert!(tight.trip_probability > wide.trip_probability);
        assert!(tight.halted_fraction > wide.halted_fraction);
        assert!(
            tight.sigma_after < 0.8 * wide.sigma_after,
            "{tight:?} vs {wide:?}"
        );
    }

    #[test]
    fn votes_on_breakers_by_their_modelled_effect() {
        let p = GovernanceParams::default();
        let off = Breaker {
            band_bps: 0,
            window_slots: 150,
            halt_slots: 300,
        };
        let tight = Breaker {
            band_bps: 750,
            ..off
        };
        // turbulent: the tight band cuts volatility a lot for a small share of trading time
        assert_eq!(vote_on_breaker(&p, 0.008, off, tight, 1e-9), Vote::Yes);
        // calm: the band never binds; nothing changes either way
        assert_eq!(vote_on_breaker(&p, 0.0001, off, tight, 1e-9), Vote::Abstain);
        // a profit-driven agent (all profit, no weight on stability) votes against halts
        let greedy = GovernanceParams { alpha: 1.0, ..p };
        assert_eq!(vote_on_breaker(&greedy, 0.008, off, tight, 1e-9), Vote::No);
    }

    #[test]
    fn votes_by_reward() {
        let p = GovernanceParams::default();
        // a rule that costs a little profit but halves volatility: stability gain wins at alpha 0.7
        assert_eq!(vote(&p, 0.02, 0.015, 0.008, 0.004, 1e-6), Vote::Yes);
        // one that costs a lot of profit for little stability: no
        assert_eq!(vote(&p, 0.5, 0.1, 0.005, 0.0049, 1e-6), Vote::No);
        assert_eq!(vote(&p, 0.1, 0.1, 0.005, 0.005, 1e-6), Vote::Abstain);
    }
}

#[cfg(test)]
mod decide_tests {
    use super::*;

    #[test]
    fn executes_what_is_due_votes_once_and_proposes_only_when_nothing_is_open() {
        let p = GovernanceParams::default();
        let current = Breaker {
            band_bps: 1_500,
            window_slots: 150,
            halt_slots: 300,
        };
        let tighter = Breaker {
            band_bps: 750,
            ..current
        };
        let calm = p.relax_below / 2.0;
        let stormy = p.tighten_above * 2.0;
        let tighten = |_: RuleProposal| tighter;
        let due = OpenProposal {
            index: 0,
            voting_ends_slot: 100,
            breaker: Some(tighter),
            voted: false,
        };
        let open = OpenProposal {
            index: 1,
            voting_ends_slot: 500,
            breaker: Some(tighter),
            voted: false,
        };
        // Past the hold-up: execute; the open one gets a vote; no new proposal while one is open.
        let actions = decide(&p, stormy, current, false, &[due, open], 200, 50, tighten);
        assert_eq!(actions[0], GovernanceAction::Execute { index: 0 });
        assert!(matches!(
            actions[1],
            GovernanceAction::Vote { index: 1, .. }
        ));
        assert_eq!(actions.len(), 2);
        // Within the hold-up nothing is executed; an already voted proposal gets no second vote.
        let voted = OpenProposal {
            voted: true,
            ..open
        };
        assert!(decide(&p, stormy, current, false, &[voted], 120, 50, tighten).is_empty());
        // Nothing open: propose what the forecast calls for, only if the agent would vote for it.
        let proposed = decide(&p, stormy, current, false, &[], 600, 50, tighten);
        assert_eq!(
            proposed,
            vec![GovernanceAction::Propose {
                proposal: RuleProposal::Tighten
            }]
        );
        assert!(
            decide(&p, calm, current, false, &[], 600, 50, tighten).is_empty(),
            "calm and not tight: nothing to propose"
        );
    }
}
