//! Oracle math: time-weighted average price over a slot window and an EWMA volatility of log
//! returns per slot. Pure functions over observations so the program, the bots and the simulator
//! compute exactly the same numbers.

use crate::decimal::{Decimal, SCALE};
use crate::transcendental::ln;
use crate::{MathError, Rounding};

/// One price observation: the price (quote tokens per whole token) from `slot` on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Observation {
    pub slot: u64,
    pub price: Decimal,
}

/// Time-weighted average price over the `window` slots ending at `now`, from observations in
/// chronological order; each price holds until the next observation. Slots before the first
/// observation are not counted (the window shrinks to the history available). `None` without
/// history or when `window` is zero.
pub fn twap(
    observations: impl Iterator<Item = Observation>,
    now: u64,
    window: u64,
) -> Result<Option<Decimal>, MathError> {
    if window == 0 {
        return Ok(None);
    }
    let window_start = now.saturating_sub(window);
    let mut weighted: u128 = 0;
    let mut covered: u64 = 0;
    let mut previous: Option<Observation> = None;
    let accumulate = |from: Observation,
                      until: u64,
                      weighted: &mut u128,
                      covered: &mut u64|
     -> Result<(), MathError> {
        let start = from.slot.max(window_start);
        if until > start {
            let span = until - start;
            *weighted = weighted
                .checked_add(
                    from.price
                        .raw()
                        .checked_mul(span as u128)
                        .ok_or(MathError::Overflow)?,
                )
                .ok_or(MathError::Overflow)?;
            *covered += span;
        }
        Ok(())
    };
    for observation in observations {
        if observation.slot > now {
            break;
        }
        if let Some(prev) = previous {
            accumulate(prev, observation.slot, &mut weighted, &mut covered)?;
        }
        previous = Some(observation);
    }
    let Some(last) = previous else {
        return Ok(None);
    };
    accumulate(last, now, &mut weighted, &mut covered)?;
    if covered == 0 {
        // Observed in this very slot only: the latest price is the best average there is.
        return Ok(Some(last.price));
    }
    Ok(Some(Decimal::from_raw(weighted / covered as u128)))
}

/// Squared log return between two prices, per slot elapsed: (ln(p1/p0))^2 / dt.
pub fn squared_log_return_per_slot(
    previous: Decimal,
    current: Decimal,
    elapsed_slots: u64,
) -> Result<Decimal, MathError> {
    if previous.is_zero() || current.is_zero() || elapsed_slots == 0 {
        return Err(MathError::Domain);
    }
    let (high, low) = if current >= previous {
        (current, previous)
    } else {
        (previous, current)
    };
    let log_return = ln(high.div(low, Rounding::Down)?, Rounding::Down)?;
    log_return.mul(log_return, Rounding::Down)?.mul_div_int(
        1,
        elapsed_slots as u128,
        Rounding::Down,
    )
}

/// One EWMA step of the per-slot variance: var' = lambda var + (1 - lambda) sample, lambda in bps.
pub fn ewma_variance(
    variance: Decimal,
    sample: Decimal,
    lambda_bps: u16,
) -> Result<Decimal, MathError> {
    if lambda_bps > 10_000 {
        return Err(MathError::Domain);
    }
    let kept = variance.mul_div_int(lambda_bps as u128, 10_000, Rounding::Down)?;
    let added = sample.mul_div_int(10_000 - lambda_bps as u128, 10_000, Rounding::Down)?;
    kept.checked_add(added)
}

/// Volatility (standard deviation of log returns) per sqrt(slot) from a per-slot variance.
pub fn volatility(variance: Decimal) -> Result<Decimal, MathError> {
    crate::curve::sqrt(variance)
}

/// Scales a per-slot volatility to a horizon of `slots` slots: sigma * sqrt(slots).
pub fn volatility_over(per_slot: Decimal, slots: u64) -> Result<Decimal, MathError> {
    per_slot.mul(
        crate::curve::sqrt(Decimal::from_int(slots))?,
        Rounding::Down,
    )
}

/// 1.0 in raw units, re-exported for callers computing ratios.
pub const ONE_RAW: u128 = SCALE;

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(slot: u64, price: u64) -> Observation {
        Observation {
            slot,
            price: Decimal::from_int(price),
        }
    }

    #[test]
    fn twap_weights_by_time() {
        let history = [obs(0, 10), obs(10, 20), obs(15, 40)];
        // window [0, 20): 10 for 10 slots, 20 for 5, 40 for 5 => (100 + 100 + 200) / 20 = 20
        assert_eq!(
            twap(history.iter().copied(), 20, 20).unwrap(),
            Some(Decimal::from_int(20))
        );
        // window [10, 20): 20 for 5, 40 for 5 => 30
        assert_eq!(
            twap(history.iter().copied(), 20, 10).unwrap(),
            Some(Decimal::from_int(30))
        );
        assert_eq!(twap([].into_iter(), 20, 10).unwrap(), None);
        assert_eq!(twap(history.iter().copied(), 15, 0).unwrap(), None);
        assert_eq!(
            twap([obs(7, 3)].into_iter(), 7, 10).unwrap(),
            Some(Decimal::from_int(3))
        );
    }

    #[test]
    fn ewma_tracks_squared_returns() {
        let sample =
            squared_log_return_per_slot(Decimal::from_int(100), Decimal::from_int(110), 1).unwrap();
        // ln(1.1)^2 = 0.0090840...
        assert!((sample.to_f64() - 1.1f64.ln().powi(2)).abs() < 1e-15);
        let down =
            squared_log_return_per_slot(Decimal::from_int(110), Decimal::from_int(100), 4).unwrap();
        assert!((down.to_f64() - 1.1f64.ln().powi(2) / 4.0).abs() < 1e-15);
        let variance = ewma_variance(Decimal::ZERO, sample, 9_000).unwrap();
        assert!((variance.to_f64() - 0.1 * sample.to_f64()).abs() < 1e-15);
        assert_eq!(
            ewma_variance(Decimal::ZERO, sample, 10_001),
            Err(MathError::Domain)
        );
        assert_eq!(
            squared_log_return_per_slot(Decimal::ZERO, Decimal::ONE, 1),
            Err(MathError::Domain)
        );
    }
}
