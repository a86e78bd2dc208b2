//! Learning agents: tabular Q-learning with a softmax (Boltzmann) policy, and REINFORCE with a
//! linear-softmax policy, over what one trader sees of one market. Pure and deterministic: the
//! only randomness is a caller-seeded [`SplitMix64`] stream (or any [`Uniform`] source), so a seed
//! fixes every action and every update.
//!
//! **State** S = (value gap, trend, volatility, inventory) from a [`MarketView`] and the agent's
//! [`Reference`] (see [`Features`]): the agent's balance and holdings enter as the inventory share
//! of its marked wealth, prices as the gap to a fair value and to the oracle's TWAP, the market's
//! state as the oracle's volatility. **Actions** {-1, 0, +1}: sell a fixed clip, hold, buy a fixed
//! clip ([`Action`]; the clip is the strategy's parameter, `strategies::learned`). The **reward**
//! is the caller's (the simulator uses R_i = alpha profit + (1 - alpha) stability).
//!
//! The tabular agent sees the features through a [`Discretisation`]; the policy-gradient agent sees
//! them scaled to O(1) ([`Scaling`]). Either result is saved as a [`Policy`] (JSON) that the daemon
//! runs greedily as `kind = "learned"`.

use serde::{Deserialize, Serialize};

use crate::view::MarketView;

/// Sell a clip, hold, buy a clip. Index order (Q-table columns, weight rows): sell, hold, buy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Sell,
    Hold,
    Buy,
}

/// Number of trading actions.
pub const N_ACTIONS: usize = 3;

impl Action {
    pub const ALL: [Action; N_ACTIONS] = [Action::Sell, Action::Hold, Action::Buy];

    pub fn index(self) -> usize {
        self as usize
    }

    /// The action of `index` (out of range: hold).
    pub fn from_index(index: usize) -> Action {
        Action::ALL.get(index).copied().unwrap_or(Action::Hold)
    }

    /// -1, 0 or +1.
    pub fn direction(self) -> i8 {
        self as i8 - 1
    }
}

/// A source of uniform numbers in [0, 1).
pub trait Uniform {
    fn uniform(&mut self) -> f64;
}

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny, specified generator, so a seed means the same
/// actions on every machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl Uniform for SplitMix64 {
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// What the agent knows beyond the market view.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Reference {
    /// Its estimate of the token's fair value (quote tokens per token): the NAV a value trader
    /// researches in the simulator, the attested NAV of the primary market in the daemon. `None`:
    /// the value gap feature is 0.
    pub fair_value: Option<f64>,
}

/// The state S, continuous.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Features {
    /// ln(fair value / spot): positive when the token trades cheap (0 without a fair value).
    pub value_gap: f64,
    /// ln(spot / TWAP): the price's move against the oracle's time-weighted average.
    pub trend: f64,
    /// The oracle's EWMA volatility, per sqrt(slot).
    pub volatility: f64,
    /// Share of the agent's wealth (cash plus tokens marked at spot) held in the token, [0, 1].
    pub inventory: f64,
}

fn log_ratio(a: f64, b: f64) -> f64 {
    if a > 0.0 && b > 0.0 && a.is_finite() && b.is_finite() {
        (a / b).ln()
    } else {
        0.0
    }
}

/// The features of `view` for an agent knowing `reference`. Every feature is finite.
pub fn features(view: &MarketView, reference: &Reference) -> Features {
    let spot = view.spot;
    let tokens = view.position.rwa as f64 / view.token_unit();
    let cash = view.position.quote as f64 / view.quote_unit();
    let held = if spot > 0.0 && spot.is_finite() {
        tokens * spot
    } else {
        0.0
    };
    let wealth = held + cash;
    Features {
        value_gap: reference
            .fair_value
            .map_or(0.0, |fair| log_ratio(fair, spot)),
        trend: log_ratio(spot, view.twap),
        volatility: if view.volatility.is_finite() {
            view.volatility.max(0.0)
        } else {
            0.0
        },
        inventory: if wealth > 0.0 {
            (held / wealth).clamp(0.0, 1.0)
        } else {
            0.0
        },
    }
}

/// How the tabular agent bins the features: per feature, ascending bin edges; a value x falls in
/// bin k = the number of edges <= x (so `e` edges make `e + 1` bins). The state index is mixed
/// radix over (value gap, trend, volatility, inventory), value gap most significant.
///
/// The default (5 x 3 x 2 x 3 = 90 states):
/// - value gap: edges -1%, -0.2%, +0.2%, +1% (rich, a little rich, fair, a little cheap, cheap;
///   0.2% is where the simulator's value traders start to act, 1% beyond the fee and a clip's
///   impact);
/// - trend: edges -0.5%, +0.5% (below, at, above the TWAP);
/// - volatility: edge 0.0025 per sqrt(slot) (calm / agitated; the baseline's NAV volatility is
///   0.006-0.012 per 10-slot step, 0.0019-0.0038 per sqrt(slot));
/// - inventory: edges 1/3, 2/3 (mostly cash, balanced, mostly tokens).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Discretisation {
    pub value_gap: Vec<f64>,
    pub trend: Vec<f64>,
    pub volatility: Vec<f64>,
    pub inventory: Vec<f64>,
}

impl Default for Discretisation {
    fn default() -> Self {
        Discretisation {
            value_gap: vec![-0.01, -0.002, 0.002, 0.01],
            trend: vec![-0.005, 0.005],
            volatility: vec![0.0025],
            inventory: vec![1.0 / 3.0, 2.0 / 3.0],
        }
    }
}

