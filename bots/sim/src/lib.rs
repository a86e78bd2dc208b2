//! Agent-based simulation of the RWA agent economy on the real programs.
//!
//! N agents x M markets x T steps: every trade, quote, borrow, liquidation, proposal and vote is
//! a transaction of the project's programs executed by the harness's in-process runtime; the
//! strategies are the daemon's own (`rwa-agent-core`), reached through the same glue
//! (`rwa_harness::agent`). Fundamentals (NAV paths) and shocks come from a scenario file; a run
//! is deterministic for its seed. See `run` for one run and `experiment` for the paired studies.

pub mod agents;
pub mod experiment;
pub mod fundamentals;
pub mod incentives;
pub mod learning;
pub mod metrics;
pub mod report;
pub mod scenario;
pub mod setup;
pub mod valuation;
pub mod world;

use std::time::{Duration, Instant};

use agents::{act, Signals, Status, Tuning};
use fundamentals::{NavPaths, Rng};
use metrics::{RunSummary, StepRecord};
use scenario::{Scenario, Shock};

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("scenario: {0}")]
    Scenario(String),
    #[error("setup: {0}")]
    Setup(String),
    #[error("invariant broken: {0}")]
    Invariant(String),
    #[error("output: {0}")]
    Output(String),
}

/// How a run reports progress and how often it checks invariants.
#[derive(Clone, Copy, Debug)]
pub struct RunOptions {
    /// Show a progress bar on stderr.
    pub progress: bool,
    /// Check invariants every this many steps (and always after the last); 0 = only at the end.
    pub check_every: u64,
    /// Run the DAO (when the scenario has one); the coordination experiment turns it off.
    pub dao: bool,
    /// Also record each market's holder count and cumulative curve volume every step
    /// (`StepRecord::holders`, `StepRecord::volume`; empty otherwise), for the valuation
    /// observers. Reading only: the run itself is the same either way.
    pub market_features: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            progress: false,
            check_every: 1,
            dao: true,
            market_features: false,
        }
    }
}

/// Where the time of a run went.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Timing {
    pub setup: f64,
    pub total: f64,
    /// Inside the runtime: building, signing and executing transactions.
    pub runtime: f64,
    /// Reading state for views and metrics, strategies and bookkeeping.
    pub shell: f64,
    pub checks: f64,
}

/// Everything a run produced.
pub struct RunOutput {
    pub scenario: Scenario,
    pub steps: Vec<StepRecord>,
    pub agents: Vec<metrics::AgentRecord>,
    pub summary: RunSummary,
}

