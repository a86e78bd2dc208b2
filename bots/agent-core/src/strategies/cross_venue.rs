//! Arbitrage of one asset across venues: several markets (on one cluster or on several clusters)
//! that trade the same RWA. Buy where it is cheap, sell from inventory where it is rich.
//!
//! Legs on different clusters cannot be atomic, so each leg carries its own bound (it reverts alone
//! if its price moved) and the profit test charges a delay cost in basis points of the notional for
//! the time between the legs landing and for moving inventory back. Every candidate is priced exactly
//! as the programs settle it (`rwa_math::route`, fees rounded against the trader). Inventory is held
//! per venue; `rebalance_transfers` says which bridge transfers bring it back to its allocation.

use rwa_math::fees::fee_on;
use rwa_math::route::{route_buy, route_sell, Level, Target};
use rwa_math::Decimal;

use crate::view::MarketView;

/// One venue: a market snapshot, the cluster it lives on, and what the agent holds there.
#[derive(Clone, Debug)]
pub struct Venue<'a> {
    pub view: &'a MarketView,
    /// Venues with the same cluster id settle in one ledger; their legs can share a transaction.
    pub cluster: u32,
    /// RWA base units the agent can sell on this venue (wallet, not maker escrow).
    pub rwa_inventory: u64,
    /// Quote base units the agent can spend on this venue.
    pub quote_inventory: u64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CrossVenueParams {
    /// Cost of each leg (fees, priority fee), quote base units.
    pub transaction_cost: u64,
    /// Charged on the buy notional when the legs are on different clusters: price risk while the
    /// second leg lands plus the cost of bridging inventory back, basis points.
    pub delay_cost_bps: u32,
    /// Only act above this profit after every cost, quote base units.
    pub min_profit: u64,
    /// Candidate sizes: this many evenly spaced fractions of the largest feasible size.
    pub size_steps: u64,
}

impl Default for CrossVenueParams {
    fn default() -> Self {
        CrossVenueParams {
            transaction_cost: 10_000,
            delay_cost_bps: 20,
            min_profit: 1,
            size_steps: 16,
        }
    }
}

/// A buy on one venue and a sale of the same amount on another, each bounded.
#[derive(Clone, Debug, PartialEq)]
pub struct CrossVenueTrade {
    pub buy_venue: usize,
    pub sell_venue: usize,
    pub amount: u64,
    /// Bound of the buy leg: pay at most this (fee included).
    pub max_quote_in: u64,
    /// Bound of the sell leg: receive at least this (after fee).
    pub min_quote_out: u64,
    /// Quote base units after fees, leg costs and (across clusters) the delay cost.
    pub expected_profit: i64,
    /// Both legs on one cluster: send them in one transaction so a bad fill reverts both.
    pub atomic: bool,
}

fn levels(view: &MarketView, bids: bool) -> Vec<Level> {
    view.live_quotes()
        .filter(|q| !q.own)
        .map(|q| {
            let (price, size) = if bids {
                (q.bid_price, q.bid_size)
            } else {
                (q.ask_price, q.ask_size)
            };
            Level {
                price: Decimal::from_f64(price).unwrap_or(Decimal::ZERO),
                size,
            }
        })
        .filter(|level| level.size > 0 && level.price > Decimal::ZERO)
        .collect()
}

/// Quote paid (fee included) to buy exactly `amount` on `view`.
pub fn buy_cost(view: &MarketView, amount: u64) -> Option<u64> {
    let route = route_buy(
        &view.curve,
        view.supply,
        view.max_supply,
        &levels(view, false),
        Target::Amount(amount),
    )
    .ok()?;
    (route.total_amount == amount).then_some(())?;
    route
        .total_quote
        .checked_add(fee_on(route.total_quote, view.fee_bps).ok()?)
}

