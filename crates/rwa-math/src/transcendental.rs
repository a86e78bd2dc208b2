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
const MAX_SERIES_TERMS: u64 = 40;

// The series run in binary fixed point on 64-bit words (Q62/Q63/Q64: value * 2^bits), where a
// product is one 64x64 multiply and a shift and a division by a small integer is one native
// division; on SBF that is a handful of instructions, against a 128-bit library division per step
// in decimal. Table lookups shrink the arguments so a series needs at most 10 terms. Every table
// entry is stored as its floor and its ceiling (computed with 80-digit decimal arithmetic, e.g.
// Python `decimal`; `tables_match_high_precision_series` re-derives them), and every step rounds
// in the requested direction, so the results stay guaranteed bounds.
/// floor / ceil of e^(i/32) * 2^62 for i = 0..=22 (covers [0, ln 2]).
const EXP_TABLE: [(u64, u64); 23] = [
    (0x4000000000000000, 0x4000000000000000),
    (0x42081580449fb263, 0x42081580449fb264),
    (0x4420ad5df4d3b5f5, 0x4420ad5df4d3b5f6),
    (0x464a4dc1d38335a2, 0x464a4dc1d38335a3),
    (0x48858116dbd733e7, 0x48858116dbd733e8),
    (0x4ad2d62cdcb1e540, 0x4ad2d62cdcb1e541),
    (0x4d32e05c2d60d4b5, 0x4d32e05c2d60d4b6),
    (0x4fa637aa84772ea8, 0x4fa637aa84772ea9),
    (0x522d78f0fa06199d, 0x522d78f0fa06199e),
    (0x54c946033eb3ddb2, 0x54c946033eb3ddb3),
    (0x577a45d8117fd4ed, 0x577a45d8117fd4ee),
    (0x5a4124b2fe50cb3f, 0x5a4124b2fe50cb40),
    (0x5d1e944f6fbda988, 0x5d1e944f6fbda989),
    (0x60134c0d1ed5172e, 0x60134c0d1ed5172f),
    (0x6320091dec003f70, 0x6320091dec003f71),
    (0x66458eb52c77304d, 0x66458eb52c77304e),
    (0x6984a638781a6f25, 0x6984a638781a6f26),
    (0x6cde1f7203e57a8b, 0x6cde1f7203e57a8c),
    (0x7052d0c495911910, 0x7052d0c495911911),
    (0x73e397611d62a2df, 0x73e397611d62a2e0),
    (0x7791577e038f0172, 0x7791577e038f0173),
    (0x7b5cfc90370507e1, 0x7b5cfc90370507e2),
    (0x7f4779860be32274, 0x7f4779860be32275),
];
/// floor / ceil of ln(1 + i/16) * 2^63 for i = 0..=16.
const LN_TABLE: [(u64, u64); 17] = [
    (0x0, 0x0),
    (0x7c28c300458a998, 0x7c28c300458a999),
    (0xf1383b7157972f4, 0xf1383b7157972f5),
    (0x15ff3070a793d3c8, 0x15ff3070a793d3c9),
    (0x1c8ff7c79a9a21ac, 0x1c8ff7c79a9a21ad),
    (0x22ceb957574c1c07, 0x22ceb957574c1c08),
    (0x28c3178438bd84fa, 0x28c3178438bd84fb),
    (0x2e73afed77a00d39, 0x2e73afed77a00d3a),
    (0x33e647d97f3097e5, 0x33e647d97f3097e6),
    (0x391fef8f35344358, 0x391fef8f35344359),
    (0x3e251ebf5e0dd966, 0x3e251ebf5e0dd967),
    (0x42f9cb9094aa0ada, 0x42f9cb9094aa0adb),
    (0x47a17d79c10340f7, 0x47a17d79c10340f8),
    (0x4c1f5ccd3c42f87e, 0x4c1f5ccd3c42f87f),
    (0x50763fa119cab991, 0x50763fa119cab992),
    (0x54a8b4996f16abb9, 0x54a8b4996f16abba),
    (0x58b90bfbe8e7bcd5, 0x58b90bfbe8e7bcd6),
];

const ONE_Q62: u64 = 1 << 62;
/// Table spacing for exp: the argument's top bits (units of 1/32) pick the entry.
const EXP_STEP_BITS: u32 = 59;
const LN_STEP_BITS: u32 = 59;

