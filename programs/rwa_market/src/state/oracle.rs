use anchor_lang::prelude::*;
use rwa_math::oracle::{self, checkpoint_interval, Accumulator, Checkpoint, Observation};
use rwa_math::Decimal;

use crate::constants::ORACLE_CAPACITY;

#[zero_copy(unsafe)]
#[repr(C, packed)]
#[derive(Default, Debug)]
pub struct PriceCheckpoint {
    /// First slot not included in `cumulative`.
    pub slot: u64,
    /// Slot of the write before this checkpoint: the price was `price_before` from there to `slot`.
    pub prior_write_slot: u64,
    /// Wrapping sum of end-of-slot prices (18-digit fixed point) over all slots before `slot`.
    pub cumulative: u128,
    pub price_before: u128,
}

/// Per-market price oracle: a cumulative time-weighted price accumulator with a ring of
/// checkpoints (a TWAP over any window up to the configured one costs one binary search, and no
/// number of calls can shorten it: checkpoints are at least `window / (capacity - 2)` slots
/// apart), and an EWMA variance of per-slot log returns that decays per elapsed slot.
///
/// Only prices that are expensive to move are written: the curve's spot after settlement (maker
/// fills never: a maker can fill itself at its own price for a few base units), or, during a
/// circuit-breaker halt, the breaker's reference price. Every method is total: reads and writes
/// saturate or wrap, they never return an error, so the oracle can never block trading.
///
/// Packed so its layout is identical on SBF and on the host. Other programs and bots read it
/// through the methods below (owner and discriminator checked by `AccountLoader`).
#[account(zero_copy(unsafe))]
#[repr(C, packed)]
#[derive(Debug)]
pub struct PriceOracle {
    pub market: Pubkey,
    pub bump: u8,
    /// EWMA decay per slot (bps).
    pub ewma_lambda_bps: u16,
    pub twap_window_slots: u64,
    /// Index the next checkpoint is written to.
    pub head: u32,
    /// Checkpoints held (<= capacity).
    pub len: u32,
    /// Checkpoints ever written.
    pub total_observations: u64,
    /// Slot of the latest write.
    pub last_slot: u64,
    /// Latest price written (the current slot's price until the slot ends).
    pub last_price: u128,
    /// End-of-slot price of the last final slot before `last_slot`.
    pub previous_price: u128,
    /// Wrapping sum of end-of-slot prices over all slots before `last_slot`.
    pub cumulative: u128,
    /// EWMA of squared per-slot log returns as of the end of `variance_slot`, 18-digit fixed point.
    pub ewma_variance: u128,
    pub variance_slot: u64,
    /// Slots whose returns were folded into `ewma_variance` by a write.
    pub variance_samples: u64,
    /// Circuit-breaker hold: until this slot (0: none) the oracle keeps the breaker's reference
    /// instead of the spot the halt froze; from it on, readers see `held_spot` (the curve's
    /// latest spot) even before anyone writes, and the next write makes that explicit.
    pub hold_until_slot: u64,
    pub held_spot: u128,
    pub observations: [PriceCheckpoint; ORACLE_CAPACITY],
}

impl PriceOracle {
    pub const SIZE: usize = 8 + core::mem::size_of::<PriceOracle>();

    pub fn accumulator(&self) -> Accumulator {
        Accumulator {
            last_slot: self.last_slot,
            last_price: Decimal::from_raw(self.last_price),
            previous_price: Decimal::from_raw(self.previous_price),
            cumulative: self.cumulative,
            variance: Decimal::from_raw(self.ewma_variance),
            variance_slot: self.variance_slot,
        }
    }

    fn store(&mut self, accumulator: &Accumulator) {
        self.last_slot = accumulator.last_slot;
        self.last_price = accumulator.last_price.raw();
        self.previous_price = accumulator.previous_price.raw();
        self.cumulative = accumulator.cumulative;
        self.ewma_variance = accumulator.variance.raw();
        self.variance_slot = accumulator.variance_slot;
    }

    /// Starts the history at `slot` with `price` (market creation).
    pub fn initialize(&mut self, slot: u64, price: Decimal) {
        let accumulator = Accumulator::new(slot, price);
        self.store(&accumulator);
        self.head = 0;
        self.len = 0;
        self.push(Checkpoint {
            slot,
            cumulative: 0,
            price_before: price,
            prior_write_slot: slot,
        });
    }

    fn push(&mut self, checkpoint: Checkpoint) {
        let head = self.head as usize % ORACLE_CAPACITY;
        self.observations[head] = PriceCheckpoint {
            slot: checkpoint.slot,
            prior_write_slot: checkpoint.prior_write_slot,
            cumulative: checkpoint.cumulative,
            price_before: checkpoint.price_before.raw(),
        };
        self.head = ((head + 1) % ORACLE_CAPACITY) as u32;
        self.len = (self.len + 1).min(ORACLE_CAPACITY as u32);
        self.total_observations = self.total_observations.saturating_add(1);
    }

