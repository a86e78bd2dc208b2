//! Adoption incentives on the real programs: prospects joining on their own or recruited by
//! referrers (who are paid the market's `referrer_share_bps` of the fee of every trade their
//! recruits make, by the market program, in the same transaction), and an airdrop planned by
//! `rwa_agent_core::airdrop` (or its uniform / pro-rata baselines) and executed as token
//! transfers from the issuer's holding. The adoption model is in `scenario::Incentives`; the
//! experiments (`affiliate`, `airdrop`) sweep k and the drop rule over paired seeds.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rwa_agent_core::airdrop::{self, Candidate};
use serde::Serialize;

use crate::agents::{expected_noise_turnover, Kind};
use crate::experiment::t_quantile_95;
use crate::fundamentals::Rng;
use crate::scenario::{AirdropRule, Scenario};
use crate::setup::Population;
use crate::world::{World, UNIT};
use crate::{run, RunOptions, SimError};

/// What the airdrop did (markets summed).
#[derive(Clone, Debug, Default, Serialize)]
pub struct AirdropOutcome {
    pub rule: String,
    pub step: u64,
    pub candidates: u64,
    pub recipients: u64,
    /// Whole tokens handed out.
    pub spent: f64,
    /// Wallets at or above the minimum holding just before the drop, just after it, and at the
    /// end of the run.
    pub holders_before: u64,
    pub holders_after: u64,
    pub holders_end: u64,
    /// What the planner predicted for this drop (holders after it); the transfers must make it
    /// exactly.
    pub predicted_holders: u64,
    /// Recipients scheduled to sell everything, and those whose sale landed.
    pub dumps_scheduled: u64,
    pub dumps_landed: u64,
    /// Mean over markets of ln(spot after the dump window / spot before the drop).
    pub price_change: f64,
}

/// What the incentives did over a run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct IncentiveSummary {
    pub referrer_share_bps: u16,
    pub joined_referred: u64,
    pub joined_organic: u64,
    /// Wallets at or above the minimum holding, summed over markets, at the start and the end.
    pub holders_start: u64,
    pub holders_end: u64,
    /// Curve volume over the run (buy cost + sell proceeds, whole quote tokens, all markets).
    pub volume: f64,
    /// Fees charged over the run, what reached the markets' fee vaults, and what referrers got.
    pub fees: f64,
    pub fees_to_pool: f64,
    pub referral_paid: f64,
    /// The referrers' recruiting effort (recruits x cost), off chain.
    pub recruit_cost: f64,
    pub airdrop: Option<AirdropOutcome>,
}

/// Tracks one run's incentives: who joins, the drop, the figures at the start.
pub struct Tracker {
    organic: Rng,
    recruiting: Rng,
    dumping: Rng,
    start_volume: f64,
    start_fees: f64,
    start_pool: f64,
    holders_start: u64,
    summary: IncentiveSummary,
    /// Spot of every market just before the drop.
    spots_before_drop: Vec<f64>,
}

fn volume_and_fees(world: &World) -> (f64, f64, f64) {
    let mut volume = 0.0;
    let mut fees = 0.0;
    let mut pool = 0.0;
    for i in 0..world.markets.len() {
        let market = world.market(i);
        volume += (market.buy_volume + market.sell_volume) as f64 / UNIT;
        fees += market.total_fees as f64 / UNIT;
        pool += world.balance(&world.markets[i].addresses.fee_vault) as f64 / UNIT;
    }
    (volume, fees, pool)
}

/// Wallets with a token account of `market` and their balances (agents in population order).
fn wallets(world: &World, population: &Population, market: usize) -> Vec<Candidate<usize>> {
    population
        .agents
        .iter()
        .filter_map(|a| {
            a.rwa_accounts[market].map(|account| Candidate {
                id: a.id,
                balance: world.balance(&account),
            })
        })
        .collect()
}

/// Wallets at or above `min_holding` base units, summed over markets.
pub fn holders(world: &World, population: &Population, min_holding: u64) -> u64 {
    (0..world.markets.len())
        .map(|i| {
            wallets(world, population, i)
                .iter()
                .filter(|c| c.balance >= min_holding)
                .count() as u64
        })
        .sum()
}

