//! Lending math: volatility-driven rates and collateral ratios, continuous-compounding interest,
//! deposit shares, and portfolio volatility. Every rounding favours the vault: debt and shares
//! burned round up; collateral value, borrow limits and shares minted round down.
//!
//! * rate      r  = r0 + beta * sigma                 (annual, sigma annualised)
//! * ratio     CR = CRmin + gamma * sigma             (never below a floor, e.g. a DAO's CRmin)
//! * interest  D' = D * exp(r * slots / slots_per_year)
//! * portfolio sigma_p = sqrt(sum_ij w_i w_j rho_ij sigma_i sigma_j)

use crate::curve::sqrt;
use crate::decimal::{pow10, Decimal, SCALE};
use crate::transcendental::exp;
use crate::wide::{mul_div, Limbs256};
use crate::{MathError, Rounding};

/// Slots per year at 400 ms per slot.
pub const DEFAULT_SLOTS_PER_YEAR: u64 = 78_840_000;

/// Annualised volatility from a per-sqrt(slot) volatility: sigma * sqrt(slots_per_year).
pub fn annualize(per_slot: Decimal, slots_per_year: u64) -> Result<Decimal, MathError> {
    per_slot.mul(sqrt(Decimal::from_int(slots_per_year))?, Rounding::Down)
}

/// r = r0 + beta * sigma (rounded up: the borrower never pays less than the formula).
pub fn borrow_rate(r0: Decimal, beta: Decimal, sigma: Decimal) -> Result<Decimal, MathError> {
    r0.checked_add(beta.mul(sigma, Rounding::Up)?)
}

/// CR = CRmin + gamma * sigma in bps, at least `floor_bps` (rounded up: stricter).
pub fn collateral_ratio_bps(
    cr_min_bps: u16,
    gamma: Decimal,
    sigma: Decimal,
    floor_bps: u16,
) -> Result<u64, MathError> {
    let extra = gamma
        .mul(sigma, Rounding::Up)?
        .mul_div_int(10_000, 1, Rounding::Up)?;
    let extra_bps = extra.raw().div_ceil(SCALE);
    let ratio = (cr_min_bps as u128)
        .checked_add(extra_bps)
        .ok_or(MathError::Overflow)?;
    let ratio = u64::try_from(ratio).map_err(|_| MathError::Overflow)?;
    Ok(ratio.max(floor_bps as u64))
}

/// Debt after `slots` at annual `rate`, continuously compounded, rounded up. Total: saturates at
/// `u64::MAX` (a debt that large is unpayable anyway) so accrual can never make a repay, a
/// refresh or a liquidation fail; `slots_per_year` of zero counts as one.
pub fn accrue(debt: u64, rate: Decimal, slots: u64, slots_per_year: u64) -> u64 {
    if debt == 0 || slots == 0 || rate.is_zero() {
        return debt;
    }
    // e^44.4 > u64::MAX: any larger exponent saturates.
    const SATURATING_EXPONENT: u128 = 45 * SCALE;
    let exponent = rate
        .mul_div_int(slots as u128, slots_per_year.max(1) as u128, Rounding::Up)
        .map(|e| e.raw())
        .unwrap_or(u128::MAX);
    if exponent >= SATURATING_EXPONENT {
        return u64::MAX;
    }
    exp(Decimal::from_raw(exponent), Rounding::Up)
        .and_then(|factor| mul_div(debt as u128, factor.raw(), SCALE, Rounding::Up))
        .ok()
        .and_then(|grown| u64::try_from(grown).ok())
        .unwrap_or(u64::MAX)
}

/// Shares minted for a deposit of `amount` when the pool holds `total_value` for `total_shares`
/// (first deposit 1:1), rounded down.
pub fn shares_for_deposit(
    amount: u64,
    total_shares: u64,
    total_value: u64,
) -> Result<u64, MathError> {
    if total_shares == 0 || total_value == 0 {
        return Ok(amount);
    }
    let shares = mul_div(
        amount as u128,
        total_shares as u128,
        total_value as u128,
        Rounding::Down,
    )?;
    u64::try_from(shares).map_err(|_| MathError::Overflow)
}

