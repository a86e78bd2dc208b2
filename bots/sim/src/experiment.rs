//! The built-in experiments, each testing one research claim on paired runs (same seed, same
//! fundamentals, one thing changed) and reporting what it finds with a confidence interval.

use std::fmt::Write as _;

use serde::Serialize;

use crate::scenario::Scenario;
use crate::{run, RunOptions, RunOutput, SimError};

/// Two-sided 95% Student-t quantile for `df` degrees of freedom.
pub fn t_quantile_95(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => TABLE[df - 1],
        _ => 1.96,
    }
}

/// Mean and 95% confidence interval of paired log ratios, reported as ratios.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct RatioEstimate {
    pub ratio: f64,
    pub low: f64,
    pub high: f64,
    pub pairs: usize,
}

pub fn ratio_estimate(treated: &[f64], control: &[f64]) -> RatioEstimate {
    let logs: Vec<f64> = treated
        .iter()
        .zip(control)
        .filter(|(t, c)| **t > 0.0 && **c > 0.0)
        .map(|(t, c)| (t / c).ln())
        .collect();
    let n = logs.len();
    let mean = logs.iter().sum::<f64>() / n.max(1) as f64;
    let sd = if n > 1 {
        (logs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        f64::NAN
    };
    let half = t_quantile_95(n.saturating_sub(1)) * sd / (n as f64).sqrt();
    RatioEstimate {
        ratio: mean.exp(),
        low: (mean - half).exp(),
        high: (mean + half).exp(),
        pairs: n,
    }
}

/// "{what}: {with} X%, {without} Y%; ratio R (95% CI ..)" for a percentage metric of the two
/// arms over paired seeds.
fn percent_comparison(
    what: &str,
    (with, without): (&str, &str),
    treated: &[f64],
    control: &[f64],
) -> String {
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let ratio = ratio_estimate(treated, control);
    format!(
        "{what}: {with} {:.2}%, {without} {:.2}%; ratio {:.3} (95% CI {:.3}..{:.3}, {} seeds)",
        mean(treated) * 100.0,
        mean(control) * 100.0,
        ratio.ratio,
        ratio.low,
        ratio.high,
        treated.len()
    )
}

#[derive(Clone, Debug, Serialize)]
pub struct Pair {
    pub seed: u64,
    pub treated: crate::metrics::RunSummary,
    pub control: crate::metrics::RunSummary,
}

#[derive(Clone, Debug, Serialize)]
pub struct ExperimentReport {
    pub experiment: String,
    pub scenario: String,
    pub treated: String,
    pub control: String,
    pub pairs: Vec<Pair>,
    /// Treated / control, geometric mean over seeds with 95% CI.
    pub price_volatility: RatioEstimate,
    pub sigma_system: RatioEstimate,
    pub notes: Vec<String>,
}

fn paired(
    scenario: &Scenario,
    seeds: &[u64],
    progress: bool,
    mut arms: impl FnMut(&Scenario) -> Result<(RunOutput, RunOutput), SimError>,
) -> Result<Vec<Pair>, SimError> {
    let mut pairs = Vec::new();
    for &seed in seeds {
        let mut s = scenario.clone();
        s.seed = seed;
        if progress {
            eprintln!("seed {seed}: two runs");
        }
        let (treated, control) = arms(&s)?;
        pairs.push(Pair {
            seed,
            treated: treated.summary,
            control: control.summary,
        });
    }
    Ok(pairs)
}

fn report(
    experiment: &str,
    scenario: &Scenario,
    treated: &str,
    control: &str,
    pairs: Vec<Pair>,
    notes: Vec<String>,
) -> ExperimentReport {
    let collect = |f: &dyn Fn(&crate::metrics::RunSummary) -> f64| -> (Vec<f64>, Vec<f64>) {
        (
            pairs.iter().map(|p| f(&p.treated)).collect(),
            pairs.iter().map(|p| f(&p.control)).collect(),
        )
    };
    let (t, c) = collect(&|s| s.mean_price_volatility);
    let price_volatility = ratio_estimate(&t, &c);
    let (t, c) = collect(&|s| s.sigma_system);
    let sigma_system = ratio_estimate(&t, &c);
    ExperimentReport {
        experiment: experiment.into(),
        scenario: scenario.name.clone(),
        treated: treated.into(),
        control: control.into(),
        pairs,
        price_volatility,
        sigma_system,
        notes,
    }
}

/// Coordination: the same market with the governors voting on circuit breakers (treated) and
/// with the governors idle (control); every other agent, the seed and the NAV paths identical.
pub fn coordination(
    scenario: &Scenario,
    seeds: &[u64],
    options: RunOptions,
) -> Result<ExperimentReport, SimError> {
    if !scenario.dao.enabled {
        return Err(SimError::Scenario(format!(
            "{}: the coordination experiment needs dao.enabled",
            scenario.name
        )));
    }
    let pairs = paired(scenario, seeds, options.progress, |s| {
        Ok((
            run(
                s,
                RunOptions {
                    dao: true,
                    ..options
                },
            )?,
            run(
                s,
                RunOptions {
                    dao: false,
                    ..options
                },
            )?,
        ))
    })?;
    let notes = vec![format!(
        "claim tested: coordination cuts volatility ~30% (ratio ~0.70); rule changes per treated run: {:?}",
        pairs.iter().map(|p| p.treated.rule_changes).collect::<Vec<_>>()
    )];
    Ok(report(
        "coordination",
        scenario,
        "governors vote on breakers",
        "governors idle",
        pairs,
        notes,
    ))
}

/// Coordination done so it cannot flatter itself: three arms on paired seeds, no rules (the
/// DAO idle, breakers off), fixed rules (the tightened breaker from genesis, never changed) and
/// adaptive rules voted by every staked agent by R_i = alpha profit + (1 - alpha) stability with
/// its realised profit and sigma_system, swept over `alphas`. Volatility over open periods only
/// next to volatility including halts, the seeds' standard deviation of price levels, the halted
/// share, the gap to NAV and traders' PnL, each with a 95% CI and its paired difference from
/// the no-rules arm.
pub fn coordination_sweep(
    scenario: &Scenario,
    seeds: &[u64],
    options: RunOptions,
    alphas: &[f64],
) -> Result<crate::incentives::SweepReport<crate::metrics::RunSummary>, SimError> {
    if !scenario.dao.enabled {
        return Err(SimError::Scenario(format!(
            "{}: the coordination sweep needs dao.enabled",
            scenario.name
        )));
    }
    let mut arms = vec![
        (
            "no rules".to_string(),
            scenario.clone(),
            RunOptions {
                dao: false,
                ..options
            },
        ),
        {
            let mut fixed = scenario.clone();
            fixed.dao.fixed_rules = true;
            ("fixed rules".to_string(), fixed, options)
        },
    ];
    for &alpha in alphas {
        let mut adaptive = scenario.clone();
        adaptive.dao.fixed_rules = false;
        adaptive.dao.alpha = alpha;
        adaptive.validate()?;
        arms.push((format!("alpha={alpha}"), adaptive, options));
    }
    type S = crate::metrics::RunSummary;
    let metrics: [crate::incentives::Metric<S>; 8] = [
        ("price volatility over open periods (%/step)", |s: &S| {
            s.open_price_volatility * 100.0
        }),
        ("price volatility including halts (%/step)", |s: &S| {
            s.mean_price_volatility * 100.0
        }),
        ("sigma_system (%/step)", |s: &S| s.sigma_system * 100.0),
        ("std of price levels (quote)", |s: &S| s.price_level_std),
        ("halted market-steps (%)", |s: &S| s.halted_share * 100.0),
        ("mean gap to NAV (%)", |s: &S| s.mean_gap * 100.0),
        ("traders' PnL (quote)", |s: &S| s.traders_pnl),
        ("rule changes", |s: &S| s.rule_changes as f64),
    ];
    let mut report = crate::incentives::sweep(
        "coordination-sweep",
        scenario,
        seeds,
        &arms,
        |out| Ok(out.summary.clone()),
        &metrics,
    )?;
    report.notes.push(
        "claim tested: coordination (agents voting rules by R_i) cuts volatility ~30%; every staked agent votes (traders with their realised PnL, governors with none), sigma_system over the last dao.sigma_window_steps of every market's price".to_string(),
    );
    Ok(report)
}

/// The valuation model as the market's fair value: value traders trading towards V and makers
/// quoting around it (`agents.fair_value = "model"`, treated) against value traders that
/// research the NAV and makers around the TWAP (control), on paired seeds. Reports the gap to
/// NAV and volatility with 95% CIs.
pub fn fair_value(
    scenario: &Scenario,
    seeds: &[u64],
    options: RunOptions,
) -> Result<ExperimentReport, SimError> {
    use crate::scenario::FairValue;
    let pairs = paired(scenario, seeds, options.progress, |s| {
        let mut model = s.clone();
        model.agents.fair_value = FairValue::Model;
        let mut nav = s.clone();
        nav.agents.fair_value = FairValue::Nav;
        Ok((run(&model, options)?, run(&nav, options)?))
    })?;
    let mut notes = vec![
        "claim tested: agents that value the token with the Bayesian model (no NAV research) keep the price as near the NAV as agents that research it".to_string(),
    ];
    for (what, pick) in [
        (
            "mean gap to NAV",
            (|s: &crate::metrics::RunSummary| s.mean_gap) as fn(&crate::metrics::RunSummary) -> f64,
        ),
        ("max gap to NAV (mean over assets)", |s| {
            s.per_asset.iter().map(|a| a.max_gap).sum::<f64>() / s.per_asset.len().max(1) as f64
        }),
        ("price volatility over open periods", |s| {
            s.open_price_volatility
        }),
    ] {
        let treated: Vec<f64> = pairs.iter().map(|p| pick(&p.treated)).collect();
        let control: Vec<f64> = pairs.iter().map(|p| pick(&p.control)).collect();
        notes.push(percent_comparison(
            what,
            ("with V", "with the NAV"),
            &treated,
            &control,
        ));
    }
    let value_pnl = |s: &crate::metrics::RunSummary| {
        s.pnl_by_kind
            .get("value")
            .map(|k| k.total_pnl)
            .unwrap_or(0.0)
    };
    notes.push(format!(
        "value traders' PnL per seed with V / with the NAV: {:?} / {:?}",
        pairs
            .iter()
            .map(|p| value_pnl(&p.treated).round())
            .collect::<Vec<_>>(),
        pairs
            .iter()
            .map(|p| value_pnl(&p.control).round())
            .collect::<Vec<_>>()
    ));
    Ok(report(
        "fair-value",
        scenario,
        "value traders and makers on the valuation model's V",
        "value traders on the NAV, makers on the TWAP",
        pairs,
        notes,
    ))
}

/// Lending through a 30% drop: volatility-driven collateral ratios (the scenario's gamma,
/// treated) against a fixed CRmin (gamma = 0, control).
pub fn lending(
    scenario: &Scenario,
    seeds: &[u64],
    options: RunOptions,
) -> Result<ExperimentReport, SimError> {
    if !scenario.lending.enabled || !(scenario.lending.gamma > 0.0) {
        return Err(SimError::Scenario(format!(
            "{}: the lending experiment needs lending.enabled and lending.gamma > 0",
            scenario.name
        )));
    }
    let pairs = paired(scenario, seeds, options.progress, |s| {
        let mut fixed = s.clone();
        fixed.lending.gamma = 0.0;
        Ok((run(s, options)?, run(&fixed, options)?))
    })?;
    let mut notes = vec![
        "claim tested: volatility-driven lending keeps CR > 100% through a 30% drop".to_string(),
    ];
    for (arm, pick) in [("treated (gamma)", 0), ("control (gamma 0)", 1)] {
        let runs: Vec<&crate::metrics::RunSummary> = pairs
            .iter()
            .map(|p| if pick == 0 { &p.treated } else { &p.control })
            .collect();
        let min_cr = runs
            .iter()
            .filter_map(|r| r.min_cr)
            .fold(f64::MAX, f64::min);
        let min_cr_nav = runs
            .iter()
            .filter_map(|r| r.min_cr_nav)
            .fold(f64::MAX, f64::min);
        notes.push(format!(
            "{arm}: min CR {:.1}% at the market price ({:.1}% at NAV), runs with a borrower under 100% {}/{} ({}/{} at NAV), liquidations {}, bad debt {:.2}",
            min_cr * 100.0,
            min_cr_nav * 100.0,
            runs.iter().filter(|r| r.underwater_steps > 0).count(),
            runs.len(),
            runs.iter().filter(|r| r.underwater_steps_nav > 0).count(),
            runs.len(),
            runs.iter().map(|r| r.liquidations).sum::<u64>(),
            runs.iter().map(|r| r.bad_debt).sum::<f64>()
        ));
    }
    Ok(report(
        "lending",
        scenario,
        "CR = CRmin + gamma sigma",
        "CR = CRmin",
        pairs,
        notes,
    ))
}

/// The primary market at NAV: authorised participants subscribing and redeeming against the curve
/// (treated) against the same run with the primary market closed and the participants idle
/// (control); the seed, the NAV paths and every other agent identical. Reports the gap to NAV
/// with 95% CIs over the paired seeds.
pub fn primary(
    scenario: &Scenario,
    seeds: &[u64],
    options: RunOptions,
) -> Result<ExperimentReport, SimError> {
    if scenario.agents.ap_arbitrageurs == 0 {
        return Err(SimError::Scenario(format!(
            "{}: the primary experiment needs agents.ap_arbitrageurs > 0",
            scenario.name
        )));
    }
    let pairs = paired(scenario, seeds, options.progress, |s| {
        let mut open = s.clone();
        open.primary.enabled = true;
        let mut closed = s.clone();
        closed.primary.enabled = false;
        Ok((run(&open, options)?, run(&closed, options)?))
    })?;
    let mean_over_assets =
        |summary: &crate::metrics::RunSummary, pick: fn(&crate::metrics::AssetSummary) -> f64| {
            summary.per_asset.iter().map(pick).sum::<f64>() / summary.per_asset.len().max(1) as f64
        };
    let mut notes =
        vec!["claim tested: a primary market at NAV keeps the market price near NAV".to_string()];
    for (what, pick) in [
        (
            "mean gap to NAV",
            (|a: &crate::metrics::AssetSummary| a.mean_gap)
                as fn(&crate::metrics::AssetSummary) -> f64,
        ),
        ("max gap to NAV", |a: &crate::metrics::AssetSummary| {
            a.max_gap
        }),
        ("final gap to NAV", |a: &crate::metrics::AssetSummary| {
            a.final_gap
        }),
    ] {
        let treated: Vec<f64> = pairs
            .iter()
            .map(|p| mean_over_assets(&p.treated, pick))
            .collect();
        let control: Vec<f64> = pairs
            .iter()
            .map(|p| mean_over_assets(&p.control, pick))
            .collect();
        notes.push(percent_comparison(
            &format!("{what} (|ln(spot/NAV)|, mean over assets and seeds)"),
            ("with the primary market", "without"),
            &treated,
            &control,
        ));
    }
    let ap_pnl: Vec<f64> = pairs
        .iter()
        .filter_map(|p| {
            p.treated
                .pnl_by_kind
                .get("ap_arbitrage")
                .map(|k| k.total_pnl)
        })
        .collect();
    notes.push(format!(
        "participants' PnL per run (quote tokens): {:?}; lending min CR at NAV with / without: {:?} / {:?}; bad debt with / without: {:.2} / {:.2}",
        ap_pnl.iter().map(|x| (x * 100.0).round() / 100.0).collect::<Vec<_>>(),
        pairs.iter().filter_map(|p| p.treated.min_cr_nav).fold(f64::NAN, f64::min),
        pairs.iter().filter_map(|p| p.control.min_cr_nav).fold(f64::NAN, f64::min),
        pairs.iter().map(|p| p.treated.bad_debt).sum::<f64>(),
        pairs.iter().map(|p| p.control.bad_debt).sum::<f64>(),
    ));
    Ok(report(
        "primary",
        scenario,
        "primary market at NAV, participants arbitraging",
        "no primary market",
        pairs,
        notes,
    ))
}

/// Risk parity: runs with the risk-parity investors and reports how equal their realised risk
/// contributions end up (paired against the same run without them, for the market impact).
pub fn risk_parity(
    scenario: &Scenario,
    seeds: &[u64],
    options: RunOptions,
) -> Result<ExperimentReport, SimError> {
    if scenario.agents.risk_parity == 0 {
        return Err(SimError::Scenario(format!(
            "{}: the risk-parity experiment needs agents.risk_parity > 0",
            scenario.name
        )));
    }
    let mut books = Vec::new();
    let pairs = paired(scenario, seeds, options.progress, |s| {
        let treated = run(s, options)?;
        books.push(treated.summary.risk_parity.clone());
        let mut without = s.clone();
        without.agents.risk_parity = 0;
        Ok((treated, run(&without, options)?))
    })?;
    let per_seed = |f: &dyn Fn(&crate::metrics::RiskParitySummary) -> String| -> String {
        books
            .iter()
            .map(|b| b.as_ref().map(f).unwrap_or_else(|| "-".into()))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let notes = vec![
        "claims tested: risk contributions within 5% of each other; Sharpe > 1.5".to_string(),
        format!(
            "RC spread (max-min)/mean, investors' own model, per seed: {}",
            per_seed(&|b| format!("{:.0}%", b.spread_ex_ante * 100.0))
        ),
        format!(
            "RC spread, realised covariance, per seed:             {}",
            per_seed(&|b| format!("{:.0}%", b.spread_realised * 100.0))
        ),
        format!(
            "largest |weight - ERC target| per seed:               {}",
            per_seed(&|b| format!("{:.3}", b.target_gap))
        ),
        format!(
            "book Sharpe per step per seed: {}",
            per_seed(&|b| format!("{:.3}", b.sharpe_per_step))
        ),
        format!(
            "book Sharpe x sqrt(252) (if a step were a trading day) per seed: {}",
            per_seed(&|b| format!("{:.2}", b.sharpe_annualised_if_daily))
        ),
        format!(
            "RC spread right after each rebalance, investors' model (median / p90 / max, share within 5%) per seed: {}",
            per_seed(&|b| {
                let s = &b.spread_at_rebalance_ex_ante;
                format!("{:.0}/{:.0}/{:.0}% ({:.0}% of {})", s.median * 100.0, s.p90 * 100.0, s.max * 100.0, s.within_5pct * 100.0, b.rebalances)
            })
        ),
        format!(
            "RC spread after each rebalance, realised over the next window (median / p90 / max, share within 5%) per seed: {}",
            per_seed(&|b| {
                let s = &b.spread_at_rebalance_realised;
                format!("{:.0}/{:.0}/{:.0}% ({:.0}%)", s.median * 100.0, s.p90 * 100.0, s.max * 100.0, s.within_5pct * 100.0)
            })
        ),
    ];
    Ok(report(
        "risk-parity",
        scenario,
        "with risk-parity investors",
        "without",
        pairs,
        notes,
    ))
}

/// Per seed, sigma_system of the treated run (blue) next to the control run (orange).
pub fn chart(r: &ExperimentReport) -> String {
    use crate::report::{frame, paired_bars};
    let hi = r
        .pairs
        .iter()
        .map(|p| p.treated.sigma_system.max(p.control.sigma_system))
        .fold(0.0, f64::max)
        .max(1e-12);
    let e = r.sigma_system;
    let mut svg = frame(
        &format!(
            "{} on {}: sigma_system per seed, {} (blue) vs {} (orange); ratio {:.3} [{:.3}, {:.3}]",
            r.experiment, r.scenario, r.treated, r.control, e.ratio, e.low, e.high
        ),
        0.0,
        hi,
        "seed",
    );
    let groups: Vec<(String, [f64; 2])> = r
        .pairs
        .iter()
        .map(|p| {
            (
                p.seed.to_string(),
                [p.treated.sigma_system, p.control.sigma_system],
            )
        })
        .collect();
    svg.push_str(&paired_bars(&groups, hi));
    svg.push_str("</svg>\n");
    svg
}

pub fn table(r: &ExperimentReport) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "experiment {} on {}: {} vs {}",
        r.experiment, r.scenario, r.treated, r.control
    );
    let _ = writeln!(
        t,
        "{:>6} {:>14} {:>14} {:>14} {:>14} {:>8}",
        "seed", "vol treated", "vol control", "sigma treated", "sigma control", "rules"
    );
    for p in &r.pairs {
        let _ = writeln!(
            t,
            "{:>6} {:>14.6} {:>14.6} {:>14.6} {:>14.6} {:>8}",
            p.seed,
            p.treated.mean_price_volatility,
            p.control.mean_price_volatility,
            p.treated.sigma_system,
            p.control.sigma_system,
            p.treated.rule_changes
        );
    }
    let e = r.price_volatility;
    let _ = writeln!(
        t,
        "price volatility ratio {:.3} (95% CI {:.3}-{:.3}, {} pairs)",
        e.ratio, e.low, e.high, e.pairs
    );
    let e = r.sigma_system;
    let _ = writeln!(
        t,
        "sigma_system ratio     {:.3} (95% CI {:.3}-{:.3}, {} pairs)",
        e.ratio, e.low, e.high, e.pairs
    );
    for note in &r.notes {
        if !note.trim().is_empty() {
            let _ = writeln!(t, "{note}");
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_of_identical_arms_is_one_and_ci_shrinks_with_pairs() {
        let e = ratio_estimate(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]);
        assert!((e.ratio - 1.0).abs() < 1e-12 && (e.low - 1.0).abs() < 1e-12);
        let few = ratio_estimate(&[0.7, 0.8, 0.75], &[1.0, 1.0, 1.0]);
        let many = ratio_estimate(&[0.7, 0.8, 0.75, 0.7, 0.8, 0.75, 0.7, 0.8, 0.75], &[1.0; 9]);
        assert!(few.low < many.low && many.high < few.high);
        assert!(few.low < 0.75 && 0.75 < few.high);
    }
}