impl Tracker {
    pub fn new(scenario: &Scenario, world: &World, population: &Population) -> Tracker {
        let (start_volume, start_fees, start_pool) = volume_and_fees(world);
        let min = min_holding(scenario);
        Tracker {
            organic: Rng::new(scenario.seed, 6),
            recruiting: Rng::new(scenario.seed, 7),
            dumping: Rng::new(scenario.seed, 8),
            start_volume,
            start_fees,
            start_pool,
            holders_start: holders(world, population, min),
            summary: IncentiveSummary {
                referrer_share_bps: scenario.incentives.referrer_share_bps,
                ..Default::default()
            },
            spots_before_drop: Vec::new(),
        }
    }

    /// Before the agents act at `step`: organic joins, recruiting, the airdrop.
    pub fn before_agents(
        &mut self,
        scenario: &Scenario,
        world: &mut World,
        population: &mut Population,
        step: u64,
    ) -> Result<(), SimError> {
        let settings = &scenario.incentives;
        for agent in population.agents.iter_mut() {
            if agent.kind != Kind::Prospect {
                continue;
            }
            // One draw per prospect and step whether or not it joined already, so arms that
            // differ in recruiting see the same organic draws.
            let joins = self.organic.uniform() < settings.organic_join;
            if joins && !agent.joined {
                agent.joined = true;
                self.summary.joined_organic += 1;
            }
        }
        let steps_left = scenario.steps.saturating_sub(step) as f64;
        let k = settings.referrer_share_bps as f64 / 10_000.0;
        let referrers: Vec<usize> = population
            .agents
            .iter()
            .filter(|a| a.kind == Kind::Referrer)
            .map(|a| a.id)
            .collect();
        for r in referrers {
            let market = population.agents[r].market;
            let fee_rate = world.market(market).fee_bps as f64 / 10_000.0;
            let referrer = &population.agents[r];
            let income = world.balance(&referrer.quote_account) as f64 / UNIT;
            let recruit_steps: u64 = referrer
                .recruits
                .iter()
                .map(|(_, joined)| step.saturating_sub(*joined))
                .sum();
            // Income per recruit-step: what it has earned, or before any recruit has traded for a
            // step, the fee share of a recruit's expected turnover.
            let per_recruit_step = if recruit_steps > 0 {
                income / recruit_steps as f64
            } else {
                k * fee_rate * expected_noise_turnover(settings.prospect_capital as f64)
            };
            // Recruit only when a recruit is expected to pay more than it costs, more eagerly
            // the larger the margin.
            let value = per_recruit_step * steps_left;
            let p = if value > settings.recruit_cost {
                settings.recruit_rate * (1.0 - settings.recruit_cost / value)
            } else {
                0.0
            };
            if !(self.recruiting.uniform() < p) {
                continue;
            }
            let Some(prospect) = population
                .agents
                .iter()
                .position(|a| a.kind == Kind::Prospect && a.market == market && !a.joined)
            else {
                continue;
            };
            let quote_account = population.agents[r].quote_account;
            let recruit = &mut population.agents[prospect];
            recruit.joined = true;
            recruit.referrer = Some(quote_account);
            population.agents[r].recruits.push((prospect, step));
            self.summary.joined_referred += 1;
            self.summary.recruit_cost += settings.recruit_cost;
        }
        if let Some(drop) = settings.airdrop.as_ref().filter(|d| d.step == step) {
            self.airdrop(scenario, world, population, step, drop)?;
        }
        Ok(())
    }

    fn airdrop(
        &mut self,
        scenario: &Scenario,
        world: &mut World,
        population: &mut Population,
        step: u64,
        drop: &crate::scenario::Airdrop,
    ) -> Result<(), SimError> {
        let min = min_holding(scenario);
        let budget = (drop.budget * UNIT) as u64;
        let mut outcome = AirdropOutcome {
            rule: drop.rule.name().into(),
            step,
            holders_before: holders(world, population, min),
            ..Default::default()
        };
        self.spots_before_drop = crate::metrics::spots(world);
        for market in 0..world.markets.len() {
            let candidates = wallets(world, population, market);
            let planned = match drop.rule {
                AirdropRule::Planner => airdrop::plan(&candidates, budget, min),
                AirdropRule::Uniform => airdrop::uniform(&candidates, budget, min),
                AirdropRule::ProRata => airdrop::pro_rata(&candidates, budget, min),
                AirdropRule::None => airdrop::Drop {
                    transfers: Vec::new(),
                    spent: 0,
                    holders: candidates.iter().filter(|c| c.balance >= min).count(),
                },
            };
            outcome.candidates += candidates.len() as u64;
            outcome.recipients += planned.transfers.len() as u64;
            outcome.spent += planned.spent as f64 / UNIT;
            outcome.predicted_holders += planned.holders as u64;
            for (id, amount) in &planned.transfers {
                let agent = &mut population.agents[*id];
                let destination = agent.rwa_accounts[market].expect("a candidate has an account");
                let before = candidates
                    .iter()
                    .find(|c| c.id == *id)
                    .map(|c| c.balance)
                    .unwrap_or(0);
                world.hand_out(market, &destination, *amount)?;
                let made_holder = before < min && before + amount >= min;
                if made_holder
                    && agent.kind == Kind::Prospect
                    && self.dumping.uniform() < drop.dump_probability
                {
                    // Within the window and the run.
                    let within = drop.dump_within.min(scenario.steps - step).max(1);
                    agent.dump_at = Some(step + 1 + self.dumping.next_u64() % within);
                    outcome.dumps_scheduled += 1;
                }
            }
        }
        outcome.holders_after = holders(world, population, min);
        self.summary.airdrop = Some(outcome);
        Ok(())
    }