/// Largest number of edges per feature, and of states, a discretisation may have.
pub const MAX_EDGES: usize = 32;
pub const MAX_STATES: usize = 1 << 20;

fn bin(x: f64, edges: &[f64]) -> usize {
    let x = if x.is_finite() { x } else { 0.0 };
    edges.iter().filter(|e| x >= **e).count()
}

impl Discretisation {
    fn axes(&self) -> [(&'static str, &[f64]); 4] {
        [
            ("value_gap", &self.value_gap),
            ("trend", &self.trend),
            ("volatility", &self.volatility),
            ("inventory", &self.inventory),
        ]
    }

    /// Number of states.
    pub fn states(&self) -> usize {
        self.axes().iter().map(|(_, e)| e.len() + 1).product()
    }

    /// The state index of `f`, in `0..self.states()`.
    pub fn state(&self, f: &Features) -> usize {
        let values = [f.value_gap, f.trend, f.volatility, f.inventory];
        self.axes()
            .iter()
            .zip(values)
            .fold(0, |index, ((_, edges), x)| {
                index * (edges.len() + 1) + bin(x, edges)
            })
    }

    /// Edges finite and strictly ascending, sizes within bounds.
    pub fn validate(&self) -> Result<(), String> {
        for (name, edges) in self.axes() {
            if edges.len() > MAX_EDGES {
                return Err(format!(
                    "discretisation.{name}: {} edges, at most {MAX_EDGES}",
                    edges.len()
                ));
            }
            if edges.iter().any(|e| !e.is_finite()) {
                return Err(format!("discretisation.{name}: an edge is not finite"));
            }
            if edges.windows(2).any(|w| !(w[0] < w[1])) {
                return Err(format!(
                    "discretisation.{name}: edges must be strictly ascending"
                ));
            }
        }
        let states = self
            .axes()
            .iter()
            .try_fold(1usize, |n, (_, e)| n.checked_mul(e.len() + 1))
            .unwrap_or(usize::MAX);
        if states > MAX_STATES {
            return Err(format!(
                "discretisation: {states} states, at most {MAX_STATES}"
            ));
        }
        Ok(())
    }
}

/// Number of inputs of the linear policy: a bias and the four scaled features.
pub const N_FEATURES: usize = 5;

/// How the policy-gradient agent scales the features to O(1): x = [1, value_gap / value_gap_unit,
/// trend / trend_unit, volatility / volatility_unit, 2 inventory - 1], each clamped to +-`clamp`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scaling {
    pub value_gap_unit: f64,
    pub trend_unit: f64,
    pub volatility_unit: f64,
    pub clamp: f64,
}

impl Default for Scaling {
    fn default() -> Self {
        Scaling {
            value_gap_unit: 0.01,
            trend_unit: 0.01,
            volatility_unit: 0.0025,
            clamp: 3.0,
        }
    }
}

impl Scaling {
    pub fn vector(&self, f: &Features) -> [f64; N_FEATURES] {
        let c = self.clamp;
        let scaled = |x: f64, unit: f64| {
            let v = x / unit;
            if v.is_finite() {
                v.clamp(-c, c)
            } else {
                0.0
            }
        };
        [
            1.0,
            scaled(f.value_gap, self.value_gap_unit),
            scaled(f.trend, self.trend_unit),
            scaled(f.volatility, self.volatility_unit),
            scaled(2.0 * f.inventory - 1.0, 1.0),
        ]
    }

    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            ("value_gap_unit", self.value_gap_unit),
            ("trend_unit", self.trend_unit),
            ("volatility_unit", self.volatility_unit),
            ("clamp", self.clamp),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                return Err(format!("scaling.{name} must be positive and finite"));
            }
        }
        Ok(())
    }
}

/// Index of the largest score (the first of equals; NaN never wins).
pub fn argmax(scores: &[f64]) -> usize {
    let mut best = 0;
    for (i, s) in scores.iter().enumerate() {
        if *s > scores[best] || scores[best].is_nan() {
            best = i;
        }
    }
    best
}

/// Boltzmann probabilities exp(s / T) / sum exp(s / T). A temperature of zero (or one so small the
/// exponentials underflow) is the greedy choice: all the mass on the argmax.
pub fn softmax(scores: &[f64], temperature: f64) -> Vec<f64> {
    let greedy = |scores: &[f64]| {
        let mut p = vec![0.0; scores.len()];
        if !p.is_empty() {
            p[argmax(scores)] = 1.0;
        }
        p
    };
    if !(temperature > 0.0) || !temperature.is_finite() {
        return greedy(scores);
    }
    let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return greedy(scores);
    }
    let weights: Vec<f64> = scores
        .iter()
        .map(|s| ((s - max) / temperature).exp())
        .map(|w| if w.is_finite() { w } else { 0.0 })
        .collect();
    let total: f64 = weights.iter().sum();
    if !(total > 0.0) || !total.is_finite() {
        return greedy(scores);
    }
    weights.iter().map(|w| w / total).collect()
}

/// An index drawn from `probabilities` with one uniform number.
pub fn sample(probabilities: &[f64], rng: &mut impl Uniform) -> usize {
    let u = rng.uniform();
    let mut cumulative = 0.0;
    for (i, p) in probabilities.iter().enumerate() {
        cumulative += p;
        if u < cumulative {
            return i;
        }
    }
    // Rounding left the sum a hair under 1: the last action with any mass.
    probabilities.iter().rposition(|p| *p > 0.0).unwrap_or(0)
}