/// (high, low) words of a * b, from 32-bit halves so SBF never calls a 128-bit multiply.
#[inline]
fn widening_mul(a: u64, b: u64) -> (u64, u64) {
    let (a_low, a_high) = (a & 0xffff_ffff, a >> 32);
    let (b_low, b_high) = (b & 0xffff_ffff, b >> 32);
    let low_low = a_low * b_low;
    let low_high = a_low * b_high;
    let high_low = a_high * b_low;
    let high_high = a_high * b_high;
    let middle = (low_low >> 32) + (low_high & 0xffff_ffff) + (high_low & 0xffff_ffff);
    let low = (low_low & 0xffff_ffff) | (middle << 32);
    let high = high_high + (low_high >> 32) + (high_low >> 32) + (middle >> 32);
    (high, low)
}

/// (a * b) >> shift (1 <= shift <= 64), rounded; the caller guarantees it fits 64 bits.
#[inline]
fn mul_shift(a: u64, b: u64, shift: u32, rounding: Rounding) -> u64 {
    let (high, low) = widening_mul(a, b);
    let (value, rest) = if shift == 64 {
        (high, low)
    } else {
        (
            (high << (64 - shift)) | (low >> shift),
            low & ((1u64 << shift) - 1),
        )
    };
    if rounding == Rounding::Up && rest != 0 {
        value + 1
    } else {
        value
    }
}

#[inline]
fn div_small(value: u64, divisor: u64, rounding: Rounding) -> u64 {
    let quotient = value / divisor;
    if rounding == Rounding::Up && quotient * divisor != value {
        quotient + 1
    } else {
        quotient
    }
}

/// A binary fixed-point value (`value / 2^bits`) as a decimal raw value, rounded.
#[inline]
fn q_to_raw(value: u64, bits: u32, rounding: Rounding) -> u128 {
    let (high, low) = widening_mul(value, SCALE as u64);
    let product = ((high as u128) << 64) | low as u128;
    let mut raw = product >> bits;
    if rounding == Rounding::Up && product & ((1u128 << bits) - 1) != 0 {
        raw += 1;
    }
    raw
}

fn entry(table_entry: (u64, u64), rounding: Rounding) -> u64 {
    match rounding {
        Rounding::Down => table_entry.0,
        Rounding::Up => table_entry.1,
    }
}

/// e^f - 1 in Q64 for f < 1/32 (f in Q64): Taylor series, at most ~10 terms.
fn expm1_q64(f: u64, rounding: Rounding) -> Result<u64, MathError> {
    let mut term = f;
    let mut sum = f;
    let mut k: u64 = 1;
    while k < MAX_SERIES_TERMS {
        k += 1;
        term = div_small(mul_shift(term, f, 64, rounding), k, rounding);
        if rounding == Rounding::Down && term == 0 {
            return Ok(sum);
        }
        sum += term;
        if rounding == Rounding::Up && term <= 1 {
            // The remaining terms shrink by f/(k+1) < 1/32 each: together below one unit.
            return Ok(sum + 1);
        }
    }
    Err(MathError::NoConvergence)
}

/// e^r in Q62 for 0 <= r < 23/32 (r in Q64): table entry e^(i/32) times the series for the rest.
fn exp_q62(r: u64, rounding: Rounding) -> Result<u64, MathError> {
    let index = (r >> EXP_STEP_BITS) as usize;
    let base = entry(*EXP_TABLE.get(index).ok_or(MathError::Domain)?, rounding);
    let rest = expm1_q64(r & ((1u64 << EXP_STEP_BITS) - 1), rounding)?;
    Ok(base + mul_shift(base, rest, 64, rounding))
}

