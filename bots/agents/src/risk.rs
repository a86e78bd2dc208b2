//! `rwa-agents risk erc`: equal (or budgeted) risk contribution weights from a covariance CSV.

use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct ErcOutput {
    pub weights: Vec<f64>,
    pub risk_contributions: Vec<f64>,
    pub portfolio_volatility: f64,
    /// Coordinate-descent sweeps, then Newton iterations (`rwa_agent_core::erc::solve`).
    pub sweeps: usize,
    pub iterations: usize,
    pub max_relative_error: f64,
    pub converged: bool,
    /// Median solve time over the repeats, microseconds, I/O excluded.
    pub solve_us: f64,
    pub repeats: usize,
}

/// Numbers separated by commas and/or whitespace, one matrix row per non-empty line ('#' comments).
pub fn parse_matrix(text: &str) -> Result<Vec<Vec<f64>>> {
    let mut rows = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let row: Result<Vec<f64>> = line
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|cell| !cell.is_empty())
            .map(|cell| {
                cell.parse::<f64>()
                    .map_err(|_| anyhow!("line {}: {cell:?} is not a number", number + 1))
            })
            .collect();
        rows.push(row?);
    }
    if rows.is_empty() {
        bail!("no numbers found");
    }
    Ok(rows)
}

pub fn erc(cov_csv: &str, budgets_csv: Option<&str>, repeats: usize) -> Result<ErcOutput> {
    let cov = parse_matrix(cov_csv).context("covariance")?;
    let n = cov.len();
    if cov.iter().any(|row| row.len() != n) {
        bail!("covariance must be square: {n} rows but a row has a different length");
    }
    for i in 0..n {
        for j in 0..i {
            if (cov[i][j] - cov[j][i]).abs()
                > 1e-12 * (cov[i][j].abs() + cov[j][i].abs()).max(1e-300)
            {
                bail!(
                    "covariance must be symmetric: entry ({i},{j}) = {} but ({j},{i}) = {}",
                    cov[i][j],
                    cov[j][i]
                );
            }
        }
    }
    let budgets = match budgets_csv {
        Some(text) => Some(
            parse_matrix(text)
                .context("budgets")?
                .into_iter()
                .flatten()
                .collect::<Vec<f64>>(),
        ),
        None => None,
    };
    let repeats = repeats.max(1);
    let mut times = Vec::with_capacity(repeats);
    let mut solution = None;
    for _ in 0..repeats {
        let start = Instant::now();
        let solved = rwa_agent_core::erc::solve(&cov, budgets.as_deref(), 1e-10, 200)
            .map_err(|e| anyhow!("{e}"))?;
        times.push(start.elapsed().as_secs_f64() * 1e6);
        solution = Some(solved);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let s = solution.ok_or_else(|| anyhow!("no solve ran"))?;
    Ok(ErcOutput {
        weights: s.weights,
        risk_contributions: s.risk_contributions,
        portfolio_volatility: s.portfolio_volatility,
        sweeps: s.sweeps,
        iterations: s.iterations,
        max_relative_error: s.max_relative_error,
        converged: s.converged,
        solve_us: times[times.len() / 2],
        repeats,
    })
}
