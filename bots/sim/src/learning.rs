//! Learning agents trained on the real programs: one extra trader (the *seat*) joins a scenario's
//! population on market 0 and learns by tabular Q-learning (softmax exploration) or REINFORCE
//! (linear-softmax policy) from its reward R_i, episode after episode; the greedy policy is then
//! evaluated on held-out seeds against rule-based traders of the same capital in the same seat.
//!
//! An episode is one run of the scenario on its own seed: `setup::build` builds the world and the
//! population, the seat is funded by the payer (capital in quote and, optionally, a share of it in
//! tokens from the genesis holder), and every step each agent acts in a seeded random order, the
//! seat included, through the same view and instruction glue as every simulated agent. The seat's
//! reward for step t, measured once every agent has acted:
//!
//!   R_t = alpha * profit_t + (1 - alpha) * (1 - sigma_system / sigma_max)
//!
//! profit_t = (W_t - W_{t-1}) / W_0 * T: the change of its wealth (cash plus tokens at the spot)
//! over the step as a fraction of its starting wealth, scaled by the episode length T, so an
//! episode's mean reward is alpha * (its return over the episode) + (1 - alpha) * (mean
//! stability). sigma_system is what the population's voters see: the capitalisation-weighted
//! volatility of every market's per-step log returns over the scenario's `dao.sigma_window_steps`,
//! per sqrt(slot) (one market: that market's return volatility); sigma_max as the governance
//! agent's (0.01 per sqrt(slot)).
//!
//! Deterministic for a seed: the fundamentals and the population come from the scenario's seed,
//! the seat's exploration from a `SplitMix64` seeded by the training seed.

use std::fmt::Write as _;
use std::path::Path;

use rwa_agent_core::intent::{Intent, Side};
use rwa_agent_core::learning::{
    features, Action, Discretisation, Features, Policy, QLearner, QParams, Reference, Reinforce,
    ReinforceParams, Scaling, SplitMix64, N_ACTIONS, N_FEATURES,
};
use rwa_agent_core::strategies::{directional, governance, learned, noise};
use rwa_agent_core::view::MarketView;
use rwa_harness::agent::{instructions_for, market_view, Holder};
use rwa_harness::market::TraderAccounts;
use rwa_harness::solana_keypair::Keypair;
use rwa_harness::solana_signer::Signer;
use serde::Serialize;

use crate::agents::{act, Signals, Tuning};
use crate::fundamentals::{NavPaths, Rng};
use crate::scenario::{Scenario, Shock};
use crate::world::{World, UNIT, WHOLE};
use crate::SimError;

/// The learning algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Algo {
    /// Tabular Q-learning over the discretised state, softmax exploration.
    Q,
    /// REINFORCE with a linear-softmax policy over the scaled features.
    Reinforce,
}

