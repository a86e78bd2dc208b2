//! Scenario files: the assets and their fundamentals, the agent mix, the DAO and lending setup and
//! the shocks. Built-in scenarios live in `bots/sim/scenarios/*.toml` (compiled in); any other
//! path is read from disk. Every field is checked with an error naming it.

use serde::Deserialize;

use crate::SimError;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_steps")]
    pub steps: u64,
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Slots per simulation step (the clock moves this far between steps).
    #[serde(default = "default_slots_per_step")]
    pub slots_per_step: u64,
    pub assets: Assets,
    pub agents: Agents,
    #[serde(default)]
    pub dao: Dao,
    #[serde(default)]
    pub lending: Lending,
    #[serde(default)]
    pub risk_parity: RiskParity,
    #[serde(default, rename = "shock")]
    pub shocks: Vec<Shock>,
    #[serde(default)]
    pub primary: Primary,
    #[serde(default)]
    pub incentives: Incentives,
}

/// Adoption incentives: prospective holders, referrers paid a share of the fee of the trades of
/// the prospects they bring in (the market's `referrer_share_bps`, k), and an airdrop.
///
/// The adoption model: a prospect joins on its own with `organic_join` per step; a referrer
/// recruits one prospect of its market per step with probability
/// `recruit_rate * (1 - recruit_cost / v)` when v exceeds the cost (never otherwise), where v is
/// what it expects a recruit to pay it over the rest of the run: its referral income per
/// recruit-step so far (read from its token account) times the steps left, or before any
/// recruit has traded, the fee share of a prospect trading a noise trader's expected turnover. A joined prospect trades as a noise trader naming its referrer on every
/// trade. Only that response to v is assumed; the referral payments, volumes and holdings are
/// the programs'.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Incentives {
    #[serde(default)]
    pub enabled: bool,
    /// Prospective holders per market, on top of `agents.count`; each starts with
    /// `prospect_capital` quote and a small token balance (exponential, mean
    /// `prospect_tokens_mean` whole tokens).
    #[serde(default = "default_prospects")]
    pub prospects_per_asset: usize,
    #[serde(default = "default_prospect_capital")]
    pub prospect_capital: u64,
    #[serde(default = "default_prospect_tokens_mean")]
    pub prospect_tokens_mean: f64,
    /// Referrers per market, on top of `agents.count` (they hold nothing; they earn fee shares).
    #[serde(default = "one_usize_incentives")]
    pub referrers_per_asset: usize,
    /// k: share of the trading fee paid to the trader's referrer, bps of the fee (0..=5,000).
    #[serde(default)]
    pub referrer_share_bps: u16,
    /// Whole quote tokens of effort a recruit costs its referrer (off chain; reported).
    #[serde(default = "default_recruit_cost")]
    pub recruit_cost: f64,
    /// Most recruits per referrer and step (a probability: at most one per step).
    #[serde(default = "default_recruit_rate")]
    pub recruit_rate: f64,
    /// Chance per step that a prospect joins without a referrer.
    #[serde(default = "default_organic_join")]
    pub organic_join: f64,
    /// A holder has at least this many whole tokens.
    #[serde(default = "one_f64")]
    pub min_holding: f64,
    #[serde(default)]
    pub airdrop: Option<Airdrop>,
}

impl Default for Incentives {
    fn default() -> Self {
        Incentives {
            enabled: false,
            prospects_per_asset: default_prospects(),
            prospect_capital: default_prospect_capital(),
            prospect_tokens_mean: default_prospect_tokens_mean(),
            referrers_per_asset: 1,
            referrer_share_bps: 0,
            recruit_cost: default_recruit_cost(),
            recruit_rate: default_recruit_rate(),
            organic_join: default_organic_join(),
            min_holding: 1.0,
            airdrop: None,
        }
    }
}

/// One airdrop per market at `step`: `budget` whole tokens from the issuer's (genesis) holding
/// to wallets holding the market's token (agents and prospects), by `rule`. A recipient the
/// drop made a holder sells everything to the curve with `dump_probability`, at a random step
/// within `dump_within` steps.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Airdrop {
    pub step: u64,
    pub budget: f64,
    #[serde(default)]
    pub rule: AirdropRule,
    #[serde(default)]
    pub dump_probability: f64,
    #[serde(default = "default_dump_within")]
    pub dump_within: u64,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AirdropRule {
    /// `rwa_agent_core::airdrop::plan`: smallest shortfalls to the minimum holding first.
    #[default]
    Planner,
    Uniform,
    ProRata,
    /// No drop (the control arm).
    None,
}