/// Quote received (after fee) for selling exactly `amount` on `view`.
pub fn sale_proceeds(view: &MarketView, amount: u64) -> Option<u64> {
    let route = route_sell(
        &view.curve,
        view.supply,
        &levels(view, true),
        Target::Amount(amount),
    )
    .ok()?;
    (route.total_amount == amount).then_some(())?;
    route
        .total_quote
        .checked_sub(fee_on(route.total_quote, view.fee_bps).ok()?)
}

/// Profit of buying `amount` on `buy` and selling it on `sell`, with the buy cost and sale proceeds.
pub fn evaluate(
    buy: &Venue,
    sell: &Venue,
    amount: u64,
    p: &CrossVenueParams,
) -> Option<(i64, u64, u64)> {
    let paid = buy_cost(buy.view, amount)?;
    let received = sale_proceeds(sell.view, amount)?;
    let delay = if buy.cluster == sell.cluster {
        0
    } else {
        // round the charge up: it is a cost, overstate it
        (paid as u128 * p.delay_cost_bps as u128).div_ceil(10_000) as u64
    };
    let legs = if buy.cluster == sell.cluster { 1 } else { 2 };
    let profit =
        received as i128 - paid as i128 - (legs * p.transaction_cost) as i128 - delay as i128;
    Some((i64::try_from(profit).ok()?, paid, received))
}

fn trade_cap(view: &MarketView) -> u64 {
    if view.rules.max_trade_amount > 0 {
        view.rules.max_trade_amount
    } else {
        u64::MAX
    }
}

/// The most profitable trade over every ordered pair of venues, if one clears `min_profit` and
/// fits the inventory on both sides.
pub fn step(venues: &[Venue], p: &CrossVenueParams) -> Option<CrossVenueTrade> {
    let steps = p.size_steps.max(1);
    let mut best: Option<CrossVenueTrade> = None;
    for (i, buy) in venues.iter().enumerate() {
        for (j, sell) in venues.iter().enumerate() {
            if i == j || buy.view.spot <= 0.0 || sell.view.spot <= buy.view.spot {
                continue;
            }
            // largest size: what the sell venue's inventory holds, what the buy venue's quote
            // affords at the buy venue's marginal price ceiling, and both trade-size rules
            let affordable = (buy.quote_inventory as f64 / buy.view.spot.max(f64::MIN_POSITIVE)
                * buy.view.token_unit()
                / buy.view.quote_unit()) as u64;
            let cap = sell
                .rwa_inventory
                .min(affordable)
                .min(trade_cap(buy.view))
                .min(trade_cap(sell.view));
            for k in 1..=steps {
                let amount = (cap as u128 * k as u128 / steps as u128) as u64;
                if amount == 0 {
                    continue;
                }
                let Some((profit, paid, received)) = evaluate(buy, sell, amount, p) else {
                    continue;
                };
                if paid > buy.quote_inventory || profit <= p.min_profit as i64 {
                    continue;
                }
                if best.as_ref().is_none_or(|b| profit > b.expected_profit) {
                    let atomic = buy.cluster == sell.cluster;
                    let legs = if atomic { 1 } else { 2 };
                    best = Some(CrossVenueTrade {
                        buy_venue: i,
                        sell_venue: j,
                        amount,
                        max_quote_in: paid,
                        // the sale must at least cover what the buy paid plus the leg costs
                        min_quote_out: received
                            .min(paid + legs * p.transaction_cost + p.min_profit)
                            .max(paid + 1),
                        expected_profit: profit,
                        atomic,
                    });
                }
            }
        }
    }
    best
}

/// `total` split by `weights` (negative weights count as zero), in base units summing to `total`:
/// floors, with the rounding remainder on the heaviest venue.
pub fn allocation_targets(total: u64, weights: &[f64]) -> Vec<u64> {
    let weight_sum: f64 = weights.iter().map(|w| w.max(0.0)).sum();
    if weight_sum <= 0.0 {
        return vec![0; weights.len()];
    }
    let mut targets: Vec<u64> = weights
        .iter()
        .map(|w| ((w.max(0.0) / weight_sum * total as f64).floor() as u64).min(total))
        .collect();
    let assigned = targets.iter().sum::<u64>().min(total);
    let heaviest = (0..weights.len())
        .max_by(|&a, &b| weights[a].total_cmp(&weights[b]))
        .unwrap_or(0);
    targets[heaviest] += total - assigned;
    targets
}