    /// After the agents acted at `step`: the price change over the dump window.
    pub fn after_agents(&mut self, scenario: &Scenario, world: &World, step: u64) {
        let Some(drop) = &scenario.incentives.airdrop else {
            return;
        };
        let window_end = (drop.step + drop.dump_within).min(scenario.steps);
        if step != window_end || self.spots_before_drop.is_empty() {
            return;
        }
        let now = crate::metrics::spots(world);
        let m = now.len().max(1) as f64;
        if let Some(outcome) = self.summary.airdrop.as_mut() {
            outcome.price_change = now
                .iter()
                .zip(&self.spots_before_drop)
                .map(|(a, b)| (a / b).ln())
                .sum::<f64>()
                / m;
        }
    }

    pub fn finish(
        mut self,
        scenario: &Scenario,
        world: &World,
        population: &Population,
    ) -> IncentiveSummary {
        let (volume, fees, pool) = volume_and_fees(world);
        let min = min_holding(scenario);
        let end = holders(world, population, min);
        let s = &mut self.summary;
        s.holders_start = self.holders_start;
        s.holders_end = end;
        s.volume = volume - self.start_volume;
        s.fees = fees - self.start_fees;
        s.fees_to_pool = pool - self.start_pool;
        s.referral_paid = population
            .agents
            .iter()
            .filter(|a| a.kind == Kind::Referrer)
            .map(|a| world.balance(&a.quote_account) as f64 / UNIT)
            .sum();
        if let Some(outcome) = s.airdrop.as_mut() {
            outcome.holders_end = end;
            outcome.dumps_landed = population
                .agents
                .iter()
                .filter(|a| a.kind == Kind::Prospect && a.dump_landed)
                .count() as u64;
        }
        self.summary
    }
}

fn min_holding(scenario: &Scenario) -> u64 {
    (scenario.incentives.min_holding * UNIT) as u64
}

/// Mean with a 95% confidence interval (Student t over the seeds).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct MeanCi {
    pub mean: f64,
    pub low: f64,
    pub high: f64,
    pub n: usize,
}

