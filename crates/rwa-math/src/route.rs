//! Best-price routing of a taker order across maker quotes and the bonding curve.
//!
//! Makers quote a flat price up to a size; the curve's marginal price moves with supply. Buying,
//! the cheapest source for the next unit is the lowest ask or the curve while its spot price is
//! below that ask; selling, the highest bid or the curve while its spot price is above it. The router
//! takes that source until it stops being the best (a quote runs out, or the curve reaches the next
//! quote's price), so every unit is filled at the best price available when it is filled. This
//! greedy order is optimal here because each source's marginal price only worsens as it fills.
//!
//! Rounding always favours the liquidity provider: a taker pays the ceiling of a quote's notional
//! and receives its floor; curve legs use the curve's own pool-favouring integrals. The program and
//! the bots call this same function, so a bot's preview is exactly what the chain will do.

use crate::curve::CurveMarket;
use crate::decimal::{pow10, Decimal, SCALE};
use crate::wide::mul_div;
use crate::{MathError, Rounding};

/// Most makers one swap may route through (bounds on-chain work).
pub const MAX_ROUTE_MAKERS: usize = 8;

/// One side of a maker's quote: a price (quote tokens per whole RWA token) good for `size` RWA base units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Level {
    pub price: Decimal,
    pub size: u64,
}

/// What the taker fixes: the exact input or the exact output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Buy: RWA base units to receive. Sell: RWA base units to sell.
    Amount(u64),
    /// Buy: quote base units to spend (fees excluded). Sell: quote base units to receive (fees excluded).
    Quote(u64),
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct MakerFill {
    /// Index into the levels passed to the router.
    pub maker: usize,
    pub amount: u64,
    pub quote: u64,
    pub price: Decimal,
}

/// Maker fills in execution order, at most one per maker (a maker left partly filled means the
/// order ran out), so a fixed array of [`MAX_ROUTE_MAKERS`] holds them: routing never allocates.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct MakerFills {
    fills: [MakerFill; MAX_ROUTE_MAKERS],
    len: usize,
}

impl MakerFills {
    /// Adds a fill, merging it into the previous one for the same maker.
    fn push(
        &mut self,
        maker: usize,
        amount: u64,
        quote: u64,
        price: Decimal,
    ) -> Result<(), MathError> {
        if let Some(last) = self.fills[..self.len].last_mut() {
            if last.maker == maker {
                last.amount = last.amount.saturating_add(amount);
                last.quote = last.quote.saturating_add(quote);
                return Ok(());
            }
        }
        let slot = self.fills.get_mut(self.len).ok_or(MathError::Domain)?;
        *slot = MakerFill {
            maker,
            amount,
            quote,
            price,
        };
        self.len += 1;
        Ok(())
    }
}

impl core::ops::Deref for MakerFills {
    type Target = [MakerFill];
    fn deref(&self) -> &[MakerFill] {
        &self.fills[..self.len]
    }
}

impl<'a> IntoIterator for &'a MakerFills {
    type Item = &'a MakerFill;
    type IntoIter = core::slice::Iter<'a, MakerFill>;
    fn into_iter(self) -> Self::IntoIter {
        self.fills[..self.len].iter()
    }
}

/// The plan: maker fills in execution order plus one combined curve leg.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Route {
    pub maker_fills: MakerFills,
    /// RWA base units bought from (minted by) / sold to (burned by) the curve.
    pub curve_amount: u64,
    /// Quote base units for the curve leg (ceil for buys, floor for sells).
    pub curve_quote: u64,
    pub total_amount: u64,
    pub total_quote: u64,
    /// Price of the last unit filled: where trading happened (for the oracle).
    pub last_price: Decimal,
}

