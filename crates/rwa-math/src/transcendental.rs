//! exp and ln on [`Decimal`] with directed rounding.
//!
//! Every function takes a [`Rounding`] and returns a guaranteed bound on the true value: `Down` never
//! exceeds it, `Up` is never below it. Bounds come from rounding every step in the same direction,
//! from bracketing ln 2 between its two nearest 18-digit neighbours, and from adding a bound on the
//! truncated series tail (`Up` only). The gap between the two bounds is the error bound:
//!
//! * `exp(x)`, `x <= 40`: relative gap below `1e-15` (tested against 40-digit references);
//! * `exp_neg(x)`: relative gap below `1e-15` while `e^-x >= 1e-3`, absolute gap below `1e-17` after;
//! * `expm1(x)` (`x < 1/2`): absolute gap below `1e-17`, relative below `1e-15` for `x >= 1e-3`;
//! * `ln1p(t)`, `ln(x)`: absolute gap below `1e-16` for arguments up to `1e20`.
//!
//! No floating point is used, so results are identical on every platform, SBF included.

use crate::decimal::{Decimal, SCALE};
use crate::wide::mul_div;
use crate::{MathError, Rounding};

/// ln 2 rounded down / up at 18 digits (ln 2 = 0.693147180559945309417232...).
const LN2_DOWN: u128 = 693_147_180_559_945_309;
const LN2_UP: u128 = 693_147_180_559_945_310;
const HALF: u128 = SCALE / 2;
const MAX_SERIES_TERMS: u128 = 64;

fn step(term: u128, factor: u128, divisor: u128, rounding: Rounding) -> Result<u128, MathError> {
    mul_div(term, factor, divisor, rounding)
}

/// Sum of `x^k / k!` for `k >= first`, given `term = x^first / first!`; the tail bound needs
/// `x / (first + 1) <= 1/2`.
fn series_tail(
    mut term: u128,
    x: u128,
    first: u128,
    rounding: Rounding,
) -> Result<u128, MathError> {
    let mut sum = term;
    let mut k = first;
    while k < first + MAX_SERIES_TERMS {
        k += 1;
        term = step(term, x, k * SCALE, rounding)?;
        if rounding == Rounding::Down && term == 0 {
            return Ok(sum);
        }
        sum = sum.checked_add(term).ok_or(MathError::Overflow)?;
        if rounding == Rounding::Up && term <= 1 {
            // Remaining terms shrink by a factor <= 1/2 each, so they sum to at most `term`.
            return sum.checked_add(term).ok_or(MathError::Overflow);
        }
    }
    Err(MathError::NoConvergence)
}

/// e^x for x >= 0.
pub fn exp(x: Decimal, rounding: Rounding) -> Result<Decimal, MathError> {
    // x = n ln2 + r with r in [0, ln2]; n from the upper ln2 so r never goes negative.
    let n = x.raw() / LN2_UP;
    let ln2 = match rounding {
        Rounding::Down => LN2_UP,
        Rounding::Up => LN2_DOWN,
    };
    let r = x.raw() - n * ln2;
    let e_r = series_tail(SCALE, r, 0, rounding)?;
    if n >= 128 || e_r.leading_zeros() < n as u32 {
        return Err(MathError::Overflow);
    }
    Ok(Decimal::from_raw(e_r << n))
}

/// e^-x for x >= 0; underflows gracefully to 0 (`Down`) or one unit (`Up`).
pub fn exp_neg(x: Decimal, rounding: Rounding) -> Result<Decimal, MathError> {
    match exp(x, rounding.opposite()) {
        Ok(denominator) => Decimal::ONE.div(denominator, rounding),
        Err(MathError::Overflow) => Ok(Decimal::from_raw(match rounding {
            Rounding::Down => 0,
            Rounding::Up => 1,
        })),
        Err(other) => Err(other),
    }
}

/// e^x - 1 for x >= 0, accurate for small x.
pub fn expm1(x: Decimal, rounding: Rounding) -> Result<Decimal, MathError> {
    if x.raw() < HALF {
        return series_tail(x.raw(), x.raw(), 1, rounding).map(Decimal::from_raw);
    }
    exp(x, rounding)?.checked_sub(Decimal::ONE)
}