/// e^x for x >= 0.
pub fn exp(x: Decimal, rounding: Rounding) -> Result<Decimal, MathError> {
    // e^89 exceeds the largest decimal; bounding x first keeps n below 128.
    if x.raw() >= 89 * SCALE {
        return Err(MathError::Overflow);
    }
    // x = n ln2 + r with r in [0, ln2 + n 1e-18]; n from the upper ln2 so r never goes negative.
    let n = x.raw() / LN2_UP;
    let ln2 = match rounding {
        Rounding::Down => LN2_UP,
        Rounding::Up => LN2_DOWN,
    };
    let r = x.raw() - n * ln2;
    let r_q64 = u64::try_from(mul_div(r, 1u128 << 64, SCALE, rounding)?)
        .map_err(|_| MathError::Overflow)?;
    let e_r = q_to_raw(exp_q62(r_q64, rounding)?, 62, rounding);
    if e_r.leading_zeros() < n as u32 {
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
    if x.raw() >= HALF {
        return exp(x, rounding)?.checked_sub(Decimal::ONE);
    }
    let x_q64 = u64::try_from(mul_div(x.raw(), 1u128 << 64, SCALE, rounding)?)
        .map_err(|_| MathError::Overflow)?;
    let index = (x_q64 >> EXP_STEP_BITS) as usize;
    let rest = expm1_q64(x_q64 & ((1u64 << EXP_STEP_BITS) - 1), rounding)?;
    if index == 0 {
        // Below 1/32 the series alone, in Q64, keeps full relative precision.
        return Ok(Decimal::from_raw(q_to_raw(rest, 64, rounding)));
    }
    // e^x - 1 = (e^(i/32) - 1) + e^(i/32) (e^f - 1)
    let base = entry(EXP_TABLE[index], rounding);
    let value = (base - ONE_Q62) + mul_shift(base, rest, 64, rounding);
    Ok(Decimal::from_raw(q_to_raw(value, 62, rounding)))
}

/// ln(1 + t) for t >= 0.
pub fn ln1p(t: Decimal, rounding: Rounding) -> Result<Decimal, MathError> {
    if t.raw() <= SCALE {
        return ln1p_small(t.raw(), rounding).map(Decimal::from_raw);
    }
    ln(Decimal::ONE.checked_add(t)?, rounding)
}

/// 2 atanh(z) in Q63 for 0 <= z <= 1/64 (z in Q63): z + z^3/3 + z^5/5 + ..., at most ~5 terms.
fn two_atanh_q63(z: u64, rounding: Rounding) -> Result<u64, MathError> {
    if z == 0 {
        return Ok(0);
    }
    let z2 = mul_shift(z, z, 63, rounding);
    let mut power = z;
    let mut sum = z;
    let mut j: u64 = 0;
    while j < MAX_SERIES_TERMS {
        j += 1;
        power = mul_shift(power, z2, 63, rounding);
        if rounding == Rounding::Down && power == 0 {
            return Ok(2 * sum);
        }
        sum += div_small(power, 2 * j + 1, rounding);
        if rounding == Rounding::Up && power <= 1 {
            // Tail: later terms sum to at most power * z^2 / (1 - z^2), far below one unit.
            return Ok(2 * (sum + 1));
        }
    }
    Err(MathError::NoConvergence)
}

/// ln(1 + g) in Q63 for 0 <= g <= 1 (g in Q63): ln(1 + i/16) from the table (i = round(16 g))
/// plus 2 atanh(z) with z = (g - i/16) / (2 + g + i/16), |z| <= 1/64.
fn ln1p_q63(g: u64, rounding: Rounding) -> Result<u64, MathError> {
    if g > 1u64 << 63 {
        return Err(MathError::Domain);
    }
    let index = ((g + (1u64 << (LN_STEP_BITS - 1))) >> LN_STEP_BITS) as usize;
    let center = (index as u64) << LN_STEP_BITS;
    let base = entry(LN_TABLE[index], rounding);
    // 2 + g + i/16 in Q63 needs 66 bits.
    let denominator = (1u128 << 64) + g as u128 + center as u128;
    if g >= center {
        let z = mul_div((g - center) as u128, 1u128 << 63, denominator, rounding)? as u64;
        Ok(base + two_atanh_q63(z, rounding)?)
    } else {
        // ln(1 + g) = ln(1 + i/16) - 2 atanh(|z|): the subtracted part rounds the other way.
        let z = mul_div(
            (center - g) as u128,
            1u128 << 63,
            denominator,
            rounding.opposite(),
        )? as u64;
        Ok(base - two_atanh_q63(z, rounding.opposite())?)
    }
}

/// ln(1 + t) for t in [0, 1] (t a decimal raw value).
fn ln1p_small(t: u128, rounding: Rounding) -> Result<u128, MathError> {
    if t == 0 {
        return Ok(0);
    }
    let g = mul_div(t, 1u128 << 63, SCALE, rounding)? as u64;
    Ok(q_to_raw(ln1p_q63(g, rounding)?, 63, rounding))
}

/// ln x for x >= 1 (ln of values below 1 is negative; callers use [`ln1p`] or rearrange).
pub fn ln(x: Decimal, rounding: Rounding) -> Result<Decimal, MathError> {
    let raw = x.raw();
    if raw < SCALE {
        return Err(MathError::Domain);
    }
    // x = 2^n m with m in [1, 2): ln x = n ln2 + ln(1 + (m - 1)); 2^68 * 10^18 < 2^128, so n <= 68
    // and every shift below is exact.
    let mut n = (127 - raw.leading_zeros()).saturating_sub(60);
    while n > 0 && SCALE << n > raw {
        n -= 1;
    }
    while n < 68 && SCALE << (n + 1) <= raw {
        n += 1;
    }
    let base = SCALE << n;
    let g = mul_div(raw - base, 1u128 << 63, base, rounding)? as u64;
    let ln2 = match rounding {
        Rounding::Down => LN2_DOWN,
        Rounding::Up => LN2_UP,
    };
    (n as u128 * ln2)
        .checked_add(q_to_raw(ln1p_q63(g, rounding)?, 63, rounding))
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

    /// e^x (x in [0, 1], given in Q124) and ln(1 + x) (via 2 atanh(x / (2 + x))) with 124 fractional
    /// bits, to check every table entry to the unit independently of the generator.
    fn exp_q124(x: u128) -> u128 {
        let one = 1u128 << 124;
        let (mut term, mut sum, mut k) = (one, one, 0u128);
        while term > 0 {
            k += 1;
            term = mul_div(term, x, one, Rounding::Down).unwrap() / k;
            sum += term;
        }
        sum
    }
    fn ln1p_q124(x: u128) -> u128 {
        let one = 1u128 << 124;
        let z = mul_div(x, one, 2 * one + x, Rounding::Down).unwrap();
        let z2 = mul_div(z, z, one, Rounding::Down).unwrap();
        let (mut power, mut sum, mut j) = (z, z, 0u128);
        while power > 0 {
            j += 1;
            power = mul_div(power, z2, one, Rounding::Down).unwrap();
            sum += power / (2 * j + 1);
        }
        2 * sum
    }

    #[test]
    fn tables_match_high_precision_series() {
        for (i, &(floor, ceil)) in EXP_TABLE.iter().enumerate() {
            // e^(i/32) < 2 needs 125 bits in Q124: use e^(i/64) squared instead.
            let half = exp_q124((i as u128) << 118);
            let full = mul_div(half, half, 1u128 << 124, Rounding::Down).unwrap() >> 2;
            // `full` is e^(i/32) in Q122 minus a few units of rounding: compare at Q62.
            let q62 = (full >> 60) as u64;
            assert_eq!(floor, q62, "exp table {i}");
            assert_eq!(
                ceil,
                if i == 0 { floor } else { floor + 1 },
                "exp table {i}"
            );
        }
        for (i, &(floor, ceil)) in LN_TABLE.iter().enumerate() {
            let q63 = (ln1p_q124((i as u128) << 120) >> 61) as u64;
            assert_eq!(floor, q63, "ln table {i}");
            assert_eq!(ceil, if i == 0 { floor } else { floor + 1 }, "ln table {i}");
        }
    }

    #[test]
    fn widening_mul_matches_native() {
        let values = [
            0u64,
            1,
            2,
            0xffff_ffff,
            0x1_0000_0000,
            u64::MAX,
            u64::MAX - 1,
            0x8000_0000_0000_0000,
            12_345_678_901_234_567,
        ];
        for &a in &values {
            for &b in &values {
                let product = a as u128 * b as u128;
                assert_eq!(
                    widening_mul(a, b),
                    ((product >> 64) as u64, product as u64),
                    "{a} * {b}"
                );
            }
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
        fn widening_mul_is_exact(a in any::<u64>(), b in any::<u64>()) {
            let product = a as u128 * b as u128;
            prop_assert_eq!(widening_mul(a, b), ((product >> 64) as u64, product as u64));
        }

        /// ln and expm1 on their whole ranges: bounds ordered, tight, and around f64's value.
        #[test]
        fn ln_and_expm1_bracket_f64(raw in 1u128..u128::MAX / 2, small in 0u128..SCALE / 2) {
            let x = Decimal::from_raw(raw.max(SCALE));
            let (low, high) = (ln(x, Rounding::Down).unwrap(), ln(x, Rounding::Up).unwrap());
            prop_assert!(low <= high && high.raw() - low.raw() <= 100);
            prop_assert!((low.to_f64() - x.to_f64().ln()).abs() <= 1e-12 * (1.0 + x.to_f64().ln()));
            let t = Decimal::from_raw(small);
            let (low, high) = (expm1(t, Rounding::Down).unwrap(), expm1(t, Rounding::Up).unwrap());
            prop_assert!(low <= high && high.raw() - low.raw() <= 4);
            prop_assert!((low.to_f64() - t.to_f64().exp_m1()).abs() <= 1e-15 * (1.0 + t.to_f64()));
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
