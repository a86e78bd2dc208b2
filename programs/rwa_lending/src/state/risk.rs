use anchor_lang::prelude::*;

use crate::constants::MAX_COLLATERALS;

/// Correlations between the lending market's collateral assets (bps, symmetric, unit diagonal);
/// with each asset's live volatility they form the covariance Sigma_ij = rho_ij sigma_i sigma_j.
#[account]
#[derive(InitSpace, Debug)]
pub struct RiskMatrix {
    pub lending_market: Pubkey,
    pub correlations_bps: [[i16; MAX_COLLATERALS]; MAX_COLLATERALS],
    pub updated_slot: u64,
    pub updated_by: Pubkey,
}

impl RiskMatrix {
    pub fn correlation(&self, i: usize, j: usize) -> i16 {
        if i == j {
            10_000
        } else {
            self.correlations_bps[i][j]
        }
    }
}

/// Symmetric, unit diagonal, every entry in [-1, 1].
pub fn correlations_valid(matrix: &[[i16; MAX_COLLATERALS]; MAX_COLLATERALS]) -> bool {
    (0..MAX_COLLATERALS).all(|i| {
        matrix[i][i] == 10_000
            && (0..MAX_COLLATERALS)
                .all(|j| matrix[i][j] == matrix[j][i] && (-10_000..=10_000).contains(&matrix[i][j]))
    })
}