/// Tabular Q-learning hyper-parameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QParams {
    /// Step size of the update Q += lr (r + gamma max Q' - Q): the sample average while a
    /// (state, action) has fewer than 1 / learning_rate updates (lr = 1 / visits), this constant
    /// from then on (noisy rewards want the average; a moving target wants a constant step).
    pub learning_rate: f64,
    /// Discount gamma.
    pub discount: f64,
    /// Q of a (state, action) not updated yet, before the first update anywhere. From then on an
    /// untried action counts as average: the mean of every target seen so far (neither
    /// optimistic, which drags the greedy policy toward rarely seen states long after training,
    /// nor pessimistic, which locks a state into the first action tried there).
    pub initial_q: f64,
    /// Softmax temperature in the first episode (in reward units: actions whose Q differ by much
    /// less than this are tried about equally)...
    pub temperature: f64,
    /// ...multiplied by this after every episode...
    pub temperature_decay: f64,
    /// ...and never below this.
    pub min_temperature: f64,
    /// Double Q-learning (two tables, see `QLearner`).
    pub double: bool,
}

impl Default for QParams {
    fn default() -> Self {
        QParams {
            learning_rate: 0.05,
            discount: 0.9,
            initial_q: 0.0,
            temperature: 0.02,
            temperature_decay: 0.93,
            min_temperature: 0.001,
            double: true,
        }
    }
}

/// Tabular Q-learning (Watkins 1989) over state indices, exploring by softmax with a decaying
/// temperature (no epsilon); optionally double Q-learning (van Hasselt 2010): two tables take
/// turns, each updated toward the other's value of its own best next action, which removes the
/// upward bias max over noisy estimates puts on noisy states.
#[derive(Clone, Debug, PartialEq)]
pub struct QLearner {
    /// Q[table][state][action]: one table, or two with `double` (an entry not updated yet reads
    /// as the prior, see `QParams::initial_q`).
    pub tables: Vec<Vec<Vec<f64>>>,
    /// Updates per (table, state, action).
    pub visits: Vec<Vec<Vec<u64>>>,
    pub params: QParams,
    /// Episodes finished.
    pub episodes: u64,
    /// Sum and number of the targets seen (the prior of untried actions).
    target_sum: f64,
    targets: u64,
}

impl QLearner {
    pub fn new(states: usize, actions: usize, params: QParams) -> QLearner {
        let tables = if params.double { 2 } else { 1 };
        QLearner {
            tables: vec![vec![vec![params.initial_q; actions]; states]; tables],
            visits: vec![vec![vec![0; actions]; states]; tables],
            params,
            episodes: 0,
            target_sum: 0.0,
            targets: 0,
        }
    }

    /// The value an untried (state, action) reads as.
    pub fn prior(&self) -> f64 {
        if self.targets == 0 {
            self.params.initial_q
        } else {
            self.target_sum / self.targets as f64
        }
    }

    fn entry(&self, table: usize, state: usize, action: usize) -> f64 {
        if self.visits[table][state][action] == 0 {
            self.prior()
        } else {
            self.tables[table][state][action]
        }
    }

    fn row(&self, table: usize, state: usize) -> Vec<f64> {
        (0..self.tables[table][state].len())
            .map(|a| self.entry(table, state, a))
            .collect()
    }

    /// The Q values of `state` (the mean of the tables).
    pub fn values(&self, state: usize) -> Vec<f64> {
        let n = self.tables.len() as f64;
        let actions = self.tables[0][state].len();
        (0..actions)
            .map(|a| {
                (0..self.tables.len())
                    .map(|t| self.entry(t, state, a))
                    .sum::<f64>()
                    / n
            })
            .collect()
    }

    /// Updates of (state, action), all tables.
    pub fn updates(&self, state: usize, action: usize) -> u64 {
        self.visits.iter().map(|v| v[state][action]).sum()
    }

    /// The exploration temperature now.
    pub fn temperature(&self) -> f64 {
        let p = &self.params;
        (p.temperature * p.temperature_decay.powf(self.episodes as f64)).max(p.min_temperature)
    }

    /// An action for `state` drawn from the softmax of its Q values at the current temperature.
    pub fn choose(&self, state: usize, rng: &mut impl Uniform) -> usize {
        sample(&softmax(&self.values(state), self.temperature()), rng)
    }

    pub fn greedy(&self, state: usize) -> usize {
        argmax(&self.values(state))
    }

    /// One update for (state, action, reward, next state); `next = None` ends the episode there
    /// (no bootstrap). With two tables, (state, action)'s updates alternate between them.
    pub fn update(&mut self, state: usize, action: usize, reward: f64, next: Option<usize>) {
        let count = self.updates(state, action);
        let (this, other) = if self.tables.len() == 2 {
            let k = (count % 2) as usize;
            (k, 1 - k)
        } else {
            (0, 0)
        };
        let future = next.map_or(0.0, |s| {
            let best = argmax(&self.row(this, s));
            self.entry(other, s, best)
        });
        let target = reward + self.params.discount * future;
        let before = self.entry(this, state, action);
        self.visits[this][state][action] += 1;
        let rate = self
            .params
            .learning_rate
            .max(1.0 / self.visits[this][state][action] as f64);
        self.tables[this][state][action] = before + rate * (target - before);
        self.target_sum += target;
        self.targets += 1;
    }

