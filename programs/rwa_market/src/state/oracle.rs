use anchor_lang::prelude::*;
use rwa_math::oracle::{ewma_variance, squared_log_return_per_slot, twap, volatility, Observation};
use rwa_math::Decimal;

use crate::constants::ORACLE_CAPACITY;
use crate::errors::MathResultExt;

#[zero_copy(unsafe)]
#[repr(C, packed)]
#[derive(Default, Debug)]
pub struct PriceObservation {
    pub slot: u64,
    /// Quote tokens per whole RWA token, 18-digit fixed point.
    pub price: u128,
}

/// Per-market price history: a ring buffer of (slot, price) written on every trade and by the
/// permissionless `update_oracle`, with an EWMA variance of per-slot log returns. Packed so its
/// layout is identical on SBF and on the host. Other programs and bots read it through the methods
/// below (owner and discriminator checked by `AccountLoader`).
#[account(zero_copy(unsafe))]
#[repr(C, packed)]
#[derive(Debug)]
pub struct PriceOracle {
    pub market: Pubkey,
    pub bump: u8,
    pub ewma_lambda_bps: u16,
    pub twap_window_slots: u64,
    /// Index the next observation is written to.
    pub head: u32,
    /// Observations held (<= capacity).
    pub len: u32,
    pub total_observations: u64,
    /// EWMA of squared log returns per slot between finalized observations, 18-digit fixed point.
    pub ewma_variance: u128,
    /// Observations whose returns are folded into `ewma_variance`.
    pub variance_samples: u64,
    pub observations: [PriceObservation; ORACLE_CAPACITY],
}

impl PriceOracle {
    pub const SIZE: usize = 8 + core::mem::size_of::<PriceOracle>();

    pub fn latest(&self) -> Option<Observation> {
        if self.len == 0 {
            return None;
        }
        let index = (self.head as usize + ORACLE_CAPACITY - 1) % ORACLE_CAPACITY;
        Some(self.observation(index))
    }

    fn observation(&self, index: usize) -> Observation {
        let entry = self.observations[index];
        Observation {
            slot: entry.slot,
            price: Decimal::from_raw(entry.price),
        }
    }

    /// Observations oldest first.
    pub fn chronological(&self) -> impl Iterator<Item = Observation> + '_ {
        let len = self.len as usize;
        let start = (self.head as usize + ORACLE_CAPACITY - len) % ORACLE_CAPACITY;
        (0..len).map(move |offset| self.observation((start + offset) % ORACLE_CAPACITY))
    }

    /// Records the price at `slot`. Within one slot the last price wins; when a new slot starts, the
    /// return between the two previous (now final) observations is folded into the EWMA variance,
    /// so a buy-and-sell inside one slot cannot inject a fake return.
    pub fn record(&mut self, slot: u64, price: Decimal) -> Result<()> {
        if let Some(latest) = self.latest() {
            if latest.slot == slot {
                let index = (self.head as usize + ORACLE_CAPACITY - 1) % ORACLE_CAPACITY;
                self.observations[index].price = price.raw();
                return Ok(());
            }
            if self.len >= 2 {
                let previous_index = (self.head as usize + ORACLE_CAPACITY - 2) % ORACLE_CAPACITY;
                let previous = self.observation(previous_index);
                if !previous.price.is_zero()
                    && !latest.price.is_zero()
                    && latest.slot > previous.slot
                {
                    let sample = squared_log_return_per_slot(
                        previous.price,
                        latest.price,
                        latest.slot - previous.slot,
                    )
                    .or_market_err()?;
                    let variance = ewma_variance(
                        Decimal::from_raw(self.ewma_variance),
                        sample,
                        self.ewma_lambda_bps,
                    )
                    .or_market_err()?;
                    self.ewma_variance = variance.raw();
                    self.variance_samples = self.variance_samples.saturating_add(1);
                }
            }
        }
        let head = self.head as usize;
        self.observations[head] = PriceObservation {
            slot,
            price: price.raw(),
        };
        self.head = ((head + 1) % ORACLE_CAPACITY) as u32;
        self.len = (self.len + 1).min(ORACLE_CAPACITY as u32);
        self.total_observations = self.total_observations.saturating_add(1);
        Ok(())
    }

    /// TWAP over this oracle's configured window, ending at `now`.
    pub fn twap(&self, now: u64) -> Result<Option<Decimal>> {
        self.twap_over(now, self.twap_window_slots)
    }

    pub fn twap_over(&self, now: u64, window_slots: u64) -> Result<Option<Decimal>> {
        twap(self.chronological(), now, window_slots).or_market_err()
    }

    /// Standard deviation of log returns per sqrt(slot).
    pub fn volatility_per_slot(&self) -> Result<Decimal> {
        volatility(Decimal::from_raw(self.ewma_variance)).or_market_err()
    }
}
