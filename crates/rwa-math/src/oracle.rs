//! Oracle math: a cumulative time-weighted price accumulator (as Uniswap v2/v3 oracles keep) and
//! an EWMA variance of per-slot log returns that decays per elapsed slot. Pure functions over
//! plain values so the program, the bots and the simulator compute exactly the same numbers.
//!
//! The price path is the curve's spot at the END of each slot (within a slot the last write
//! wins), so a buy and sell inside one slot contributes nothing. `cumulative(t)` is the wrapping
//! sum of end-of-slot prices of every slot before `t`; the TWAP over `[a, b)` is
//! `(cumulative(b) - cumulative(a)) / (b - a)`. Wrapping arithmetic keeps the differences exact
//! while the true sum over any window stays below 2^128 (prices up to 1e12 quote tokens per
//! token over 1.2e6 slots use under 2^121), and it never fails: oracle math is total.
//!
//! Variance: for every slot `s`, `var_s = lambda var_{s-1} + (1 - lambda) r_s^2` with `r_s` the
//! log return of the end-of-slot price. Slots without a write have `r_s = 0`, so calling the
//! oracle more often changes nothing: writes only make explicit what readers can extrapolate.

use crate::decimal::{Decimal, SCALE};
use crate::transcendental::ln;
use crate::Rounding;

/// One price observation (slot, price), for display and off-chain statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Observation {
    pub slot: u64,
    pub price: Decimal,
}

/// A point on the accumulator, kept in a ring so TWAPs over past windows cost one search.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checkpoint {
    /// First slot NOT included in `cumulative`.
    pub slot: u64,
    /// Wrapping sum of end-of-slot prices over all slots before `slot`.
    pub cumulative: u128,
    /// End-of-slot price of every slot in `[prior_write_slot, slot)`: no write happened there.
    pub price_before: Decimal,
    pub prior_write_slot: u64,
}

/// The accumulator's live state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Accumulator {
    /// Slot of the latest write.
    pub last_slot: u64,
    /// Latest price written (the current slot's price until the slot ends).
    pub last_price: Decimal,
    /// End-of-slot price of the slot before `last_slot`'s writes (the last final price).
    pub previous_price: Decimal,
    /// Wrapping sum of end-of-slot prices over all slots before `last_slot`.
    pub cumulative: u128,
    /// EWMA of squared per-slot log returns, as of the end of `variance_slot`.
    pub variance: Decimal,
    pub variance_slot: u64,
}

/// Largest log return one slot can contribute: ln(1e12). A larger jump (or a zero price) is
/// saturated, so the variance stays finite and every later read stays computable.
pub const MAX_LOG_RETURN: Decimal = Decimal::from_raw(27_631_021_115_928_547_000);

/// Beyond this many slots every allowed decay (lambda <= 0.9999) is below 1e-18: zero.
const DECAY_HORIZON_SLOTS: u64 = 1 << 20;

/// lambda^n for lambda in bps (<= 10_000), rounded down; total.
pub fn decay(lambda_bps: u16, slots: u64) -> Decimal {
    let lambda_bps = lambda_bps.min(10_000);
    if lambda_bps == 10_000 || slots == 0 {
        return Decimal::ONE;
    }
    if slots >= DECAY_HORIZON_SLOTS {
        return Decimal::ZERO;
    }
    let mut base = Decimal::from_raw(lambda_bps as u128 * (SCALE / 10_000));
    let mut result = Decimal::ONE;
    let mut n = slots;
    // Both factors are <= 1, so no product can overflow; `unwrap_or` only documents totality.
    while n > 0 {
        if n & 1 == 1 {
            result = result.mul(base, Rounding::Down).unwrap_or(Decimal::ZERO);
        }
        n >>= 1;
        if n > 0 {
            base = base.mul(base, Rounding::Down).unwrap_or(Decimal::ZERO);
        }
        if result.is_zero() {
            break;
        }
    }
    result
}

