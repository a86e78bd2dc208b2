//! Exogenous fundamentals: correlated log-normal NAV paths with crashes, correlated drops and
//! volatility regimes. The whole path is drawn before the run from its own random stream, so two
//! runs with the same seed (say with and without the DAO) see identical fundamentals.

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

use crate::scenario::{Scenario, Shock};

/// A seeded random stream. ChaCha8 is specified bit for bit, so a seed means the same run on
/// every machine and every version of this crate's dependencies.
pub struct Rng(ChaCha8Rng);

impl Rng {
    /// A stream for (`seed`, `stream`): independent streams for independent purposes.
    pub fn new(seed: u64, stream: u64) -> Rng {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(stream);
        Rng(rng)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller; one draw per call keeps the stream easy to reason about).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // (0, 1]
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// Lower-triangular L with L L' = `a`; `None` unless `a` is symmetric positive semi-definite
/// (a zero-volatility asset has a zero row).
pub fn cholesky(a: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = a.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        if a[i].len() != n {
            return None;
        }
        for j in 0..=i {
            if (a[i][j] - a[j][i]).abs() > 1e-12 * (1.0 + a[i][j].abs()) {
                return None;
            }
            let sum: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let d = a[i][i] - sum;
                if d < -1e-15 || d.is_nan() {
                    return None;
                }
                l[i][j] = d.max(0.0).sqrt();
            } else if l[j][j] > 0.0 {
                l[i][j] = (a[i][j] - sum) / l[j][j];
            } else if (a[i][j] - sum).abs() > 1e-15 {
                return None;
            }
        }
    }
    Some(l)
}

/// NAV of every asset at every step (`nav[t][i]`, t = 0..=steps).
#[derive(Clone, Debug)]
pub struct NavPaths {
    pub nav: Vec<Vec<f64>>,
}

impl NavPaths {
    pub fn generate(scenario: &Scenario) -> NavPaths {
        let m = scenario.assets.count;
        let cov = scenario.covariance();
        let chol = cholesky(&cov).expect("scenario validated the covariance");
        let mean_vol = (0..m).map(|i| cov[i][i].sqrt()).sum::<f64>() / m as f64;
        let mut rng = Rng::new(scenario.seed, 1);
        let mut log_nav = vec![scenario.assets.nav.ln(); m];
        let mut nav = vec![log_nav.iter().map(|x| x.exp()).collect::<Vec<f64>>()];
        for t in 1..=scenario.steps {
            let factor = scenario
                .shocks
                .iter()
                .filter_map(|s| match s {
                    Shock::Volatility {
                        step,
                        factor,
                        until,
                    } if t >= *step && until.is_none_or(|u| t < u) => Some(*factor),
                    _ => None,
                })
                .product::<f64>();
            let z: Vec<f64> = (0..m).map(|_| rng.normal()).collect();
            for i in 0..m {
                let shock: f64 = (0..=i).map(|k| chol[i][k] * z[k]).sum::<f64>() * factor;
                let variance = cov[i][i] * factor * factor;
                // Ito correction keeps E[NAV] on the drift.
                log_nav[i] += scenario.assets.drift - 0.5 * variance + shock;
            }
            for s in &scenario.shocks {
                match s {
                    Shock::Crash { step, asset, size } if *step == t => {
                        for (i, x) in log_nav.iter_mut().enumerate() {
                            if asset.is_none_or(|a| a == i) {
                                *x += (1.0 - size).ln();
                            }
                        }
                    }
                    Shock::CorrelatedDrop { step, size } if *step == t => {
                        for (i, x) in log_nav.iter_mut().enumerate() {
                            let scaled = if mean_vol > 0.0 {
                                size * cov[i][i].sqrt() / mean_vol
                            } else {
                                *size
                            };
                            *x += (1.0 - scaled.min(0.95)).ln();
                        }
                    }
                    _ => {}
                }
            }
            nav.push(log_nav.iter().map(|x| x.exp()).collect());
        }
        NavPaths { nav }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_reconstructs_and_refuses_indefinite() {
        let a = vec![
            vec![4.0, 2.0, 0.4],
            vec![2.0, 3.0, 0.3],
            vec![0.4, 0.3, 1.0],
        ];
        let l = cholesky(&a).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let v: f64 = (0..3).map(|k| l[i][k] * l[j][k]).sum();
                assert!((v - a[i][j]).abs() < 1e-12);
            }
        }
        assert!(cholesky(&[vec![1.0, 2.0], vec![2.0, 1.0]]).is_none());
        assert!(cholesky(&[vec![1.0, 0.5], vec![0.4, 1.0]]).is_none());
    }

    #[test]
    fn streams_are_deterministic_and_distinct() {
        let draw = |seed, stream| {
            let mut r = Rng::new(seed, stream);
            (0..4).map(|_| r.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draw(3, 1), draw(3, 1));
        assert_ne!(draw(3, 1), draw(3, 2));
        assert_ne!(draw(3, 1), draw(4, 1));
    }

    #[test]
    fn sample_moments_match_the_covariance() {
        let scenario = crate::scenario::Scenario::parse(
            r#"
name = "moments"
steps = 20000
[assets]
count = 2
volatility = [0.01, 0.02]
correlation = 0.6
[agents]
count = 2
"#,
            "test",
        )
        .unwrap();
        let paths = NavPaths::generate(&scenario);
        let r: Vec<[f64; 2]> = paths
            .nav
            .windows(2)
            .map(|w| [(w[1][0] / w[0][0]).ln(), (w[1][1] / w[0][1]).ln()])
            .collect();
        let n = r.len() as f64;
        let mean = |i: usize| r.iter().map(|x| x[i]).sum::<f64>() / n;
        let (m0, m1) = (mean(0), mean(1));
        let var0 = r.iter().map(|x| (x[0] - m0).powi(2)).sum::<f64>() / n;
        let var1 = r.iter().map(|x| (x[1] - m1).powi(2)).sum::<f64>() / n;
        let c01 = r.iter().map(|x| (x[0] - m0) * (x[1] - m1)).sum::<f64>() / n;
        assert!((var0.sqrt() / 0.01 - 1.0).abs() < 0.03, "{}", var0.sqrt());
        assert!((var1.sqrt() / 0.02 - 1.0).abs() < 0.03, "{}", var1.sqrt());
        assert!((c01 / (var0 * var1).sqrt() - 0.6).abs() < 0.03);
    }

    #[test]
    fn crash_and_correlated_drop_land_on_their_step() {
        let scenario = crate::scenario::Scenario::parse(
            r#"
name = "shocks"
steps = 10
[assets]
count = 2
volatility = [0.0]
[agents]
count = 2
[[shock]]
kind = "crash"
step = 3
asset = 1
size = 0.3
[[shock]]
kind = "correlated_drop"
step = 6
size = 0.2
"#,
            "test",
        )
        .unwrap();
        let nav = NavPaths::generate(&scenario).nav;
        assert!((nav[2][1] - 1.0).abs() < 1e-12 && (nav[3][1] - 0.7).abs() < 1e-12);
        assert!((nav[3][0] - 1.0).abs() < 1e-12);
        assert!((nav[6][0] - 0.8).abs() < 1e-12 && (nav[6][1] - 0.56).abs() < 1e-12);
    }
}