    /// The k-th checkpoint, oldest first.
    pub fn checkpoint(&self, k: usize) -> Checkpoint {
        let len = self.len as usize;
        let start = (self.head as usize + ORACLE_CAPACITY - len) % ORACLE_CAPACITY;
        let entry = self.observations[(start + k) % ORACLE_CAPACITY];
        Checkpoint {
            slot: entry.slot,
            cumulative: entry.cumulative,
            price_before: Decimal::from_raw(entry.price_before),
            prior_write_slot: entry.prior_write_slot,
        }
    }

    /// Records `price` at `slot`: within one slot the last price wins; when a new slot starts the
    /// previous one is finalised (cumulative price, variance) and a checkpoint is written if the
    /// newest is at least one checkpoint interval old. A trade's write ends any breaker hold
    /// (trading resumed). Never fails.
    pub fn record(&mut self, slot: u64, price: Decimal) {
        self.release_hold(slot);
        self.write(slot, price);
    }

    /// The breaker tripped at `slot`: hold `reference` until `until`, then the curve's `spot`.
    pub fn hold(&mut self, slot: u64, reference: Decimal, spot: Decimal, until: u64) {
        self.record(slot, reference);
        self.hold_until_slot = until;
        self.held_spot = spot.raw();
    }

    /// A keeper's write of the curve's `spot`: during a hold the oracle keeps the reference (and
    /// remembers the spot for when the hold ends); otherwise a plain record.
    pub fn observe_spot(&mut self, slot: u64, spot: Decimal) {
        if self.hold_until_slot > slot {
            self.held_spot = spot.raw();
            let held = self.spot();
            self.write(slot, held);
        } else {
            self.record(slot, spot);
        }
    }

    /// Ends a pending hold no later than `slot`: the held spot takes over from the hold's end
    /// (or from `slot`, if trading resumed earlier under shortened rules).
    fn release_hold(&mut self, slot: u64) {
        if self.hold_until_slot == 0 {
            return;
        }
        let at = self.hold_until_slot.min(slot).max(self.last_slot);
        self.hold_until_slot = 0;
        self.write(at, Decimal::from_raw(self.held_spot));
    }

    fn write(&mut self, slot: u64, price: Decimal) {
        let mut accumulator = self.accumulator();
        let started = accumulator.record(slot, price, self.ewma_lambda_bps);
        self.store(&accumulator);
        let Some(prior_write_slot) = started else {
            return;
        };
        self.variance_samples = self.variance_samples.saturating_add(1);
        let interval = checkpoint_interval(self.twap_window_slots, ORACLE_CAPACITY);
        let due = self.len == 0
            || slot
                >= self
                    .checkpoint(self.len as usize - 1)
                    .slot
                    .saturating_add(interval);
        if due {
            self.push(Checkpoint {
                slot,
                cumulative: accumulator.cumulative,
                price_before: accumulator.previous_price,
                prior_write_slot,
            });
        }
    }

    /// The accumulator as readers at `now` see it: a hold that ended before `now` counts as
    /// released at its end (no write needed).
    fn view(&self, now: u64) -> Accumulator {
        let mut accumulator = self.accumulator();
        if self.hold_until_slot > 0 && now > self.hold_until_slot {
            accumulator.record(
                self.hold_until_slot.max(accumulator.last_slot),
                Decimal::from_raw(self.held_spot),
                self.ewma_lambda_bps,
            );
        }
        accumulator
    }

    /// The latest write (slot and price; the price may still change within that slot).
    pub fn latest(&self) -> Option<Observation> {
        (self.len > 0).then(|| Observation {
            slot: self.last_slot,
            price: Decimal::from_raw(self.last_price),
        })
    }

    /// The price as last written: the curve's spot after the latest trade, or the breaker's
    /// reference while a hold lasts.
    pub fn spot(&self) -> Decimal {
        Decimal::from_raw(self.last_price)
    }

    /// The price readers should use at `now`: `spot`, or the held spot once a hold has ended.
    pub fn spot_at(&self, now: u64) -> Decimal {
        self.view(now).last_price
    }

    /// Checkpoint prices oldest first (the price in force up to each checkpoint's slot), then
    /// the latest write: a thinned price history for off-chain statistics.
    pub fn chronological(&self) -> impl Iterator<Item = Observation> + '_ {
        (0..self.len as usize)
            .map(move |k| {
                let c = self.checkpoint(k);
                Observation {
                    slot: c.slot,
                    price: c.price_before,
                }
            })
            .chain(self.latest())
    }

    /// TWAP over this oracle's configured window, ending at `now` (excluded: `now`'s price is
    /// not final). `None` only for an oracle that was never initialised.
    pub fn twap(&self, now: u64) -> Option<Decimal> {
        self.twap_over(now, self.twap_window_slots)
    }

    pub fn twap_over(&self, now: u64, window_slots: u64) -> Option<Decimal> {
        if self.len == 0 {
            return None;
        }
        Some(oracle::twap(
            &self.view(now),
            self.len as usize,
            |k| self.checkpoint(k),
            now,
            window_slots,
        ))
    }

    /// Per-slot variance as of `now` (decayed over the slots since the last write).
    pub fn variance_at(&self, now: u64) -> Decimal {
        self.view(now).variance_at(now, self.ewma_lambda_bps)
    }

    /// Standard deviation of log returns per sqrt(slot), as of `now`.
    pub fn volatility_per_slot(&self, now: u64) -> Decimal {
        oracle::volatility(self.variance_at(now))
    }
}
