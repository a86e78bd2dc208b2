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
}

impl Default for GovernanceParams {
    fn default() -> Self {
        GovernanceParams {
            alpha: 0.7,
            sigma_max: 0.01,
            tighten_above: 0.006,
            relax_below: 0.002,
            lambda: 0.94,
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
    fn votes_by_reward() {
        let p = GovernanceParams::default();
        // a rule that costs a little profit but halves volatility: stability gain wins at alpha 0.7
        assert_eq!(vote(&p, 0.02, 0.015, 0.008, 0.004, 1e-6), Vote::Yes);
        // one that costs a lot of profit for little stability: no
        assert_eq!(vote(&p, 0.5, 0.1, 0.005, 0.0049, 1e-6), Vote::No);
        assert_eq!(vote(&p, 0.1, 0.1, 0.005, 0.005, 1e-6), Vote::Abstain);
    }
}