/// Liquidity paid for redeeming `shares`, rounded down.
pub fn amount_for_shares(
    shares: u64,
    total_shares: u64,
    total_value: u64,
) -> Result<u64, MathError> {
    if total_shares == 0 {
        return Err(MathError::DivisionByZero);
    }
    let amount = mul_div(
        shares as u128,
        total_value as u128,
        total_shares as u128,
        Rounding::Down,
    )?;
    u64::try_from(amount).map_err(|_| MathError::Overflow)
}

/// Value in quote base units of `amount` collateral base units at `price` (quote tokens per token).
pub fn collateral_value(
    amount: u64,
    price: Decimal,
    decimals: u8,
    quote_decimals: u8,
    rounding: Rounding,
) -> Result<u64, MathError> {
    let value = mul_div(
        amount as u128 * pow10(quote_decimals as u32),
        price.raw(),
        pow10(decimals as u32) * SCALE,
        rounding,
    )?;
    u64::try_from(value).map_err(|_| MathError::Overflow)
}

/// Collateral base units worth `value` quote base units at `price`, rounded as asked.
pub fn collateral_for_value(
    value: u64,
    price: Decimal,
    decimals: u8,
    quote_decimals: u8,
    rounding: Rounding,
) -> Result<u64, MathError> {
    if price.is_zero() {
        return Err(MathError::DivisionByZero);
    }
    let amount = mul_div(
        value as u128 * pow10(decimals as u32),
        SCALE,
        price
            .raw()
            .checked_mul(pow10(quote_decimals as u32))
            .ok_or(MathError::Overflow)?,
        rounding,
    )?;
    u64::try_from(amount).map_err(|_| MathError::Overflow)
}

/// `value * 10_000 / ratio_bps`, rounded down: what a collateral value supports at a ratio.
pub fn limit_at_ratio(value: u64, ratio_bps: u64) -> Result<u64, MathError> {
    if ratio_bps == 0 {
        return Err(MathError::DivisionByZero);
    }
    u64::try_from(mul_div(
        value as u128,
        10_000,
        ratio_bps as u128,
        Rounding::Down,
    )?)
    .map_err(|_| MathError::Overflow)
}