/// A bridge transfer of RWA inventory between venues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transfer {
    pub from: usize,
    pub to: usize,
    pub amount: u64,
}

/// Transfers that bring RWA inventory back to `weights` (normalised; non-negative) once some
/// venue is more than `band` (a fraction of the total) away from its target. The total is
/// conserved; venues are paired greedily from the largest surplus to the largest deficit.
pub fn rebalance_transfers(inventory: &[u64], weights: &[f64], band: f64) -> Vec<Transfer> {
    assert_eq!(inventory.len(), weights.len(), "one weight per venue");
    let total: u64 = inventory.iter().sum();
    if total == 0 || weights.iter().all(|w| *w <= 0.0) {
        return vec![];
    }
    let targets = allocation_targets(total, weights);
    let drifted = inventory
        .iter()
        .zip(&targets)
        .any(|(&have, &want)| have.abs_diff(want) as f64 > band * total as f64);
    if !drifted {
        return vec![];
    }
    let mut surplus: Vec<(usize, u64)> = Vec::new();
    let mut deficit: Vec<(usize, u64)> = Vec::new();
    for (venue, (&have, &want)) in inventory.iter().zip(&targets).enumerate() {
        if have > want {
            surplus.push((venue, have - want));
        } else if want > have {
            deficit.push((venue, want - have));
        }
    }
    surplus.sort_by_key(|entry| std::cmp::Reverse(entry.1));
    deficit.sort_by_key(|entry| std::cmp::Reverse(entry.1));
    let mut transfers = Vec::new();
    let (mut s, mut d) = (0, 0);
    while s < surplus.len() && d < deficit.len() {
        let amount = surplus[s].1.min(deficit[d].1);
        transfers.push(Transfer {
            from: surplus[s].0,
            to: deficit[d].0,
            amount,
        });
        surplus[s].1 -= amount;
        deficit[d].1 -= amount;
        if surplus[s].1 == 0 {
            s += 1;
        }
        if deficit[d].1 == 0 {
            d += 1;
        }
    }
    transfers
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::market_maker::tests_support::view;
    use proptest::prelude::*;

    fn market(supply: u64) -> MarketView {
        let mut v = view(1.0, 0.0, 0, 0);
        v.quotes.clear();
        v.supply = supply;
        v.spot = v.curve.spot_price(supply).unwrap().to_f64();
        v
    }

    #[test]
    fn buys_on_the_cheap_cluster_and_sells_on_the_rich_one() {
        // same curve; the rich venue sits 200 tokens further up it (spot 1.3 vs 1.1)
        let (cheap, rich) = (market(100_000_000), market(300_000_000));
        let venues = [
            Venue {
                view: &cheap,
                cluster: 0,
                rwa_inventory: 0,
                quote_inventory: 1_000_000_000,
            },
            Venue {
                view: &rich,
                cluster: 1,
                rwa_inventory: 500_000_000,
                quote_inventory: 0,
            },
        ];
        let trade = step(&venues, &CrossVenueParams::default()).expect("a profitable trade");
        assert_eq!(
            (trade.buy_venue, trade.sell_venue, trade.atomic),
            (0, 1, false)
        );
        assert!(trade.expected_profit > 0 && trade.min_quote_out > trade.max_quote_in);
        // the trade does not overshoot: buying more than the gap closes is unprofitable
        assert!(trade.amount < 200_000_000, "{trade:?}");
        // a delay cost above the spread leaves nothing worth doing
        let expensive = CrossVenueParams {
            delay_cost_bps: 5_000,
            ..CrossVenueParams::default()
        };
        assert_eq!(step(&venues, &expensive), None);
        // on one cluster the delay cost does not apply and the legs are atomic
        let same = [
            Venue {
                cluster: 0,
                ..venues[0].clone()
            },
            Venue {
                cluster: 0,
                ..venues[1].clone()
            },
        ];
        assert!(step(&same, &expensive).is_some_and(|t| t.atomic));
    }

    #[test]
    fn no_inventory_on_the_rich_venue_means_no_trade() {
        let (cheap, rich) = (market(100_000_000), market(300_000_000));
        let venues = [
            Venue {
                view: &cheap,
                cluster: 0,
                rwa_inventory: 0,
                quote_inventory: 1_000_000_000,
            },
            Venue {
                view: &rich,
                cluster: 1,
                rwa_inventory: 0,
                quote_inventory: 1_000_000_000,
            },
        ];
        assert_eq!(step(&venues, &CrossVenueParams::default()), None);
    }

    #[test]
    fn rebalance_restores_the_allocation() {
        assert!(rebalance_transfers(&[50, 50], &[1.0, 1.0], 0.05).is_empty());
        assert_eq!(
            rebalance_transfers(&[90, 10], &[1.0, 1.0], 0.05),
            vec![Transfer {
                from: 0,
                to: 1,
                amount: 40
            }]
        );
    }

    proptest! {
        /// Whatever the venues, a trade is profitable by the settlement math, fits inventory on
        /// both sides, and charges the delay cost exactly when the legs are on different clusters.
        #[test]
        fn trades_are_profitable_and_fit_inventory(
            supplies in proptest::collection::vec(1_000_000u64..2_000_000_000, 2..5),
            clusters in proptest::collection::vec(0u32..2, 5),
            rwa in proptest::collection::vec(0u64..1_000_000_000, 5),
            quote in proptest::collection::vec(0u64..2_000_000_000, 5),
            fee_bps in 0u16..300, delay in 0u32..200, cost in 0u64..100_000,
        ) {
            let views: Vec<MarketView> = supplies.iter().map(|&s| { let mut v = market(s); v.fee_bps = fee_bps; v }).collect();
            let venues: Vec<Venue> = views.iter().enumerate().map(|(i, v)| Venue { view: v, cluster: clusters[i], rwa_inventory: rwa[i], quote_inventory: quote[i] }).collect();
            let p = CrossVenueParams { transaction_cost: cost, delay_cost_bps: delay, ..CrossVenueParams::default() };
            if let Some(t) = step(&venues, &p) {
                prop_assert!(t.expected_profit > 0);
                prop_assert!(t.amount <= venues[t.sell_venue].rwa_inventory);
                prop_assert!(t.max_quote_in <= venues[t.buy_venue].quote_inventory);
                prop_assert_eq!(t.atomic, venues[t.buy_venue].cluster == venues[t.sell_venue].cluster);
                let (recomputed, paid, received) = evaluate(&venues[t.buy_venue], &venues[t.sell_venue], t.amount, &p).unwrap();
                prop_assert_eq!(recomputed, t.expected_profit);
                prop_assert!(paid <= t.max_quote_in && received >= t.min_quote_out);
            }
        }

        /// Transfers conserve the total, never move more than a venue holds, and with no band
        /// land every venue exactly on its allocation target.
        #[test]
        fn rebalance_conserves_and_reaches_targets(
            inventory in proptest::collection::vec(0u64..1_000_000_000, 1..6),
            raw_weights in proptest::collection::vec(0.01f64..1.0, 6),
        ) {
            let weights = &raw_weights[..inventory.len()];
            let mut after = inventory.clone();
            for t in rebalance_transfers(&inventory, weights, 0.0) {
                prop_assert!(t.from != t.to && t.amount > 0 && after[t.from] >= t.amount);
                after[t.from] -= t.amount;
                after[t.to] += t.amount;
            }
            let total: u64 = inventory.iter().sum();
            prop_assert_eq!(after.iter().sum::<u64>(), total);
            if total > 0 {
                prop_assert_eq!(after, allocation_targets(total, weights));
            }
        }
    }
}