/// Quote base units for `amount` RWA base units at `price`, rounded in the given direction.
pub fn notional(
    amount: u64,
    price: Decimal,
    decimals: u8,
    quote_decimals: u8,
    rounding: Rounding,
) -> Result<u64, MathError> {
    let scaled = mul_div(
        amount as u128 * pow10(quote_decimals as u32),
        price.raw(),
        pow10(decimals as u32) * SCALE,
        rounding,
    )?;
    u64::try_from(scaled).map_err(|_| MathError::Overflow)
}

/// Most RWA base units whose notional rounded up stays within `budget`.
fn units_within(budget: u64, price: Decimal, market: &CurveMarket) -> Result<u64, MathError> {
    if price.is_zero() {
        return Ok(u64::MAX);
    }
    let estimate = mul_div(
        budget as u128 * pow10(market.decimals as u32),
        SCALE,
        price
            .raw()
            .checked_mul(pow10(market.quote_decimals as u32))
            .ok_or(MathError::Overflow)?,
        Rounding::Down,
    )?;
    let mut units = u64::try_from(estimate).unwrap_or(u64::MAX);
    while units > 0
        && notional(
            units,
            price,
            market.decimals,
            market.quote_decimals,
            Rounding::Up,
        )
        .map_or(true, |n| n > budget)
    {
        units -= 1;
    }
    Ok(units)
}

/// Fewest RWA base units whose notional rounded down reaches `wanted`.
fn units_reaching(wanted: u64, price: Decimal, market: &CurveMarket) -> Result<u64, MathError> {
    if price.is_zero() {
        return Err(MathError::DivisionByZero);
    }
    let estimate = mul_div(
        wanted as u128 * pow10(market.decimals as u32),
        SCALE,
        price
            .raw()
            .checked_mul(pow10(market.quote_decimals as u32))
            .ok_or(MathError::Overflow)?,
        Rounding::Up,
    )?;
    let mut units = u64::try_from(estimate).map_err(|_| MathError::Overflow)?;
    while notional(
        units,
        price,
        market.decimals,
        market.quote_decimals,
        Rounding::Down,
    )? < wanted
    {
        units = units.checked_add(1).ok_or(MathError::Overflow)?;
    }
    Ok(units)
}

/// Base units of supply where the curve reaches `price`, rounded in the given direction;
/// `None` when it never does.
fn supply_units_at(
    market: &CurveMarket,
    price: Decimal,
    rounding: Rounding,
) -> Result<Option<u64>, MathError> {
    match market.curve.supply_at_price(price)? {
        None => Ok(None),
        Some(tokens) => match tokens.to_base_units(market.decimals, rounding) {
            Ok(units) => Ok(Some(units)),
            Err(MathError::Overflow) => Ok(None),
            Err(other) => Err(other),
        },
    }
}

fn best(
    levels: &[Level],
    remaining: &[u64],
    better: impl Fn(Decimal, Decimal) -> bool,
) -> Option<usize> {
    let mut chosen: Option<usize> = None;
    for (index, level) in levels.iter().enumerate() {
        if remaining[index] == 0 {
            continue;
        }
        if chosen.is_none_or(|current| better(level.price, levels[current].price)) {
            chosen = Some(index);
        }
    }
    chosen
}

fn check_levels(levels: &[Level]) -> Result<(), MathError> {
    if levels.len() > MAX_ROUTE_MAKERS {
        return Err(MathError::Domain);
    }
    Ok(())
}

