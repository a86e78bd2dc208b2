//! `Decimal`: an unsigned decimal fixed-point number with 18 fractional digits (raw `u128` scaled by
//! 10^18). Every decimal string with up to 18 fractional digits (so in particular the 12 the curve
//! parameters are specified with) is represented exactly. Every operation that can lose digits takes a
//! [`Rounding`] so callers state which side the error lands on.

use core::fmt;
use core::str::FromStr;

use crate::wide::mul_div;
use crate::{MathError, Rounding};

/// Fractional digits of [`Decimal`].
pub const DECIMAL_DIGITS: u32 = 18;
/// Raw value of 1.0.
pub const SCALE: u128 = 1_000_000_000_000_000_000;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Decimal(u128);

/// Why a decimal string was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseDecimalError {
    Empty,
    InvalidCharacter,
    TooManyFractionalDigits,
    Overflow,
}

impl fmt::Display for ParseDecimalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            ParseDecimalError::Empty => "empty decimal string",
            ParseDecimalError::InvalidCharacter => {
                "invalid character in decimal string (expected digits and at most one '.')"
            }
            ParseDecimalError::TooManyFractionalDigits => "more than 18 fractional digits",
            ParseDecimalError::Overflow => "decimal value too large",
        };
        f.write_str(text)
    }
}

impl core::error::Error for ParseDecimalError {}

pub(crate) const fn pow10(exponent: u32) -> u128 {
    10u128.pow(exponent)
}

impl Decimal {
    pub const ZERO: Decimal = Decimal(0);
    pub const ONE: Decimal = Decimal(SCALE);
    pub const MAX: Decimal = Decimal(u128::MAX);

    pub const fn from_raw(raw: u128) -> Self {
        Decimal(raw)
    }

    pub const fn raw(self) -> u128 {
        self.0
    }

    pub const fn from_int(value: u64) -> Self {
        // u64::MAX * 10^18 < 2^128, so this cannot overflow.
        Decimal(value as u128 * SCALE)
    }

    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// A token amount in base units as a decimal number of whole tokens (exact for decimals <= 18).
    pub fn from_base_units(amount: u64, decimals: u8) -> Result<Self, MathError> {
        if decimals as u32 > DECIMAL_DIGITS {
            return Err(MathError::UnsupportedDecimals);
        }
        Ok(Decimal(
            amount as u128 * pow10(DECIMAL_DIGITS - decimals as u32),
        ))
    }

    /// Whole tokens to base units, rounded in the given direction; refuses values above `u64::MAX`.
    pub fn to_base_units(self, decimals: u8, rounding: Rounding) -> Result<u64, MathError> {
        if decimals as u32 > DECIMAL_DIGITS {
            return Err(MathError::UnsupportedDecimals);
        }
        let divisor = pow10(DECIMAL_DIGITS - decimals as u32);
        let mut units = self.0 / divisor;
        if rounding == Rounding::Up && !self.0.is_multiple_of(divisor) {
            units += 1;
        }
        u64::try_from(units).map_err(|_| MathError::Overflow)
    }

    pub fn checked_add(self, other: Decimal) -> Result<Decimal, MathError> {
        self.0
            .checked_add(other.0)
            .map(Decimal)
            .ok_or(MathError::Overflow)
    }

    pub fn checked_sub(self, other: Decimal) -> Result<Decimal, MathError> {
        self.0
            .checked_sub(other.0)
            .map(Decimal)
            .ok_or(MathError::Underflow)
    }

    pub fn saturating_sub(self, other: Decimal) -> Decimal {
        Decimal(self.0.saturating_sub(other.0))
    }

    /// `self * other`, rounded in the given direction.
    pub fn mul(self, other: Decimal, rounding: Rounding) -> Result<Decimal, MathError> {
        mul_div(self.0, other.0, SCALE, rounding).map(Decimal)
    }

    /// `self / other`, rounded in the given direction.
    pub fn div(self, other: Decimal, rounding: Rounding) -> Result<Decimal, MathError> {
        if other.0 == 0 {
            return Err(MathError::DivisionByZero);
        }
        mul_div(self.0, SCALE, other.0, rounding).map(Decimal)
    }

    /// `self * numerator / denominator` with one rounding step.
    pub fn mul_div_int(
        self,
        numerator: u128,
        denominator: u128,
        rounding: Rounding,
    ) -> Result<Decimal, MathError> {
        mul_div(self.0, numerator, denominator, rounding).map(Decimal)
    }

    /// Lossy conversion for display and off-chain statistics only; never used for settlement.
    pub fn to_f64(self) -> f64 {
        (self.0 / SCALE) as f64 + (self.0 % SCALE) as f64 / SCALE as f64
    }

    /// Nearest decimal to a finite, non-negative `f64` (off-chain convenience for bots).
    #[cfg(feature = "std")]
    pub fn from_f64(value: f64) -> Result<Decimal, MathError> {
        if !value.is_finite() || value < 0.0 {
            return Err(MathError::Domain);
        }
        let whole = value.trunc();
        if whole >= u64::MAX as f64 {
            return Err(MathError::Overflow);
        }
        let frac = ((value - whole) * SCALE as f64).round() as u128;
        (whole as u128)
            .checked_mul(SCALE)
            .and_then(|w| w.checked_add(frac))
            .map(Decimal)
            .ok_or(MathError::Overflow)
    }
}

