//! Times `erc::solve` on a covariance matrix from a CSV file (one row per line, comma
//! separated), for comparison with other implementations on the same matrix:
//! `cargo run --release -p rwa-agent-core --example erc_time -- cov.csv [tolerance] [repeats]`
//! prints one JSON line: median solve time (us), sweeps, Newton iterations, max relative
//! risk-contribution error. Used by scripts/erc-vs-riskparityportfolio.py.

use std::time::Instant;

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .ok_or("usage: erc_time <cov.csv> [tolerance] [repeats]")?;
    let tolerance: f64 = match args.get(1) {
        Some(t) => t.parse().map_err(|e| format!("tolerance {t}: {e}"))?,
        None => 1e-12,
    };
    let repeats: usize = match args.get(2) {
        Some(r) => r.parse().map_err(|e| format!("repeats {r}: {e}"))?,
        None => 101,
    };
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let cov: Vec<Vec<f64>> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, line)| {
            line.split(',')
                .map(|x| {
                    x.trim()
                        .parse::<f64>()
                        .map_err(|e| format!("{path} line {}: {x}: {e}", i + 1))
                })
                .collect()
        })
        .collect::<Result<_, _>>()?;
    let mut times = Vec::with_capacity(repeats.max(1));
    let mut last = None;
    for _ in 0..repeats.max(1) {
        let start = Instant::now();
        let solution =
            rwa_agent_core::erc::solve(&cov, None, tolerance, 200).map_err(|e| e.to_string())?;
        times.push(start.elapsed().as_secs_f64() * 1e6);
        last = Some(solution);
    }
    times.sort_by(f64::total_cmp);
    let s = last.expect("at least one solve");
    println!(
        "{{\"us\": {:.3}, \"sweeps\": {}, \"iterations\": {}, \"max_relative_error\": {:e}, \"converged\": {}}}",
        times[times.len() / 2],
        s.sweeps,
        s.iterations,
        s.max_relative_error,
        s.converged
    );
    Ok(())
}