/// Routes a taker buy against maker asks and the curve (curve supply `supply`, cap `max_supply`).
pub fn route_buy(
    market: &CurveMarket,
    supply: u64,
    max_supply: u64,
    asks: &[Level],
    target: Target,
) -> Result<Route, MathError> {
    check_levels(asks)?;
    let mut remaining = [0u64; MAX_ROUTE_MAKERS];
    for (slot, level) in remaining.iter_mut().zip(asks) {
        *slot = level.size;
    }
    let mut fills = MakerFills::default();
    let mut cursor = supply;
    let (mut amount_left, mut budget_left) = match target {
        Target::Amount(amount) => (amount, u64::MAX),
        Target::Quote(budget) => (u64::MAX, budget),
    };
    let mut last_price = Decimal::ZERO;
    for _ in 0..(4 * MAX_ROUTE_MAKERS + 4) {
        if amount_left == 0 || budget_left == 0 {
            break;
        }
        let quote = best(asks, &remaining, |a, b| a < b);
        let curve_price = market.spot_price(cursor)?;
        let curve_room = max_supply.saturating_sub(cursor);
        let curve_cap = match quote {
            Some(index) if curve_price < asks[index].price => {
                match supply_units_at(market, asks[index].price, Rounding::Down)? {
                    Some(target_supply) => target_supply.saturating_sub(cursor).min(curve_room),
                    None => curve_room,
                }
            }
            Some(_) => 0,
            None => curve_room,
        };
        let (take, cost) = if curve_cap > 0 {
            match target {
                Target::Amount(_) => {
                    let take = amount_left.min(curve_cap);
                    (take, market.buy_cost(cursor, take)?)
                }
                Target::Quote(_) => market.buy_amount_for_quote(cursor, budget_left, curve_cap)?,
            }
        } else {
            (0, 0)
        };
        if take > 0 {
            cursor += take;
            amount_left = amount_left.saturating_sub(take);
            budget_left = budget_left.saturating_sub(cost);
            last_price = market.spot_price(cursor)?;
            continue;
        }
        let Some(index) = quote else { break };
        let price = asks[index].price;
        let take = match target {
            Target::Amount(_) => amount_left.min(remaining[index]),
            Target::Quote(_) => units_within(budget_left, price, market)?.min(remaining[index]),
        };
        if take == 0 {
            break;
        }
        let cost = notional(
            take,
            price,
            market.decimals,
            market.quote_decimals,
            Rounding::Up,
        )?;
        remaining[index] -= take;
        amount_left = amount_left.saturating_sub(take);
        budget_left = budget_left.saturating_sub(cost);
        fills.push(index, take, cost, price)?;
        last_price = price;
    }
    let curve_amount = cursor - supply;
    // One integral for the whole curve leg: never above the sum of the per-segment ceilings.
    let curve_quote = market.buy_cost(supply, curve_amount)?;
    finish(fills, curve_amount, curve_quote, last_price)
}

/// Routes a taker sell against maker bids and the curve.
pub fn route_sell(
    market: &CurveMarket,
    supply: u64,
    bids: &[Level],
    target: Target,
) -> Result<Route, MathError> {
    check_levels(bids)?;
    let mut remaining = [0u64; MAX_ROUTE_MAKERS];
    for (slot, level) in remaining.iter_mut().zip(bids) {
        *slot = level.size;
    }
    let mut fills = MakerFills::default();
    let mut cursor = supply;
    let (mut amount_left, mut wanted_left) = match target {
        Target::Amount(amount) => (amount, u64::MAX),
        Target::Quote(wanted) => (u64::MAX, wanted),
    };
    let mut last_price = Decimal::ZERO;
    for _ in 0..(4 * MAX_ROUTE_MAKERS + 4) {
        if amount_left == 0 || wanted_left == 0 {
            break;
        }
        let quote = best(bids, &remaining, |a, b| a > b);
        let curve_price = if cursor > 0 {
            market.spot_price(cursor)?
        } else {
            Decimal::ZERO
        };
        let curve_cap = match quote {
            Some(index) if curve_price > bids[index].price => {
                match supply_units_at(market, bids[index].price, Rounding::Up)? {
                    Some(floor_supply) => cursor.saturating_sub(floor_supply),
                    None => 0,
                }
            }
            Some(_) => 0,
            None => cursor,
        };
        let (take, proceeds) = if curve_cap > 0 {
            match target {
                Target::Amount(_) => {
                    let take = amount_left.min(curve_cap);
                    (take, market.sell_proceeds(cursor, take)?)
                }
                Target::Quote(_) => {
                    let all = market.sell_proceeds(cursor, curve_cap)?;
                    if all >= wanted_left {
                        market
                            .sell_amount_for_quote(cursor, wanted_left)?
                            .ok_or(MathError::SupplyOutOfRange)?
                    } else {
                        (curve_cap, all)
                    }
                }
            }
        } else {
            (0, 0)
        };
        if take > 0 {
            cursor -= take;
            amount_left = amount_left.saturating_sub(take);
            wanted_left = wanted_left.saturating_sub(proceeds);
            last_price = market.spot_price(cursor)?;
            continue;
        }
        let Some(index) = quote else { break };
        let price = bids[index].price;
        let take = match target {
            Target::Amount(_) => amount_left.min(remaining[index]),
            Target::Quote(_) => units_reaching(wanted_left, price, market)?.min(remaining[index]),
        };
        if take == 0 {
            break;
        }
        let proceeds = notional(
            take,
            price,
            market.decimals,
            market.quote_decimals,
            Rounding::Down,
        )?;
        remaining[index] -= take;
        amount_left = amount_left.saturating_sub(take);
        wanted_left = wanted_left.saturating_sub(proceeds);
        fills.push(index, take, proceeds, price)?;
        last_price = price;
    }
    let curve_amount = supply - cursor;
    // One integral for the whole curve leg: never below the sum of the per-segment floors.
    let curve_quote = market.sell_proceeds(supply, curve_amount)?;
    finish(fills, curve_amount, curve_quote, last_price)
}