/// ln(1 + t) for t >= 0.
pub fn ln1p(t: Decimal, rounding: Rounding) -> Result<Decimal, MathError> {
    if t.raw() <= SCALE {
        return ln1p_small(t.raw(), rounding).map(Decimal::from_raw);
    }
    ln(Decimal::ONE.checked_add(t)?, rounding)
}

/// ln(1 + t) for t in [0, 1] via ln(1+t) = 2 atanh(z), z = t / (2 + t) <= 1/3.
fn ln1p_small(t: u128, rounding: Rounding) -> Result<u128, MathError> {
    if t == 0 {
        return Ok(0);
    }
    let z = mul_div(t, SCALE, 2 * SCALE + t, rounding)?;
    let z2 = mul_div(z, z, SCALE, rounding)?;
    let mut power = z;
    let mut sum = z;
    let mut j: u128 = 0;
    while j < MAX_SERIES_TERMS {
        j += 1;
        power = mul_div(power, z2, SCALE, rounding)?;
        if rounding == Rounding::Down && power == 0 {
            break;
        }
        let term = mul_div(power, 1, 2 * j + 1, rounding)?;
        sum = sum.checked_add(term).ok_or(MathError::Overflow)?;
        if rounding == Rounding::Up && power <= 1 {
            // Tail: sum of z^(2i+1)/(2i+1) for later i <= power * z2 / (1 - z2) <= power / 8.
            sum = sum.checked_add(power).ok_or(MathError::Overflow)?;
            break;
        }
    }
    sum.checked_mul(2).ok_or(MathError::Overflow)
}

