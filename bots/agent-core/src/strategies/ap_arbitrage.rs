//! Authorised-participant arbitrage between the bonding curve and the primary market at NAV: what
//! keeps an RWA's market price honest. When the curve pays more than NAV plus the subscription
//! fee, subscribe new tokens at NAV and sell them to the curve (its price falls toward NAV); when
//! the curve charges less than NAV less the redemption fee, buy from the curve and redeem at NAV
//! (its price rises toward NAV). Every candidate size is priced exactly as the programs settle
//! it (curve integrals, primary-market rounding, fees rounded up); only a strictly positive
//! result after `transaction_cost` becomes an intent, and the intent's bounds revert both legs if
//! the chain moved against it.

use rwa_math::fees::fee_on;
use rwa_math::primary::{redeem, value_of};
use rwa_math::{Decimal, Rounding};

use crate::intent::Intent;
use crate::view::{MarketView, PrimaryView};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ApParams {
    /// Cost charged against each arbitrage (fees, priority fee), quote base units.
    pub transaction_cost: u64,
    /// Only act above this profit after costs, quote base units.
    pub min_profit: u64,
    /// Candidate sizes: this many evenly spaced fractions of the largest useful size.
    pub size_steps: u64,
}

impl Default for ApParams {
    fn default() -> Self {
        ApParams {
            transaction_cost: 10_000,
            min_profit: 1,
            size_steps: 16,
        }
    }
}

/// Subscribe `amount` at NAV and sell it to the curve: (profit, quote paid, quote received).
pub fn subscribe_then_sell(
    view: &MarketView,
    primary: &PrimaryView,
    amount: u64,
    cost: u64,
) -> Option<(i64, u64, u64)> {
    let curve = &view.curve;
    let value = value_of(
        amount,
        primary.nav(),
        curve.decimals,
        curve.quote_decimals,
        Rounding::Up,
    )
    .ok()?;
    let paid = value.checked_add(fee_on(value, primary.subscribe_fee_bps).ok()?)?;
    if amount > view.supply {
        return None;
    }
    let proceeds = curve.sell_proceeds(view.supply, amount).ok()?;
    let received = proceeds.checked_sub(fee_on(proceeds, view.fee_bps).ok()?)?;
    let profit = received as i128 - paid as i128 - cost as i128;
    Some((i64::try_from(profit).ok()?, paid, received))
}

/// Buy `amount` from the curve and redeem it at NAV: (profit, quote paid, quote received).
pub fn buy_then_redeem(
    view: &MarketView,
    primary: &PrimaryView,
    amount: u64,
    cost: u64,
) -> Option<(i64, u64, u64)> {
    let curve = &view.curve;
    if view.supply.checked_add(amount)? > view.max_supply || amount > primary.redeemable {
        return None;
    }
    let price = curve.buy_cost(view.supply, amount).ok()?;
    let paid = price.checked_add(fee_on(price, view.fee_bps).ok()?)?;
    let received = redeem(
        amount,
        primary.nav(),
        primary.redeem_fee_bps,
        curve.decimals,
        curve.quote_decimals,
    )
    .ok()?
    .proceeds();
    if received > primary.redemption_vault {
        return None;
    }
    let profit = received as i128 - paid as i128 - cost as i128;
    Some((i64::try_from(profit).ok()?, paid, received))
}

/// The most profitable of `steps` candidate sizes up to `largest`, as an intent.
fn best(
    largest: u64,
    steps: u64,
    params: &ApParams,
    price: impl Fn(u64) -> Option<(i64, u64, u64)>,
    subscribe_first: bool,
) -> Option<Intent> {
    let steps = steps.max(1);
    let mut best: Option<(i64, u64, u64, u64)> = None;
    for k in 1..=steps {
        let amount = (largest as u128 * k as u128 / steps as u128) as u64;
        if amount == 0 {
            continue;
        }
        if let Some((profit, paid, received)) = price(amount) {
            if profit > best.map_or(0, |b| b.0) {
                best = Some((profit, amount, paid, received));
            }
        }
    }
    let (profit, amount, paid, _) = best?;
    if profit < params.min_profit as i64 {
        return None;
    }
    Some(Intent::PrimaryArbitrage {
        subscribe_first,
        amount,
        quote_limit: paid,
        // Never get back less than was paid plus the cost: the transaction reverts instead.
        min_quote_back: paid.saturating_add(params.transaction_cost),
        expected_profit: profit,
    })
}

/// The supply at which the curve's spot is `price` (clamped to [0, max_supply]).
fn supply_at(view: &MarketView, price: Decimal) -> u64 {
    let curve = view.curve.curve;
    let unit = 10f64.powi(view.curve.decimals as i32);
    match curve.supply_at_price(price) {
        Ok(Some(tokens)) => ((tokens.to_f64() * unit) as u64).min(view.max_supply),
        Ok(None) => {
            if curve
                .price(Decimal::ZERO, Rounding::Down)
                .is_ok_and(|p| p >= price)
            {
                0
            } else {
                view.max_supply
            }
        }
        Err(_) => view.supply,
    }
}