fn finish(
    maker_fills: MakerFills,
    curve_amount: u64,
    curve_quote: u64,
    last_price: Decimal,
) -> Result<Route, MathError> {
    let mut total_amount = curve_amount;
    let mut total_quote = curve_quote;
    for fill in &maker_fills {
        total_amount = total_amount
            .checked_add(fill.amount)
            .ok_or(MathError::Overflow)?;
        total_quote = total_quote
            .checked_add(fill.quote)
            .ok_or(MathError::Overflow)?;
    }
    Ok(Route {
        maker_fills,
        curve_amount,
        curve_quote,
        total_amount,
        total_quote,
        last_price,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curve::Curve;
    use proptest::prelude::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn market() -> CurveMarket {
        CurveMarket::new(
            Curve::Linear {
                slope: d("0.001"),
                intercept: d("1"),
            },
            6,
            6,
        )
        .unwrap()
    }

    const MAX: u64 = 1_000_000_000_000;

    #[test]
    fn buy_takes_cheaper_quote_then_curve_then_dearer_quote() {
        // curve at supply 0 costs 1.0; ask A at 0.9 (cheaper), ask B at 1.5 (curve reaches 1.5 at 500 tokens)
        let asks = [
            Level {
                price: d("0.9"),
                size: 10_000_000,
            },
            Level {
                price: d("1.5"),
                size: 100_000_000,
            },
        ];
        let route = route_buy(&market(), 0, MAX, &asks, Target::Amount(600_000_000)).unwrap();
        assert_eq!(
            route.maker_fills[0],
            MakerFill {
                maker: 0,
                amount: 10_000_000,
                quote: 9_000_000,
                price: d("0.9")
            }
        );
        // curve up to where its price meets 1.5 (500 tokens), then B for the rest
        assert_eq!(route.curve_amount, 500_000_000);
        assert_eq!(route.maker_fills[1].maker, 1);
        assert_eq!(route.maker_fills[1].amount, 90_000_000);
        assert_eq!(route.total_amount, 600_000_000);
        assert_eq!(route.last_price, d("1.5"));
    }

    #[test]
    fn sell_takes_higher_bid_first() {
        let bids = [
            Level {
                price: d("2"),
                size: 5_000_000,
            },
            Level {
                price: d("1.1"),
                size: 50_000_000,
            },
        ];
        // curve at 300 tokens prices 1.3: bid 2.0 first, the curve down to 100 tokens (price 1.1), the
        // 1.1 bid (a tie goes to the maker), then the curve again for the last 5 tokens
        let route = route_sell(&market(), 300_000_000, &bids, Target::Amount(260_000_000)).unwrap();
        assert_eq!(route.maker_fills[0].maker, 0);
        assert_eq!(
            route.maker_fills[1],
            MakerFill {
                maker: 1,
                amount: 50_000_000,
                quote: 55_000_000,
                price: d("1.1")
            }
        );
        assert_eq!(route.curve_amount, 205_000_000);
        assert_eq!(route.total_amount, 260_000_000);
    }

    #[test]
    fn exact_quote_targets_respect_budget_and_need() {
        let asks = [Level {
            price: d("0.95"),
            size: 1_000_000,
        }];
        let route = route_buy(&market(), 0, MAX, &asks, Target::Quote(5_000_000)).unwrap();
        assert!(route.total_quote <= 5_000_000);
        assert_eq!(route.maker_fills[0].amount, 1_000_000);
        let bids = [Level {
            price: d("1.2"),
            size: 1_000_000,
        }];
        let route = route_sell(&market(), 100_000_000, &bids, Target::Quote(3_000_000)).unwrap();
        assert!(route.total_quote >= 3_000_000);
    }

    #[test]
    fn no_liquidity_routes_nothing() {
        let route = route_sell(&market(), 0, &[], Target::Amount(5)).unwrap();
        assert_eq!(route.total_amount, 0);
        let route = route_buy(
            &market(),
            MAX,
            MAX,
            &[Level {
                price: d("1"),
                size: 0,
            }],
            Target::Amount(5),
        )
        .unwrap();
        assert_eq!(route.total_amount, 0);
        assert_eq!(
            route_buy(&market(), 0, MAX, &[Level::default(); 9], Target::Amount(1)),
            Err(MathError::Domain)
        );
    }

    /// Brute force: every split of the order into curve and makers in steps of `chunk`.
    fn brute_force_buy_cost(
        market: &CurveMarket,
        supply: u64,
        asks: &[Level],
        amount: u64,
        chunk: u64,
    ) -> u64 {
        let steps = amount / chunk;
        let mut best = u64::MAX;
        for a in 0..=steps {
            for b in 0..=(steps - a) {
                let (from_a, from_b) = (a * chunk, b * chunk);
                if from_a > asks[0].size || from_b > asks[1].size {
                    continue;
                }
                let from_curve = amount - from_a - from_b;
                let cost = market.buy_cost(supply, from_curve).unwrap()
                    + notional(from_a, asks[0].price, 6, 6, Rounding::Up).unwrap()
                    + notional(from_b, asks[1].price, 6, 6, Rounding::Up).unwrap();
                best = best.min(cost);
            }
        }
        best
    }

    fn brute_force_sell_proceeds(
        market: &CurveMarket,
        supply: u64,
        bids: &[Level],
        amount: u64,
        chunk: u64,
    ) -> u64 {
        let steps = amount / chunk;
        let mut best = 0;
        for a in 0..=steps {
            for b in 0..=(steps - a) {
                let (to_a, to_b) = (a * chunk, b * chunk);
                if to_a > bids[0].size || to_b > bids[1].size || amount - to_a - to_b > supply {
                    continue;
                }
                let proceeds = market.sell_proceeds(supply, amount - to_a - to_b).unwrap()
                    + notional(to_a, bids[0].price, 6, 6, Rounding::Down).unwrap()
                    + notional(to_b, bids[1].price, 6, 6, Rounding::Down).unwrap();
                best = best.max(proceeds);
            }
        }
        best
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// The router's fill is never worse than the best split a brute-force search finds
        /// (up to one base unit of rounding per source).
        #[test]
        fn buy_route_beats_brute_force(supply in 0u64..400_000_000, pa in 900u64..1_600, pb in 900u64..1_600, sa in 0u64..40, sb in 0u64..40, amount_chunks in 1u64..40) {
            let market = market();
            let chunk = 5_000_000;
            let asks = [Level { price: Decimal::from_raw(pa as u128 * SCALE / 1000), size: sa * chunk }, Level { price: Decimal::from_raw(pb as u128 * SCALE / 1000), size: sb * chunk }];
            let amount = amount_chunks * chunk;
            let route = route_buy(&market, supply, MAX, &asks, Target::Amount(amount)).unwrap();
            prop_assert_eq!(route.total_amount, amount);
            let reference = brute_force_buy_cost(&market, supply, &asks, amount, chunk);
            prop_assert!(route.total_quote <= reference + 3, "router {} vs brute force {}", route.total_quote, reference);
        }

        #[test]
        fn sell_route_beats_brute_force(supply in 200_000_000u64..600_000_000, pa in 900u64..1_600, pb in 900u64..1_600, sa in 0u64..40, sb in 0u64..40, amount_chunks in 1u64..40) {
            let market = market();
            let chunk = 5_000_000;
            let bids = [Level { price: Decimal::from_raw(pa as u128 * SCALE / 1000), size: sa * chunk }, Level { price: Decimal::from_raw(pb as u128 * SCALE / 1000), size: sb * chunk }];
            let amount = amount_chunks * chunk;
            let route = route_sell(&market, supply, &bids, Target::Amount(amount)).unwrap();
            prop_assert_eq!(route.total_amount, amount);
            let reference = brute_force_sell_proceeds(&market, supply, &bids, amount, chunk);
            prop_assert!(route.total_quote + 3 >= reference, "router {} vs brute force {}", route.total_quote, reference);
        }

        /// Exact-quote routes spend within budget / reach the need, and never overfill a maker.
        #[test]
        fn quote_targets_hold(supply in 0u64..400_000_000, pa in 900u64..1_600, sa in 0u64..100_000_000, quote in 1u64..500_000_000) {
            let market = market();
            let levels = [Level { price: Decimal::from_raw(pa as u128 * SCALE / 1000), size: sa }];
            let buy = route_buy(&market, supply, MAX, &levels, Target::Quote(quote)).unwrap();
            prop_assert!(buy.total_quote <= quote);
            prop_assert!(buy.maker_fills.iter().all(|f| f.amount <= sa));
            let sell = route_sell(&market, supply + 100_000_000, &levels, Target::Quote(quote)).unwrap();
            let all_liquidity = market.sell_proceeds(supply + 100_000_000, supply + 100_000_000).unwrap() + notional(sa, levels[0].price, 6, 6, Rounding::Down).unwrap();
            prop_assert!(sell.total_quote >= quote || sell.total_quote + 2 >= all_liquidity.min(quote));
        }

        /// Eight makers at interleaved prices, exact-quote and exact-amount: each maker appears
        /// in at most one fill, so the fixed fill list never overflows (the route never errors).
        #[test]
        fn each_maker_fills_at_most_once(supply in 0u64..400_000_000, prices in prop::collection::vec(900u64..1_600, 8), sizes in prop::collection::vec(0u64..60_000_000, 8), target in 1u64..900_000_000, by_quote in any::<bool>()) {
            let market = market();
            let levels: Vec<Level> = prices.iter().zip(&sizes).map(|(&p, &size)| Level { price: Decimal::from_raw(p as u128 * SCALE / 1000), size }).collect();
            let target = if by_quote { Target::Quote(target) } else { Target::Amount(target) };
            for route in [route_buy(&market, supply, MAX, &levels, target).unwrap(), route_sell(&market, supply + 300_000_000, &levels, target).unwrap()] {
                let mut seen = [false; MAX_ROUTE_MAKERS];
                for fill in &route.maker_fills {
                    prop_assert!(!seen[fill.maker], "maker {} filled twice", fill.maker);
                    seen[fill.maker] = true;
                }
            }
        }
    }
}