/// (ln(current / previous))^2, saturated at `MAX_LOG_RETURN`^2; zero when either price is zero
/// (no information, rather than an infinite return).
pub fn squared_log_return(previous: Decimal, current: Decimal) -> Decimal {
    if previous.is_zero() || current.is_zero() || previous == current {
        return Decimal::ZERO;
    }
    let (high, low) = if current >= previous {
        (current, previous)
    } else {
        (previous, current)
    };
    let log_return = high
        .div(low, Rounding::Down)
        .and_then(|ratio| ln(ratio, Rounding::Down))
        .unwrap_or(MAX_LOG_RETURN)
        .min(MAX_LOG_RETURN);
    // MAX_LOG_RETURN^2 ~ 763: far from overflow.
    log_return
        .mul(log_return, Rounding::Down)
        .unwrap_or(Decimal::MAX)
}

/// One EWMA step: lambda * variance + (1 - lambda) * sample, lambda in bps; saturating.
pub fn ewma_step(variance: Decimal, sample: Decimal, lambda_bps: u16) -> Decimal {
    let lambda_bps = lambda_bps.min(10_000) as u128;
    let kept = variance
        .mul_div_int(lambda_bps, 10_000, Rounding::Down)
        .unwrap_or(Decimal::MAX);
    let added = sample
        .mul_div_int(10_000 - lambda_bps, 10_000, Rounding::Down)
        .unwrap_or(Decimal::MAX);
    kept.checked_add(added).unwrap_or(Decimal::MAX)
}

impl Accumulator {
    /// A fresh accumulator whose history starts at `slot` with `price`.
    pub fn new(slot: u64, price: Decimal) -> Self {
        Accumulator {
            last_slot: slot,
            last_price: price,
            previous_price: price,
            cumulative: 0,
            variance: Decimal::ZERO,
            variance_slot: slot,
        }
    }

    /// Cumulative price up to (excluding) `slot`, for `slot >= last_slot`. Earlier slots are
    /// answered with `cumulative` (the accumulator does not go back; checkpoints do).
    pub fn cumulative_at(&self, slot: u64) -> u128 {
        let elapsed = slot.saturating_sub(self.last_slot) as u128;
        self.cumulative
            .wrapping_add(self.last_price.raw().wrapping_mul(elapsed))
    }

    /// The variance after folding `last_slot`'s return, as of the end of `last_slot`.
    fn variance_through_last_slot(&self, lambda_bps: u16) -> Decimal {
        let gap = self.last_slot.saturating_sub(self.variance_slot);
        if gap == 0 {
            return self.variance;
        }
        let decayed = self
            .variance
            .mul(decay(lambda_bps, gap - 1), Rounding::Down)
            .unwrap_or(Decimal::MAX);
        ewma_step(
            decayed,
            squared_log_return(self.previous_price, self.last_price),
            lambda_bps,
        )
    }

    /// Finalises `last_slot` when `slot` is a later one: its end price enters the cumulative sum
    /// and its return the variance. Returns the slot written before, when a new slot started.
    pub fn advance(&mut self, slot: u64, lambda_bps: u16) -> Option<u64> {
        if slot <= self.last_slot {
            return None;
        }
        let prior = self.last_slot;
        self.variance = self.variance_through_last_slot(lambda_bps);
        self.variance_slot = self.last_slot;
        self.cumulative = self.cumulative_at(slot);
        self.previous_price = self.last_price;
        self.last_slot = slot;
        Some(prior)
    }

    /// Writes `price` at `slot` (within a slot the last write wins).
    pub fn record(&mut self, slot: u64, price: Decimal, lambda_bps: u16) -> Option<u64> {
        let started = self.advance(slot, lambda_bps);
        self.last_price = price;
        started
    }

    /// Per-slot variance as of `now`: slots after the last write had zero returns; the current
    /// slot's price is not final yet, so a write in `now` does not count before `now` ends.
    pub fn variance_at(&self, now: u64, lambda_bps: u16) -> Decimal {
        if now > self.last_slot {
            self.variance_through_last_slot(lambda_bps)
                .mul(decay(lambda_bps, now - self.last_slot), Rounding::Down)
                .unwrap_or(Decimal::MAX)
        } else {
            self.variance
                .mul(
                    decay(
                        lambda_bps,
                        self.last_slot.saturating_sub(self.variance_slot),
                    ),
                    Rounding::Down,
                )
                .unwrap_or(Decimal::MAX)
        }
    }

