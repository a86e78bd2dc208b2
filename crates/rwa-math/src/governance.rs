//! Stake-weighted voting arithmetic, exact in integers (u128, no rounding anywhere).

/// Outcome of a tally at the end of voting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tally {
    /// Votes cast (yes + no + abstain) reach `quorum_bps` of the stake snapshotted at creation.
    pub quorum_met: bool,
    /// Yes reaches `threshold_bps` of yes + no (abstentions count toward quorum only).
    pub threshold_met: bool,
}

impl Tally {
    pub fn passed(&self) -> bool {
        self.quorum_met && self.threshold_met
    }
}

/// yes * 10_000 >= threshold_bps * (yes + no) and (yes + no + abstain) * 10_000 >= quorum_bps * snapshot.
/// With threshold 6_667: 6_666 yes to 3_334 no (66.66%) fails; 6_667 to 3_333 (66.67%) passes.
pub fn tally(
    yes: u64,
    no: u64,
    abstain: u64,
    snapshot: u64,
    quorum_bps: u16,
    threshold_bps: u16,
) -> Tally {
    let (yes, no, abstain, snapshot) = (yes as u128, no as u128, abstain as u128, snapshot as u128);
    let decided = yes + no;
    let cast = decided + abstain;
    Tally {
        quorum_met: cast * 10_000 >= quorum_bps as u128 * snapshot && cast > 0,
        threshold_met: decided > 0 && yes * 10_000 >= threshold_bps as u128 * decided,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn supermajority_boundary_is_exact() {
        assert!(!tally(6_666, 3_334, 0, 10_000, 2_000, 6_667).threshold_met);
        assert!(tally(6_667, 3_333, 0, 10_000, 2_000, 6_667).threshold_met);
        // two thirds exactly is 66.666...%: below 66.67%
        assert!(!tally(2, 1, 0, 3, 0, 6_667).threshold_met);
        assert!(!tally(0, 0, 5, 10, 0, 6_667).threshold_met);
    }

    #[test]
    fn quorum_counts_abstentions() {
        assert!(tally(100, 0, 100, 1_000, 2_000, 6_667).quorum_met);
        assert!(!tally(100, 0, 99, 1_000, 2_000, 6_667).quorum_met);
        assert!(!tally(0, 0, 0, 0, 0, 6_667).quorum_met);
    }

    proptest! {
        /// More yes never turns a pass into a fail; more no never turns a fail into a pass.
        #[test]
        fn monotone_in_votes(yes in 0u64..1u64 << 40, no in 0u64..1u64 << 40, extra in 0u64..1u64 << 40, threshold in 5_001u16..=10_000) {
            let base = tally(yes, no, 0, 1, 0, threshold).threshold_met;
            if base {
                prop_assert!(tally(yes + extra, no, 0, 1, 0, threshold).threshold_met);
            } else {
                prop_assert!(!tally(yes, no + extra, 0, 1, 0, threshold).threshold_met);
            }
        }
    }
}
