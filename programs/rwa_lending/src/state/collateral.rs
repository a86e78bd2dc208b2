use anchor_lang::prelude::*;

/// Risk parameters of one collateral asset (all fixed point 18 digits unless bps).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct CollateralParams {
    /// Base annual borrow rate r0.
    pub r0: u128,
    /// Rate per unit of annualised volatility: r = r0 + beta * sigma.
    pub beta: u128,
    /// Ratio per unit of volatility: CR = CRmin + gamma * sigma.
    pub gamma: u128,
    /// CRmin (bps; 15_000 = 150%).
    pub cr_min_bps: u16,
    /// Below this ratio (bps) the obligation is liquidatable; must be below CRmin.
    pub liquidation_cr_bps: u16,
    pub liquidation_bonus_bps: u16,
    /// Largest share of the debt one liquidation may repay (bps).
    pub close_factor_bps: u16,
    /// Oldest market-oracle observation accepted (slots).
    pub max_staleness_slots: u64,
    /// Largest accepted price uncertainty (bps of price).
    pub max_confidence_bps: u16,
    /// Pyth price feed id; all zero: no Pyth feed, the market TWAP alone prices the asset.
    pub pyth_feed_id: [u8; 32],
    /// Oldest Pyth publish time accepted (seconds).
    pub pyth_max_age_secs: u64,
    /// Largest accepted gap between the Pyth price and the market TWAP (bps).
    pub max_divergence_bps: u16,
}

impl CollateralParams {
    pub fn validate(&self) -> Result<()> {
        use crate::errors::LendingError;
        require!(self.cr_min_bps > 10_000, LendingError::InvalidParams);
        require!(
            self.liquidation_cr_bps > 10_000 && self.liquidation_cr_bps < self.cr_min_bps,
            LendingError::InvalidParams
        );
        require!(
            self.liquidation_bonus_bps <= 2_000,
            LendingError::InvalidParams
        );
        // The bonus must fit under the liquidation ratio, or liquidating would worsen health.
        require!(
            10_000 + self.liquidation_bonus_bps < self.liquidation_cr_bps,
            LendingError::InvalidParams
        );
        require!(
            self.close_factor_bps > 0 && self.close_factor_bps <= 10_000,
            LendingError::InvalidParams
        );
        require!(
            self.max_staleness_slots > 0 && self.max_confidence_bps <= 10_000,
            LendingError::InvalidParams
        );
        Ok(())
    }

    pub fn has_pyth(&self) -> bool {
        self.pyth_feed_id != [0; 32]
    }
}

/// One RWA market accepted as collateral, with the last refreshed price and risk terms.
#[account]
#[derive(InitSpace, Debug)]
pub struct CollateralConfig {
    pub bump: u8,
    pub vault_bump: u8,
    /// Position in the lending market's correlation matrix.
    pub index: u8,
    pub lending_market: Pubkey,
    pub rwa_market: Pubkey,
    pub rwa_mint: Pubkey,
    pub rwa_decimals: u8,
    /// The rwa_market PriceOracle of `rwa_market`.
    pub oracle: Pubkey,
    pub vault: Pubkey,
    pub params: CollateralParams,
    pub total_collateral: u64,
    /// From the last refresh: mid price, low (confidence-biased) price, volatility per sqrt(slot),
    /// annualised volatility, rate and collateral ratio.
    pub price: u128,
    pub price_low: u128,
    pub sigma_slot: u128,
    pub sigma: u128,
    pub rate: u128,
    pub cr_bps: u64,
    pub last_refresh_slot: u64,
}
