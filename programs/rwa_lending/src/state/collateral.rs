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
    /// Cap on the annualised volatility used for the rate and the ratio (18-digit fixed point).
    pub max_sigma: u128,
    /// Cap on the annual borrow rate (18-digit fixed point).
    pub max_rate: u128,
}

impl CollateralParams {
    pub fn validate(&self) -> Result<()> {
        use crate::constants::*;
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
            (1..=MAX_STALENESS_SLOTS).contains(&self.max_staleness_slots)
                && self.max_confidence_bps > 0
                && self.max_confidence_bps <= 10_000
                && self.max_divergence_bps <= 10_000
                && self.pyth_max_age_secs <= MAX_PYTH_AGE_SECS,
            LendingError::InvalidParams
        );
        require!(
            self.max_sigma > 0
                && self.max_sigma <= MAX_SIGMA_CAP
                && self.r0 <= self.max_rate
                && self.max_rate <= MAX_RATE_CAP
                && self.beta <= MAX_SENSITIVITY
                && self.gamma <= MAX_SENSITIVITY,
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
    /// From the last refresh: mid price (TWAP, or Pyth), the low price borrowing limits use (the
    /// lower of TWAP, spot and Pyth, less the confidence band), volatility per sqrt(slot),
    /// annualised volatility (capped), rate (capped and ramped) and collateral ratio.
    pub price: u128,
    pub price_low: u128,
    pub sigma_slot: u128,
    pub sigma: u128,
    pub rate: u128,
    pub cr_bps: u64,
    pub last_refresh_slot: u64,
    /// Price liquidation limits use: the TWAP (or Pyth) less the confidence band. Never the
    /// spot, which one trade can move within a slot.
    pub price_liquidation: u128,
    /// The market oracle's one-sigma band over its window (bps, uncapped): borrows refuse above
    /// `max_confidence_bps`; valuations cap the band there and never refuse.
    pub confidence_bps: u64,
    /// Slot of the market oracle's latest write: borrows refuse when it is older than
    /// `max_staleness_slots` (repay and liquidation never do).
    pub oracle_slot: u64,
    /// Whether the market has a primary market with an attested NAV (rwa_market's NAV account).
    pub nav_present: bool,
    /// The NAV at the last refresh (0: none published); valuations use the lower of it and the
    /// market's prices while it is fresh.
    pub nav_price: u128,
    /// The NAV's publish slot, the last slot it counts as fresh (the issuer's own staleness
    /// limit) and its confidence band (bps): borrows refuse on a stale or too uncertain NAV.
    pub nav_slot: u64,
    pub nav_fresh_until_slot: u64,
    pub nav_confidence_bps: u64,
}