impl Algo {
    pub fn parse(text: &str) -> Result<Algo, SimError> {
        match text {
            "q" | "q-learning" | "q_learning" => Ok(Algo::Q),
            "reinforce" | "pg" => Ok(Algo::Reinforce),
            other => Err(SimError::Scenario(format!(
                "--algo {other:?}: expected q or reinforce"
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Algo::Q => "q",
            Algo::Reinforce => "reinforce",
        }
    }
}

/// R_i's weights.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct RewardParams {
    /// Weight of profit (the research's ~0.7).
    pub alpha: f64,
    /// Volatility at which stability reaches zero, per sqrt(slot).
    pub sigma_max: f64,
}

impl Default for RewardParams {
    fn default() -> Self {
        RewardParams {
            alpha: 0.7,
            sigma_max: governance::GovernanceParams::default().sigma_max,
        }
    }
}

/// What one training and evaluation does.
#[derive(Clone, Debug)]
pub struct LearnConfig {
    /// The scenario of every episode (its seed is replaced by the episode's).
    pub scenario: Scenario,
    pub algo: Algo,
    /// Training episodes, on seeds `seed`, `seed + 1`, ...
    pub episodes: u64,
    pub seed: u64,
    /// Held-out evaluation seeds (default: the `eval_episodes` seeds right after the training ones).
    pub eval_seeds: Vec<u64>,
    /// Whole quote tokens the seat starts with...
    pub capital: u64,
    /// ...plus this share of it in tokens at the starting NAV. Default 0, cash only: a starting
    /// inventory adds its mark-to-market to every step's profit, an action-independent noise
    /// (0.5 of capital in tokens at the baseline's 0.6% NAV moves per step: about 20 times the fee
    /// of a clip) that a few dozen episodes cannot average away.
    pub token_share: f64,
    /// Tokens per action, as a share of `capital` at the starting NAV.
    pub clip_share: f64,
    pub reward: RewardParams,
    pub q: QParams,
    pub reinforce: ReinforceParams,
    pub discretisation: Discretisation,
    pub scaling: Scaling,
    /// Also run a holding seat on every training seed, for the learning curve's excess reward.
    pub hold_baseline: bool,
}

impl LearnConfig {
    /// Defaults for `scenario`: capital of one of its traders, clip 2% of it, alpha from its DAO
    /// settings.
    pub fn new(scenario: Scenario, algo: Algo, episodes: u64, seed: u64, eval: u64) -> LearnConfig {
        let capital = scenario.agents.capital;
        let token_share = 0.0;
        let reward = RewardParams {
            alpha: scenario.dao.alpha,
            ..RewardParams::default()
        };
        let q = QParams::default();
        LearnConfig {
            scenario,
            algo,
            episodes,
            seed,
            eval_seeds: (0..eval).map(|k| seed + episodes + k).collect(),
            capital,
            token_share,
            clip_share: 0.02,
            reward,
            q,
            reinforce: ReinforceParams::default(),
            discretisation: Discretisation::default(),
            scaling: Scaling::default(),
            hold_baseline: true,
        }
        .with_initial_q()
    }

    /// Q-learning's value of untried actions before any update: the return of a perfectly
    /// stable market at zero profit, (1 - alpha) / (1 - gamma), near what a seat that neither
    /// gains nor moves the market earns (call again after changing alpha or gamma).
    pub fn with_initial_q(mut self) -> LearnConfig {
        self.q.initial_q = (1.0 - self.reward.alpha) / (1.0 - self.q.discount);
        self
    }

    /// Base units per action.
    pub fn clip(&self) -> u64 {
        ((self.capital as f64 * self.clip_share / self.scenario.assets.nav) * UNIT) as u64
    }

    fn learned_params(&self, nav: f64) -> learned::LearnedParams {
        learned::LearnedParams {
            clip: self.clip().max(1),
            max_slippage: 0.05,
            reference: Reference {
                fair_value: Some(nav),
            },
        }
    }

    /// The value trader's parameters for the seat's capital: the simulator's value traders
    /// (`agents::Tuning::directional`: act on a 0.2% gap, a quarter of capital at 2.2%).
    pub fn value_params(&self) -> directional::DirectionalParams {
        let tokens = |share: f64| {
            (self.capital as f64 * WHOLE as f64 * share / self.scenario.assets.nav) as u64
        };
        let max_size = tokens(0.25).max(1);
        directional::DirectionalParams {
            threshold: 0.002,
            size_per_signal: max_size as f64 / (0.022 - 0.002),
            max_size,
            min_size: tokens(0.001).max(1),
            max_slippage: 0.05,
            max_impact: 0.5,
        }
    }

    /// The noise trader's parameters for the seat's capital (the simulator's noise traders).
    pub fn noise_params(&self, seed: u64) -> noise::NoiseParams {
        noise::NoiseParams {
            seed: seed.wrapping_mul(7919).wrapping_add(17),
            trade_probability: 0.5,
            max_size: ((self.capital as f64 * WHOLE as f64 * 0.02 / self.scenario.assets.nav)
                as u64)
                .max(1),
            max_slippage: 0.05,
        }
    }
}

enum Brain {
    Q {
        learner: QLearner,
        discretisation: Discretisation,
        /// (state, action, reward so far) of the last action, updated at the next state.
        last: Option<(usize, usize, f64)>,
    },
    Pg {
        learner: Reinforce,
        scaling: Scaling,
        last: Option<([f64; N_FEATURES], usize, f64)>,
    },
}

/// A learning agent between episodes: its learner and its exploration stream.
pub struct Learner {
    brain: Brain,
    rng: SplitMix64,
}

impl Learner {
    pub fn new(config: &LearnConfig) -> Learner {
        let brain = match config.algo {
            Algo::Q => Brain::Q {
                learner: QLearner::new(config.discretisation.states(), N_ACTIONS, config.q),
                discretisation: config.discretisation.clone(),
                last: None,
            },
            Algo::Reinforce => Brain::Pg {
                learner: Reinforce::new(N_ACTIONS, N_FEATURES, config.reinforce),
                scaling: config.scaling,
                last: None,
            },
        };
        Learner {
            brain,
            rng: SplitMix64::new(config.seed ^ 0x5EA7_1EA2_0000_0016),
        }
    }

    /// The exploration temperature of the next episode.
    pub fn temperature(&self) -> f64 {
        match &self.brain {
            Brain::Q { learner, .. } => learner.temperature(),
            Brain::Pg { learner, .. } => learner.params.temperature,
        }
    }

    pub fn policy(&self) -> Policy {
        match &self.brain {
            Brain::Q {
                learner,
                discretisation,
                ..
            } => Policy::from_q(discretisation.clone(), learner),
            Brain::Pg {
                learner, scaling, ..
            } => Policy::from_reinforce(*scaling, learner),
        }
    }

    /// An exploring action in state `f` (and the Q update of the previous one, now that its next
    /// state is known).
    fn act(&mut self, f: &Features) -> Action {
        match &mut self.brain {
            Brain::Q {
                learner,
                discretisation,
                last,
            } => {
                let state = discretisation.state(f);
                if let Some((s, a, r)) = last.take() {
                    learner.update(s, a, r, Some(state));
                }
                let action = learner.choose(state, &mut self.rng);
                *last = Some((state, action, 0.0));
                Action::from_index(action)
            }
            Brain::Pg {
                learner,
                scaling,
                last,
            } => {
                let x = scaling.vector(f);
                if let Some((x0, a, r)) = last.take() {
                    learner.record(&x0, a, r);
                }
                let action = learner.choose(&x, &mut self.rng);
                *last = Some((x, action, 0.0));
                Action::from_index(action)
            }
        }
    }

    /// The reward of the step just ended, credited to the last action.
    fn reward(&mut self, r: f64) {
        match &mut self.brain {
            Brain::Q { last, .. } => {
                if let Some((_, _, total)) = last {
                    *total += r;
                }
            }
            Brain::Pg { last, .. } => {
                if let Some((_, _, total)) = last {
                    *total += r;
                }
            }
        }
    }

    /// The episode is over (truncated: the Q update bootstraps from the final state).
    fn finish(&mut self, last_state: &Features) {
        match &mut self.brain {
            Brain::Q {
                learner,
                discretisation,
                last,
            } => {
                if let Some((s, a, r)) = last.take() {
                    learner.update(s, a, r, Some(discretisation.state(last_state)));
                }
                learner.end_episode();
            }
            Brain::Pg { learner, last, .. } => {
                if let Some((x, a, r)) = last.take() {
                    learner.record(&x, a, r);
                }
                learner.end_episode();
            }
        }
    }
}

/// Who sits in the seat.
pub enum Seat<'a> {
    /// Learning: exploring actions, updates every step.
    Learning(&'a mut Learner),
    /// A trained policy, greedy (the daemon's `learned` strategy).
    Policy(&'a Policy),
    /// The simulator's value trader (`strategies::directional` on ln(NAV / spot)).
    Value,
    /// The simulator's noise trader.
    Noise,
    /// Holds its starting cash and tokens, never trades.
    Hold,
}

impl Seat<'_> {
    pub fn name(&self) -> &'static str {
        match self {
            Seat::Learning(_) => "learning",
            Seat::Policy(_) => "learned",
            Seat::Value => "value",
            Seat::Noise => "noise",
            Seat::Hold => "hold",
        }
    }
}

/// One episode of the seat.
#[derive(Clone, Debug, Serialize)]
pub struct EpisodeResult {
    pub seed: u64,
    pub seat: String,
    pub steps: u64,
    /// Mean of R_t over the steps.
    pub mean_reward: f64,
    /// Mean of the stability term.
    pub mean_stability: f64,
    /// Starting wealth (quote tokens, tokens marked at spot) and the spot at the start and end.
    pub start_wealth: f64,
    pub start_spot: f64,
    pub end_spot: f64,
    /// End wealth less starting wealth, quote tokens (marked at spot).
    pub pnl: f64,
    /// pnl / starting wealth.
    pub return_fraction: f64,
    /// Swaps sent, by side, and steps the seat sent none.
    pub buys: u64,
    pub sells: u64,
    pub holds: u64,
    /// Swaps the programs refused.
    pub refused: u64,
    /// The seat's token share of its wealth at the end.
    pub end_inventory: f64,
}

/// Shocks a learning episode supports: those that only move the fundamentals.
fn check_scenario(scenario: &Scenario) -> Result<(), SimError> {
    if let Some(shock) = scenario.shocks.iter().find(|s| {
        !matches!(
            s,
            Shock::Crash { .. } | Shock::CorrelatedDrop { .. } | Shock::Volatility { .. }
        )
    }) {
        return Err(SimError::Scenario(format!(
            "{}: learning episodes support NAV shocks (crash, correlated_drop, volatility) only, not {shock:?}",
            scenario.name
        )));
    }
    if scenario.dao.fixed_rules {
        return Err(SimError::Scenario(format!(
            "{}: learning episodes do not run the fixed-rules arm",
            scenario.name
        )));
    }
    if scenario.incentives.enabled {
        return Err(SimError::Scenario(format!(
            "{}: learning episodes do not run the incentives programme",
            scenario.name
        )));
    }
    Ok(())
}

struct SeatAccounts {
    keypair: Keypair,
    trader: TraderAccounts,
}

impl SeatAccounts {
    fn view(&self, world: &World, market: usize) -> Option<MarketView> {
        market_view(
            world.slot(),
            &world.market(market),
            &world.oracle(market),
            &world.makers(market),
            Holder {
                own_maker: None,
                wallet_rwa: world.balance(&self.trader.rwa_account),
                wallet_quote: world.balance(&self.trader.quote_account),
                resting_mid: None,
            },
            crate::agents::rules_view(world),
        )
        .ok()
    }