impl AirdropRule {
    pub const ALL: [AirdropRule; 4] = [
        AirdropRule::Planner,
        AirdropRule::Uniform,
        AirdropRule::ProRata,
        AirdropRule::None,
    ];
    pub fn name(self) -> &'static str {
        match self {
            AirdropRule::Planner => "planner",
            AirdropRule::Uniform => "uniform",
            AirdropRule::ProRata => "pro_rata",
            AirdropRule::None => "none",
        }
    }
}

fn default_prospects() -> usize {
    20
}
fn default_prospect_capital() -> u64 {
    2_000
}
fn default_prospect_tokens_mean() -> f64 {
    0.5
}
fn one_usize_incentives() -> usize {
    1
}
fn default_recruit_cost() -> f64 {
    1.0
}
fn default_recruit_rate() -> f64 {
    0.2
}
fn default_organic_join() -> f64 {
    0.002
}
fn one_f64() -> f64 {
    1.0
}
fn default_dump_within() -> u64 {
    50
}

/// A primary market at NAV on every asset: the issuer publishes the NAV, authorised
/// participants (`agents.ap_arbitrageurs`) subscribe and redeem against the curve.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Primary {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default = "default_primary_fee")]
    pub subscribe_fee_bps: u16,
    #[serde(default = "default_primary_fee")]
    pub redeem_fee_bps: u16,
    /// The issuer publishes the NAV every this many steps.
    #[serde(default = "one_u64")]
    pub publish_every: u64,
    /// Whole quote tokens per market the issuer puts in the redemption vault at genesis, as a
    /// share of the market's starting value (supply x NAV); subscriptions are swept in too.
    #[serde(default = "default_redemption_funding")]
    pub redemption_funding: f64,
}

impl Default for Primary {
    fn default() -> Self {
        Primary {
            enabled: false,
            subscribe_fee_bps: default_primary_fee(),
            redeem_fee_bps: default_primary_fee(),
            publish_every: 1,
            redemption_funding: default_redemption_funding(),
        }
    }
}

fn default_primary_fee() -> u16 {
    10
}
fn one_u64() -> u64 {
    1
}
fn default_redemption_funding() -> f64 {
    0.5
}