    /// Cools the temperature.
    pub fn end_episode(&mut self) {
        self.episodes += 1;
    }
}

/// REINFORCE hyper-parameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReinforceParams {
    /// Gradient ascent step per episode.
    pub learning_rate: f64,
    /// Discount gamma of the returns G_t.
    pub discount: f64,
    /// Softmax temperature of the policy while training (the policy is pi = softmax(W x / T)).
    pub temperature: f64,
    /// Weight of each new return in the running mean (the baseline) and running variance (the
    /// advantage is divided by the running standard deviation, so the step does not depend on
    /// the reward's units).
    pub baseline_rate: f64,
    /// Largest change of any weight in one episode.
    pub max_step: f64,
}

impl Default for ReinforceParams {
    fn default() -> Self {
        ReinforceParams {
            learning_rate: 1.0,
            discount: 0.9,
            temperature: 1.0,
            baseline_rate: 0.01,
            max_step: 0.5,
        }
    }
}

/// REINFORCE (Williams 1992) with a linear-softmax policy over continuous features, a running
/// mean return as baseline and one gradient step per episode.
#[derive(Clone, Debug, PartialEq)]
pub struct Reinforce {
    /// W[action][feature].
    pub weights: Vec<Vec<f64>>,
    pub params: ReinforceParams,
    /// Running mean and variance of the returns G_t.
    pub baseline: f64,
    pub variance: f64,
    /// Returns seen (the first initialises the baseline).
    pub returns_seen: u64,
    trajectory: Vec<(Vec<f64>, usize, f64)>,
}

impl Reinforce {
    pub fn new(actions: usize, features: usize, params: ReinforceParams) -> Reinforce {
        Reinforce {
            weights: vec![vec![0.0; features]; actions],
            params,
            baseline: 0.0,
            variance: 0.0,
            returns_seen: 0,
            trajectory: Vec::new(),
        }
    }

    pub fn logits(&self, x: &[f64]) -> Vec<f64> {
        self.weights
            .iter()
            .map(|w| w.iter().zip(x).map(|(a, b)| a * b).sum())
            .collect()
    }

    /// pi(. | x) at the training temperature.
    pub fn probabilities(&self, x: &[f64]) -> Vec<f64> {
        softmax(&self.logits(x), self.params.temperature)
    }

    pub fn choose(&self, x: &[f64], rng: &mut impl Uniform) -> usize {
        sample(&self.probabilities(x), rng)
    }

    /// Remembers one step of the episode.
    pub fn record(&mut self, x: &[f64], action: usize, reward: f64) {
        self.trajectory.push((x.to_vec(), action, reward));
    }

    /// The policy-gradient step for the episode recorded since the last call: for every step t,
    /// W_b += lr (G_t - b) / sd (1[b = a_t] - pi_b) x_t / T, averaged over the episode. Returns
    /// the episode's undiscounted total reward.
    pub fn end_episode(&mut self) -> f64 {
        let trajectory = std::mem::take(&mut self.trajectory);
        let n = trajectory.len();
        if n == 0 {
            return 0.0;
        }
        let p = self.params;
        let mut returns = vec![0.0; n];
        let mut g = 0.0;
        for t in (0..n).rev() {
            g = trajectory[t].2 + p.discount * g;
            returns[t] = g;
        }
        // The baseline and scale come from returns before this episode's (no bias from the
        // episode's own returns); the first episode only sets them.
        let scale = self.variance.sqrt();
        let first = self.returns_seen == 0;
        let mut gradient = vec![vec![0.0; self.weights[0].len()]; self.weights.len()];
        if !first && scale > 0.0 {
            for ((x, action, _), g) in trajectory.iter().zip(&returns) {
                let advantage = (g - self.baseline) / scale;
                let pi = self.probabilities(x);
                for (b, row) in gradient.iter_mut().enumerate() {
                    let indicator = if b == *action { 1.0 } else { 0.0 };
                    let coefficient = advantage * (indicator - pi[b]) / p.temperature;
                    for (gw, xi) in row.iter_mut().zip(x) {
                        *gw += coefficient * xi / n as f64;
                    }
                }
            }
        }
        for (row, grow) in self.weights.iter_mut().zip(&gradient) {
            for (w, gw) in row.iter_mut().zip(grow) {
                let step = (p.learning_rate * gw).clamp(-p.max_step, p.max_step);
                if step.is_finite() {
                    *w += step;
                }
            }
        }
        for g in &returns {
            if self.returns_seen == 0 {
                self.baseline = *g;
                self.variance = 0.0;
            } else {
                let delta = g - self.baseline;
                self.baseline += p.baseline_rate * delta;
                self.variance =
                    (1.0 - p.baseline_rate) * (self.variance + p.baseline_rate * delta * delta);
            }
            self.returns_seen += 1;
        }
        trajectory.iter().map(|s| s.2).sum()
    }
}

/// A trained policy, as saved to a file and run by the daemon.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Policy {
    /// Q values per discretised state; columns sell, hold, buy.
    QTable {
        discretisation: Discretisation,
        q: Vec<[f64; N_ACTIONS]>,
    },
    /// Logits = W x over the scaled features; rows sell, hold, buy.
    Linear {
        scaling: Scaling,
        weights: [[f64; N_FEATURES]; N_ACTIONS],
    },
}