    /// Cash plus tokens at `spot`, quote tokens.
    fn wealth(&self, world: &World, spot: f64) -> f64 {
        (world.balance(&self.trader.quote_account) as f64
            + world.balance(&self.trader.rwa_account) as f64 * spot)
            / UNIT
    }
}

/// Runs one episode of `scenario` (on its own seed) with `seat` trading market 0.
pub fn episode(
    config: &LearnConfig,
    scenario: &Scenario,
    seat: &mut Seat,
) -> Result<EpisodeResult, SimError> {
    check_scenario(scenario)?;
    const MARKET: usize = 0;
    let nav = NavPaths::generate(scenario);
    let (mut world, mut population) = crate::setup::build(scenario)?;
    // The seat: a trader funded like the population's, from the payer and the genesis holder.
    let keypair = world.env.new_funded_keypair(10_000_000_000);
    let owner = keypair.pubkey();
    let quote_mint = world.quote_mint;
    let rwa_mint = world.markets[MARKET].addresses.rwa_mint;
    let quote_account = world.token_account(&quote_mint, &owner);
    let rwa_account = world.token_account(&rwa_mint, &owner);
    world.mint_quote(&quote_account, config.capital * WHOLE);
    let tokens = (config.capital as f64 * config.token_share / scenario.assets.nav * UNIT) as u64;
    if tokens > 0 {
        world.hand_out(MARKET, &rwa_account, tokens)?;
    }
    let seat_accounts = SeatAccounts {
        keypair,
        trader: TraderAccounts {
            trader: owner,
            rwa_account,
            quote_account,
        },
    };
    let tuning = Tuning::of(scenario);
    let spot_of = |world: &World| {
        world
            .market(MARKET)
            .spot_price()
            .map(|p| p.to_f64())
            .unwrap_or(0.0)
    };
    let start_wealth = seat_accounts.wealth(&world, spot_of(&world));
    let mut previous_wealth = start_wealth;
    let mut order_rng = Rng::new(scenario.seed, 2);
    let mut spot_history: Vec<Vec<f64>> = vec![crate::metrics::spots(&world)];
    let m = world.markets.len();
    let n = population.agents.len();
    let steps = scenario.steps;
    let mut result = EpisodeResult {
        seed: scenario.seed,
        seat: seat.name().to_string(),
        steps,
        mean_reward: 0.0,
        mean_stability: 0.0,
        start_wealth,
        start_spot: spot_of(&world),
        end_spot: 0.0,
        pnl: 0.0,
        return_fraction: 0.0,
        buys: 0,
        sells: 0,
        holds: 0,
        refused: 0,
        end_inventory: 0.0,
    };
    let noise_params = config.noise_params(scenario.seed);
    for step in 1..=steps {
        world.env.advance_slots(scenario.slots_per_step);
        if scenario.primary.enabled && step % scenario.primary.publish_every.max(1) == 0 {
            for (i, value) in nav.nav[step as usize].iter().enumerate() {
                world.publish_nav(i, *value)?;
            }
        }
        let lookback = tuning.momentum_lookback.min(spot_history.len() - 1);
        let herd = if lookback == 0 {
            0.0
        } else {
            let now = &spot_history[spot_history.len() - 1];
            let then = &spot_history[spot_history.len() - 1 - lookback];
            (0..m)
                .map(|i| directional::log_return(then[i], now[i]))
                .sum::<f64>()
                / m as f64
        };
        let signals = Signals {
            step,
            nav: &nav.nav[step as usize],
            spot_history: &spot_history,
            herd,
            sigma_system: crate::system_volatility(&world, &spot_history, scenario),
            fair_value: &nav.nav[step as usize],
        };
        // The seat is agent n in the shuffled order.
        let mut order: Vec<usize> = (0..=n).collect();
        order_rng.shuffle(&mut order);
        for id in order {
            if id < n {
                act(&mut world, &mut population.agents[id], &signals, &tuning);
                continue;
            }
            let Some(view) = seat_accounts.view(&world, MARKET) else {
                continue;
            };
            let fair = signals.nav[MARKET];
            let params = config.learned_params(fair);
            let intents: Vec<Intent> = match seat {
                Seat::Learning(learner) => {
                    let action = learner.act(&features(&view, &params.reference));
                    learned::intents_for(&view, action, &params)
                }
                Seat::Policy(policy) => learned::step(&view, policy, &params),
                Seat::Value => directional::step(
                    &view,
                    directional::log_return(view.spot, fair),
                    &config.value_params(),
                ),
                Seat::Noise => noise::step(&view, &noise_params),
                Seat::Hold => vec![],
            };
            let (intents, _) = rwa_agent_core::intent::admissible(&view, intents);
            if intents.is_empty() {
                result.holds += 1;
            }
            for intent in intents {
                if let Intent::Swap { side, .. } = intent {
                    match side {
                        Side::Buy => result.buys += 1,
                        Side::Sell => result.sells += 1,
                    }
                }
                let venue = &world.markets[MARKET];
                let instructions =
                    instructions_for(&intent, &venue.addresses, &seat_accounts.trader, None, &[]);
                if instructions.is_empty() {
                    continue;
                }
                if world
                    .send(&instructions, &[&seat_accounts.keypair])
                    .is_err()
                {
                    result.refused += 1;
                }
            }
        }
        let spots = crate::metrics::spots(&world);
        spot_history.push(spots.clone());
        // The reward of the step.
        let spot = spots[MARKET];
        let wealth = seat_accounts.wealth(&world, spot);
        let profit = if start_wealth > 0.0 {
            (wealth - previous_wealth) / start_wealth * steps as f64
        } else {
            0.0
        };
        previous_wealth = wealth;
        let sigma = crate::system_volatility(&world, &spot_history, scenario).unwrap_or(0.0);
        let stability = governance::stability(sigma, config.reward.sigma_max);
        let reward = governance::reward(config.reward.alpha, profit, stability);
        if let Seat::Learning(learner) = seat {
            learner.reward(reward);
        }
        result.mean_reward += reward / steps as f64;
        result.mean_stability += stability / steps as f64;
    }
    if let Some(view) = seat_accounts.view(&world, MARKET) {
        let f = features(
            &view,
            &Reference {
                fair_value: Some(nav.nav[steps as usize][MARKET]),
            },
        );
        result.end_inventory = f.inventory;
        if let Seat::Learning(learner) = seat {
            learner.finish(&f);
        }
    }
    world.check_invariants()?;
    result.end_spot = spot_of(&world);
    let end_wealth = seat_accounts.wealth(&world, result.end_spot);
    result.pnl = end_wealth - start_wealth;
    result.return_fraction = if start_wealth > 0.0 {
        result.pnl / start_wealth
    } else {
        0.0
    };
    Ok(result)
}

/// One point of the learning curve.
#[derive(Clone, Debug, Serialize)]
pub struct CurvePoint {
    pub episode: u64,
    pub temperature: f64,
    #[serde(flatten)]
    pub result: EpisodeResult,
    /// Mean reward of a seat that holds, on the same seed (with `LearnConfig::hold_baseline`):
    /// the market's and the stability term's share of the episode, which the learner's reward
    /// less this isolates from.
    pub hold_reward: Option<f64>,
}

impl CurvePoint {
    /// The learner's mean reward less the holding seat's on the same seed.
    pub fn excess(&self) -> Option<f64> {
        self.hold_reward.map(|h| self.result.mean_reward - h)
    }
}

/// Trains a learner over `config.episodes` episodes; `progress` sees every episode.
pub fn train(
    config: &LearnConfig,
    mut progress: impl FnMut(&CurvePoint),
) -> Result<(Policy, Vec<CurvePoint>), SimError> {
    let mut learner = Learner::new(config);
    let mut curve = Vec::with_capacity(config.episodes as usize);
    for e in 0..config.episodes {
        let mut scenario = config.scenario.clone();
        scenario.seed = config.seed + e;
        let temperature = learner.temperature();
        let result = episode(config, &scenario, &mut Seat::Learning(&mut learner))?;
        let hold_reward = if config.hold_baseline {
            Some(episode(config, &scenario, &mut Seat::Hold)?.mean_reward)
        } else {
            None
        };
        let point = CurvePoint {
            episode: e + 1,
            temperature,
            result,
            hold_reward,
        };
        progress(&point);
        curve.push(point);
    }
    Ok((learner.policy(), curve))
}

/// Mean and 95% confidence interval (Student t).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Estimate {
    pub mean: f64,
    pub low: f64,
    pub high: f64,
    pub n: usize,
}

