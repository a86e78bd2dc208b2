//! The primary market at NAV: authorised participants subscribe (quote in, newly minted tokens
//! out) and redeem (tokens burned, quote out) at the published net asset value plus or minus a
//! fee. Every rounding favours the issuer: a subscriber gets the floor of what its payment buys
//! and pays the ceiling of what that costs; a redeemer receives the floor of its tokens' value,
//! less a fee rounded up.

use crate::fees::{fee_on, max_net_for_gross};
use crate::{Decimal, MathError, Rounding};

/// What a subscription of at most `quote_in` settles to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subscription {
    /// RWA base units minted to the participant.
    pub amount: u64,
    /// Quote base units the tokens are worth at NAV (rounded up).
    pub value: u64,
    /// Fee on `value` (rounded up).
    pub fee: u64,
}

impl Subscription {
    /// What the participant pays: `value + fee`, never more than its `quote_in`.
    pub fn cost(&self) -> u64 {
        self.value.saturating_add(self.fee)
    }
}

/// The most tokens `quote_in` buys at `nav` (quote tokens per RWA token) with a `fee_bps` fee.
pub fn subscribe(
    quote_in: u64,
    nav: Decimal,
    fee_bps: u16,
    rwa_decimals: u8,
    quote_decimals: u8,
) -> Result<Subscription, MathError> {
    if nav.is_zero() {
        return Err(MathError::Domain);
    }
    // Budget left for the tokens once the fee on them is set aside (floor).
    let net = max_net_for_gross(quote_in, fee_bps)?;
    let tokens = Decimal::from_base_units(net, quote_decimals)?.div(nav, Rounding::Down)?;
    let amount = tokens.to_base_units(rwa_decimals, Rounding::Down)?;
    let value = value_of(amount, nav, rwa_decimals, quote_decimals, Rounding::Up)?;
    let fee = fee_on(value, fee_bps)?;
    // amount <= net / nav exactly, so ceil(amount * nav) <= net and value + fee <= quote_in.
    debug_assert!(value.saturating_add(fee) <= quote_in);
    Ok(Subscription { amount, value, fee })
}

/// What a redemption of `amount` RWA base units pays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Redemption {
    /// Quote base units the tokens are worth at NAV (rounded down).
    pub value: u64,
    /// Fee on `value` (rounded up), kept by the issuer.
    pub fee: u64,
}

impl Redemption {
    /// What the participant receives.
    pub fn proceeds(&self) -> u64 {
        self.value.saturating_sub(self.fee)
    }
}

pub fn redeem(
    amount: u64,
    nav: Decimal,
    fee_bps: u16,
    rwa_decimals: u8,
    quote_decimals: u8,
) -> Result<Redemption, MathError> {
    let value = value_of(amount, nav, rwa_decimals, quote_decimals, Rounding::Down)?;
    let fee = fee_on(value, fee_bps)?;
    Ok(Redemption { value, fee })
}

/// `amount` RWA base units at `nav`, in quote base units, rounded as asked.
pub fn value_of(
    amount: u64,
    nav: Decimal,
    rwa_decimals: u8,
    quote_decimals: u8,
    rounding: Rounding,
) -> Result<u64, MathError> {
    Decimal::from_base_units(amount, rwa_decimals)?
        .mul(nav, rounding)?
        .to_base_units(quote_decimals, rounding)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn a_subscription_at_nav_one_with_a_fee() {
        // 1,010 USDC at NAV 1.00 and 1%: 1,000 tokens worth 1,000, fee 10.
        let s = subscribe(1_010_000_000, d("1"), 100, 6, 6).unwrap();
        assert_eq!(
            s,
            Subscription {
                amount: 1_000_000_000,
                value: 1_000_000_000,
                fee: 10_000_000
            }
        );
        assert_eq!(s.cost(), 1_010_000_000);
        let r = redeem(1_000_000_000, d("1"), 100, 6, 6).unwrap();
        assert_eq!(r.proceeds(), 990_000_000);
    }

    #[test]
    fn nav_zero_and_dust_are_typed() {
        assert_eq!(
            subscribe(1_000, Decimal::ZERO, 0, 6, 6),
            Err(MathError::Domain)
        );
        // one quote unit cannot buy a token unit worth 2 units
        assert_eq!(subscribe(1, d("2"), 0, 6, 6).unwrap().amount, 0);
        assert!(subscribe(u64::MAX, d("0.000000000000000001"), 0, 18, 0).is_err());
    }

    proptest! {
        #[test]
        fn subscriptions_never_overcharge_and_buy_the_most_they_can(
            quote_in in 1u64..=1_000_000_000_000_000,
            nav_raw in 1u128..=1_000_000_000_000_000_000_000u128,
            fee_bps in 0u16..=500,
            rwa_decimals in 0u8..=9,
            quote_decimals in 0u8..=9,
        ) {
            let nav = Decimal::from_raw(nav_raw);
            let Ok(s) = subscribe(quote_in, nav, fee_bps, rwa_decimals, quote_decimals) else {
                return Ok(());
            };
            prop_assert!(s.cost() <= quote_in);
            prop_assert_eq!(s.fee, fee_on(s.value, fee_bps).unwrap());
            // one more unit would cost more than was offered
            if let Ok(value) = value_of(s.amount + 1, nav, rwa_decimals, quote_decimals, Rounding::Up) {
                let fee = fee_on(value, fee_bps).unwrap();
                prop_assert!(value.saturating_add(fee) > quote_in || value > max_net_for_gross(quote_in, fee_bps).unwrap());
            }
        }

        #[test]
        fn a_round_trip_through_the_primary_market_never_profits(
            quote_in in 1u64..=1_000_000_000_000,
            nav_raw in 1_000_000_000_000u128..=1_000_000_000_000_000_000_000u128,
            fee_bps in 0u16..=500,
        ) {
            let nav = Decimal::from_raw(nav_raw);
            let s = subscribe(quote_in, nav, fee_bps, 6, 6).unwrap();
            let r = redeem(s.amount, nav, fee_bps, 6, 6).unwrap();
            prop_assert!(r.proceeds() <= s.cost());
            prop_assert!(r.value <= s.value);
        }
    }
}