/// sqrt(w' Sigma w) with Sigma_ij = rho_ij sigma_i sigma_j; `weights` are value weights
/// (any scale, normalised here), `correlations_bps[i][j]` in [-10_000, 10_000] (the diagonal is
/// taken as 10_000). An upper bound: the positive terms use a_i = w_i sigma_i rounded up, the
/// negative ones a_i rounded down, and the root is rounded up.
///
/// Heap-free and O(n^2) integer work with n divisions: with a_i as integers, the variance is
/// sum_i a_i (sum_j rho_ij a_j) / (10^4 10^18); the inner sums are exact in 128 bits and the outer
/// products accumulate in 256 bits, so only the final scaling divides.
pub fn portfolio_sigma(
    weights: &[u64],
    sigmas: &[Decimal],
    correlations_bps: &dyn Fn(usize, usize) -> i16,
) -> Result<Decimal, MathError> {
    const MAX_ASSETS: usize = 16;
    let n = weights.len();
    if n != sigmas.len() || n > MAX_ASSETS {
        return Err(MathError::Domain);
    }
    let total: u128 = weights.iter().map(|&w| w as u128).sum();
    if total == 0 {
        return Ok(Decimal::ZERO);
    }
    // a_i = w_i sigma_i (raw, 1e-18 units): low and high bounds.
    let mut low = [0u128; MAX_ASSETS];
    for i in 0..n {
        low[i] = mul_div(weights[i] as u128, sigmas[i].raw(), total, Rounding::Down)?;
    }
    let high = |i: usize| low[i].saturating_add(1);
    let mut positive = Limbs256::from_u128(0);
    let mut negative = Limbs256::from_u128(0);
    for i in 0..n {
        // Inner sums: |rho| <= 1e4 and a_j < 2^110 for sigma < 1e15, so each stays in 128 bits.
        let (mut up, mut down) = (0u128, 0u128);
        for j in 0..n {
            let rho = if i == j {
                10_000
            } else {
                correlations_bps(i, j).clamp(-10_000, 10_000)
            };
            if rho > 0 {
                up = up
                    .checked_add(
                        (rho as u128)
                            .checked_mul(high(j))
                            .ok_or(MathError::Overflow)?,
                    )
                    .ok_or(MathError::Overflow)?;
            } else if rho < 0 {
                down = down
                    .checked_add(
                        (rho.unsigned_abs() as u128)
                            .checked_mul(low[j])
                            .ok_or(MathError::Overflow)?,
                    )
                    .ok_or(MathError::Overflow)?;
            }
        }
        positive = positive.checked_add(&Limbs256::product(high(i), up))?;
        negative = negative.checked_add(&Limbs256::product(low[i], down))?;
    }
    let scale = 10_000 * SCALE;
    let variance = positive
        .div_u128(scale, Rounding::Up)?
        .saturating_sub(negative.div_u128(scale, Rounding::Down)?);
    // sqrt rounds down; add one unit so the bound stays an upper bound.
    Ok(Decimal::from_raw(
        sqrt(Decimal::from_raw(variance))?.raw().saturating_add(1),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn rate_and_ratio_follow_sigma() {
        // r = 2% + 0.5 * 30% = 17%; CR = 150% + 1.0 * 30% = 180%
        assert_eq!(
            borrow_rate(d("0.02"), d("0.5"), d("0.3")).unwrap(),
            d("0.17")
        );
        assert_eq!(
            collateral_ratio_bps(15_000, d("1"), d("0.3"), 0).unwrap(),
            18_000
        );
        assert_eq!(
            collateral_ratio_bps(15_000, d("1"), d("0.3"), 20_000).unwrap(),
            20_000
        );
        assert_eq!(
            collateral_ratio_bps(15_000, d("0"), d("0.3"), 0).unwrap(),
            15_000
        );
    }

    #[test]
    fn accrual_matches_closed_form_compounding() {
        // 1,000,000 at 10% for one year, continuously compounded: 1,105,170.918...
        let one_year = accrue(
            1_000_000_000_000,
            d("0.1"),
            DEFAULT_SLOTS_PER_YEAR,
            DEFAULT_SLOTS_PER_YEAR,
        );
        assert_eq!(one_year, 1_105_170_918_076); // ceil(1e12 * e^0.1)
                                                 // accruing in 12 steps equals accruing once, to within the per-step ceilings
        let mut debt = 1_000_000_000_000u64;
        for _ in 0..12 {
            debt = accrue(
                debt,
                d("0.1"),
                DEFAULT_SLOTS_PER_YEAR / 12,
                DEFAULT_SLOTS_PER_YEAR,
            );
        }
        assert!(
            debt >= one_year && debt <= one_year + 12,
            "{debt} vs {one_year}"
        );
        assert_eq!(accrue(5, d("0.1"), 0, DEFAULT_SLOTS_PER_YEAR), 5);
        // saturation instead of overflow: 1,000% for ten years, or a zero year length
        assert_eq!(
            accrue(
                1_000_000,
                d("10"),
                10 * DEFAULT_SLOTS_PER_YEAR,
                DEFAULT_SLOTS_PER_YEAR
            ),
            u64::MAX
        );
        assert_eq!(
            accrue(u64::MAX, d("0.01"), 1, DEFAULT_SLOTS_PER_YEAR),
            u64::MAX
        );
        assert_eq!(accrue(1_000, d("0.1"), 1_000, 0), u64::MAX);
    }

    #[test]
    fn shares_round_for_the_vault() {
        assert_eq!(shares_for_deposit(100, 0, 0).unwrap(), 100);
        // pool worth 150 for 100 shares: 10 deposited mints floor(6.66) = 6 shares
        assert_eq!(shares_for_deposit(10, 100, 150).unwrap(), 6);
        assert_eq!(amount_for_shares(6, 106, 160).unwrap(), 9);
    }

    #[test]
    fn portfolio_sigma_diversifies() {
        let sigmas = [d("0.2"), d("0.2")];
        let independent = portfolio_sigma(&[1, 1], &sigmas, &|_, _| 0).unwrap();
        assert!((independent.to_f64() - 0.2 / 2f64.sqrt()).abs() < 1e-9);
        let perfect = portfolio_sigma(&[1, 1], &sigmas, &|_, _| 10_000).unwrap();
        assert!((perfect.to_f64() - 0.2).abs() < 1e-9);
        let hedged = portfolio_sigma(&[1, 1], &sigmas, &|_, _| -10_000).unwrap();
        assert!(hedged.to_f64() < 1e-6);
        assert_eq!(
            portfolio_sigma(&[0, 0], &sigmas, &|_, _| 0).unwrap(),
            Decimal::ZERO
        );
    }

    proptest! {
        /// An upper bound on the f64 value of sqrt(w' Sigma w), and a tight one, for any PSD-or-not
        /// correlation table (the variance floors at zero).
        #[test]
        fn portfolio_sigma_bounds_the_float_value(n in 1usize..=8, weights in prop::collection::vec(0u64..1u64 << 40, 8), sigma_bps in prop::collection::vec(0u64..50_000, 8), rho in prop::collection::vec(-10_000i16..=10_000, 64)) {
            let sigmas: Vec<Decimal> = sigma_bps.iter().map(|&b| Decimal::from_raw(b as u128 * SCALE / 10_000)).collect();
            let correlation = |i: usize, j: usize| rho[i.min(j) * 8 + i.max(j)];
            let exact = portfolio_sigma(&weights[..n], &sigmas[..n], &correlation).unwrap();
            let total: f64 = weights[..n].iter().map(|&w| w as f64).sum();
            if total == 0.0 {
                prop_assert_eq!(exact, Decimal::ZERO);
            } else {
                let a: Vec<f64> = (0..n).map(|i| weights[i] as f64 / total * sigmas[i].to_f64()).collect();
                let mut variance = 0.0;
                for i in 0..n {
                    for j in 0..n {
                        let r = if i == j { 1.0 } else { correlation(i, j) as f64 / 10_000.0 };
                        variance += r * a[i] * a[j];
                    }
                }
                let float = variance.max(0.0).sqrt();
                prop_assert!(exact.to_f64() >= float - 1e-9, "{} < {}", exact, float);
                prop_assert!(exact.to_f64() <= float + 1e-6 * (1.0 + float), "{} vs {}", exact, float);
            }
        }

        /// Depositing then redeeming never returns more than was deposited.
        #[test]
        fn deposit_redeem_round_trip(amount in 1u64..1u64 << 50, shares in 1u64..1u64 << 50, value in 1u64..1u64 << 50) {
            let minted = shares_for_deposit(amount, shares, value).unwrap();
            let back = amount_for_shares(minted, shares + minted, value + amount).unwrap();
            prop_assert!(back <= amount);
        }

        #[test]
        fn accrual_is_monotone(debt in 1u64..1u64 << 50, bps in 0u64..5_000, slots in 0u64..DEFAULT_SLOTS_PER_YEAR) {
            let rate = Decimal::from_raw(bps as u128 * SCALE / 10_000);
            let later = accrue(debt, rate, slots, DEFAULT_SLOTS_PER_YEAR);
            prop_assert!(later >= debt);
            let reference = debt as f64 * (rate.to_f64() * slots as f64 / DEFAULT_SLOTS_PER_YEAR as f64).exp();
            prop_assert!((later as f64 - reference).abs() <= reference * 1e-12 + 2.0);
        }
    }
}