impl Estimate {
    pub fn of(values: &[f64]) -> Estimate {
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n.max(1) as f64;
        let sd = crate::metrics::standard_deviation(values);
        let half = if n > 1 {
            crate::experiment::t_quantile_95(n - 1) * sd / (n as f64).sqrt()
        } else {
            f64::NAN
        };
        Estimate {
            mean,
            low: mean - half,
            high: mean + half,
            n,
        }
    }

    pub fn half_width(&self) -> f64 {
        (self.high - self.low) / 2.0
    }
}

/// One seat's results over the evaluation seeds.
#[derive(Clone, Debug, Serialize)]
pub struct ArmSummary {
    pub seat: String,
    pub reward: Estimate,
    pub pnl: Estimate,
    pub episodes: Vec<EpisodeResult>,
}

/// The learned policy less another seat, seed by seed (same fundamentals, same population).
#[derive(Clone, Debug, Serialize)]
pub struct PairedDifference {
    pub against: String,
    pub reward: Estimate,
    pub pnl: Estimate,
}

#[derive(Clone, Debug, Serialize)]
pub struct Evaluation {
    pub seeds: Vec<u64>,
    pub arms: Vec<ArmSummary>,
    /// learned - other, per seed.
    pub paired: Vec<PairedDifference>,
    /// Every trading seat less holding, per seed (`against` names the trading seat).
    pub versus_hold: Vec<PairedDifference>,
}

