//! Pure, deterministic math shared by the on-chain programs and the bots.
//!
//! * [`Decimal`]: unsigned fixed point with 18 fractional digits (exact for decimal strings with up
//!   to 18 fractional digits);
//! * [`wide`]: exact `a * b / c` through 512-bit intermediates, with a stated [`Rounding`];
//! * [`transcendental`]: exp / ln returning guaranteed lower or upper bounds;
//! * [`curve`]: the three bonding curves and their exact integrals in token base units, rounded in
//!   the pool's favour (buyer pays the ceiling, seller receives the floor).
//!
//! No floating point in anything that settles value, no heap, no panics on any input. `no_std`
//! unless the `std` feature (default) is on: the programs build it without `std`, so the crate
//! compiles for `target_arch = "bpf"`/`"sbf"` as it is; only off-chain helpers
//! (`Decimal::from_f64`) and the tests use `std`.

#![cfg_attr(not(any(feature = "std", test)), no_std)]

pub mod curve;
pub mod decimal;
pub mod fees;
pub mod governance;
pub mod lending;
pub mod oracle;
pub mod primary;
pub mod route;
pub mod transcendental;
pub mod wide;

pub use curve::{Curve, CurveKind, CurveMarket};
pub use decimal::{Decimal, ParseDecimalError, SCALE};

/// Which side a lossy step rounds to. Callers pick the side that favours the pool or vault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounding {
    /// Towards zero: the result never exceeds the exact value.
    Down,
    /// Away from zero: the result is never below the exact value.
    Up,
}

impl Rounding {
    pub const fn opposite(self) -> Rounding {
        match self {
            Rounding::Down => Rounding::Up,
            Rounding::Up => Rounding::Down,
        }
    }
}

/// Every failure of the math, typed; the programs map these onto their error codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MathError {
    Overflow,
    Underflow,
    DivisionByZero,
    /// Argument outside the function's domain (for example ln of a value below one).
    Domain,
    /// A series failed to converge within its term budget (unreachable for validated inputs).
    NoConvergence,
    /// Token decimals above what the fixed-point representation supports exactly.
    UnsupportedDecimals,
    /// Curve parameters outside the supported bounds; the text names the bound.
    InvalidCurve(&'static str),
    /// A trade would move supply past zero or past the market's maximum supply.
    SupplyOutOfRange,
}

impl core::fmt::Display for MathError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MathError::Overflow => f.write_str("arithmetic overflow"),
            MathError::Underflow => f.write_str("arithmetic underflow"),
            MathError::DivisionByZero => f.write_str("division by zero"),
            MathError::Domain => f.write_str("argument outside the function's domain"),
            MathError::NoConvergence => f.write_str("series did not converge"),
            MathError::UnsupportedDecimals => f.write_str("unsupported token decimals"),
            MathError::InvalidCurve(why) => write!(f, "invalid curve parameters: {why}"),
            MathError::SupplyOutOfRange => f.write_str("supply would leave [0, max_supply]"),
        }
    }
}

impl core::error::Error for MathError {}
