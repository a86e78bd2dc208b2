//! Trading fees in basis points, always rounded in the pool's favour: the fee on an amount is the
//! ceiling, so the trader never pays less than the stated rate.

use crate::wide::mul_div;
use crate::{MathError, Rounding};

/// One in basis points.
pub const BPS_DENOMINATOR: u64 = 10_000;

/// Fee on `amount`: ceil(amount * fee_bps / 10_000).
pub fn fee_on(amount: u64, fee_bps: u16) -> Result<u64, MathError> {
    check_bps(fee_bps)?;
    let fee = mul_div(
        amount as u128,
        fee_bps as u128,
        BPS_DENOMINATOR as u128,
        Rounding::Up,
    )?;
    u64::try_from(fee).map_err(|_| MathError::Overflow)
}

/// The largest net amount `n` with `n + fee_on(n) <= gross` (what a buyer's budget buys before fees).
pub fn max_net_for_gross(gross: u64, fee_bps: u16) -> Result<u64, MathError> {
    check_bps(fee_bps)?;
    let estimate = mul_div(
        gross as u128,
        BPS_DENOMINATOR as u128,
        (BPS_DENOMINATOR + fee_bps as u64) as u128,
        Rounding::Down,
    )?;
    let mut net = u64::try_from(estimate).map_err(|_| MathError::Overflow)?;
    // The ceiling on the fee can push the estimate over by one unit at most; step back.
    while net > 0
        && net
            .checked_add(fee_on(net, fee_bps)?)
            .ok_or(MathError::Overflow)?
            > gross
    {
        net -= 1;
    }
    Ok(net)
}

/// The smallest gross amount `g` with `g - fee_on(g) >= net` (what a seller must realise before fees).
/// Since g - ceil(g b / D) = floor(g (D - b) / D), this is ceil(net D / (D - b)) exactly.
pub fn min_gross_for_net(net: u64, fee_bps: u16) -> Result<u64, MathError> {
    check_bps(fee_bps)?;
    if fee_bps as u64 == BPS_DENOMINATOR {
        return Err(MathError::Domain);
    }
    let gross = mul_div(
        net as u128,
        BPS_DENOMINATOR as u128,
        (BPS_DENOMINATOR - fee_bps as u64) as u128,
        Rounding::Up,
    )?;
    u64::try_from(gross).map_err(|_| MathError::Overflow)
}

fn check_bps(fee_bps: u16) -> Result<(), MathError> {
    if fee_bps as u64 > BPS_DENOMINATOR {
        return Err(MathError::Domain);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fee_rounds_up() {
        assert_eq!(fee_on(1, 30).unwrap(), 1);
        assert_eq!(fee_on(10_000, 30).unwrap(), 30);
        assert_eq!(fee_on(10_001, 30).unwrap(), 31);
        assert_eq!(fee_on(0, 30).unwrap(), 0);
        assert_eq!(fee_on(5, 10_001), Err(MathError::Domain));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        #[test]
        fn max_net_is_maximal(gross in 0u64..u64::MAX / 2, bps in 0u16..=1000) {
            let net = max_net_for_gross(gross, bps).unwrap();
            prop_assert!(net + fee_on(net, bps).unwrap() <= gross);
            prop_assert!(net + 1 + fee_on(net + 1, bps).unwrap() > gross);
        }

        #[test]
        fn min_gross_is_minimal(net in 0u64..u64::MAX / 2, bps in 0u16..=1000) {
            let gross = min_gross_for_net(net, bps).unwrap();
            prop_assert!(gross - fee_on(gross, bps).unwrap() >= net);
            if gross > 0 {
                prop_assert!(gross - 1 - fee_on(gross - 1, bps).unwrap() < net);
            }
        }
    }
}