/// The greedy `policy` against the value trader, the noise trader and holding, in the same seat
/// on every evaluation seed.
pub fn evaluate(config: &LearnConfig, policy: &Policy) -> Result<Evaluation, SimError> {
    let mut arms: Vec<ArmSummary> = Vec::new();
    for which in 0..4 {
        let mut episodes = Vec::with_capacity(config.eval_seeds.len());
        for &seed in &config.eval_seeds {
            let mut scenario = config.scenario.clone();
            scenario.seed = seed;
            let mut seat = match which {
                0 => Seat::Policy(policy),
                1 => Seat::Value,
                2 => Seat::Noise,
                _ => Seat::Hold,
            };
            episodes.push(episode(config, &scenario, &mut seat)?);
        }
        let rewards: Vec<f64> = episodes.iter().map(|e| e.mean_reward).collect();
        let pnls: Vec<f64> = episodes.iter().map(|e| e.pnl).collect();
        arms.push(ArmSummary {
            seat: episodes.first().map(|e| e.seat.clone()).unwrap_or_default(),
            reward: Estimate::of(&rewards),
            pnl: Estimate::of(&pnls),
            episodes,
        });
    }
    let difference = |a: &ArmSummary, b: &ArmSummary, name: &str| {
        let diff = |f: fn(&EpisodeResult) -> f64| -> Vec<f64> {
            a.episodes
                .iter()
                .zip(&b.episodes)
                .map(|(x, y)| f(x) - f(y))
                .collect()
        };
        PairedDifference {
            against: name.to_string(),
            reward: Estimate::of(&diff(|e| e.mean_reward)),
            pnl: Estimate::of(&diff(|e| e.pnl)),
        }
    };
    let paired = arms[1..]
        .iter()
        .map(|other| difference(&arms[0], other, &other.seat))
        .collect();
    let hold = &arms[arms.len() - 1];
    let versus_hold = arms[..arms.len() - 1]
        .iter()
        .map(|arm| difference(arm, hold, &arm.seat))
        .collect();
    Ok(Evaluation {
        seeds: config.eval_seeds.clone(),
        arms,
        paired,
        versus_hold,
    })
}

