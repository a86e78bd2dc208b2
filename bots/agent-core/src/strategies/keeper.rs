//! Keeper decisions: which obligations to liquidate (refresh + liquidate in one transaction, so
//! the chain re-checks health with fresh prices and refuses a healthy one at simulation, for free).
//! Only attempts whose expected bonus beats the transaction cost.

#[derive(Clone, Debug, PartialEq)]
pub struct CollateralInfo {
    /// Current price (quote tokens per token), e.g. the oracle TWAP now.
    pub price: f64,
    pub decimals: u8,
    /// Liquidation collateral ratio (bps).
    pub liquidation_cr_bps: u16,
    pub liquidation_bonus_bps: u16,
    pub close_factor_bps: u16,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ObligationView {
    pub debt: u64,
    /// What the collateral supported at liquidation ratios at the obligation's last refresh; the
    /// keeper re-estimates it at current prices and takes the lower of the two.
    pub liquidation_limit: u64,
    /// (index into the collateral list, amount in base units).
    pub collaterals: Vec<(usize, u64)>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KeeperParams {
    /// Consider obligations whose debt is above this share of their last liquidation limit (stale
    /// limits move with prices; the chain decides at refresh).
    pub watch_ratio: f64,
    /// Cost of one attempt, quote base units.
    pub transaction_cost: u64,
}

impl Default for KeeperParams {
    fn default() -> Self {
        KeeperParams {
            watch_ratio: 0.95,
            transaction_cost: 10_000,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Liquidation {
    pub obligation: usize,
    pub collateral: usize,
    /// Quote base units to repay (the program caps it at the close factor).
    pub repay: u64,
    pub expected_profit: i64,
}

pub fn liquidations(
    obligations: &[ObligationView],
    collaterals: &[CollateralInfo],
    quote_decimals: u8,
    available_quote: u64,
    p: &KeeperParams,
) -> Vec<Liquidation> {
    let quote_unit = 10f64.powi(quote_decimals as i32);
    let mut plan = Vec::new();
    let mut budget = available_quote;
    for (index, obligation) in obligations.iter().enumerate() {
        let estimated_limit: f64 = obligation
            .collaterals
            .iter()
            .filter_map(|(c, amount)| {
                collaterals.get(*c).map(|info| {
                    *amount as f64 / 10f64.powi(info.decimals as i32)
                        * info.price
                        * quote_unit
                        * 10_000.0
                        / info.liquidation_cr_bps.max(1) as f64
                })
            })
            .sum();
        let limit = estimated_limit.min(obligation.liquidation_limit as f64);
        if obligation.debt == 0 || (obligation.debt as f64) < limit * p.watch_ratio {
            continue;
        }
        // Seize from the most valuable collateral.
        let best = obligation
            .collaterals
            .iter()
            .filter(|(_, amount)| *amount > 0)
            .filter_map(|(c, amount)| {
                collaterals.get(*c).map(|info| {
                    (
                        *c,
                        *amount as f64 / 10f64.powi(info.decimals as i32) * info.price * quote_unit,
                        info,
                    )
                })
            })
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let Some((collateral, value, info)) = best else {
            continue;
        };
        let max_repay = (obligation.debt as f64 * info.close_factor_bps as f64 / 10_000.0).ceil();
        let bonus = 1.0 + info.liquidation_bonus_bps as f64 / 10_000.0;
        let repay = max_repay.min(value / bonus).min(budget as f64).floor() as u64;
        if repay == 0 {
            continue;
        }
        let expected_profit = (repay as f64 * (bonus - 1.0)) as i64 - p.transaction_cost as i64;
        if expected_profit <= 0 {
            continue;
        }
        budget -= repay;
        plan.push(Liquidation {
            obligation: index,
            collateral,
            repay,
            expected_profit,
        });
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collateral() -> CollateralInfo {
        CollateralInfo {
            price: 70.0,
            decimals: 6,
            liquidation_cr_bps: 12_000,
            liquidation_bonus_bps: 500,
            close_factor_bps: 5_000,
        }
    }

    #[test]
    fn liquidates_underwater_obligations_when_profitable() {
        let obligations = vec![
            ObligationView {
                debt: 6_250_000_000,
                liquidation_limit: 5_800_000_000,
                collaterals: vec![(0, 100_000_000)],
            },
            ObligationView {
                debt: 1_000_000_000,
                liquidation_limit: 5_000_000_000,
                collaterals: vec![(0, 100_000_000)],
            },
            // stale limit from before a crash, but at 70 the collateral supports only 5,833
            ObligationView {
                debt: 6_000_000_000,
                liquidation_limit: 8_333_000_000,
                collaterals: vec![(0, 100_000_000)],
            },
            ObligationView {
                debt: 0,
                liquidation_limit: 0,
                collaterals: vec![],
            },
        ];
        let plan = liquidations(
            &obligations,
            &[collateral()],
            6,
            1_000_000_000_000,
            &KeeperParams::default(),
        );
        assert_eq!(plan.len(), 2);
        assert_eq!((plan[0].obligation, plan[1].obligation), (0, 2));
        assert_eq!(plan[0].repay, 3_125_000_000);
        assert!(plan[0].expected_profit > 0);
    }

    #[test]
    fn skips_unprofitable_and_respects_the_budget() {
        let obligations = vec![ObligationView {
            debt: 100,
            liquidation_limit: 90,
            collaterals: vec![(0, 10)],
        }];
        assert!(liquidations(
            &obligations,
            &[collateral()],
            6,
            1_000_000,
            &KeeperParams::default()
        )
        .is_empty());
        let big = vec![ObligationView {
            debt: 6_250_000_000,
            liquidation_limit: 5_800_000_000,
            collaterals: vec![(0, 100_000_000)],
        }];
        let plan = liquidations(
            &big,
            &[collateral()],
            6,
            1_000_000_000,
            &KeeperParams::default(),
        );
        assert_eq!(plan[0].repay, 1_000_000_000);
    }
}