    /// The newest final price as of `now` (the current slot's writes are not final yet).
    pub fn final_price_at(&self, now: u64) -> Decimal {
        if now > self.last_slot {
            self.last_price
        } else {
            self.previous_price
        }
    }

    /// A checkpoint for `now` built from the live state (the end of history).
    pub fn live_checkpoint(&self, now: u64) -> Checkpoint {
        if now > self.last_slot {
            Checkpoint {
                slot: now,
                cumulative: self.cumulative_at(now),
                price_before: self.last_price,
                prior_write_slot: self.last_slot,
            }
        } else {
            Checkpoint {
                slot: self.last_slot,
                cumulative: self.cumulative,
                price_before: self.previous_price,
                prior_write_slot: self.last_slot,
            }
        }
    }
}

/// Slots between two checkpoints so that `capacity` of them span more than `window`.
pub fn checkpoint_interval(window: u64, capacity: usize) -> u64 {
    let usable = (capacity.saturating_sub(2)).max(1) as u64;
    window.div_ceil(usable).max(1)
}

/// Time-weighted average of end-of-slot prices over the `window` slots before `now`.
///
/// `checkpoint(k)` returns the k-th of `len` checkpoints, oldest first. The window start is
/// located by binary search (O(log len)); it is exact when no write happened between the start
/// and the next checkpoint, otherwise it starts at the checkpoint before (at most one checkpoint
/// interval earlier). Before the oldest checkpoint the window shrinks to the history available.
/// With no elapsed history it returns the newest final price. Total: never fails.
pub fn twap(
    accumulator: &Accumulator,
    len: usize,
    checkpoint: impl Fn(usize) -> Checkpoint,
    now: u64,
    window: u64,
) -> Decimal {
    let now = now.max(accumulator.last_slot);
    let end = accumulator.live_checkpoint(now);
    let target = now.saturating_sub(window.max(1));
    // First checkpoint strictly after `target` (partition point over a sorted ring).
    let (mut low, mut high) = (0usize, len);
    while low < high {
        let mid = (low + high) / 2;
        if checkpoint(mid).slot <= target {
            low = mid + 1;
        } else {
            high = mid;
        }
    }
    let successor = if low < len { checkpoint(low) } else { end };
    let (start_slot, start_cumulative) =
        if target >= successor.prior_write_slot && target <= successor.slot {
            let back = (successor.slot - target) as u128;
            (
                target,
                successor
                    .cumulative
                    .wrapping_sub(successor.price_before.raw().wrapping_mul(back)),
            )
        } else if low > 0 {
            let predecessor = checkpoint(low - 1);
            (predecessor.slot, predecessor.cumulative)
        } else {
            (successor.slot, successor.cumulative)
        };
    let span = end.slot.saturating_sub(start_slot);
    if span == 0 {
        return accumulator.final_price_at(now);
    }
    Decimal::from_raw(end.cumulative.wrapping_sub(start_cumulative) / span as u128)
}

/// Volatility (standard deviation of log returns) per sqrt(slot) from a per-slot variance.
pub fn volatility(variance: Decimal) -> Decimal {
    crate::curve::sqrt(variance).unwrap_or(Decimal::MAX)
}

/// Scales a per-slot volatility to a horizon of `slots` slots: sigma * sqrt(slots); saturating.
pub fn volatility_over(per_slot: Decimal, slots: u64) -> Decimal {
    crate::curve::sqrt(Decimal::from_int(slots))
        .and_then(|root| per_slot.mul(root, Rounding::Down))
        .unwrap_or(Decimal::MAX)
}