pub fn mean_ci(values: &[f64]) -> MeanCi {
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n.max(1) as f64;
    let half = if n > 1 {
        let sd = (values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
        t_quantile_95(n - 1) * sd / (n as f64).sqrt()
    } else {
        f64::NAN
    };
    MeanCi {
        mean,
        low: mean - half,
        high: mean + half,
        n,
    }
}

/// One arm of a sweep: each metric's mean over the seeds, and its paired difference from the
/// control arm (the first), both with 95% CIs.
#[derive(Clone, Debug, Serialize)]
pub struct Arm {
    pub arm: String,
    pub metrics: BTreeMap<&'static str, MeanCi>,
    pub versus_control: BTreeMap<&'static str, MeanCi>,
}

/// A sweep over arms on paired seeds; `S` is what each run reports.
#[derive(Clone, Debug, Serialize)]
pub struct SweepReport<S = IncentiveSummary> {
    pub experiment: String,
    pub scenario: String,
    pub seeds: Vec<u64>,
    pub arms: Vec<Arm>,
    pub runs: Vec<(String, u64, S)>,
    pub notes: Vec<String>,
}

pub type Metric<S = IncentiveSummary> = (&'static str, fn(&S) -> f64);

fn incentive_summary(
    scenario: &Scenario,
) -> impl Fn(&crate::RunOutput) -> Result<IncentiveSummary, SimError> + '_ {
    move |out| {
        out.summary.incentives.clone().ok_or_else(|| {
            SimError::Scenario(format!("{}: incentives.enabled is off", scenario.name))
        })
    }
}

/// Runs every arm (a scenario and its run options) on every seed, arm after arm per seed, and
/// reports each metric's mean over the seeds and its paired difference from the first arm.
pub fn sweep<S: Clone>(
    experiment: &str,
    scenario: &Scenario,
    seeds: &[u64],
    arms: &[(String, Scenario, RunOptions)],
    extract: impl Fn(&crate::RunOutput) -> Result<S, SimError>,
    metrics: &[Metric<S>],
) -> Result<SweepReport<S>, SimError> {
    let mut runs = Vec::new();
    // results[arm][seed]
    let mut results: Vec<Vec<S>> = vec![Vec::new(); arms.len()];
    for &seed in seeds {
        for (a, (name, arm, options)) in arms.iter().enumerate() {
            let mut s = arm.clone();
            s.seed = seed;
            if options.progress {
                eprintln!("seed {seed}: {name}");
            }
            let out = run(&s, *options)?;
            let summary = extract(&out)?;
            runs.push((name.clone(), seed, summary.clone()));
            results[a].push(summary);
        }
    }
    let arms = arms
        .iter()
        .enumerate()
        .map(|(a, (name, _, _))| {
            let mut m = BTreeMap::new();
            let mut v = BTreeMap::new();
            for (metric, f) in metrics {
                let values: Vec<f64> = results[a].iter().map(f).collect();
                let control: Vec<f64> = results[0].iter().map(f).collect();
                let diffs: Vec<f64> = values.iter().zip(&control).map(|(x, c)| x - c).collect();
                m.insert(*metric, mean_ci(&values));
                v.insert(*metric, mean_ci(&diffs));
            }
            Arm {
                arm: name.clone(),
                metrics: m,
                versus_control: v,
            }
        })
        .collect();
    Ok(SweepReport {
        experiment: experiment.into(),
        scenario: scenario.name.clone(),
        seeds: seeds.to_vec(),
        arms,
        runs,
        notes: Vec::new(),
    })
}

/// The affiliate rate k swept against adoption: the same seeds with k = each of `rates` (bps of
/// the fee; the first is the control), no airdrop.
pub fn affiliate(
    scenario: &Scenario,
    seeds: &[u64],
    options: RunOptions,
    rates: &[u16],
) -> Result<SweepReport, SimError> {
    if !scenario.incentives.enabled || scenario.incentives.referrers_per_asset == 0 {
        return Err(SimError::Scenario(format!(
            "{}: the affiliate experiment needs incentives.enabled and referrers",
            scenario.name
        )));
    }
    let arms: Vec<(String, Scenario, RunOptions)> = rates
        .iter()
        .map(|&k| {
            let mut s = scenario.clone();
            s.incentives.referrer_share_bps = k;
            s.incentives.airdrop = None;
            s.validate().map(|()| (format!("k={k}"), s, options))
        })
        .collect::<Result<_, _>>()?;
    let metrics: [Metric; 7] = [
        ("joined by referral", |s| s.joined_referred as f64),
        ("joined on their own", |s| s.joined_organic as f64),
        ("holders at the end", |s| s.holders_end as f64),
        ("curve volume", |s| s.volume),
        ("fees to the pool", |s| s.fees_to_pool),
        ("paid to referrers", |s| s.referral_paid),
        ("referrers' net", |s| s.referral_paid - s.recruit_cost),
    ];
    let mut report = sweep(
        "affiliate",
        scenario,
        seeds,
        &arms,
        incentive_summary(scenario),
        &metrics,
    )?;
    report.notes.push(format!(
        "claim tested: a referrer share R = k x fee raises adoption (holders, volume); {} prospects and {} referrers per asset, recruit cost {} quote, recruit rate {}, organic join {} per step",
        scenario.incentives.prospects_per_asset,
        scenario.incentives.referrers_per_asset,
        scenario.incentives.recruit_cost,
        scenario.incentives.recruit_rate,
        scenario.incentives.organic_join
    ));
    Ok(report)
}

/// The airdrop planner against its baselines: the same seeds with no drop (control), the
/// planner, a uniform and a pro-rata drop of the same budget.
pub fn airdrop(
    scenario: &Scenario,
    seeds: &[u64],
    options: RunOptions,
) -> Result<SweepReport, SimError> {
    if !scenario.incentives.enabled || scenario.incentives.airdrop.is_none() {
        return Err(SimError::Scenario(format!(
            "{}: the airdrop experiment needs incentives.enabled and incentives.airdrop",
            scenario.name
        )));
    }
    let order = [
        AirdropRule::None,
        AirdropRule::Planner,
        AirdropRule::Uniform,
        AirdropRule::ProRata,
    ];
    let arms: Vec<(String, Scenario, RunOptions)> = order
        .iter()
        .map(|rule| {
            let mut s = scenario.clone();
            if let Some(drop) = s.incentives.airdrop.as_mut() {
                drop.rule = *rule;
            }
            (rule.name().to_string(), s, options)
        })
        .collect();
    let metrics: [Metric; 6] = [
        ("holders just after the drop", |s| {
            s.airdrop.as_ref().map_or(0.0, |d| d.holders_after as f64)
        }),
        ("holders at the end", |s| s.holders_end as f64),
        ("recipients", |s| {
            s.airdrop.as_ref().map_or(0.0, |d| d.recipients as f64)
        }),
        ("dumps landed", |s| {
            s.airdrop.as_ref().map_or(0.0, |d| d.dumps_landed as f64)
        }),
        ("price change over the dump window (bps)", |s| {
            s.airdrop
                .as_ref()
                .map_or(0.0, |d| d.price_change * 10_000.0)
        }),
        ("curve volume", |s| s.volume),
    ];
    let mut report = sweep(
        "airdrop",
        scenario,
        seeds,
        &arms,
        incentive_summary(scenario),
        &metrics,
    )?;
    let drop = scenario.incentives.airdrop.as_ref().expect("checked");
    report.notes.push(format!(
        "claim tested: the planner makes the most holders for the budget; {} whole tokens per market at step {}, minimum holding {}, a recipient made a holder dumps with probability {} within {} steps",
        drop.budget, drop.step, scenario.incentives.min_holding, drop.dump_probability, drop.dump_within
    ));
    Ok(report)
}

pub fn table<S>(r: &SweepReport<S>) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "experiment {} on {}: {} seeds; mean [95% CI], and the paired difference from {}",
        r.experiment,
        r.scenario,
        r.seeds.len(),
        r.arms.first().map(|a| a.arm.as_str()).unwrap_or("-")
    );
    let metrics: Vec<&'static str> = r
        .arms
        .first()
        .map(|a| a.metrics.keys().copied().collect())
        .unwrap_or_default();
    for metric in metrics {
        let _ = writeln!(t, "{metric}:");
        for arm in &r.arms {
            let m = arm.metrics[metric];
            let d = arm.versus_control[metric];
            let _ = writeln!(
                t,
                "  {:>10} {:>12.2} [{:.2}, {:.2}]   diff {:>+10.2} [{:+.2}, {:+.2}]",
                arm.arm, m.mean, m.low, m.high, d.mean, d.low, d.high
            );
        }
    }
    for note in &r.notes {
        let _ = writeln!(t, "{note}");
    }
    t
}

