use anchor_lang::prelude::*;
use rwa_math::Decimal;

use crate::constants::*;
use crate::errors::MarketError;

/// A market's primary market: the NAV its issuer attests to, and the terms on which authorised
/// participants subscribe and redeem at it. PDA [NAV_SEED, market]. The curve keeps accounting
/// only for the supply it issued itself (`Market::supply`, backed by its reserve); tokens minted
/// here are backed by the issuer, through the redemption vault.
#[account]
#[derive(InitSpace, Debug)]
pub struct NavAttestation {
    pub version: u8,
    pub bump: u8,
    pub subscription_vault_bump: u8,
    pub redemption_vault_bump: u8,
    pub market: Pubkey,
    /// Quote tokens per RWA token, 18-digit fixed point (0: never published).
    pub nav: u128,
    /// The publisher's stated uncertainty of `nav` (bps of it).
    pub confidence_bps: u16,
    pub publish_slot: u64,
    pub publish_unix_time: i64,
    /// EWMA over publications of the squared log NAV change per elapsed slot (18-digit): the
    /// NAV's own volatility, for lending's collateral ratio.
    pub nav_variance_per_slot: u128,
    pub publications: u64,
    /// Subscriptions and redemptions need a NAV at most this old and this uncertain.
    pub max_staleness_slots: u64,
    pub max_confidence_bps: u16,
    pub subscribe_fee_bps: u16,
    pub redeem_fee_bps: u16,
    /// At most `redemption_cap_per_window` RWA base units redeemed per `redemption_window_slots`.
    pub redemption_window_slots: u64,
    pub redemption_cap_per_window: u64,
    pub window_start_slot: u64,
    pub redeemed_in_window: u64,
    /// Cumulative RWA base units minted by subscriptions and burned by redemptions.
    pub primary_minted: u64,
    pub primary_burned: u64,
    /// Quote paid by subscribers (the issuer's to withdraw) and quote the issuer puts up for
    /// redemptions (anyone may fund it with a plain token transfer).
    pub subscription_vault: Pubkey,
    pub redemption_vault: Pubkey,
    pub reserved: [u64; 8],
}

impl NavAttestation {
    /// The NAV, if fresh and certain enough at `slot` for the primary market to use it.
    pub fn usable_nav(&self, slot: u64) -> Result<Decimal> {
        require!(
            self.nav > 0 && slot.saturating_sub(self.publish_slot) <= self.max_staleness_slots,
            MarketError::NavStale
        );
        require!(
            self.confidence_bps <= self.max_confidence_bps,
            MarketError::NavTooUncertain
        );
        Ok(Decimal::from_raw(self.nav))
    }

    /// Counts `amount` against the redemption window at `slot` (a new window resets it).
    pub fn count_redemption(&mut self, slot: u64, amount: u64) -> Result<()> {
        if slot
            >= self
                .window_start_slot
                .saturating_add(self.redemption_window_slots)
        {
            self.window_start_slot = slot;
            self.redeemed_in_window = 0;
        }
        let total = self.redeemed_in_window.saturating_add(amount);
        require_gte!(
            self.redemption_cap_per_window,
            total,
            MarketError::RedemptionCapExceeded
        );
        self.redeemed_in_window = total;
        Ok(())
    }

    /// Records a publication at `slot`, updating the NAV volatility (per elapsed slot, so a
    /// publisher's cadence does not change it).
    pub fn record(&mut self, nav: u128, confidence_bps: u16, slot: u64, unix_time: i64) {
        if self.nav > 0 && slot > self.publish_slot {
            let elapsed = slot - self.publish_slot;
            let sample = rwa_math::oracle::squared_log_return(
                Decimal::from_raw(self.nav),
                Decimal::from_raw(nav),
            )
            .mul_div_int(1, elapsed as u128, rwa_math::Rounding::Up)
            .unwrap_or(Decimal::MAX);
            self.nav_variance_per_slot = rwa_math::oracle::ewma_step(
                Decimal::from_raw(self.nav_variance_per_slot),
                sample,
                NAV_EWMA_LAMBDA_BPS,
            )
            .raw();
        }
        self.nav = nav;
        self.confidence_bps = confidence_bps;
        self.publish_slot = slot;
        self.publish_unix_time = unix_time;
        self.publications = self.publications.saturating_add(1);
    }
}

/// An authorised participant of a market's primary market. PDA [PARTICIPANT_SEED, market, wallet];
/// it exists while the wallet is allowed.
#[account]
#[derive(InitSpace, Debug)]
pub struct Participant {
    pub bump: u8,
    pub market: Pubkey,
    pub wallet: Pubkey,
    pub added_slot: u64,
}