/// One simulation run.
pub fn run(scenario: &Scenario, options: RunOptions) -> Result<RunOutput, SimError> {
    let started = Instant::now();
    let mut scenario = scenario.clone();
    if !options.dao {
        scenario
            .shocks
            .retain(|s| !matches!(s, Shock::RuleChange { .. }));
    }
    let nav = NavPaths::generate(&scenario);
    let (mut world, mut population) = setup::build(&scenario)?;
    if !options.dao || scenario.dao.fixed_rules {
        // The uncoordinated arm (rules off, all zero, for the whole run) and the fixed-rules arm
        // (the tightened breaker from genesis): same population and stake, but the governors
        // never act and nobody votes, so the rules never change.
        for agent in population.agents.iter_mut() {
            if agent.kind == agents::Kind::Governance {
                agent.status = Status::Stopped;
            }
            agent.staked = false;
        }
    }
    let setup_time = started.elapsed();
    let setup_tx = world.tx;
    let tuning = Tuning::of(&scenario);
    let bar = if options.progress {
        let bar = indicatif::ProgressBar::new(scenario.steps);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{prefix} [{bar:40}] {pos}/{len} steps {per_sec} eta {eta} {msg}",
            )
            .expect("progress template")
            .progress_chars("=> "),
        );
        bar.set_prefix(scenario.name.clone());
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut order_rng = Rng::new(scenario.seed, 2);
    let mut herd_rng = Rng::new(scenario.seed, 3);
    let m = world.markets.len();
    let mut records = Vec::with_capacity(scenario.steps as usize + 1);
    let mut recorder = metrics::Recorder::new(&world, &population).with_market_features(
        options.market_features || scenario.agents.fair_value == scenario::FairValue::Model,
    );
    records.push(recorder.record(&world, &population, 0, &nav.nav[0]));
    // What every reader of the chain records: each market's price at the end of every step.
    let mut spot_history: Vec<Vec<f64>> = vec![records[0].spot.clone()];
    // With `agents.fair_value = "model"`, one online valuation model per market (the research's
    // formula with forgetting 0.8, the NAV published every 10 steps a publication late); the
    // agents of step t see V as of the end of step t - 1.
    let mut valuations = match scenario.agents.fair_value {
        scenario::FairValue::Nav => None,
        scenario::FairValue::Model => {
            let settings = valuation::Settings::default();
            let arm = settings
                .models
                .iter()
                .find(|a| a.forgetting < 1.0 && !a.last_nav_feature)
                .cloned()
                .ok_or_else(|| SimError::Scenario("no forgetful valuation model".into()))?;
            Some(
                (0..m)
                    .map(|_| valuation::OnlineValuation::new(settings.clone(), arm.clone()))
                    .collect::<Result<Vec<_>, _>>()?,
            )
        }
    };
    let observe = |valuations: &mut Option<Vec<valuation::OnlineValuation>>,
                   record: &metrics::StepRecord|
     -> Result<Option<Vec<f64>>, SimError> {
        let Some(models) = valuations.as_mut() else {
            return Ok(None);
        };
        models
            .iter_mut()
            .enumerate()
            .map(|(i, model)| {
                model
                    .step(
                        record.nav[i],
                        record.twap[i],
                        record.holders[i] as f64,
                        record.volume[i],
                    )
                    .map(|(v, _)| v)
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    };
    let mut model_values = observe(&mut valuations, &records[0])?;
    let mut checks = Duration::ZERO;
    let mut council_pending: Option<(u64, u64)> = None;
    let mut incentives = scenario
        .incentives
        .enabled
        .then(|| incentives::Tracker::new(&scenario, &world, &population));
    for step in 1..=scenario.steps {
        world.env.advance_slots(scenario.slots_per_step);
        if scenario.primary.enabled && step % scenario.primary.publish_every.max(1) == 0 {
            for (i, nav) in nav.nav[step as usize].iter().enumerate() {
                world.publish_nav(i, *nav)?;
            }
        }
        for shock in scenario.shocks.iter().filter(|s| s.step() == step) {
            match shock {
                Shock::Failure {
                    agent,
                    fraction,
                    mode,
                    ..
                } => {
                    let kind = agents::Kind::parse(agent).expect("validated kind");
                    let members: Vec<usize> = population
                        .agents
                        .iter()
                        .filter(|a| a.kind == kind)
                        .map(|a| a.id)
                        .collect();
                    let count = ((members.len() as f64) * fraction).ceil() as usize;
                    for id in members.into_iter().take(count) {
                        population.agents[id].status = if mode == "adversarial" {
                            Status::Adversarial
                        } else {
                            Status::Stopped
                        };
                    }
                }
                Shock::Herding { fraction, .. } => {
                    for a in population.agents.iter_mut().filter(|a| {
                        matches!(
                            a.kind,
                            agents::Kind::Noise | agents::Kind::Momentum | agents::Kind::Value
                        )
                    }) {
                        if herd_rng.uniform() < *fraction {
                            a.herding = true;
                        }
                    }
                }
                Shock::RuleChange { .. } => {
                    if let Some(index) = setup::council_propose(&mut world, &population, shock)? {
                        council_pending = Some((index, step));
                    }
                }
                _ => {}
            }
        }
        for shock in &scenario.shocks {
            if let Shock::Herding { until, .. } = shock {
                if *until == step {
                    population.agents.iter_mut().for_each(|a| a.herding = false);
                }
            }
        }
        if let Some((index, _)) = council_pending {
            if setup::council_execute(&mut world, &population, index) {
                council_pending = None;
            }
        }
        let lookback = tuning.momentum_lookback.min(spot_history.len() - 1);
        let herd = if lookback == 0 {
            0.0
        } else {
            let now = &spot_history[spot_history.len() - 1];
            let then = &spot_history[spot_history.len() - 1 - lookback];
            (0..m)
                .map(|i| rwa_agent_core::strategies::directional::log_return(then[i], now[i]))
                .sum::<f64>()
                / m as f64
        };
        // Only voters read it.
        let sigma_system = if scenario.dao.enabled {
            system_volatility(&world, &spot_history, &scenario)
        } else {
            None
        };
        let fair_value: &[f64] = match &model_values {
            Some(values) => values,
            None => &nav.nav[step as usize],
        };
        let signals = Signals {
            step,
            nav: &nav.nav[step as usize],
            spot_history: &spot_history,
            herd,
            sigma_system,
            fair_value,
        };
        if let Some(tracker) = incentives.as_mut() {
            tracker.before_agents(&scenario, &mut world, &mut population, step)?;
        }
        let mut order: Vec<usize> = (0..population.agents.len()).collect();
        order_rng.shuffle(&mut order);
        for id in order {
            act(&mut world, &mut population.agents[id], &signals, &tuning);
        }
        if let Some(tracker) = incentives.as_mut() {
            tracker.after_agents(&scenario, &world, step);
        }
        let record = recorder.record(&world, &population, step, &nav.nav[step as usize]);
        if let Some(values) = observe(&mut valuations, &record)? {
            model_values = Some(values);
        }
        spot_history.push(record.spot.clone());
        records.push(record);
        if (options.check_every > 0 && step % options.check_every == 0) || step == scenario.steps {
            let t = Instant::now();
            world.check_invariants().map_err(|e| match e {
                SimError::Invariant(what) => SimError::Invariant(format!("step {step}: {what}")),
                other => other,
            })?;
            checks += t.elapsed();
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let total = started.elapsed();
    let runtime = world.tx.runtime.saturating_sub(setup_tx.runtime);
    let timing = Timing {
        setup: setup_time.as_secs_f64(),
        total: total.as_secs_f64(),
        runtime: runtime.as_secs_f64(),
        checks: checks.as_secs_f64(),
        shell: (total - setup_time)
            .saturating_sub(runtime)
            .saturating_sub(checks)
            .as_secs_f64(),
    };
    let agents = recorder.agent_records(&world, &population);
    let mut summary = metrics::summarise(
        &scenario,
        &world,
        &records,
        &agents,
        timing,
        world.tx.landed - setup_tx.landed,
        world.tx.refused - setup_tx.refused,
    );
    summary.risk_parity = metrics::risk_parity_summary(
        &world,
        &population,
        &records,
        scenario.risk_parity.window_steps,
    );
    summary.dao = scenario.dao.enabled && options.dao;
    summary.incentives = incentives.map(|t| t.finish(&scenario, &world, &population));
    Ok(RunOutput {
        scenario,
        steps: records,
        agents,
        summary,
    })
}

/// sigma_system per sqrt(slot) over the scenario's window of every market's end-of-step price,
/// weighted by capitalisation (price x supply now).
pub fn system_volatility(
    world: &world::World,
    spot_history: &[Vec<f64>],
    scenario: &Scenario,
) -> Option<f64> {
    let window = spot_history.len().min(scenario.dao.sigma_window_steps + 1);
    if window < 3 {
        return None;
    }
    let recent = &spot_history[spot_history.len() - window..];
    let m = world.markets.len();
    let prices: Vec<Vec<f64>> = (0..m)
        .map(|i| recent.iter().map(|row| row[i]).collect())
        .collect();
    let capitalisations: Vec<f64> = (0..m)
        .map(|i| recent[recent.len() - 1][i] * world.market(i).supply as f64)
        .collect();
    rwa_agent_core::strategies::governance::sigma_system_of_prices(
        &prices,
        &capitalisations,
        scenario.slots_per_step,
    )
}