/// The learning curve as CSV.
pub fn curve_csv(curve: &[CurvePoint]) -> String {
    let mut csv = String::from(
        "episode,seed,temperature,mean_reward,hold_reward,excess_reward,mean_stability,pnl,return,buys,sells,holds,refused,end_inventory\n",
    );
    for p in curve {
        let r = &p.result;
        let _ = writeln!(
            csv,
            "{},{},{:.6},{:.6},{},{},{:.6},{:.2},{:.6},{},{},{},{},{:.4}",
            p.episode,
            r.seed,
            p.temperature,
            r.mean_reward,
            p.hold_reward.map(|h| format!("{h:.6}")).unwrap_or_default(),
            p.excess().map(|x| format!("{x:.6}")).unwrap_or_default(),
            r.mean_stability,
            r.pnl,
            r.return_fraction,
            r.buys,
            r.sells,
            r.holds,
            r.refused,
            r.end_inventory
        );
    }
    csv
}

/// Mean of the last `window` values at every point.
pub fn moving_average(values: &[f64], window: usize) -> Vec<f64> {
    let window = window.max(1);
    (0..values.len())
        .map(|i| {
            let from = (i + 1).saturating_sub(window);
            values[from..=i].iter().sum::<f64>() / (i + 1 - from) as f64
        })
        .collect()
}