/// ln x for x >= 1 (ln of values below 1 is negative; callers use [`ln1p`] or rearrange).
pub fn ln(x: Decimal, rounding: Rounding) -> Result<Decimal, MathError> {
    if x.raw() < SCALE {
        return Err(MathError::Domain);
    }
    // x = 2^n * m with m in [1, 2): ln x = n ln2 + ln1p(m - 1).
    let n = 127 - (x.raw() / SCALE).leading_zeros();
    let divisor = 1u128 << n;
    let mut mantissa = x.raw() / divisor;
    if rounding == Rounding::Up && x.raw() % divisor != 0 {
        mantissa += 1;
    }
    let ln2 = match rounding {
        Rounding::Down => LN2_DOWN,
        Rounding::Up => LN2_UP,
    };
    let tail = ln1p_small(mantissa.saturating_sub(SCALE).min(SCALE), rounding)?;
    (n as u128 * ln2)
        .checked_add(tail)
        .map(Decimal::from_raw)
        .ok_or(MathError::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    /// References computed with 60-digit decimal arithmetic (Python `decimal`, prec=60), truncated
    /// to 18 fractional digits (the true value lies in [ref, ref + 1e-18)).
    const EXP_REFERENCES: &[(&str, &str)] = &[
        ("0", "1"),
        ("0.000000001", "1.000000001000000000"),
        ("0.5", "1.648721270700128146"),
        ("1", "2.718281828459045235"),
        ("2.302585092994045684", "9.999999999999999999"),
        ("10", "22026.465794806716516957"),
        ("20.5", "799902177.475505406704598837"),
        ("40", "235385266837019985.407899910749034804"),
    ];
    const LN_REFERENCES: &[(&str, &str)] = &[
        ("1", "0"),
        ("1.5", "0.405465108108164381"),
        ("2", "0.693147180559945309"),
        ("2.718281828459045235", "0.999999999999999999"),
        ("10", "2.302585092994045684"),
        ("123456.789", "11.723646487185880981"),
        ("100000000000000000000", "46.051701859880913680"),
    ];

    fn assert_brackets(
        lower: Decimal,
        upper: Decimal,
        reference: Decimal,
        relative: f64,
        absolute: u128,
    ) {
        let truth_low = reference.raw();
        let truth_high = reference.raw() + 1;
        assert!(
            lower.raw() <= truth_high,
            "lower bound {lower} above reference {reference}"
        );
        assert!(
            upper.raw() >= truth_low,
            "upper bound {upper} below reference {reference}"
        );
        let gap = upper.raw() - lower.raw();
        let allowed = (reference.raw() as f64 * relative) as u128 + absolute;
        assert!(
            gap <= allowed,
            "gap {gap} > allowed {allowed} around {reference}"
        );
    }

    #[test]
    fn exp_matches_high_precision_references() {
        for (x, expected) in EXP_REFERENCES {
            let (x, expected) = (d(x), d(expected));
            let lower = exp(x, Rounding::Down).unwrap();
            let upper = exp(x, Rounding::Up).unwrap();
            assert_brackets(lower, upper, expected, 1e-15, 4);
        }
    }

    #[test]
    fn ln_matches_high_precision_references() {
        for (x, expected) in LN_REFERENCES {
            let (x, expected) = (d(x), d(expected));
            let lower = ln(x, Rounding::Down).unwrap();
            let upper = ln(x, Rounding::Up).unwrap();
            assert_brackets(lower, upper, expected, 0.0, 100);
        }
    }

    #[test]
    fn domain_and_overflow_are_typed_errors() {
        assert_eq!(ln(d("0.5"), Rounding::Down), Err(MathError::Domain));
        assert_eq!(exp(d("100"), Rounding::Down), Err(MathError::Overflow));
        assert_eq!(exp_neg(d("100"), Rounding::Down).unwrap(), Decimal::ZERO);
        assert_eq!(exp_neg(d("100"), Rounding::Up).unwrap().raw(), 1);
    }

    #[test]
    fn expm1_is_accurate_for_tiny_arguments() {
        // e^1e-9 - 1 = 1.0000000005000000001666...e-9
        let lower = expm1(d("0.000000001"), Rounding::Down).unwrap();
        let upper = expm1(d("0.000000001"), Rounding::Up).unwrap();
        assert!(
            lower.raw() <= 1_000_000_000 && upper.raw() >= 1_000_000_000,
            "{lower} {upper}"
        );
        assert!(upper.raw() - lower.raw() <= 2);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// The bounds bracket f64's value (itself within 1e-15 relative) and stay tight.
        #[test]
        fn exp_bounds_bracket_and_are_tight(raw in 0u128..40 * SCALE) {
            let x = Decimal::from_raw(raw);
            let lower = exp(x, Rounding::Down).unwrap();
            let upper = exp(x, Rounding::Up).unwrap();
            prop_assert!(lower <= upper);
            let reference = x.to_f64().exp();
            prop_assert!((lower.to_f64() / reference - 1.0).abs() < 1e-13);
            prop_assert!((upper.raw() - lower.raw()) as f64 <= upper.raw() as f64 * 1e-15 + 4.0);
        }

        /// exp(a) * exp(b) brackets exp(a + b) (an identity check independent of f64).
        #[test]
        fn exp_is_multiplicative(a in 0u128..15 * SCALE, b in 0u128..15 * SCALE) {
            let (x, y) = (Decimal::from_raw(a), Decimal::from_raw(b));
            let product_low = exp(x, Rounding::Down).unwrap().mul(exp(y, Rounding::Down).unwrap(), Rounding::Down).unwrap();
            let product_high = exp(x, Rounding::Up).unwrap().mul(exp(y, Rounding::Up).unwrap(), Rounding::Up).unwrap();
            let sum = x.checked_add(y).unwrap();
            prop_assert!(product_low <= exp(sum, Rounding::Up).unwrap());
            prop_assert!(product_high >= exp(sum, Rounding::Down).unwrap());
        }

        /// ln inverts exp within the stated bounds.
        #[test]
        fn ln_inverts_exp(raw in 0u128..40 * SCALE) {
            let x = Decimal::from_raw(raw);
            let low = ln(exp(x, Rounding::Down).unwrap(), Rounding::Down).unwrap();
            let high = ln(exp(x, Rounding::Up).unwrap(), Rounding::Up).unwrap();
            prop_assert!(low <= x && x <= high, "{} {} {}", low, x, high);
            prop_assert!(high.raw() - low.raw() < 5_000);
        }

        #[test]
        fn ln1p_brackets_f64(raw in 0u128..SCALE) {
            let t = Decimal::from_raw(raw);
            let lower = ln1p(t, Rounding::Down).unwrap();
            let upper = ln1p(t, Rounding::Up).unwrap();
            prop_assert!(lower <= upper);
            prop_assert!(upper.raw() - lower.raw() <= 100);
            let reference = t.to_f64().ln_1p();
            prop_assert!((lower.to_f64() - reference).abs() <= 1e-15 + reference * 1e-15);
        }
    }
}