fn default_steps() -> u64 {
    500
}
fn default_seed() -> u64 {
    1
}
fn default_slots_per_step() -> u64 {
    10
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assets {
    pub count: usize,
    /// Starting NAV of every asset (quote tokens per token).
    #[serde(default = "one")]
    pub nav: f64,
    /// Log drift per step.
    #[serde(default)]
    pub drift: f64,
    /// Volatility of the log NAV per step: one value for every asset or one per asset.
    pub volatility: Vec<f64>,
    /// Uniform pairwise correlation (ignored when `covariance` is given).
    #[serde(default)]
    pub correlation: f64,
    /// Full per-step covariance of log NAV returns (M x M), overriding volatility/correlation.
    #[serde(default)]
    pub covariance: Option<Vec<Vec<f64>>>,
    /// Whole tokens bought from each curve at genesis; the curve is set so the spot then equals
    /// the NAV. Absent: 1.25 x what the market's agents start with (they hold 80%, the passive
    /// genesis holder the rest), so the agents can move the price as far as the NAV goes.
    #[serde(default)]
    pub supply: Option<u64>,
    /// Price at zero supply as a share of the NAV (linear curve: p = NAV (i + (1 - i) s / S0)).
    /// Small: moving the price by x% takes trading about x% of the supply.
    #[serde(default = "default_intercept")]
    pub intercept: f64,
    /// Trading fee of every market (bps).
    #[serde(default = "default_fee")]
    pub fee_bps: u16,
}

fn one() -> f64 {
    1.0
}
fn default_intercept() -> f64 {
    0.1
}
fn default_fee() -> u16 {
    30
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agents {
    /// Total number of agents (N); the fixed roles come first, the mix fills the rest.
    pub count: usize,
    #[serde(default = "one_usize")]
    pub market_makers_per_asset: usize,
    #[serde(default)]
    pub arbitrageurs: usize,
    #[serde(default)]
    pub keepers: usize,
    #[serde(default)]
    pub governors: usize,
    #[serde(default)]
    pub risk_parity: usize,
    #[serde(default)]
    pub borrowers: usize,
    /// Authorised participants arbitraging the curve against the primary market (one market
    /// each, round robin), on top of `count`; they exist only with `primary.enabled`.
    #[serde(default)]
    pub ap_arbitrageurs: usize,
    /// Shares of the remaining agents by kind: noise, momentum, value.
    #[serde(default)]
    pub mix: Mix,
    /// Whole quote tokens each agent starts with...
    #[serde(default = "default_capital")]
    pub capital: u64,
    /// ...times this multiple for the kinds listed (default: value funds hold 3x, so there is
    /// enough informed inventory for prices to follow the NAV down a 30% drop).
    #[serde(default = "default_capital_multiple")]
    pub capital_multiple: std::collections::BTreeMap<String, f64>,
    /// Share of each trader's capital handed out as tokens of its market at genesis.
    #[serde(default = "default_token_share")]
    pub token_share: f64,
    /// What the value traders trade towards and the market makers quote around: `nav` (the
    /// value traders research the NAV, the makers quote around the TWAP) or `model` (both use
    /// V, the Bayesian valuation model's predictive mean from the TWAP, holders and volume,
    /// learning from the NAV the issuer publishes every 10 steps with a one-publication lag:
    /// `rwa_sim::valuation::OnlineValuation`).
    #[serde(default)]
    pub fair_value: FairValue,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FairValue {
    #[default]
    Nav,
    Model,
}

fn one_usize() -> usize {
    1
}
fn default_capital() -> u64 {
    50_000
}
fn default_capital_multiple() -> std::collections::BTreeMap<String, f64> {
    [("value".to_string(), 3.0)].into_iter().collect()
}

fn default_token_share() -> f64 {
    0.5
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mix {
    #[serde(default)]
    pub noise: f64,
    #[serde(default)]
    pub momentum: f64,
    #[serde(default)]
    pub value: f64,
}

impl Default for Mix {
    fn default() -> Self {
        Mix {
            noise: 0.5,
            momentum: 0.2,
            value: 0.3,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dao {
    /// Markets and lending answer to a rule DAO whose governors vote on circuit breakers.
    #[serde(default)]
    pub enabled: bool,
    #[serde(default = "default_voting")]
    pub voting_period_slots: u64,
    #[serde(default = "default_hold_up")]
    pub hold_up_slots: u64,
    /// Governors propose a tighter breaker above this forecast volatility (per sqrt(slot))...
    #[serde(default = "default_tighten")]
    pub tighten_above: f64,
    /// ...and relax it below this.
    #[serde(default = "default_relax")]
    pub relax_below: f64,
    #[serde(default = "default_baseline_breaker")]
    pub baseline_breaker_bps: u16,
    /// Weight of profit in the reward R_i = alpha profit + (1 - alpha) stability of every agent
    /// that votes.
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// Every trading agent stakes its capital in the DAO and votes on rule proposals by its own
    /// R_i with its realised profit (governors propose and execute; they hold no trading book).
    #[serde(default = "default_true")]
    pub traders_vote: bool,
    /// sigma_system (what every voter's stability term uses, and the governors' trigger) is
    /// estimated over this many steps of every market's price.
    #[serde(default = "default_sigma_window")]
    pub sigma_window_steps: usize,
    /// The fixed-rules arm: the tightened breaker is in force from genesis and nobody proposes or
    /// votes (the rules exist but never adapt).
    #[serde(default)]
    pub fixed_rules: bool,
}

fn default_true() -> bool {
    true
}
fn default_sigma_window() -> usize {
    20
}

fn default_voting() -> u64 {
    100
}
fn default_hold_up() -> u64 {
    20
}
fn default_tighten() -> f64 {
    0.004
}
fn default_relax() -> f64 {
    0.0015
}
fn default_baseline_breaker() -> u16 {
    1_500
}
fn default_alpha() -> f64 {
    0.7
}

impl Default for Dao {
    fn default() -> Self {
        Dao {
            enabled: false,
            voting_period_slots: default_voting(),
            hold_up_slots: default_hold_up(),
            tighten_above: default_tighten(),
            relax_below: default_relax(),
            baseline_breaker_bps: default_baseline_breaker(),
            alpha: default_alpha(),
            traders_vote: true,
            sigma_window_steps: default_sigma_window(),
            fixed_rules: false,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lending {
    #[serde(default)]
    pub enabled: bool,
    /// Whole quote tokens a liquidity provider deposits at genesis.
    #[serde(default = "default_liquidity")]
    pub liquidity: u64,
    /// Collateral ratio floor (bps) and its volatility sensitivity (CR = CRmin + gamma * sigma).
    #[serde(default = "default_cr_min")]
    pub cr_min_bps: u16,
    #[serde(default)]
    pub gamma: f64,
    #[serde(default = "default_liquidation_cr")]
    pub liquidation_cr_bps: u16,
    /// Borrowers draw this share of their borrow limit...
    #[serde(default = "default_borrow_fraction")]
    pub borrow_fraction: f64,
    /// ...first after this many steps (the oracle needs a volatility estimate)...
    #[serde(default = "default_warmup")]
    pub warmup_steps: u64,
    /// ...and move back to it every this many steps (borrow up, or repay when over the limit).
    #[serde(default = "default_relever")]
    pub relever_every_steps: u64,
}

fn default_warmup() -> u64 {
    30
}
fn default_relever() -> u64 {
    25
}

fn default_liquidity() -> u64 {
    2_000_000
}
fn default_cr_min() -> u16 {
    15_000
}
fn default_liquidation_cr() -> u16 {
    12_000
}
fn default_borrow_fraction() -> f64 {
    0.9
}

impl Default for Lending {
    fn default() -> Self {
        Lending {
            enabled: false,
            liquidity: default_liquidity(),
            cr_min_bps: default_cr_min(),
            gamma: 0.0,
            liquidation_cr_bps: default_liquidation_cr(),
            borrow_fraction: default_borrow_fraction(),
            warmup_steps: default_warmup(),
            relever_every_steps: default_relever(),
        }
    }
}

/// The risk-parity investors' settings (the daemon's `risk_parity` strategy fields, in steps).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskParity {
    /// Re-solve the ERC targets this often...
    #[serde(default = "default_rebalance_every")]
    pub rebalance_every_steps: u64,
    /// ...from this many steps of prices (Ledoit-Wolf covariance).
    #[serde(default = "default_window")]
    pub window_steps: usize,
    /// Trade between re-solves only when a weight drifts this far (absolute) from its target.
    #[serde(default = "default_drift_band")]
    pub drift_band: f64,
    /// Largest weight in one market.
    #[serde(default = "default_cap")]
    pub cap: f64,
}

fn default_rebalance_every() -> u64 {
    50
}
fn default_window() -> usize {
    200
}
fn default_drift_band() -> f64 {
    0.05
}
fn default_cap() -> f64 {
    0.5
}

impl Default for RiskParity {
    fn default() -> Self {
        RiskParity {
            rebalance_every_steps: default_rebalance_every(),
            window_steps: default_window(),
            drift_band: default_drift_band(),
            cap: default_cap(),
        }
    }
}

/// An exogenous event at `step`.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Shock {
    /// NAV of one asset (or of all, when `asset` is absent) falls by `size` (0.3 = 30%).
    Crash {
        step: u64,
        #[serde(default)]
        asset: Option<usize>,
        size: f64,
    },
    /// Every NAV falls together, each by `size` scaled by its volatility over the mean volatility.
    CorrelatedDrop { step: u64, size: f64 },
    /// Volatilities are multiplied by `factor` from `step` on (until `until`, if given).
    Volatility {
        step: u64,
        factor: f64,
        #[serde(default)]
        until: Option<u64>,
    },
    /// A share of the agents of one kind stop acting (`mode = "stop"`) or turn adversarial
    /// (`mode = "adversarial"`: trade away from NAV at full size).
    Failure {
        step: u64,
        agent: String,
        #[serde(default = "one")]
        fraction: f64,
        #[serde(default = "default_mode")]
        mode: String,
    },
    /// A council holding most of the stake proposes these rules through the DAO at `step`; they
    /// pass after the voting period and hold-up like any proposal.
    RuleChange {
        step: u64,
        #[serde(default)]
        max_trade_tokens: u64,
        #[serde(default)]
        circuit_breaker_bps: u16,
        #[serde(default)]
        circuit_breaker_window_slots: u64,
        #[serde(default)]
        circuit_breaker_halt_slots: u64,
    },
    /// From `step` to `until`, a share of the noise/momentum/value traders follow one common
    /// signal (the average market's recent return) instead of their own.
    Herding {
        step: u64,
        until: u64,
        fraction: f64,
    },
}

fn default_mode() -> String {
    "stop".to_string()
}

impl Shock {
    pub fn step(&self) -> u64 {
        match self {
            Shock::Crash { step, .. }
            | Shock::CorrelatedDrop { step, .. }
            | Shock::Volatility { step, .. }
            | Shock::Failure { step, .. }
            | Shock::RuleChange { step, .. }
            | Shock::Herding { step, .. } => *step,
        }
    }
}

/// The built-in scenarios, by name.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("baseline", include_str!("../scenarios/baseline.toml")),
    ("crash", include_str!("../scenarios/crash.toml")),
    (
        "correlated-drop",
        include_str!("../scenarios/correlated-drop.toml"),
    ),
    (
        "volatility-regime",
        include_str!("../scenarios/volatility-regime.toml"),
    ),
    (
        "agent-failure",
        include_str!("../scenarios/agent-failure.toml"),
    ),
    ("adversarial", include_str!("../scenarios/adversarial.toml")),
    ("rule-change", include_str!("../scenarios/rule-change.toml")),
    ("herding", include_str!("../scenarios/herding.toml")),
    (
        "lending-drop",
        include_str!("../scenarios/lending-drop.toml"),
    ),
    ("risk-parity", include_str!("../scenarios/risk-parity.toml")),
    (
        "risk-parity-drift",
        include_str!("../scenarios/risk-parity-drift.toml"),
    ),
    ("incentives", include_str!("../scenarios/incentives.toml")),
];

/// Command-line overrides of a scenario.
#[derive(Clone, Copy, Debug, Default)]
pub struct Overrides {
    pub agents: Option<usize>,
    pub assets: Option<usize>,
    pub steps: Option<u64>,
    pub seed: Option<u64>,
}

impl Scenario {
    /// A built-in scenario by name, or a TOML file by path.
    pub fn load(name_or_path: &str) -> Result<Scenario, SimError> {
        let text = match BUILT_IN.iter().find(|(name, _)| *name == name_or_path) {
            Some((_, text)) => text.to_string(),
            None => std::fs::read_to_string(name_or_path).map_err(|e| {
                SimError::Scenario(format!(
                    "{name_or_path}: not a built-in scenario ({}) and not a readable file: {e}",
                    BUILT_IN
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?,
        };
        Scenario::parse(&text, name_or_path)
    }

    pub fn parse(text: &str, origin: &str) -> Result<Scenario, SimError> {
        let scenario: Scenario =
            toml::from_str(text).map_err(|e| SimError::Scenario(format!("{origin}: {e}")))?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// The scenario with command-line overrides applied; `steps` rescales the shock timeline.
    pub fn with(mut self, o: Overrides) -> Result<Scenario, SimError> {
        if let Some(n) = o.agents {
            self.agents.count = n;
        }
        if let Some(m) = o.assets {
            if self.assets.covariance.is_some() && m != self.assets.count {
                return Err(SimError::Scenario(format!(
                    "--assets {m}: the scenario's covariance matrix is {0}x{0}",
                    self.assets.count
                )));
            }
            // Per-asset volatilities repeat over the new number of assets.
            let v = &self.assets.volatility;
            if v.len() > 1 {
                self.assets.volatility = (0..m).map(|i| v[i % v.len()]).collect();
            }
            self.assets.count = m;
        }
        if let Some(t) = o.steps {
            // The timeline scales with the run: a crash at step 300 of 600 happens at step 50 of 100.
            let scale = |step: u64| -> u64 {
                ((step as f64 * t as f64 / self.steps as f64).round() as u64)
                    .min(t.saturating_sub(1))
            };
            for shock in &mut self.shocks {
                match shock {
                    Shock::Crash { step, .. }
                    | Shock::CorrelatedDrop { step, .. }
                    | Shock::Failure { step, .. }
                    | Shock::RuleChange { step, .. } => *step = scale(*step),
                    Shock::Volatility { step, until, .. } => {
                        *step = scale(*step);
                        *until = until.map(|u| scale(u).max(*step + 1));
                    }
                    Shock::Herding { step, until, .. } => {
                        *step = scale(*step);
                        *until = scale(*until).max(*step + 1);
                    }
                }
            }
            if let Some(drop) = &mut self.incentives.airdrop {
                drop.step = scale(drop.step).max(1);
            }
            self.steps = t;
        }
        if let Some(s) = o.seed {
            self.seed = s;
        }
        self.validate()?;
        Ok(self)
    }

    /// Whole quote tokens an agent of `kind` starts with.
    pub fn capital_of(&self, kind: crate::agents::Kind) -> u64 {
        let multiple = self
            .agents
            .capital_multiple
            .get(kind.name())
            .copied()
            .unwrap_or(1.0);
        (self.agents.capital as f64 * multiple) as u64
    }

    /// Number of agents with a fixed role (the mix fills up to `agents.count`).
    pub fn fixed_agents(&self) -> usize {
        let a = &self.agents;
        a.market_makers_per_asset * self.assets.count
            + a.arbitrageurs
            + a.keepers
            + if self.dao.enabled { a.governors } else { 0 }
            + a.risk_parity
            + if self.lending.enabled { a.borrowers } else { 0 }
    }

    pub fn validate(&self) -> Result<(), SimError> {
        let fail = |what: String| Err(SimError::Scenario(format!("{}: {what}", self.name)));
        let m = self.assets.count;
        if m == 0 || m > 16 {
            return fail(format!("assets.count = {m}: must be 1..=16"));
        }
        if self.steps == 0 {
            return fail("steps must be at least 1".into());
        }
        if self.slots_per_step == 0 {
            return fail("slots_per_step must be at least 1".into());
        }
        if !(self.assets.nav > 0.0 && self.assets.nav < 1e6) {
            return fail(format!(
                "assets.nav = {}: must be in (0, 1e6)",
                self.assets.nav
            ));
        }
        if self
            .assets
            .supply
            .is_some_and(|s| s == 0 || s > 1_000_000_000)
        {
            return fail("assets.supply must be 1..=1e9 whole tokens".into());
        }
        if !(self.assets.intercept > 0.0 && self.assets.intercept < 1.0) {
            return fail(format!(
                "assets.intercept = {}: must be in (0, 1)",
                self.assets.intercept
            ));
        }
        if self.assets.fee_bps > 1_000 {
            return fail("assets.fee_bps must be at most 1000".into());
        }
        match &self.assets.covariance {
            Some(cov) => {
                if cov.len() != m || cov.iter().any(|row| row.len() != m) {
                    return fail(format!("assets.covariance must be {m}x{m}"));
                }
                if crate::fundamentals::cholesky(cov).is_none() {
                    return fail(
                        "assets.covariance is not symmetric positive semi-definite".into(),
                    );
                }
            }
            None => {
                let v = &self.assets.volatility;
                if v.is_empty() || (v.len() != 1 && v.len() != m) {
                    return fail(format!(
                        "assets.volatility has {} values: give 1 or {m}",
                        v.len()
                    ));
                }
                if v.iter().any(|x| !(*x >= 0.0 && *x < 1.0)) {
                    return fail("assets.volatility values must be in [0, 1) per step".into());
                }
                let rho = self.assets.correlation;
                let lower = if m > 1 { -1.0 / (m as f64 - 1.0) } else { -1.0 };
                if !(rho > lower && rho < 1.0) {
                    return fail(format!(
                        "assets.correlation = {rho}: must be in ({lower:.3}, 1) for {m} assets"
                    ));
                }
            }
        }
        let a = &self.agents;
        let fixed = self.fixed_agents();
        if a.count < fixed {
            return fail(format!(
                "agents.count = {}: the fixed roles alone need {fixed} ({} market makers per asset x {m} assets, ...)",
                a.count, a.market_makers_per_asset
            ));
        }
        let mix = a.mix;
        if [mix.noise, mix.momentum, mix.value]
            .iter()
            .any(|x| !(*x >= 0.0))
            || (a.count > fixed && mix.noise + mix.momentum + mix.value <= 0.0)
        {
            return fail("agents.mix shares must be non-negative with a positive sum".into());
        }
        if a.capital == 0 || a.capital > 1_000_000_000 {
            return fail("agents.capital must be 1..=1e9 whole tokens".into());
        }
        for (kind, multiple) in &a.capital_multiple {
            if crate::agents::Kind::parse(kind).is_none() {
                return fail(format!(
                    "agents.capital_multiple: unknown agent kind '{kind}'"
                ));
            }
            if !(*multiple > 0.0 && *multiple <= 1_000.0) {
                return fail(format!(
                    "agents.capital_multiple.{kind} = {multiple}: must be in (0, 1000]"
                ));
            }
        }
        if !(a.token_share >= 0.0 && a.token_share < 1.0) {
            return fail("agents.token_share must be in [0, 1)".into());
        }
        if self.dao.enabled && a.governors == 0 {
            return fail("dao.enabled needs at least one governor".into());
        }
        if !(0.0..=1.0).contains(&self.dao.alpha) {
            return fail(format!("dao.alpha = {}: must be in [0, 1]", self.dao.alpha));
        }
        if self.dao.sigma_window_steps < 2 {
            return fail("dao.sigma_window_steps must be at least 2".into());
        }
        if self.lending.enabled {
            let l = &self.lending;
            if a.borrowers == 0 {
                return fail("lending.enabled needs at least one borrower".into());
            }
            if !(l.borrow_fraction > 0.0 && l.borrow_fraction <= 1.0) {
                return fail("lending.borrow_fraction must be in (0, 1]".into());
            }
            if l.liquidation_cr_bps < 10_000 || l.cr_min_bps < l.liquidation_cr_bps {
                return fail("lending: need 10000 <= liquidation_cr_bps <= cr_min_bps".into());
            }
            if l.relever_every_steps == 0 {
                return fail("lending.relever_every_steps must be at least 1".into());
            }
            if !(l.gamma >= 0.0 && l.gamma < 1_000.0) {
                return fail("lending.gamma must be in [0, 1000)".into());
            }
        }
        let rp = &self.risk_parity;
        if rp.rebalance_every_steps == 0 || rp.window_steps < 20 {
            return fail("risk_parity: rebalance_every_steps >= 1 and window_steps >= 20".into());
        }
        if !(rp.drift_band > 0.0 && rp.drift_band < 1.0 && rp.cap > 0.0 && rp.cap <= 1.0) {
            return fail("risk_parity: drift_band in (0, 1) and cap in (0, 1]".into());
        }
        for shock in &self.shocks {
            if shock.step() >= self.steps {
                return fail(format!(
                    "shock at step {} is past the last step {}",
                    shock.step(),
                    self.steps - 1
                ));
            }
            match shock {
                Shock::Crash { asset, size, .. } => {
                    if asset.is_some_and(|i| i >= m) {
                        return fail(format!(
                            "crash asset {} >= assets.count {m}",
                            asset.unwrap_or(0)
                        ));
                    }
                    if !(*size > 0.0 && *size < 1.0) {
                        return fail(format!("crash size {size}: must be in (0, 1)"));
                    }
                }
                Shock::CorrelatedDrop { size, .. } => {
                    if !(*size > 0.0 && *size < 1.0) {
                        return fail(format!("correlated_drop size {size}: must be in (0, 1)"));
                    }
                }
                Shock::Volatility { factor, .. } => {
                    if !(*factor > 0.0 && *factor < 100.0) {
                        return fail(format!("volatility factor {factor}: must be in (0, 100)"));
                    }
                }
                Shock::Failure {
                    agent,
                    fraction,
                    mode,
                    ..
                } => {
                    if crate::agents::Kind::parse(agent).is_none() {
                        return fail(format!("failure agent kind '{agent}' is unknown"));
                    }
                    if !(*fraction > 0.0 && *fraction <= 1.0) {
                        return fail(format!("failure fraction {fraction}: must be in (0, 1]"));
                    }
                    if mode != "stop" && mode != "adversarial" {
                        return fail(format!("failure mode '{mode}': stop or adversarial"));
                    }
                }
                Shock::RuleChange { .. } => {
                    if !self.dao.enabled {
                        return fail("rule_change needs dao.enabled".into());
                    }
                }
                Shock::Herding {
                    step,
                    until,
                    fraction,
                } => {
                    if until <= step {
                        return fail("herding until must be after step".into());
                    }
                    if !(*fraction > 0.0 && *fraction <= 1.0) {
                        return fail(format!("herding fraction {fraction}: must be in (0, 1]"));
                    }
                }
            }
        }
        self.validate_incentives()
    }

    fn validate_incentives(&self) -> Result<(), SimError> {
        let fail = |what: String| Err(SimError::Scenario(format!("{}: {what}", self.name)));
        let i = &self.incentives;
        if !i.enabled {
            return Ok(());
        }
        if i.referrer_share_bps > rwa_market::constants::MAX_REFERRER_SHARE_BPS {
            return fail(format!(
                "incentives.referrer_share_bps = {}: at most {} (the program's bound)",
                i.referrer_share_bps,
                rwa_market::constants::MAX_REFERRER_SHARE_BPS
            ));
        }
        for (name, p) in [
            ("recruit_rate", i.recruit_rate),
            ("organic_join", i.organic_join),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return fail(format!("incentives.{name} = {p}: a probability in [0, 1]"));
            }
        }
        if !(i.recruit_cost > 0.0 && i.recruit_cost.is_finite()) {
            return fail(format!(
                "incentives.recruit_cost = {}: must be positive",
                i.recruit_cost
            ));
        }
        if !(i.min_holding > 0.0 && i.min_holding < 1e6) {
            return fail(format!(
                "incentives.min_holding = {}: must be in (0, 1e6) whole tokens",
                i.min_holding
            ));
        }
        if !(i.prospect_tokens_mean >= 0.0 && i.prospect_tokens_mean < 1e6) {
            return fail(format!(
                "incentives.prospect_tokens_mean = {}: must be in [0, 1e6)",
                i.prospect_tokens_mean
            ));
        }
        if i.prospects_per_asset > 1_000 || i.referrers_per_asset > 100 {
            return fail("incentives: at most 1,000 prospects and 100 referrers per asset".into());
        }
        if let Some(drop) = &i.airdrop {
            if drop.step == 0 || drop.step >= self.steps {
                return fail(format!(
                    "incentives.airdrop.step = {}: must be in 1..{}",
                    drop.step, self.steps
                ));
            }
            if !(drop.budget > 0.0 && drop.budget < 1e9) {
                return fail(format!(
                    "incentives.airdrop.budget = {}: must be in (0, 1e9) whole tokens",
                    drop.budget
                ));
            }
            if !(0.0..=1.0).contains(&drop.dump_probability) {
                return fail(format!(
                    "incentives.airdrop.dump_probability = {}: a probability in [0, 1]",
                    drop.dump_probability
                ));
            }
            if drop.dump_within == 0 {
                return fail("incentives.airdrop.dump_within must be at least 1".into());
            }
        }
        Ok(())
    }

    /// The per-step covariance of log NAV returns.
    pub fn covariance(&self) -> Vec<Vec<f64>> {
        if let Some(cov) = &self.assets.covariance {
            return cov.clone();
        }
        let m = self.assets.count;
        let vol = |i: usize| {
            let v = &self.assets.volatility;
            if v.len() == 1 {
                v[0]
            } else {
                v[i]
            }
        };
        (0..m)
            .map(|i| {
                (0..m)
                    .map(|j| {
                        let rho = if i == j { 1.0 } else { self.assets.correlation };
                        rho * vol(i) * vol(j)
                    })
                    .collect()
            })
            .collect()
    }
}