/// The learning curve as an SVG chart. Top: the mean reward R_i per training episode (dots) and
/// its 10-episode mean, with the holding seat's on the same seeds (grey). Bottom: the learner's
/// excess over holding, and at the right the held-out evaluation's paired differences from
/// holding (mean and 95% CI) of the greedy policy and the rule-based seats.
pub fn curve_svg(title: &str, curve: &[CurvePoint], evaluation: Option<&Evaluation>) -> String {
    const W: f64 = 800.0;
    const PANEL: f64 = 230.0;
    const TOP: f64 = 60.0;
    const GAP: f64 = 70.0;
    const LEFT: f64 = 70.0;
    const PLOT_W: f64 = 520.0;
    const H: f64 = TOP + 2.0 * PANEL + GAP + 40.0;
    let n = curve.len().max(2) as f64;
    let x = |episode: f64| LEFT + PLOT_W * (episode - 1.0) / (n - 1.0);
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">
<rect width="{W}" height="{H}" fill="white"/>
<text x="{}" y="22" text-anchor="middle" font-size="14">{}</text>
"#,
        W / 2.0,
        escape(title)
    );
    // One panel: its value range, axes and grid; returns the y mapping.
    let panel = |svg: &mut String, top: f64, values: &[f64], label: &str| {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let mut lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
        let mut hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if !lo.is_finite() || !hi.is_finite() {
            (lo, hi) = (0.0, 1.0);
        }
        let margin = ((hi - lo) * 0.06).max(1e-6);
        let (lo, hi) = (lo - margin, hi + margin);
        let bottom = top + PANEL;
        let _ = writeln!(
            svg,
            r#"<line x1="{LEFT}" y1="{bottom}" x2="{}" y2="{bottom}" stroke="black"/><line x1="{LEFT}" y1="{top}" x2="{LEFT}" y2="{bottom}" stroke="black"/><text x="14" y="{}" text-anchor="middle" transform="rotate(-90 14 {})">{label}</text>"#,
            LEFT + PLOT_W,
            top + PANEL / 2.0,
            top + PANEL / 2.0
        );
        let y = move |v: f64| bottom - PANEL * (v - lo) / (hi - lo);
        for k in 0..=4 {
            let v = lo + (hi - lo) * k as f64 / 4.0;
            let _ = writeln!(
                svg,
                r##"<text x="{}" y="{:.1}" text-anchor="end" font-size="10">{v:.4}</text><line x1="{LEFT}" y1="{:.1}" x2="{}" y2="{:.1}" stroke="#ddd"/>"##,
                LEFT - 4.0,
                y(v) + 3.0,
                y(v),
                LEFT + PLOT_W,
                y(v)
            );
        }
        // integer episodes, about five ticks
        let every = ((n - 1.0) / 5.0).ceil().max(1.0);
        let mut e = 1.0;
        while e <= n {
            // the last episode gets its own tick unless one sits close to it
            let at = if e + every > n && n - e > every / 2.0 {
                vec![e, n]
            } else {
                vec![e]
            };
            for e in at {
                let _ = writeln!(
                    svg,
                    r#"<text x="{:.1}" y="{}" text-anchor="middle" font-size="10">{e}</text>"#,
                    x(e),
                    bottom + 14.0
                );
            }
            e += every;
        }
        if lo < 0.0 && hi > 0.0 {
            let _ = writeln!(
                svg,
                r##"<line x1="{LEFT}" y1="{:.1}" x2="{}" y2="{:.1}" stroke="#999" stroke-dasharray="4 3"/>"##,
                y(0.0),
                LEFT + PLOT_W,
                y(0.0)
            );
        }
        y
    };
    let series =
        |svg: &mut String, values: &[f64], y: &dyn Fn(f64) -> f64, dot: &str, line: &str| {
            for (i, v) in values.iter().enumerate().filter(|(_, v)| v.is_finite()) {
                let _ = writeln!(
                    svg,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="2.2" fill="{dot}"/>"#,
                    x(i as f64 + 1.0),
                    y(*v)
                );
            }
            let points: Vec<String> = moving_average(values, 10)
                .iter()
                .enumerate()
                .filter(|(_, v)| v.is_finite())
                .map(|(i, v)| format!("{:.1},{:.1}", x(i as f64 + 1.0), y(*v)))
                .collect();
            let _ = writeln!(
                svg,
                r#"<polyline fill="none" stroke="{line}" stroke-width="2" points="{}"/>"#,
                points.join(" ")
            );
        };
    // A panel's legend: one row above it.
    let legend = |svg: &mut String, top: f64, rows: &[(&str, &str)]| {
        let mut lx = LEFT + 10.0;
        let ly = top - 10.0;
        for (colour, text) in rows {
            let _ = writeln!(
                svg,
                r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{colour}" stroke-width="3"/><text x="{}" y="{}" font-size="11">{text}</text>"#,
                lx + 14.0,
                lx + 20.0,
                ly + 4.0
            );
            lx += 30.0 + 6.5 * text.len() as f64;
        }
    };
    // Top panel: rewards.
    let rewards: Vec<f64> = curve.iter().map(|p| p.result.mean_reward).collect();
    let holds: Vec<f64> = curve
        .iter()
        .map(|p| p.hold_reward.unwrap_or(f64::NAN))
        .collect();
    let mut both = rewards.clone();
    both.extend(holds.iter().copied());
    let y_top = panel(&mut svg, TOP, &both, "mean reward R_i per step");
    series(&mut svg, &holds, &y_top, "#bbb", "#888");
    series(&mut svg, &rewards, &y_top, "#89b", "#c33");
    legend(
        &mut svg,
        TOP,
        &[
            ("#c33", "learner (10-episode mean)"),
            ("#888", "holding, same seeds"),
        ],
    );
    // Bottom panel: excess over holding, and the evaluation.
    let excess: Vec<f64> = curve
        .iter()
        .map(|p| p.excess().unwrap_or(f64::NAN))
        .collect();
    let top2 = TOP + PANEL + GAP;
    let mut values = excess.clone();
    values.push(0.0);
    if let Some(e) = evaluation {
        for d in &e.versus_hold {
            values.extend([d.reward.low, d.reward.high]);
        }
    }
    let y_bottom = panel(&mut svg, top2, &values, "excess over holding");
    series(&mut svg, &excess, &y_bottom, "#89b", "#c33");
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">training episode</text>"#,
        LEFT + PLOT_W / 2.0,
        top2 + PANEL + 32.0
    );
    let rows = vec![("#c33", "learner - holding, same seed (10-episode mean)")];
    if let Some(e) = evaluation {
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle" font-size="11">held-out seeds: seat - holding</text><text x="{}" y="{}" text-anchor="middle" font-size="11">(mean, 95% CI)</text>"#,
            LEFT + PLOT_W + 85.0,
            top2 - 22.0,
            LEFT + PLOT_W + 85.0,
            top2 - 8.0
        );
        let colours = ["#c33", "#363", "#777"];
        for (k, d) in e.versus_hold.iter().enumerate() {
            let cx = LEFT + PLOT_W + 40.0 + 45.0 * k as f64;
            let colour = colours[k % colours.len()];
            if d.reward.low.is_finite() && d.reward.high.is_finite() {
                let _ = writeln!(
                    svg,
                    r#"<line x1="{cx:.1}" y1="{:.1}" x2="{cx:.1}" y2="{:.1}" stroke="{colour}" stroke-width="2"/>"#,
                    y_bottom(d.reward.low),
                    y_bottom(d.reward.high)
                );
            }
            let _ = writeln!(
                svg,
                r#"<circle cx="{cx:.1}" cy="{:.1}" r="4" fill="{colour}"/><text x="{cx:.1}" y="{}" text-anchor="middle" font-size="10">{}</text>"#,
                y_bottom(d.reward.mean),
                top2 + PANEL + 14.0,
                d.against
            );
        }
    }
    legend(&mut svg, top2, &rows);
    svg.push_str("</svg>\n");
    svg
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Everything a training and evaluation produced.
#[derive(Clone, Debug, Serialize)]
pub struct LearnReport {
    pub scenario: String,
    pub algo: Algo,
    pub episodes: u64,
    pub seed: u64,
    pub steps: u64,
    pub agents: usize,
    pub capital: u64,
    pub clip: u64,
    pub reward: RewardParams,
    pub q: Option<QParams>,
    pub reinforce: Option<ReinforceParams>,
    pub seconds_training: f64,
    pub seconds_evaluation: f64,
    pub curve: Vec<CurvePoint>,
    pub evaluation: Option<Evaluation>,
}