/// Two metrics per arm as bars (blue, orange), each relative to its largest arm.
pub fn chart<S>(r: &SweepReport<S>) -> String {
    use crate::report::{frame, paired_bars};
    let (a, b) = match r.experiment.as_str() {
        "affiliate" => ("holders at the end", "fees to the pool"),
        "coordination-sweep" => (
            "price volatility over open periods (%/step)",
            "halted market-steps (%)",
        ),
        _ => ("holders just after the drop", "holders at the end"),
    };
    let max_of = |metric: &str| {
        r.arms
            .iter()
            .map(|arm| arm.metrics[metric].mean)
            .fold(0.0, f64::max)
            .max(1e-12)
    };
    let (max_a, max_b) = (max_of(a), max_of(b));
    let mut svg = frame(
        &format!(
            "{} on {} ({} seeds): {a} (blue, max {:.1}) and {b} (orange, max {:.1}), each relative to its largest arm",
            r.experiment,
            r.scenario,
            r.seeds.len(),
            max_a,
            max_b
        ),
        0.0,
        1.0,
        "arm",
    );
    let groups: Vec<(String, [f64; 2])> = r
        .arms
        .iter()
        .map(|arm| {
            (
                arm.arm.clone(),
                [arm.metrics[a].mean / max_a, arm.metrics[b].mean / max_b],
            )
        })
        .collect();
    svg.push_str(&paired_bars(&groups, 1.0));
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_ci_covers_the_mean_and_narrows_with_more_seeds() {
        let few = mean_ci(&[1.0, 2.0, 3.0]);
        assert_eq!(few.mean, 2.0);
        assert!(few.low < 2.0 && few.high > 2.0);
        let many = mean_ci(&[1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 1.0, 2.0, 3.0]);
        assert!(many.high - many.low < few.high - few.low);
    }
}
