//! Airdrop planning: a token budget in, recipients and amounts out, maximising the number of
//! holders (wallets at or above a minimum holding). Each wallet below the minimum costs exactly its
//! shortfall to turn into a holder, so the count is maximised by topping up the smallest
//! shortfalls first (an exchange argument: swapping any chosen wallet for a cheaper unchosen one
//! never lowers the count). Compared with the usual uniform and pro-rata drops.

/// One candidate recipient: an id (the caller's: an index or an address) and its balance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate<T> {
    pub id: T,
    pub balance: u64,
}

/// A planned drop: (recipient, amount) with amounts > 0, in the order they were chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Drop<T> {
    pub transfers: Vec<(T, u64)>,
    /// Tokens handed out (never more than the budget).
    pub spent: u64,
    /// Wallets at or above `min_holding` after the drop.
    pub holders: usize,
}

fn holders_after<T: Copy + PartialEq>(
    candidates: &[Candidate<T>],
    transfers: &[(T, u64)],
    min_holding: u64,
) -> usize {
    candidates
        .iter()
        .filter(|c| {
            let added: u64 = transfers
                .iter()
                .filter(|(id, _)| *id == c.id)
                .map(|(_, a)| *a)
                .sum();
            c.balance.saturating_add(added) >= min_holding
        })
        .count()
}

/// The most holders `budget` can make: smallest shortfalls first.
pub fn plan<T: Copy + PartialEq>(
    candidates: &[Candidate<T>],
    budget: u64,
    min_holding: u64,
) -> Drop<T> {
    let mut needs: Vec<(u64, T)> = candidates
        .iter()
        .filter(|c| c.balance < min_holding)
        .map(|c| (min_holding - c.balance, c.id))
        .collect();
    needs.sort_by_key(|(need, _)| *need);
    let mut left = budget;
    let mut transfers = Vec::new();
    for (need, id) in needs {
        if need > left {
            break;
        }
        left -= need;
        transfers.push((id, need));
    }
    let holders = holders_after(candidates, &transfers, min_holding);
    Drop {
        transfers,
        spent: budget - left,
        holders,
    }
}

/// The same budget split equally (the remainder to the first wallets).
pub fn uniform<T: Copy + PartialEq>(
    candidates: &[Candidate<T>],
    budget: u64,
    min_holding: u64,
) -> Drop<T> {
    let n = candidates.len() as u64;
    if n == 0 {
        return Drop {
            transfers: Vec::new(),
            spent: 0,
            holders: 0,
        };
    }
    let (share, rest) = (budget / n, budget % n);
    let transfers: Vec<(T, u64)> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id, share + u64::from((i as u64) < rest)))
        .filter(|(_, a)| *a > 0)
        .collect();
    let spent = transfers.iter().map(|(_, a)| a).sum();
    let holders = holders_after(candidates, &transfers, min_holding);
    Drop {
        transfers,
        spent,
        holders,
    }
}

/// The same budget in proportion to current balances (rounded down).
pub fn pro_rata<T: Copy + PartialEq>(
    candidates: &[Candidate<T>],
    budget: u64,
    min_holding: u64,
) -> Drop<T> {
    let total: u128 = candidates.iter().map(|c| c.balance as u128).sum();
    let transfers: Vec<(T, u64)> = if total == 0 {
        Vec::new()
    } else {
        candidates
            .iter()
            .map(|c| (c.id, (budget as u128 * c.balance as u128 / total) as u64))
            .filter(|(_, a)| *a > 0)
            .collect()
    };
    let spent = transfers.iter().map(|(_, a)| a).sum();
    let holders = holders_after(candidates, &transfers, min_holding);
    Drop {
        transfers,
        spent,
        holders,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn wallets(balances: &[u64]) -> Vec<Candidate<usize>> {
        balances
            .iter()
            .enumerate()
            .map(|(id, &balance)| Candidate { id, balance })
            .collect()
    }

    #[test]
    fn the_smallest_shortfalls_first() {
        // min holding 100: wallet 3 already holds; needs are 90, 50, 99, 10
        let c = wallets(&[10, 50, 1, 150, 90]);
        let drop = plan(&c, 150, 100);
        assert_eq!(drop.transfers, vec![(4, 10), (1, 50), (0, 90)]);
        assert_eq!((drop.spent, drop.holders), (150, 4));
        // uniform, 30 each: only wallet 4 (120) joins wallet 3
        assert_eq!(uniform(&c, 150, 100).holders, 2);
        // pro-rata hands most to wallet 3, which already counts: again only wallet 4 joins
        assert_eq!(pro_rata(&c, 150, 100).holders, 2);
    }

    proptest! {
        #[test]
        fn the_plan_beats_both_baselines_within_budget(
            balances in proptest::collection::vec(0u64..1_000, 1..40),
            budget in 0u64..20_000,
            min_holding in 1u64..1_000,
        ) {
            let c = wallets(&balances);
            let best = plan(&c, budget, min_holding);
            prop_assert!(best.spent <= budget);
            prop_assert!(best.transfers.iter().all(|(_, a)| *a > 0));
            prop_assert!(best.holders >= uniform(&c, budget, min_holding).holders);
            prop_assert!(best.holders >= pro_rata(&c, budget, min_holding).holders);
            prop_assert!(uniform(&c, budget, min_holding).spent <= budget);
            prop_assert!(pro_rata(&c, budget, min_holding).spent <= budget);
            // optimal: no subset of the wallets below the minimum that fits the budget is larger
            if balances.len() <= 12 {
                let needs: Vec<u64> = balances
                    .iter()
                    .filter(|&&b| b < min_holding)
                    .map(|&b| min_holding - b)
                    .collect();
                let already = balances.len() - needs.len();
                let mut most = 0;
                for mask in 0u32..(1 << needs.len()) {
                    let cost: u64 = (0..needs.len()).filter(|i| mask & (1 << i) != 0).map(|i| needs[i]).sum();
                    if cost <= budget {
                        most = most.max(mask.count_ones() as usize);
                    }
                }
                prop_assert_eq!(best.holders, already + most);
            }
        }
    }
}
