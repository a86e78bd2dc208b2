//! What a run measures: per step (prices, NAVs, halts, lending, rules) and per run (volatility
//! per asset, sigma_system, Gini of wealth, PnL per agent type, defaults and bad debt, breaker
//! trips, rule changes, throughput).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::agents::{wealth, Kind};
use crate::scenario::Scenario;
use crate::setup::Population;
use crate::world::{World, UNIT};
use crate::Timing;

#[derive(Clone, Debug, Serialize)]
pub struct StepRecord {
    pub step: u64,
    pub slot: u64,
    pub nav: Vec<f64>,
    pub spot: Vec<f64>,
    pub twap: Vec<f64>,
    /// Markets halted by their circuit breaker at the end of the step.
    pub halted: usize,
    /// Which markets were halted at the end of the step (same order as `spot`).
    pub halted_markets: Vec<bool>,
    pub breaker_trips: u64,
    pub circuit_breaker_bps: u16,
    pub rule_changes: u64,
    pub landed: u64,
    pub refused: u64,
    pub utilisation: f64,
    pub debt: f64,
    pub bad_debt: f64,
    pub liquidations: u64,
    /// Lowest collateral value / debt over borrowers with debt, collateral marked at the market
    /// price (what the lending program sees, through the oracle) and at the NAV (what it is worth).
    pub min_cr: Option<f64>,
    pub min_cr_nav: Option<f64>,
    pub gini: f64,
    /// Total wealth of each agent kind (in `Kind::ALL` order).
    pub wealth_by_kind: Vec<f64>,
    /// Per market, only with `RunOptions::market_features` (else empty): agents holding a
    /// positive balance of its token, and its cumulative curve volume (buy cost + sell proceeds,
    /// whole quote tokens).
    pub holders: Vec<u64>,
    pub volume: Vec<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct AgentRecord {
    pub id: usize,
    pub kind: &'static str,
    pub market: usize,
    pub status: String,
    pub start_wealth: f64,
    pub end_wealth: f64,
    pub pnl: f64,
    pub landed: u64,
    pub refused: u64,
}

/// Spot price of every market.
pub fn spots(world: &World) -> Vec<f64> {
    (0..world.markets.len())
        .map(|i| {
            world
                .market(i)
                .spot_price()
                .map(|p| p.to_f64())
                .unwrap_or(0.0)
        })
        .collect()
}

/// Gini coefficient of non-negative values (0 = equal, 1 = one holds everything).
pub fn gini(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().map(|x| x.max(0.0)).collect();
    let n = v.len();
    let total: f64 = v.iter().sum();
    if n < 2 || !(total > 0.0) {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let weighted: f64 = v
        .iter()
        .enumerate()
        .map(|(i, x)| (2.0 * (i as f64 + 1.0) - n as f64 - 1.0) * x)
        .sum();
    weighted / (n as f64 * total)
}

/// Standard deviation of the log returns of a price series.
/// Per-step log-return volatility over open periods: a return is left out only when the market
/// was halted at the end of both steps it spans (no trading in between: its zero is the halt's,
/// not the market's). The move that trips a breaker and the jump when a halt lifts both count, so
/// a breaker cannot hide them.
pub fn open_period_volatility(prices: &[f64], halted: &[bool]) -> f64 {
    let returns: Vec<f64> = prices
        .windows(2)
        .zip(halted.windows(2))
        .filter(|(p, h)| !(h[0] && h[1]) && p[0] > 0.0 && p[1] > 0.0)
        .map(|(p, _)| (p[1] / p[0]).ln())
        .collect();
    standard_deviation(&returns)
}

/// Sample standard deviation (divisor n - 1; 0 below two values).
pub fn standard_deviation(values: &[f64]) -> f64 {
    let n = values.len();
    if n < 2 {
        return 0.0;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    (values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
}

pub fn log_return_volatility(prices: &[f64]) -> f64 {
    let r: Vec<f64> = prices
        .windows(2)
        .filter(|w| w[0] > 0.0 && w[1] > 0.0)
        .map(|w| (w[1] / w[0]).ln())
        .collect();
    if r.len() < 2 {
        return 0.0;
    }
    let mean = r.iter().sum::<f64>() / r.len() as f64;
    (r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (r.len() - 1) as f64).sqrt()
}

/// Sample covariance of the log returns of several price series (series-major).
pub fn return_covariance(series: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let returns: Vec<Vec<f64>> = series
        .iter()
        .map(|p| {
            p.windows(2)
                .map(|w| {
                    if w[0] > 0.0 && w[1] > 0.0 {
                        (w[1] / w[0]).ln()
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect();
    let n = returns.first().map(|r| r.len()).unwrap_or(0);
    let means: Vec<f64> = returns
        .iter()
        .map(|r| r.iter().sum::<f64>() / n.max(1) as f64)
        .collect();
    let denominator = n.saturating_sub(1).max(1) as f64;
    (0..returns.len())
        .map(|i| {
            (0..returns.len())
                .map(|j| {
                    (0..n)
                        .map(|t| (returns[i][t] - means[i]) * (returns[j][t] - means[j]))
                        .sum::<f64>()
                        / denominator
                })
                .collect()
        })
        .collect()
}

pub struct Recorder {
    start_wealth: Vec<f64>,
    last_halted_until: Vec<u64>,
    trips: u64,
    market_features: bool,
}

/// Agents holding a positive balance of each market's token.
pub fn holder_counts(world: &World, population: &Population) -> Vec<u64> {
    (0..world.markets.len())
        .map(|i| {
            population
                .agents
                .iter()
                .filter_map(|a| a.rwa_accounts[i])
                .filter(|account| world.balance(account) > 0)
                .count() as u64
        })
        .collect()
}

/// Cumulative curve volume of each market (buy cost + sell proceeds, whole quote tokens).
pub fn curve_volumes(world: &World) -> Vec<f64> {
    (0..world.markets.len())
        .map(|i| {
            let market = world.market(i);
            (market.buy_volume + market.sell_volume) as f64 / UNIT
        })
        .collect()
}

impl Recorder {
    pub fn new(world: &World, population: &Population) -> Recorder {
        let s = spots(world);
        Recorder {
            start_wealth: population
                .agents
                .iter()
                .map(|a| wealth(world, a, &s))
                .collect(),
            last_halted_until: (0..world.markets.len())
                .map(|i| world.market(i).halted_until_slot)
                .collect(),
            trips: 0,
            market_features: false,
        }
    }

    /// Also record holder counts and curve volumes (see `StepRecord::holders`).
    pub fn with_market_features(mut self, on: bool) -> Recorder {
        self.market_features = on;
        self
    }

    pub fn record(
        &mut self,
        world: &World,
        population: &Population,
        step: u64,
        nav: &[f64],
    ) -> StepRecord {
        let slot = world.slot();
        let m = world.markets.len();
        let mut halted = 0;
        let mut halted_markets = vec![false; m];
        let (mut spot, mut twap) = (Vec::with_capacity(m), Vec::with_capacity(m));
        for i in 0..m {
            let market = world.market(i);
            spot.push(market.spot_price().map(|p| p.to_f64()).unwrap_or(0.0));
            if market.halted_until_slot != self.last_halted_until[i] {
                self.trips += 1;
                self.last_halted_until[i] = market.halted_until_slot;
            }
            if market.halted_until_slot > slot {
                halted += 1;
                halted_markets[i] = true;
            }
            twap.push(
                world
                    .oracle(i)
                    .twap(slot)
                    .map(|p| p.to_f64())
                    .unwrap_or(spot[i]),
            );
        }
        let (mut utilisation, mut debt, mut bad_debt) = (0.0, 0.0, 0.0);
        let (mut min_cr, mut min_cr_nav) = (None::<f64>, None::<f64>);
        if let Some(lending) = &world.lending {
            let state: rwa_lending::state::LendingMarket = world.decode(&lending.lending_market);
            let supplied = state.available as f64 + state.total_debt as f64;
            utilisation = if supplied > 0.0 {
                state.total_debt as f64 / supplied
            } else {
                0.0
            };
            debt = state.total_debt as f64 / UNIT;
            bad_debt = state.bad_debt as f64 / UNIT;
            for (_, obligation) in &world.borrowers {
                if let Some(o) = world.try_decode::<rwa_lending::state::Obligation>(obligation) {
                    if o.debt == 0 {
                        continue;
                    }
                    let value = |price: &[f64]| -> f64 {
                        o.active()
                            .filter_map(|entry| {
                                world
                                    .market_of_collateral(&entry.config)
                                    .map(|i| entry.amount as f64 * price[i])
                            })
                            .sum()
                    };
                    let cr = value(&spot) / o.debt as f64;
                    min_cr = Some(min_cr.map_or(cr, |m| m.min(cr)));
                    let cr = value(nav) / o.debt as f64;
                    min_cr_nav = Some(min_cr_nav.map_or(cr, |m| m.min(cr)));
                }
            }
        }
        let wealth: Vec<f64> = population
            .agents
            .iter()
            .map(|a| wealth(world, a, &spot))
            .collect();
        StepRecord {
            step,
            slot,
            nav: nav.to_vec(),
            spot,
            twap,
            halted,
            halted_markets,
            breaker_trips: self.trips,
            circuit_breaker_bps: world.rules().map(|r| r.circuit_breaker_bps).unwrap_or(0),
            rule_changes: world.rule_changes,
            landed: world.tx.landed,
            refused: world.tx.refused,
            utilisation,
            debt,
            bad_debt,
            liquidations: world.liquidations,
            min_cr,
            min_cr_nav,
            gini: gini(&wealth),
            wealth_by_kind: Kind::ALL
                .iter()
                .map(|k| {
                    population
                        .agents
                        .iter()
                        .zip(&wealth)
                        .filter(|(a, _)| a.kind == *k)
                        .map(|(_, w)| w)
                        .sum()
                })
                .collect(),
            holders: if self.market_features {
                holder_counts(world, population)
            } else {
                Vec::new()
            },
            volume: if self.market_features {
                curve_volumes(world)
            } else {
                Vec::new()
            },
        }
    }

    pub fn agent_records(&self, world: &World, population: &Population) -> Vec<AgentRecord> {
        let s = spots(world);
        population
            .agents
            .iter()
            .map(|a| {
                let end = wealth(world, a, &s);
                AgentRecord {
                    id: a.id,
                    kind: a.kind.name(),
                    market: a.market,
                    status: format!("{:?}", a.status).to_lowercase(),
                    start_wealth: self.start_wealth[a.id],
                    end_wealth: end,
                    pnl: end - self.start_wealth[a.id],
                    landed: a.landed,
                    refused: a.refused,
                }
            })
            .collect()
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct AssetSummary {
    pub asset: usize,
    /// Per-step volatility of the market price and of the NAV (log returns).
    pub price_volatility: f64,
    pub nav_volatility: f64,
    /// Mean and largest |ln(spot / NAV)|.
    pub mean_gap: f64,
    pub max_gap: f64,
    /// |ln(spot / NAV)| at the end.
    pub final_gap: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct KindSummary {
    pub agents: usize,
    pub total_pnl: f64,
    pub mean_pnl: f64,
    pub landed: u64,
    pub refused: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    pub scenario: String,
    pub seed: u64,
    pub agents: usize,
    pub assets: usize,
    pub steps: u64,
    pub dao: bool,
    pub lending: bool,
    pub per_asset: Vec<AssetSummary>,
    /// Value-weighted system volatility per step (weights: starting capitalisations) of market
    /// prices, and the same of NAVs.
    pub sigma_system: f64,
    pub sigma_system_nav: f64,
    pub mean_price_volatility: f64,
    /// Mean over assets of the per-step log-return volatility over open periods only
    /// (`open_period_volatility`: steps halted from end to end are left out; a halted market's
    /// price cannot move, so counting their zero returns cuts volatility by construction).
    pub open_price_volatility: f64,
    /// The research seeds' volatility: the standard deviation of price levels (quote per token),
    /// mean over assets.
    pub price_level_std: f64,
    /// Share of market-steps spent halted.
    pub halted_share: f64,
    /// Mean |ln(spot / NAV)| over assets and steps.
    pub mean_gap: f64,
    /// Total PnL (quote tokens, marked at the market price) of the agents that trade: every kind
    /// but governors, keepers, referrers and prospects.
    pub traders_pnl: f64,
    pub gini_start: f64,
    pub gini_end: f64,
    pub pnl_by_kind: BTreeMap<&'static str, KindSummary>,
    pub breaker_trips: u64,
    pub halted_market_steps: u64,
    pub proposals: u64,
    pub rule_changes: u64,
    pub mean_utilisation: f64,
    pub max_utilisation: f64,
    pub liquidations: u64,
    pub bad_debt: f64,
    pub min_cr: Option<f64>,
    pub min_cr_nav: Option<f64>,
    /// Steps in which some borrower's collateral was worth less than its debt (at the market
    /// price; at the NAV).
    pub underwater_steps: u64,
    pub underwater_steps_nav: u64,
    pub landed: u64,
    pub refused: u64,
    pub refusals: BTreeMap<String, u64>,
    pub timing: Timing,
    pub risk_parity: Option<RiskParitySummary>,
    pub incentives: Option<crate::incentives::IncentiveSummary>,
    pub steps_per_second: f64,
    pub transactions_per_second: f64,
}

#[allow(clippy::too_many_arguments)]
pub fn summarise(
    scenario: &Scenario,
    world: &World,
    steps: &[StepRecord],
    agents: &[AgentRecord],
    timing: Timing,
    landed: u64,
    refused: u64,
) -> RunSummary {
    let m = world.markets.len();
    let series = |f: &dyn Fn(&StepRecord) -> &Vec<f64>| -> Vec<Vec<f64>> {
        (0..m)
            .map(|i| steps.iter().map(|r| f(r)[i]).collect())
            .collect()
    };
    let prices = series(&|r| &r.spot);
    let navs = series(&|r| &r.nav);
    let per_asset: Vec<AssetSummary> = (0..m)
        .map(|i| {
            let gaps: Vec<f64> = prices[i]
                .iter()
                .zip(&navs[i])
                .map(|(p, n)| (p / n).ln().abs())
                .collect();
            AssetSummary {
                asset: i,
                price_volatility: log_return_volatility(&prices[i]),
                nav_volatility: log_return_volatility(&navs[i]),
                mean_gap: gaps.iter().sum::<f64>() / gaps.len().max(1) as f64,
                max_gap: gaps.iter().cloned().fold(0.0, f64::max),
                final_gap: *gaps.last().unwrap_or(&0.0),
            }
        })
        .collect();
    let capitalisation: Vec<f64> = prices.iter().map(|p| p[0]).collect();
    let sigma = |series: &[Vec<f64>]| {
        rwa_agent_core::strategies::governance::sigma_system(
            &return_covariance(series),
            &capitalisation,
        )
    };
    let mut pnl_by_kind: BTreeMap<&'static str, KindSummary> = BTreeMap::new();
    for a in agents {
        let entry = pnl_by_kind.entry(a.kind).or_insert(KindSummary {
            agents: 0,
            total_pnl: 0.0,
            mean_pnl: 0.0,
            landed: 0,
            refused: 0,
        });
        entry.agents += 1;
        entry.total_pnl += a.pnl;
        entry.landed += a.landed;
        entry.refused += a.refused;
    }
    for entry in pnl_by_kind.values_mut() {
        entry.mean_pnl = entry.total_pnl / entry.agents as f64;
    }
    let last = steps.last().expect("a run has steps");
    let open_volatility = |i: usize| -> f64 {
        let halted: Vec<bool> = steps
            .iter()
            .map(|r| r.halted_markets.get(i).copied().unwrap_or(false))
            .collect();
        open_period_volatility(&prices[i], &halted)
    };
    let traders_pnl = agents
        .iter()
        .filter(|a| !matches!(a.kind, "governance" | "keeper" | "referrer" | "prospect"))
        .map(|a| a.pnl)
        .sum();
    let utilisations: Vec<f64> = steps.iter().map(|r| r.utilisation).collect();
    let running = (timing.total - timing.setup).max(1e-9);
    RunSummary {
        scenario: scenario.name.clone(),
        seed: scenario.seed,
        agents: agents.len(),
        assets: m,
        steps: scenario.steps,
        dao: scenario.dao.enabled,
        lending: scenario.lending.enabled,
        mean_price_volatility: per_asset.iter().map(|a| a.price_volatility).sum::<f64>() / m as f64,
        open_price_volatility: (0..m).map(open_volatility).sum::<f64>() / m as f64,
        price_level_std: prices.iter().map(|p| standard_deviation(p)).sum::<f64>() / m as f64,
        halted_share: steps.iter().skip(1).map(|r| r.halted as f64).sum::<f64>()
            / (m as f64 * steps.len().saturating_sub(1).max(1) as f64),
        mean_gap: per_asset.iter().map(|a| a.mean_gap).sum::<f64>() / m as f64,
        traders_pnl,
        per_asset,
        sigma_system: sigma(&prices),
        sigma_system_nav: sigma(&navs),
        gini_start: steps[0].gini,
        gini_end: last.gini,
        pnl_by_kind,
        breaker_trips: last.breaker_trips,
        halted_market_steps: steps.iter().map(|r| r.halted as u64).sum(),
        proposals: world.proposals,
        rule_changes: last.rule_changes,
        mean_utilisation: utilisations.iter().sum::<f64>() / utilisations.len() as f64,
        max_utilisation: utilisations.iter().cloned().fold(0.0, f64::max),
        liquidations: last.liquidations,
        bad_debt: last.bad_debt,
        min_cr: steps.iter().filter_map(|r| r.min_cr).reduce(f64::min),
        underwater_steps: steps
            .iter()
            .filter(|r| r.min_cr.is_some_and(|c| c < 1.0))
            .count() as u64,
        min_cr_nav: steps.iter().filter_map(|r| r.min_cr_nav).reduce(f64::min),
        underwater_steps_nav: steps
            .iter()
            .filter(|r| r.min_cr_nav.is_some_and(|c| c < 1.0))
            .count() as u64,
        landed,
        refused,
        refusals: world.refusals.clone(),
        steps_per_second: scenario.steps as f64 / running,
        transactions_per_second: (landed + refused) as f64 / running,
        timing,
        risk_parity: None,
        incentives: None,
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct RiskParitySummary {
    /// The risk-parity investors' combined risky weights at the end...
    pub weights: Vec<f64>,
    /// ...their ERC targets (mean over investors) and the largest |weight - target|.
    pub targets: Vec<f64>,
    pub target_gap: f64,
    /// Risk contributions as shares of the book's risk under the investors' own model
    /// (Ledoit-Wolf over their window of prices, as they estimate it)...
    pub contributions_ex_ante: Vec<f64>,
    /// ...and under the sample covariance of the same window.
    pub contributions_realised: Vec<f64>,
    /// (max - min) / mean of each: 0 is perfect parity; the claim is "within 5%".
    pub spread_ex_ante: f64,
    pub spread_realised: f64,
    /// Mean / sd of the book's per-step returns (not annualised).
    pub sharpe_per_step: f64,
    /// Target re-solves per investor (on the schedule, or when a weight drifted).
    pub reestimations_per_investor: f64,
    /// The same spread at every rebalance that traded, for the weights right after it: under
    /// the investor's model at that moment (Ledoit-Wolf over the window before) and realised
    /// (sample covariance over the window after, while the weights drift on). Summaries over
    /// all rebalances of all investors.
    pub rebalances: usize,
    pub spread_at_rebalance_ex_ante: SpreadSummary,
    pub spread_at_rebalance_realised: SpreadSummary,
    /// The book's per-step Sharpe times sqrt(252): annualised as if a step were a trading day.
    pub sharpe_annualised_if_daily: f64,
}

/// Median, 90th percentile and largest of a set of spreads, and the share within 5%.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SpreadSummary {
    pub median: f64,
    pub p90: f64,
    pub max: f64,
    pub within_5pct: f64,
}

fn spread_summary(mut spreads: Vec<f64>) -> SpreadSummary {
    spreads.retain(|s| s.is_finite());
    if spreads.is_empty() {
        return SpreadSummary::default();
    }
    spreads.sort_by(f64::total_cmp);
    let at = |q: f64| spreads[((spreads.len() - 1) as f64 * q).round() as usize];
    SpreadSummary {
        median: at(0.5),
        p90: at(0.9),
        max: spreads[spreads.len() - 1],
        within_5pct: spreads.iter().filter(|s| **s <= 0.05).count() as f64 / spreads.len() as f64,
    }
}

fn contribution_shares(cov: &[Vec<f64>], weights: &[f64]) -> (Vec<f64>, f64) {
    let (contributions, sigma) = rwa_agent_core::erc::risk_contributions(cov, weights);
    let shares: Vec<f64> = contributions
        .iter()
        .map(|c| if sigma > 0.0 { c / sigma } else { 0.0 })
        .collect();
    let held: Vec<f64> = shares
        .iter()
        .zip(weights)
        .filter(|(_, w)| **w > 1e-6)
        .map(|(s, _)| *s)
        .collect();
    let mean = held.iter().sum::<f64>() / held.len().max(1) as f64;
    let spread = if mean > 0.0 {
        (held.iter().cloned().fold(f64::MIN, f64::max)
            - held.iter().cloned().fold(f64::MAX, f64::min))
            / mean
    } else {
        f64::NAN
    };
    (shares, spread)
}

/// How close the risk-parity investors' book is to equal risk contributions at the end.
pub fn risk_parity_summary(
    world: &World,
    population: &Population,
    steps: &[StepRecord],
    window_steps: usize,
) -> Option<RiskParitySummary> {
    let investors: Vec<&crate::agents::Agent> = population
        .agents
        .iter()
        .filter(|a| a.kind == Kind::RiskParity)
        .collect();
    if investors.is_empty() {
        return None;
    }
    let m = world.markets.len();
    let spot = spots(world);
    let values: Vec<f64> = (0..m)
        .map(|i| {
            investors
                .iter()
                .filter_map(|a| a.rwa_accounts[i])
                .map(|acc| world.balance(&acc) as f64 * spot[i])
                .sum()
        })
        .collect();
    let total: f64 = values.iter().sum();
    if !(total > 0.0) {
        return None;
    }
    let weights: Vec<f64> = values.iter().map(|v| v / total).collect();
    let held: Vec<&Vec<f64>> = investors
        .iter()
        .filter_map(|a| a.schedule.held_targets.as_ref())
        .collect();
    let targets: Vec<f64> = (0..m)
        .map(|i| held.iter().map(|t| t[i]).sum::<f64>() / held.len().max(1) as f64)
        .collect();
    let target_gap = weights
        .iter()
        .zip(&targets)
        .map(|(w, t)| (w - t).abs())
        .fold(0.0, f64::max);
    let window = &steps[steps.len().saturating_sub(window_steps + 1)..];
    let series: Vec<Vec<f64>> = (0..m)
        .map(|i| window.iter().map(|r| r.spot[i]).collect())
        .collect();
    let (model, _) =
        rwa_agent_core::covariance::ledoit_wolf(&rwa_agent_core::covariance::log_returns(&series));
    let (contributions_ex_ante, spread_ex_ante) = contribution_shares(&model, &weights);
    let (contributions_realised, spread_realised) =
        contribution_shares(&return_covariance(&series), &weights);
    let k = Kind::ALL
        .iter()
        .position(|k| *k == Kind::RiskParity)
        .expect("kind listed");
    let book: Vec<f64> = steps.iter().map(|r| r.wealth_by_kind[k]).collect();
    let returns: Vec<f64> = book
        .windows(2)
        .filter(|w| w[0] > 0.0)
        .map(|w| w[1] / w[0] - 1.0)
        .collect();
    let mean_return = returns.iter().sum::<f64>() / returns.len().max(1) as f64;
    let sd = (returns
        .iter()
        .map(|r| (r - mean_return).powi(2))
        .sum::<f64>()
        / returns.len().saturating_sub(1).max(1) as f64)
        .sqrt();
    let series_between = |from: usize, to: usize| -> Vec<Vec<f64>> {
        (0..m)
            .map(|i| steps[from..to].iter().map(|r| r.spot[i]).collect())
            .collect()
    };
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for investor in &investors {
        for (step, weights) in &investor.rebalances {
            let t = (*step as usize).min(steps.len() - 1);
            if t >= 2 {
                let from = t.saturating_sub(window_steps);
                let (model, _) = rwa_agent_core::covariance::ledoit_wolf(
                    &rwa_agent_core::covariance::log_returns(&series_between(from, t + 1)),
                );
                before.push(contribution_shares(&model, weights).1);
            }
            let to = (t + window_steps + 1).min(steps.len());
            if to >= t + 3 {
                after.push(
                    contribution_shares(&return_covariance(&series_between(t, to)), weights).1,
                );
            }
        }
    }
    let rebalances = investors.iter().map(|a| a.rebalances.len()).sum();
    let sharpe_per_step = if sd > 0.0 { mean_return / sd } else { 0.0 };
    Some(RiskParitySummary {
        rebalances,
        spread_at_rebalance_ex_ante: spread_summary(before),
        spread_at_rebalance_realised: spread_summary(after),
        sharpe_annualised_if_daily: sharpe_per_step * 252f64.sqrt(),
        weights,
        targets,
        target_gap,
        contributions_ex_ante,
        contributions_realised,
        spread_ex_ante,
        spread_realised,
        sharpe_per_step,
        reestimations_per_investor: investors
            .iter()
            .map(|a| a.reestimations as f64)
            .sum::<f64>()
            / investors.len() as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halted_steps_leave_open_period_volatility_alone() {
        // +-1% alternating, then a halt (flat price): the open-period figure ignores the halt,
        // the plain one counts its zero returns
        let mut prices: Vec<f64> = (0..41)
            .map(|t| if t % 2 == 0 { 1.0 } else { 1.01 })
            .collect();
        let mut halted = vec![false; prices.len()];
        let open_only = open_period_volatility(&prices, &halted);
        prices.extend(std::iter::repeat_n(1.0, 40));
        halted.extend(std::iter::repeat_n(true, 40));
        let (open, all) = (
            open_period_volatility(&prices, &halted),
            log_return_volatility(&prices),
        );
        // one zero return into the halt counts (40 of them were +-1%), the 39 inside it do not
        assert!(
            (open - open_only).abs() < 0.02 * open_only,
            "{open} vs {open_only}"
        );
        assert!(all < open_only * 0.75, "{all} vs {open_only}");
        assert_eq!(standard_deviation(&[1.0]), 0.0);
        assert!((standard_deviation(&[1.0, 3.0]) - 2f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn gini_bounds() {
        assert_eq!(gini(&[5.0, 5.0, 5.0, 5.0]), 0.0);
        assert!((gini(&[0.0, 0.0, 0.0, 10.0]) - 0.75).abs() < 1e-12);
        assert!((gini(&[1.0, 2.0, 3.0, 4.0]) - 0.25).abs() < 1e-12);
    }

    #[test]
    fn volatility_of_a_known_series() {
        let prices: Vec<f64> = (0..101)
            .map(|i| if i % 2 == 0 { 1.0 } else { 1.1 })
            .collect();
        let r = 1.1f64.ln();
        // returns alternate +r, -r: sample sd = r * sqrt(n / (n - 1))
        let expected = r * (100.0f64 / 99.0).sqrt();
        assert!((log_return_volatility(&prices) - expected).abs() < 1e-12);
    }
}