impl FromStr for Decimal {
    type Err = ParseDecimalError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ParseDecimalError::Empty);
        }
        let (whole, fraction) = match text.split_once('.') {
            Some((whole, fraction)) => (whole, fraction),
            None => (text, ""),
        };
        if whole.is_empty() && fraction.is_empty() {
            return Err(ParseDecimalError::Empty);
        }
        if !whole.bytes().all(|b| b.is_ascii_digit())
            || !fraction.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(ParseDecimalError::InvalidCharacter);
        }
        let fraction = fraction.trim_end_matches('0');
        if fraction.len() > DECIMAL_DIGITS as usize {
            return Err(ParseDecimalError::TooManyFractionalDigits);
        }
        let mut raw: u128 = 0;
        for digit in whole.bytes() {
            raw = raw
                .checked_mul(10)
                .and_then(|r| r.checked_add((digit - b'0') as u128))
                .ok_or(ParseDecimalError::Overflow)?;
        }
        raw = raw.checked_mul(SCALE).ok_or(ParseDecimalError::Overflow)?;
        let mut fraction_raw: u128 = 0;
        for digit in fraction.bytes() {
            fraction_raw = fraction_raw * 10 + (digit - b'0') as u128;
        }
        fraction_raw *= pow10(DECIMAL_DIGITS - fraction.len() as u32);
        raw.checked_add(fraction_raw)
            .map(Decimal)
            .ok_or(ParseDecimalError::Overflow)
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / SCALE;
        let fraction = self.0 % SCALE;
        if fraction == 0 {
            return write!(f, "{whole}");
        }
        let mut digits = [0u8; DECIMAL_DIGITS as usize];
        let mut rest = fraction;
        for slot in digits.iter_mut().rev() {
            *slot = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        let mut len = digits.len();
        while digits[len - 1] == b'0' {
            len -= 1;
        }
        // Digits are ASCII by construction.
        write!(
            f,
            "{whole}.{}",
            core::str::from_utf8(&digits[..len]).unwrap_or("?")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn parses_and_prints_exactly() {
        assert_eq!(d("1.5").raw(), 1_500_000_000_000_000_000);
        assert_eq!(d("0.000000000001").raw(), 1_000_000);
        assert_eq!(d(".25").raw(), 250_000_000_000_000_000);
        assert_eq!(d("7.").raw(), 7 * SCALE);
        assert_eq!(d("123.456000").to_string(), "123.456");
        assert_eq!(
            d("0.123456789012345678").to_string(),
            "0.123456789012345678"
        );
        assert_eq!(
            "1.0000000000000000001".parse::<Decimal>(),
            Err(ParseDecimalError::TooManyFractionalDigits)
        );
        assert_eq!(
            "-1".parse::<Decimal>(),
            Err(ParseDecimalError::InvalidCharacter)
        );
        assert_eq!(
            "1e5".parse::<Decimal>(),
            Err(ParseDecimalError::InvalidCharacter)
        );
        assert_eq!(
            "1.2.3".parse::<Decimal>(),
            Err(ParseDecimalError::InvalidCharacter)
        );
        assert_eq!("".parse::<Decimal>(), Err(ParseDecimalError::Empty));
        assert_eq!(".".parse::<Decimal>(), Err(ParseDecimalError::Empty));
        assert_eq!(
            "1000000000000000000000000".parse::<Decimal>(),
            Err(ParseDecimalError::Overflow)
        );
    }

    #[test]
    fn rounding_directions() {
        let third_down = Decimal::ONE
            .div(Decimal::from_int(3), Rounding::Down)
            .unwrap();
        let third_up = Decimal::ONE
            .div(Decimal::from_int(3), Rounding::Up)
            .unwrap();
        assert_eq!(third_up.raw() - third_down.raw(), 1);
        assert_eq!(d("0.0000005").to_base_units(6, Rounding::Up).unwrap(), 1);
        assert_eq!(d("0.0000005").to_base_units(6, Rounding::Down).unwrap(), 0);
        assert_eq!(Decimal::from_base_units(1_500_000, 6).unwrap(), d("1.5"));
        assert_eq!(
            Decimal::from_base_units(1, 19),
            Err(MathError::UnsupportedDecimals)
        );
        assert_eq!(
            Decimal::ONE.div(Decimal::ZERO, Rounding::Down),
            Err(MathError::DivisionByZero)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// Any decimal string with up to 12 fractional digits round-trips exactly.
        #[test]
        fn twelve_digit_strings_round_trip(whole in 0u64..1_000_000_000_000, fraction in 0u64..1_000_000_000_000) {
            let text = format!("{whole}.{fraction:012}");
            let value: Decimal = text.parse().unwrap();
            prop_assert_eq!(value.raw(), whole as u128 * SCALE + fraction as u128 * 1_000_000);
            let printed = value.to_string();
            prop_assert_eq!(printed.parse::<Decimal>().unwrap(), value);
        }

        #[test]
        fn mul_rounding_brackets_exact(a in 0u128..(1u128 << 80), b in 0u128..(1u128 << 80)) {
            let (x, y) = (Decimal::from_raw(a), Decimal::from_raw(b));
            let down = x.mul(y, Rounding::Down).unwrap();
            let up = x.mul(y, Rounding::Up).unwrap();
            prop_assert!(up.raw() - down.raw() <= 1);
        }
    }
}