/// `x` to 12 significant digits, and 0 below 1e-9 in magnitude: a number JSON carries bit for bit
/// (serde_json reads a mantissa under 2^53 scaled by at most 10^22 exactly; its exact mode for
/// longer numbers is a feature of the whole build).
pub fn quantise(x: f64) -> f64 {
    if !x.is_finite() {
        x
    } else if x.abs() < 1e-9 {
        0.0
    } else {
        format!("{x:.11e}").parse().unwrap_or(x)
    }
}

impl Policy {
    /// The Q-learner's table as a policy (numbers [`quantise`]d). An action never updated in a
    /// state keeps no value of its own: it gets the state's lowest learned value (so an
    /// optimistic initial value is never mistaken for knowledge), and a state never visited is
    /// all zeros (the greedy policy holds there).
    pub fn from_q(discretisation: Discretisation, learner: &QLearner) -> Policy {
        let q = (0..learner.tables[0].len())
            .map(|state| {
                let row = learner.values(state);
                let visited: Vec<bool> = (0..row.len())
                    .map(|a| learner.updates(state, a) > 0)
                    .collect();
                let floor = row
                    .iter()
                    .zip(&visited)
                    .filter(|(_, seen)| **seen)
                    .map(|(v, _)| *v)
                    .fold(f64::INFINITY, f64::min);
                let mut out = [0.0; N_ACTIONS];
                for ((o, v), seen) in out.iter_mut().zip(&row).zip(&visited) {
                    *o = if *seen {
                        *v
                    } else if floor.is_finite() {
                        floor
                    } else {
                        0.0
                    };
                }
                out
            })
            .collect();
        Policy::QTable { discretisation, q }.quantised()
    }

    /// The REINFORCE learner's weights as a policy (numbers [`quantise`]d).
    pub fn from_reinforce(scaling: Scaling, learner: &Reinforce) -> Policy {
        let mut weights = [[0.0; N_FEATURES]; N_ACTIONS];
        for (out, row) in weights.iter_mut().zip(&learner.weights) {
            for (o, v) in out.iter_mut().zip(row) {
                *o = *v;
            }
        }
        Policy::Linear { scaling, weights }.quantised()
    }

    /// Every number [`quantise`]d, so the policy's JSON reads back identical.
    pub fn quantised(mut self) -> Policy {
        let each = |v: &mut Vec<f64>| v.iter_mut().for_each(|x| *x = quantise(*x));
        match &mut self {
            Policy::QTable { discretisation, q } => {
                each(&mut discretisation.value_gap);
                each(&mut discretisation.trend);
                each(&mut discretisation.volatility);
                each(&mut discretisation.inventory);
                q.iter_mut().flatten().for_each(|x| *x = quantise(*x));
            }
            Policy::Linear { scaling, weights } => {
                for x in [
                    &mut scaling.value_gap_unit,
                    &mut scaling.trend_unit,
                    &mut scaling.volatility_unit,
                    &mut scaling.clamp,
                ] {
                    *x = quantise(*x);
                }
                weights.iter_mut().flatten().for_each(|x| *x = quantise(*x));
            }
        }
        self
    }

    /// Q values or logits of the three actions in state `f`.
    pub fn scores(&self, f: &Features) -> [f64; N_ACTIONS] {
        match self {
            Policy::QTable { discretisation, q } => q
                .get(discretisation.state(f))
                .copied()
                .unwrap_or([0.0; N_ACTIONS]),
            Policy::Linear { scaling, weights } => {
                let x = scaling.vector(f);
                let mut out = [0.0; N_ACTIONS];
                for (o, w) in out.iter_mut().zip(weights) {
                    *o = w.iter().zip(&x).map(|(a, b)| a * b).sum();
                }
                out
            }
        }
    }

    /// The best action; hold when it ties for best (an unvisited state holds).
    pub fn act_greedy(&self, f: &Features) -> Action {
        let scores = self.scores(f);
        let best = scores[argmax(&scores)];
        if scores[Action::Hold.index()] >= best {
            Action::Hold
        } else {
            Action::from_index(argmax(&scores))
        }
    }

    /// An action drawn from softmax(scores / temperature); temperature 0 is `act_greedy`.
    pub fn act_softmax(&self, f: &Features, temperature: f64, rng: &mut impl Uniform) -> Action {
        if !(temperature > 0.0) {
            return self.act_greedy(f);
        }
        Action::from_index(sample(&softmax(&self.scores(f), temperature), rng))
    }