/// At most one primary arbitrage intent for this step.
pub fn step(view: &MarketView, params: &ApParams) -> Vec<Intent> {
    let Some(primary) = view.primary.filter(|p| p.usable && p.nav_raw > 0) else {
        return Vec::new();
    };
    let nav = primary.nav();
    let cost = params.transaction_cost;
    let quote_budget = view.position.quote;
    // The most tokens the quote on hand can pay for at the higher of NAV and spot (the candidates
    // are then priced exactly and filtered by the budget).
    let unit_price = nav.to_f64().max(view.spot) * view.quote_unit() / view.token_unit();
    let affordable = if unit_price > 0.0 {
        (quote_budget as f64 / unit_price) as u64
    } else {
        0
    };
    if view.spot > nav.to_f64() {
        // Curve rich: sell down to about NAV (where the curve stops paying more than NAV).
        let largest = view
            .supply
            .saturating_sub(supply_at(view, nav))
            .min(affordable);
        let intent = best(
            largest,
            params.size_steps,
            params,
            |amount| {
                subscribe_then_sell(view, &primary, amount, cost)
                    .filter(|(_, paid, _)| *paid <= quote_budget)
            },
            true,
        );
        return intent.into_iter().collect();
    }
    // Curve cheap: buy up to about NAV, within the window's redemption room.
    let largest = supply_at(view, nav)
        .saturating_sub(view.supply)
        .min(primary.redeemable)
        .min(affordable);
    best(
        largest,
        params.size_steps,
        params,
        |amount| {
            buy_then_redeem(view, &primary, amount, cost)
                .filter(|(_, paid, _)| *paid <= quote_budget)
        },
        false,
    )
    .into_iter()
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::market_maker::tests_support::view;

    fn primary(nav: &str) -> PrimaryView {
        PrimaryView {
            nav_raw: nav.parse::<Decimal>().unwrap().raw(),
            usable: true,
            subscribe_fee_bps: 10,
            redeem_fee_bps: 10,
            redeemable: u64::MAX,
            redemption_vault: u64::MAX,
        }
    }

    /// The test curve: price 1 + 0.001 x per whole token, 100 tokens issued (spot 1.1), 30 bps fee.
    fn market(quote: u64) -> MarketView {
        let mut v = view(1.1, 0.0, 0, quote);
        v.quotes.clear();
        v.spot = v.curve.spot_price(v.supply).unwrap().to_f64();
        v
    }

    #[test]
    fn a_rich_curve_is_sold_down_with_new_tokens_and_a_cheap_one_bought_up_to_redeem() {
        let mut v = market(1_000_000_000);
        // NAV 1.0 under a 1.1 spot: subscribe at 1.0, sell to the curve
        v.primary = Some(primary("1.0"));
        let intents = step(&v, &ApParams::default());
        let [Intent::PrimaryArbitrage {
            subscribe_first: true,
            amount,
            quote_limit,
            min_quote_back,
            expected_profit,
        }] = intents.as_slice()
        else {
            panic!("{intents:?}");
        };
        let (profit, paid, received) =
            subscribe_then_sell(&v, &v.primary.unwrap(), *amount, 10_000).unwrap();
        assert_eq!((*expected_profit, *quote_limit), (profit, paid));
        assert!(received >= *min_quote_back && *expected_profit > 0);
        // selling it leaves the curve between NAV and where it was
        let after = v.curve.spot_price(v.supply - amount).unwrap().to_f64();
        assert!(after < v.spot && after > 0.99, "{after}");
        // NAV 1.2 over a 1.1 spot: buy from the curve, redeem at 1.2
        v.primary = Some(primary("1.2"));
        let intents = step(&v, &ApParams::default());
        let [Intent::PrimaryArbitrage {
            subscribe_first: false,
            amount,
            expected_profit,
            ..
        }] = intents.as_slice()
        else {
            panic!("{intents:?}");
        };
        assert!(*expected_profit > 0);
        let after = v.curve.spot_price(v.supply + amount).unwrap().to_f64();
        assert!(after > v.spot && after <= 1.2 + 1e-9, "{after}");
    }

    #[test]
    fn no_intent_inside_the_fee_band_or_without_a_usable_nav() {
        let mut v = market(1_000_000_000);
        // NAV within fees of the spot (1.1): nothing pays
        v.primary = Some(primary("1.1"));
        assert!(step(&v, &ApParams::default()).is_empty());
        v.primary = Some(PrimaryView {
            usable: false,
            ..primary("1.0")
        });
        assert!(step(&v, &ApParams::default()).is_empty());
        v.primary = None;
        assert!(step(&v, &ApParams::default()).is_empty());
        // an empty redemption room or vault stops the cheap side; no quote stops both
        v.primary = Some(PrimaryView {
            redeemable: 0,
            ..primary("1.2")
        });
        assert!(step(&v, &ApParams::default()).is_empty());
        v.primary = Some(PrimaryView {
            redemption_vault: 0,
            ..primary("1.2")
        });
        assert!(step(&v, &ApParams::default()).is_empty());
        let mut broke = market(0);
        broke.primary = Some(primary("1.0"));
        assert!(step(&broke, &ApParams::default()).is_empty());
    }

    #[test]
    fn a_gap_larger_than_the_budget_is_traded_within_the_budget() {
        // NAV far above the spot: closing the gap would take far more quote than the agent has
        let mut v = market(5_000_000);
        v.primary = Some(primary("3.0"));
        let intents = step(&v, &ApParams::default());
        let [Intent::PrimaryArbitrage {
            subscribe_first: false,
            quote_limit,
            expected_profit,
            ..
        }] = intents.as_slice()
        else {
            panic!("{intents:?}");
        };
        assert!(*quote_limit <= 5_000_000 && *expected_profit > 0);
    }
}