impl LearnReport {
    pub fn new(config: &LearnConfig, curve: Vec<CurvePoint>) -> LearnReport {
        LearnReport {
            scenario: config.scenario.name.clone(),
            algo: config.algo,
            episodes: config.episodes,
            seed: config.seed,
            steps: config.scenario.steps,
            agents: config.scenario.agents.count,
            capital: config.capital,
            clip: config.clip(),
            reward: config.reward,
            q: (config.algo == Algo::Q).then_some(config.q),
            reinforce: (config.algo == Algo::Reinforce).then_some(config.reinforce),
            seconds_training: 0.0,
            seconds_evaluation: 0.0,
            curve,
            evaluation: None,
        }
    }

    /// A few lines for the terminal.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let rewards: Vec<f64> = self.curve.iter().map(|p| p.result.mean_reward).collect();
        let tenth = (rewards.len() / 5).max(1);
        if !rewards.is_empty() {
            let first = Estimate::of(&rewards[..tenth.min(rewards.len())]);
            let last = Estimate::of(&rewards[rewards.len().saturating_sub(tenth)..]);
            let _ = writeln!(
                out,
                "learning curve ({} episodes, {:.1}s): mean reward first {} episodes {:.4} +- {:.4}, last {} {:.4} +- {:.4}",
                rewards.len(),
                self.seconds_training,
                tenth,
                first.mean,
                first.half_width(),
                tenth,
                last.mean,
                last.half_width()
            );
        }
        if let Some(e) = &self.evaluation {
            let _ = writeln!(
                out,
                "evaluation on {} held-out seeds ({:.1}s), mean +- 95% CI:",
                e.seeds.len(),
                self.seconds_evaluation
            );
            let _ = writeln!(
                out,
                "{:<10} {:>22} {:>24}  buys/sells/refused per episode",
                "seat", "reward per step", "PnL (quote tokens)"
            );
            for arm in &e.arms {
                let per = |f: fn(&EpisodeResult) -> u64| {
                    arm.episodes.iter().map(f).sum::<u64>() as f64
                        / arm.episodes.len().max(1) as f64
                };
                let _ = writeln!(
                    out,
                    "{:<10} {:>12.4} +- {:<7.4} {:>12.1} +- {:<9.1}  {:.1}/{:.1}/{:.1}",
                    arm.seat,
                    arm.reward.mean,
                    arm.reward.half_width(),
                    arm.pnl.mean,
                    arm.pnl.half_width(),
                    per(|e| e.buys),
                    per(|e| e.sells),
                    per(|e| e.refused)
                );
            }
            for d in e.versus_hold.iter().skip(1) {
                let _ = writeln!(
                    out,
                    "{:<6} - hold reward {:+.4} [{:+.4}, {:+.4}], PnL {:+.1} [{:+.1}, {:+.1}] (paired by seed)",
                    d.against, d.reward.mean, d.reward.low, d.reward.high, d.pnl.mean, d.pnl.low, d.pnl.high
                );
            }
            for d in &e.paired {
                let _ = writeln!(
                    out,
                    "learned - {:<6} reward {:+.4} [{:+.4}, {:+.4}], PnL {:+.1} [{:+.1}, {:+.1}] (paired by seed)",
                    d.against, d.reward.mean, d.reward.low, d.reward.high, d.pnl.mean, d.pnl.low, d.pnl.high
                );
            }
        }
        out
    }
}

fn write(path: &Path, text: &str) -> Result<(), SimError> {
    std::fs::write(path, text).map_err(|e| SimError::Output(format!("{}: {e}", path.display())))
}

/// Writes policy.json, learning-curve.csv, learning-curve.svg, evaluation.json (when evaluated)
/// and report.json into `dir`.
pub fn write_outputs(dir: &Path, policy: &Policy, report: &LearnReport) -> Result<(), SimError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| SimError::Output(format!("{}: {e}", dir.display())))?;
    write(&dir.join("policy.json"), &policy.to_json())?;
    write(&dir.join("learning-curve.csv"), &curve_csv(&report.curve))?;
    let title = format!(
        "{} learning on {} ({} agents, {} steps): reward R_i per episode",
        match report.algo {
            Algo::Q => "Q-learning",
            Algo::Reinforce => "REINFORCE",
        },
        report.scenario,
        report.agents,
        report.steps
    );
    write(
        &dir.join("learning-curve.svg"),
        &curve_svg(&title, &report.curve, report.evaluation.as_ref()),
    )?;
    if let Some(e) = &report.evaluation {
        write(&dir.join("evaluation.json"), &to_json(e)?)?;
    }
    write(&dir.join("report.json"), &to_json(report)?)?;
    Ok(())
}

fn to_json<T: Serialize>(value: &T) -> Result<String, SimError> {
    serde_json::to_string_pretty(value).map_err(|e| SimError::Output(e.to_string()))
}