    /// Shapes agree and every number is finite.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Policy::QTable { discretisation, q } => {
                discretisation.validate()?;
                if q.len() != discretisation.states() {
                    return Err(format!(
                        "q has {} rows but the discretisation has {} states",
                        q.len(),
                        discretisation.states()
                    ));
                }
                if let Some(row) = q.iter().position(|r| r.iter().any(|v| !v.is_finite())) {
                    return Err(format!("q row {row} has a value that is not finite"));
                }
            }
            Policy::Linear { scaling, weights } => {
                scaling.validate()?;
                if weights.iter().flatten().any(|w| !w.is_finite()) {
                    return Err("a weight is not finite".to_string());
                }
            }
        }
        Ok(())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a policy serialises")
    }

    /// Parses and validates a policy file's text.
    pub fn from_json(text: &str) -> Result<Policy, String> {
        let policy: Policy = serde_json::from_str(text).map_err(|e| e.to_string())?;
        policy.validate()?;
        Ok(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::market_maker::tests_support::view;

    /// Optimal Q by value iteration (an independent algorithm: full sweeps of the Bellman optimality
    /// operator with the known model) for a deterministic MDP.
    fn value_iteration(
        states: usize,
        actions: usize,
        transition: impl Fn(usize, usize) -> (usize, f64),
        discount: f64,
    ) -> Vec<Vec<f64>> {
        let mut q = vec![vec![0.0; actions]; states];
        for _ in 0..2_000 {
            let v: Vec<f64> = q
                .iter()
                .map(|r| r.iter().copied().fold(f64::NEG_INFINITY, f64::max))
                .collect();
            for s in 0..states {
                for a in 0..actions {
                    let (next, r) = transition(s, a);
                    q[s][a] = r + discount * v[next];
                }
            }
        }
        q
    }

    /// A 3-state chain: actions left (0), stay (1), right (2); moving into state 2 (or staying
    /// there) pays 1, everything else pays 0, except that staying in state 0 pays 0.3 (a local
    /// lure: greedy-by-immediate-reward would stay there). Episodes start anywhere and last 12 steps.
    fn chain(s: usize, a: usize) -> (usize, f64) {
        let next = match a {
            0 => s.saturating_sub(1),
            1 => s,
            _ => (s + 1).min(2),
        };
        let reward = if next == 2 {
            1.0
        } else if s == 0 && a == 1 {
            0.3
        } else {
            0.0
        };
        (next, reward)
    }

    #[test]
    fn q_learning_converges_to_the_optimal_policy_on_a_chain() {
        for double in [false, true] {
            let params = QParams {
                learning_rate: 0.2,
                discount: 0.8,
                initial_q: 0.0,
                temperature: 1.0,
                temperature_decay: 0.99,
                min_temperature: 0.05,
                double,
            };
            let mut learner = QLearner::new(3, 3, params);
            let mut rng = SplitMix64::new(11);
            for episode in 0..600 {
                let mut s = episode % 3;
                for _ in 0..12 {
                    let a = learner.choose(s, &mut rng);
                    let (next, r) = chain(s, a);
                    learner.update(s, a, r, Some(next));
                    s = next;
                }
                learner.end_episode();
            }
            let optimal = value_iteration(3, 3, chain, params.discount);
            // Q* from the closed form too: V*(2) = 1 / (1 - 0.8) = 5, Q*(1, right) = 1 + 0.8 * 5
            // = 5, Q*(0, right) = 0 + 0.8 * 5 = 4 > Q*(0, stay) = 0.3 + 0.8 * 4 = 3.5.
            assert!((optimal[1][2] - 5.0).abs() < 1e-9 && (optimal[0][2] - 4.0).abs() < 1e-9);
            assert!((optimal[0][1] - 3.5).abs() < 1e-9);
            for s in 0..2 {
                assert_eq!(
                    learner.greedy(s),
                    2,
                    "double {double}, state {s}: {:?}",
                    learner.values(s)
                );
            }
            // The values of the actions the policy takes are learned (softmax exploration samples
            // the others too rarely to pin theirs down, as expected).
            for s in 0..3 {
                let best = learner.values(s)[learner.greedy(s)];
                let v = optimal[s].iter().copied().fold(f64::NEG_INFINITY, f64::max);
                assert!(
                    (best - v).abs() < 0.05 * v,
                    "double {double}: V({s}) = {best} vs V* {v}: {:?}",
                    learner.values(s)
                );
            }
            // exploration cooled: the softmax at the final temperature nearly always picks right
            let p = softmax(&learner.values(0), learner.temperature());
            assert!(p[2] > 0.99, "double {double}: {p:?}");
        }
    }

    /// Q-learning's max over noisy estimates overvalues a noisy state; double Q-learning does not.
    /// One decision: a safe action paying 0, or a gamble leading to a state whose actions pay
    /// N(-0.1, 1) each (so Q*(gamble) = -0.1 < 0). The reference is the closed form.
    #[test]
    fn double_q_learning_removes_the_maximisation_bias() {
        let normal = |rng: &mut SplitMix64| {
            let u1 = 1.0 - rng.uniform();
            let u2 = rng.uniform();
            (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
        };
        let gamble_value = |double: bool| {
            let params = QParams {
                learning_rate: 0.1,
                discount: 1.0,
                initial_q: 0.0,
                temperature: 0.0,
                temperature_decay: 1.0,
                min_temperature: 0.0,
                double,
            };
            // state 0: action 0 safe (ends), action 1 gamble (to state 1); state 1: 8 actions
            let mut learner = QLearner::new(2, 8, params);
            let mut rng = SplitMix64::new(17);
            for k in 0..4_000 {
                learner.update(0, 1, 0.0, Some(1));
                let a = k % 8;
                let r = -0.1 + normal(&mut rng);
                learner.update(1, a, r, None);
            }
            learner.values(0)[1]
        };
        let single = gamble_value(false);
        let double = gamble_value(true);
        assert!(single > 0.1, "single Q overvalues the gamble: {single}");
        assert!(double < 0.0, "double Q does not: {double}");
    }

    /// The same learner without enough steps does not find the far reward (the test can fail).
    #[test]
    fn q_learning_with_no_lookahead_takes_the_lure() {
        let params = QParams {
            discount: 0.0,
            initial_q: 0.0,
            ..QParams::default()
        };
        let mut learner = QLearner::new(3, 3, params);
        let mut rng = SplitMix64::new(3);
        for _ in 0..400 {
            let mut s = 0;
            for _ in 0..12 {
                let a = learner.choose(s, &mut rng);
                let (next, r) = chain(s, a);
                learner.update(s, a, r, Some(next));
                s = next;
            }
            learner.end_episode();
        }
        // gamma = 0: the myopic optimum in state 0 is the lure
        assert_eq!(learner.greedy(0), 1, "{:?}", learner.values(0));
    }

    /// Expected reward of the policy on a 2-armed Bernoulli bandit (arm 1 pays more often).
    fn bandit_value(learner: &Reinforce, means: [f64; 2]) -> f64 {
        let p = learner.probabilities(&[1.0]);
        p[0] * means[0] + p[1] * means[1]
    }

    #[test]
    fn reinforce_increases_the_expected_reward_on_a_bandit() {
        let means = [0.3, 0.7];
        let mut learner = Reinforce::new(
            2,
            1,
            ReinforceParams {
                learning_rate: 0.5,
                discount: 0.0,
                ..ReinforceParams::default()
            },
        );
        let mut rng = SplitMix64::new(5);
        let before = bandit_value(&learner, means);
        assert!((before - 0.5).abs() < 1e-12);
        let mut curve = Vec::new();
        for _ in 0..300 {
            // an episode: 10 pulls
            for _ in 0..10 {
                let a = learner.choose(&[1.0], &mut rng);
                let r = if rng.uniform() < means[a] { 1.0 } else { 0.0 };
                learner.record(&[1.0], a, r);
            }
            learner.end_episode();
            curve.push(bandit_value(&learner, means));
        }
        let after = bandit_value(&learner, means);
        assert!(after > 0.65, "expected reward {before} -> {after}");
        // and it improved on the way, not by one lucky step
        let early: f64 = curve[..30].iter().sum::<f64>() / 30.0;
        let late: f64 = curve[270..].iter().sum::<f64>() / 30.0;
        assert!(late > early + 0.05, "{early} -> {late}");
    }

    #[test]
    fn reinforce_with_a_zero_step_learns_nothing() {
        // the control: the same run without a step leaves the policy uniform
        let mut learner = Reinforce::new(
            2,
            1,
            ReinforceParams {
                learning_rate: 0.0,
                discount: 0.0,
                ..ReinforceParams::default()
            },
        );
        let mut rng = SplitMix64::new(5);
        for _ in 0..50 {
            for _ in 0..10 {
                let a = learner.choose(&[1.0], &mut rng);
                learner.record(&[1.0], a, a as f64);
            }
            learner.end_episode();
        }
        assert_eq!(learner.probabilities(&[1.0]), vec![0.5, 0.5]);
    }

    fn sample_policies() -> Vec<Policy> {
        let d = Discretisation::default();
        let q = (0..d.states())
            .map(|s| [s as f64 * 0.01, -0.5, 1.0 / (s as f64 + 3.0)])
            .collect();
        let policies = vec![
            Policy::QTable {
                discretisation: d,
                q,
            },
            Policy::Linear {
                scaling: Scaling::default(),
                weights: [
                    [0.1, -2.0, 0.3, 0.0, 0.7],
                    [0.0, 0.0, 0.0, 0.0, 0.0],
                    [-0.1, 2.0, -0.3, 1e-17, -0.7],
                ],
            },
        ];
        policies.into_iter().map(Policy::quantised).collect()
    }

    #[test]
    fn quantised_numbers_survive_json_bit_for_bit() {
        let mut rng = SplitMix64::new(9);
        for k in 0..20_000 {
            let magnitude = 10f64.powi((k % 24) - 12);
            let x = quantise((rng.uniform() - 0.5) * magnitude);
            let text = serde_json::to_string(&x).unwrap();
            let back: f64 = serde_json::from_str(&text).unwrap();
            assert_eq!(back.to_bits(), x.to_bits(), "{x} -> {text} -> {back}");
        }
        assert_eq!(quantise(1e-10), 0.0);
        assert_eq!(quantise(0.1 + 0.2), 0.3);
    }

    #[test]
    fn policies_round_trip_through_json() {
        let states = [
            Features::default(),
            Features {
                value_gap: 0.02,
                trend: -0.004,
                volatility: 0.003,
                inventory: 0.9,
            },
            Features {
                value_gap: -0.005,
                trend: 0.01,
                volatility: 0.0001,
                inventory: 0.2,
            },
        ];
        for policy in sample_policies() {
            let text = policy.to_json();
            let back = Policy::from_json(&text).unwrap();
            assert_eq!(back, policy, "{text}");
            for f in &states {
                assert_eq!(back.act_greedy(f), policy.act_greedy(f));
            }
        }
    }

    #[test]
    fn malformed_policies_are_refused_with_the_reason() {
        let Policy::QTable {
            discretisation,
            mut q,
        } = sample_policies().remove(0)
        else {
            unreachable!()
        };
        q.pop();
        let short = Policy::QTable {
            discretisation: discretisation.clone(),
            q,
        };
        let error = Policy::from_json(&short.to_json()).unwrap_err();
        assert!(
            error.contains("89 rows") && error.contains("90 states"),
            "{error}"
        );
        let mut unsorted = discretisation;
        unsorted.trend = vec![0.01, -0.01];
        assert!(unsorted.validate().unwrap_err().contains("trend"));
        assert!(Policy::from_json("{\"kind\":\"cubic\"}").is_err());
        assert!(Policy::from_json("not json").is_err());
        let nan = "{\"kind\":\"linear\",\"scaling\":{\"value_gap_unit\":0.01,\"trend_unit\":0.01,\"volatility_unit\":0.0025,\"clamp\":3},\"weights\":[[0,0,0,0,0],[0,0,0,0,0],[0,0,null,0,0]]}";
        assert!(Policy::from_json(nan).is_err());
    }

    #[test]
    fn softmax_at_zero_temperature_is_greedy() {
        let mut rng = SplitMix64::new(1);
        for policy in sample_policies() {
            for k in 0..200 {
                let f = Features {
                    value_gap: (k as f64 - 100.0) * 3e-4,
                    trend: ((k * 7) % 13) as f64 * 1e-3 - 6e-3,
                    volatility: (k % 5) as f64 * 1e-3,
                    inventory: (k % 10) as f64 / 10.0,
                };
                let greedy = policy.act_greedy(&f);
                assert_eq!(policy.act_softmax(&f, 0.0, &mut rng), greedy);
                // a tiny positive temperature puts all the mass on the best action, unless another
                // is within a few temperatures of it (then the greedy rule's tie-break decides)
                let mut scores = policy.scores(&f);
                scores.sort_by(|a, b| b.total_cmp(a));
                if scores[0] - scores[1] > 1e-6 {
                    assert_eq!(policy.act_softmax(&f, 1e-9, &mut rng), greedy, "{f:?}");
                }
            }
        }
        // and a high temperature explores: every action turns up
        let policy = &sample_policies()[1];
        let f = Features {
            value_gap: 0.02,
            ..Features::default()
        };
        let mut seen = [false; N_ACTIONS];
        for _ in 0..300 {
            seen[policy.act_softmax(&f, 100.0, &mut rng).index()] = true;
        }
        assert_eq!(seen, [true; N_ACTIONS]);
        assert_eq!(softmax(&[1.0, 3.0, 2.0], 1e-12), vec![0.0, 1.0, 0.0]);
        let p = softmax(&[0.0, (2.0f64).ln()], 1.0);
        assert!((p[1] - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn deterministic_for_a_seed() {
        let run = |seed: u64| {
            let mut learner = QLearner::new(3, 3, QParams::default());
            let mut rng = SplitMix64::new(seed);
            let mut actions = Vec::new();
            for _ in 0..50 {
                let mut s = 0;
                for _ in 0..10 {
                    let a = learner.choose(s, &mut rng);
                    actions.push(a);
                    let (next, r) = chain(s, a);
                    learner.update(s, a, r, Some(next));
                    s = next;
                }
                learner.end_episode();
            }
            let mut pg = Reinforce::new(3, 2, ReinforceParams::default());
            for _ in 0..20 {
                for t in 0..10 {
                    let x = [1.0, t as f64 / 10.0];
                    let a = pg.choose(&x, &mut rng);
                    actions.push(a);
                    pg.record(&x, a, if a == 2 { 1.0 } else { 0.0 });
                }
                pg.end_episode();
            }
            (learner.tables, pg.weights, actions)
        };
        assert_eq!(run(42), run(42));
        assert_ne!(run(42).2, run(43).2);
    }

    #[test]
    fn features_and_discretisation() {
        // 100 tokens at spot 1.1 and 1000 quote: inventory 110 / 1110
        let mut v = view(1.0, 0.003, 100_000_000, 1_000_000_000);
        v.spot = 1.1;
        let f = features(
            &v,
            &Reference {
                fair_value: Some(1.0),
            },
        );
        assert!((f.value_gap - (1.0f64 / 1.1).ln()).abs() < 1e-12);
        assert!((f.trend - 1.1f64.ln()).abs() < 1e-12);
        assert!((f.inventory - 110.0 / 1110.0).abs() < 1e-12);
        assert_eq!(f.volatility, 0.003);
        assert_eq!(features(&v, &Reference::default()).value_gap, 0.0);
        let d = Discretisation::default();
        assert_eq!(d.states(), 90);
        // value gap -9.5%: bin 0; trend +9.5%: bin 2; volatility 0.003: bin 1; inventory 0.1: bin 0
        assert_eq!(d.state(&f), ((2) * 2 + 1) * 3);
        let mut seen = std::collections::BTreeSet::new();
        for a in [-0.02, -0.005, 0.0, 0.005, 0.02] {
            for b in [-0.01, 0.0, 0.01] {
                for c in [0.0, 0.01] {
                    for e in [0.0, 0.5, 1.0] {
                        let s = d.state(&Features {
                            value_gap: a,
                            trend: b,
                            volatility: c,
                            inventory: e,
                        });
                        assert!(s < 90);
                        seen.insert(s);
                    }
                }
            }
        }
        assert_eq!(seen.len(), 90, "every state reachable, no two bins collide");
        // an edge value belongs to the bin above it; NaN counts as 0
        assert_eq!(bin(0.002, &d.value_gap), 3);
        assert_eq!(bin(f64::NAN, &d.value_gap), 2);
        let x = Scaling::default().vector(&Features {
            value_gap: 1.0,
            trend: -0.005,
            volatility: 0.0025,
            inventory: 0.75,
        });
        let expected = [1.0, 3.0, -0.5, 1.0, 0.5];
        for (a, b) in x.iter().zip(expected) {
            assert!((a - b).abs() < 1e-12, "{x:?}");
        }
    }
}
