//! Covariance estimation from price history: log returns, the sample covariance, and Ledoit-Wolf
//! shrinkage towards a scaled identity (well-conditioned even with few observations).

/// Log returns of each asset's price series (all series the same length, prices > 0).
pub fn log_returns(prices: &[Vec<f64>]) -> Vec<Vec<f64>> {
    prices
        .iter()
        .map(|series| series.windows(2).map(|w| (w[1] / w[0]).ln()).collect())
        .collect()
}

/// Sample covariance (divisor T) of returns given per asset.
pub fn sample_covariance(returns: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n = returns.len();
    let t = returns.first().map_or(0, |r| r.len());
    if t == 0 {
        return vec![vec![0.0; n]; n];
    }
    let means: Vec<f64> = returns
        .iter()
        .map(|r| r.iter().sum::<f64>() / t as f64)
        .collect();
    let mut cov = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in i..n {
            let c = (0..t)
                .map(|k| (returns[i][k] - means[i]) * (returns[j][k] - means[j]))
                .sum::<f64>()
                / t as f64;
            cov[i][j] = c;
            cov[j][i] = c;
        }
    }
    cov
}

/// Ledoit-Wolf (2004) shrinkage towards m*I, m the average variance. Returns the shrunk matrix and
/// the shrinkage intensity in [0, 1].
pub fn ledoit_wolf(returns: &[Vec<f64>]) -> (Vec<Vec<f64>>, f64) {
    let n = returns.len();
    let t = returns.first().map_or(0, |r| r.len());
    let sample = sample_covariance(returns);
    if n == 0 || t < 2 {
        return (sample, 0.0);
    }
    let means: Vec<f64> = returns
        .iter()
        .map(|r| r.iter().sum::<f64>() / t as f64)
        .collect();
    let m = (0..n).map(|i| sample[i][i]).sum::<f64>() / n as f64;
    let mut d2 = 0.0;
    for i in 0..n {
        for j in 0..n {
            let target = if i == j { m } else { 0.0 };
            d2 += (sample[i][j] - target).powi(2);
        }
    }
    d2 /= n as f64;
    let mut b2 = 0.0;
    for k in 0..t {
        let x: Vec<f64> = (0..n).map(|i| returns[i][k] - means[i]).collect();
        for i in 0..n {
            for j in 0..n {
                b2 += (x[i] * x[j] - sample[i][j]).powi(2);
            }
        }
    }
    b2 /= n as f64 * (t as f64).powi(2);
    let b2 = b2.min(d2);
    let shrinkage = if d2 > 0.0 { b2 / d2 } else { 1.0 };
    let mut shrunk = sample.clone();
    for (i, row) in shrunk.iter_mut().enumerate() {
        for (j, value) in row.iter_mut().enumerate() {
            let target = if i == j { m } else { 0.0 };
            *value = shrinkage * target + (1.0 - shrinkage) * *value;
        }
    }
    (shrunk, shrinkage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_covariance_of_known_series() {
        let returns = vec![vec![1.0, -1.0, 1.0, -1.0], vec![2.0, -2.0, 2.0, -2.0]];
        let cov = sample_covariance(&returns);
        assert!(
            (cov[0][0] - 1.0).abs() < 1e-12
                && (cov[1][1] - 4.0).abs() < 1e-12
                && (cov[0][1] - 2.0).abs() < 1e-12
        );
    }

    #[test]
    fn shrinkage_pulls_towards_identity_and_stays_symmetric() {
        // three assets, five observations: the sample is singular, the shrunk matrix is not
        let returns = vec![
            vec![0.01, -0.02, 0.015, 0.0, -0.01],
            vec![0.02, -0.01, 0.01, 0.005, -0.02],
            vec![-0.01, 0.0, 0.02, -0.01, 0.01],
        ];
        let (shrunk, intensity) = ledoit_wolf(&returns);
        assert!((0.0..=1.0).contains(&intensity) && intensity > 0.0);
        for i in 0..3 {
            assert!(shrunk[i][i] > 0.0);
            for j in 0..3 {
                assert_eq!(shrunk[i][j], shrunk[j][i]);
            }
        }
        assert_eq!(log_returns(&[vec![1.0, std::f64::consts::E]])[0][0], 1.0);
    }
}
