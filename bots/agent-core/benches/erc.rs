//! ERC solve time and accuracy for n = 10, 100, 300: damped Newton (the solver the agents use)
//! against cyclical coordinate descent (the baseline) measured in the same run; then strategy tick
//! times (view in, intents out).
//! Run: cargo bench -p rwa-agent-core --bench erc

use std::time::{Duration, Instant};

use rwa_agent_core::erc::{risk_contributions, solve, solve_ccd};
use rwa_agent_core::strategies::{arbitrage, cross_venue, market_maker};
use rwa_agent_core::view::{MarketView, Position, QuoteView, RulesView};
use rwa_math::{Curve, CurveMarket, Decimal};

/// Deterministic pseudo-random SPD matrix: a factor model B B' + D with mixed-sign loadings.
fn matrix(n: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut state = seed;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    };
    let factors = 5;
    let loadings: Vec<Vec<f64>> = (0..n)
        .map(|_| (0..factors).map(|_| next() * 0.1).collect())
        .collect();
    (0..n)
        .map(|i| {
            (0..n)
                .map(|j| {
                    (0..factors)
                        .map(|k| loadings[i][k] * loadings[j][k])
                        .sum::<f64>()
                        + if i == j {
                            0.0004 + 0.0004 * next().abs()
                        } else {
                            0.0
                        }
                })
                .collect()
        })
        .collect()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    println!("ERC, tolerance 1e-8 on risk-contribution shares; factor-model covariance (5 factors, mixed signs)");
    println!(
        "{:>5} {:>12} {:>6} {:>12} {:>14} {:>8} {:>9}",
        "n", "newton", "iters", "max RC err", "ccd baseline", "sweeps", "speedup"
    );
    for (n, repeats) in [(10usize, 201), (100, 31), (300, 7)] {
        let cov = matrix(n, 42 + n as u64);
        let mut times = Vec::new();
        let mut solution = None;
        for _ in 0..repeats {
            let start = Instant::now();
            let s = solve(&cov, None, 1e-8, 200).expect("solves");
            times.push(start.elapsed());
            solution = Some(s);
        }
        let s = solution.expect("ran");
        let (rc, sigma) = risk_contributions(&cov, &s.weights);
        let target = sigma / n as f64;
        let error = rc
            .iter()
            .map(|r| (r - target).abs() / target)
            .fold(0.0, f64::max);
        let mut baseline_times = Vec::new();
        let mut sweeps = 0;
        for _ in 0..3 {
            let start = Instant::now();
            let baseline = solve_ccd(&cov, None, 1e-8, 200_000).expect("solves");
            baseline_times.push(start.elapsed());
            sweeps = baseline.iterations;
        }
        let (ours, theirs) = (median(times), median(baseline_times));
        println!(
            "{:>5} {:>10.1}us {:>6} {:>12.2e} {:>12.1}us {:>8} {:>8.1}x",
            n,
            ours.as_secs_f64() * 1e6,
            s.iterations,
            error,
            theirs.as_secs_f64() * 1e6,
            sweeps,
            theirs.as_secs_f64() / ours.as_secs_f64()
        );
    }

    let curve = CurveMarket::new(
        Curve::Linear {
            slope: Decimal::from_raw(1_000_000_000_000_000),
            intercept: Decimal::ONE,
        },
        6,
        6,
    )
    .expect("curve");
    let quotes: Vec<QuoteView> = (0..8)
        .map(|i| QuoteView {
            maker: i,
            own: false,
            bid_price: 1.09 - i as f64 * 0.001,
            bid_size: 5_000_000,
            ask_price: 1.095 + i as f64 * 0.001,
            ask_size: 5_000_000,
            expiry_slot: 2_000,
        })
        .collect();
    let view = MarketView {
        slot: 1_000,
        curve,
        supply: 100_000_000,
        max_supply: 1_000_000_000_000,
        fee_bps: 30,
        spot: 1.1,
        twap: 1.1,
        volatility: 0.0005,
        quote_band_bps: 1_000,
        paused: false,
        halted_until_slot: 0,
        quotes,
        position: Position {
            rwa: 50_000_000,
            quote: 100_000_000_000,
            sequence: 3,
            resting_mid: Some(1.0),
        },
        rules: RulesView::default(),
        primary: None,
    };
    // a second venue of the same asset 50 tokens further up the same curve (spot 1.15)
    let rich = MarketView {
        supply: 150_000_000,
        spot: 1.15,
        ..view.clone()
    };
    let venues = [
        cross_venue::Venue {
            view: &view,
            cluster: 0,
            rwa_inventory: 0,
            quote_inventory: 100_000_000_000,
        },
        cross_venue::Venue {
            view: &rich,
            cluster: 1,
            rwa_inventory: 100_000_000,
            quote_inventory: 0,
        },
    ];
    println!("\nstrategy tick (market view with 8 maker quotes in, intents out)");
    for (name, run) in [
        (
            "market_maker",
            Box::new(|| {
                market_maker::step(&view, &market_maker::MarketMakerParams::default()).len()
            }) as Box<dyn Fn() -> usize>,
        ),
        (
            "arbitrage (16 candidate sizes)",
            Box::new(|| arbitrage::step(&view, &arbitrage::ArbitrageParams::default()).len()),
        ),
        (
            "cross_venue (2 venues, 16 sizes)",
            Box::new(|| {
                cross_venue::step(&venues, &cross_venue::CrossVenueParams::default())
                    .map_or(0, |t| t.amount as usize)
            }),
        ),
    ] {
        let mut times = Vec::new();
        for _ in 0..501 {
            let start = Instant::now();
            std::hint::black_box(run());
            times.push(start.elapsed());
        }
        println!(
            "{:<32} {:>10.2}us median",
            name,
            median(times).as_secs_f64() * 1e6
        );
    }
}