/// `|a - b| / reference` in bps, rounded up; `u64::MAX` when `reference` is zero. Total.
pub fn deviation_bps(a: Decimal, b: Decimal, reference: Decimal) -> u64 {
    if reference.is_zero() {
        return u64::MAX;
    }
    let gap = a.raw().abs_diff(b.raw());
    crate::wide::mul_div(gap, 10_000, reference.raw(), Rounding::Up)
        .ok()
        .and_then(|bps| u64::try_from(bps).ok())
        .unwrap_or(u64::MAX)
}

/// 1.0 in raw units, re-exported for callers computing ratios.
pub const ONE_RAW: u128 = SCALE;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn int(v: u64) -> Decimal {
        Decimal::from_int(v)
    }

    /// Reference model: the explicit end-of-slot price path, one entry per slot.
    struct PathModel {
        start: u64,
        prices: Vec<f64>,
    }

    impl PathModel {
        fn twap(&self, from: u64, to: u64) -> f64 {
            let slice = &self.prices[(from - self.start) as usize..(to - self.start) as usize];
            slice.iter().sum::<f64>() / slice.len() as f64
        }
    }

    /// Runs writes (slot, price) through an accumulator with an unbounded checkpoint list.
    fn replay(writes: &[(u64, u64)], lambda: u16) -> (Accumulator, Vec<Checkpoint>) {
        let (first_slot, first_price) = writes[0];
        let mut acc = Accumulator::new(first_slot, int(first_price));
        let mut cps = vec![Checkpoint {
            slot: first_slot,
            cumulative: 0,
            price_before: int(first_price),
            prior_write_slot: first_slot,
        }];
        for &(slot, price) in &writes[1..] {
            if let Some(prior) = acc.record(slot, int(price), lambda) {
                cps.push(Checkpoint {
                    slot,
                    cumulative: acc.cumulative,
                    price_before: acc.previous_price,
                    prior_write_slot: prior,
                });
            }
        }
        (acc, cps)
    }

    #[test]
    fn twap_is_the_average_of_end_of_slot_prices() {
        // slot 0: 10; slot 10: 20 then 99 then 20 within the slot (last wins); slot 15: 40
        let writes = [(0, 10), (10, 20), (10, 99), (10, 20), (15, 40)];
        let (acc, cps) = replay(&writes, 9_000);
        let get = |k: usize| cps[k];
        // window [0, 20): 10 x 10 slots, 20 x 5, 40 x 5 => 400 / 20 = 20
        assert_eq!(twap(&acc, cps.len(), get, 20, 20), int(20));
        // window [10, 20): 20 x 5 + 40 x 5 => 30
        assert_eq!(twap(&acc, cps.len(), get, 20, 10), int(30));
        // window [12, 20): 20 x 3 + 40 x 5 => 260 / 8 = 32.5
        assert_eq!(twap(&acc, cps.len(), get, 20, 8), "32.5".parse().unwrap());
        // the current slot's price is not final: at slot 15 the window ends at 15
        assert_eq!(twap(&acc, cps.len(), get, 15, 5), int(20));
        // more than the history: the window shrinks to it
        assert_eq!(twap(&acc, cps.len(), get, 20, 1_000), int(20));
        // the intra-slot 99 never counted
    }

    #[test]
    fn decay_matches_powers() {
        assert_eq!(decay(9_000, 0), Decimal::ONE);
        assert_eq!(decay(9_000, 2), "0.81".parse().unwrap());
        // repeated squaring rounds down at each step: the relative error doubles per squaring,
        // ~2^10 * 1e-18 here
        let got = decay(9_990, 1_000).to_f64();
        let exact = 0.999f64.powi(1_000);
        assert!(got <= exact && exact - got < 1e-14, "{got} vs {exact}");
        assert_eq!(decay(9_999, DECAY_HORIZON_SLOTS), Decimal::ZERO);
        assert!(decay(9_999, DECAY_HORIZON_SLOTS - 1).to_f64() < 1e-18);
    }

    #[test]
    fn variance_decays_per_slot_not_per_call() {
        // a 10% jump in slot 5, then quiet: variance at slot 80 with or without writes in between
        let quiet = replay(&[(0, 100), (5, 110)], 9_400).0;
        let mut spam = replay(&[(0, 100), (5, 110)], 9_400).0;
        for slot in 6..80 {
            spam.record(slot, int(110), 9_400);
        }
        let a = quiet.variance_at(80, 9_400);
        let b = spam.variance_at(80, 9_400);
        let expected = 0.06 * 1.1f64.ln().powi(2) * 0.94f64.powi(75);
        assert!((a.to_f64() - expected).abs() < 1e-15, "{a:?} vs {expected}");
        assert!(a.raw().abs_diff(b.raw()) < 100, "{a:?} vs {b:?}");
        // the jump is not counted while its slot is open
        assert_eq!(quiet.variance_at(5, 9_400), Decimal::ZERO);
    }

    #[test]
    fn extreme_prices_saturate() {
        let tiny = Decimal::from_raw(1);
        let huge = Decimal::from_raw(u128::MAX / 2);
        assert_eq!(
            squared_log_return(tiny, huge),
            squared_log_return(huge, tiny)
        );
        let capped = squared_log_return(tiny, huge);
        assert_eq!(
            capped,
            MAX_LOG_RETURN.mul(MAX_LOG_RETURN, Rounding::Down).unwrap()
        );
        assert_eq!(squared_log_return(Decimal::ZERO, huge), Decimal::ZERO);
        let mut acc = Accumulator::new(1, tiny);
        acc.record(2, huge, 5_000);
        acc.record(3, tiny, 5_000);
        acc.record(u64::MAX, huge, 5_000);
        let _ = acc.variance_at(u64::MAX, 5_000);
        assert_eq!(deviation_bps(int(1), int(2), Decimal::ZERO), u64::MAX);
        assert_eq!(deviation_bps(int(100), int(110), int(100)), 1_000);
    }

    proptest! {
        /// Against the explicit per-slot path: the TWAP over any window equals the exact average,
        /// or (when a write sits between the window start and the next checkpoint) the average
        /// from the checkpoint before; with a thinned ring of checkpoints as the program keeps.
        #[test]
        fn twap_matches_the_price_path(
            steps in proptest::collection::vec((0u64..6, 1u64..1_000, 1usize..3), 1..60),
            window in 1u64..200,
            interval in 1u64..8,
        ) {
            let mut writes = vec![(100u64, 500u64)];
            let mut slot = 100;
            for (gap, price, repeats) in steps {
                slot += gap;
                for r in 0..repeats {
                    writes.push((slot, price + r as u64));
                }
            }
            let now = slot + 1;
            // the model: end-of-slot price of every slot from 100 to now
            let mut path = PathModel { start: 100, prices: Vec::new() };
            let mut current = 500f64;
            let mut w = 0;
            for s in 100..now {
                while w < writes.len() && writes[w].0 == s {
                    current = writes[w].1 as f64;
                    w += 1;
                }
                path.prices.push(current);
            }
            // accumulator with checkpoints thinned to one per `interval` slots
            let mut acc = Accumulator::new(100, int(500));
            let mut cps = vec![Checkpoint { slot: 100, cumulative: 0, price_before: int(500), prior_write_slot: 100 }];
            for &(s, p) in &writes[1..] {
                if let Some(prior) = acc.record(s, int(p), 9_000) {
                    if s >= cps.last().unwrap().slot + interval {
                        cps.push(Checkpoint { slot: s, cumulative: acc.cumulative, price_before: acc.previous_price, prior_write_slot: prior });
                    }
                }
            }
            let got = twap(&acc, cps.len(), |k| cps[k], now, window).to_f64();
            let target = now.saturating_sub(window).max(100);
            let exact = path.twap(target, now);
            if (got - exact).abs() > 1e-9 {
                // allowed only as the average from an earlier checkpoint within one interval
                let start = cps.iter().rev().find(|c| c.slot <= target).map(|c| c.slot).unwrap();
                prop_assert!(target - start < interval.max(1) + 6, "start {start} target {target}");
                let widened = path.twap(start, now);
                prop_assert!((got - widened).abs() < 1e-9, "got {got}, exact {exact}, widened {widened}");
            }
        }
    }
}
