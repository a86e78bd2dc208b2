use anchor_lang::prelude::*;

use crate::constants::MAX_OBLIGATION_COLLATERALS;

#[derive(
    AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, Default, InitSpace,
)]
pub struct ObligationCollateral {
    pub config: Pubkey,
    pub amount: u64,
}

/// A borrower's position: up to four collateral assets and one quote debt accruing at the
/// obligation's own rate (value-weighted r0 + beta * sigma of its collateral).
#[account]
#[derive(InitSpace, Debug)]
pub struct Obligation {
    pub bump: u8,
    pub lending_market: Pubkey,
    pub owner: Pubkey,
    pub collaterals: [ObligationCollateral; MAX_OBLIGATION_COLLATERALS],
    /// Quote base units owed, interest realised up to `last_accrual_slot`.
    pub debt: u64,
    /// Annual rate in force since the last refresh.
    pub rate: u128,
    pub last_accrual_slot: u64,
    pub last_refresh_slot: u64,
    /// From the last refresh: what the collateral supports at its CRs / liquidation CRs.
    pub borrow_limit: u64,
    pub liquidation_limit: u64,
    /// Collateral value at low prices.
    pub collateral_value: u64,
    pub sigma_p: u128,
}

impl Obligation {
    pub fn position_of(&self, config: &Pubkey) -> Option<usize> {
        self.collaterals
            .iter()
            .position(|c| c.config == *config && c.amount > 0)
    }

    pub fn active(&self) -> impl Iterator<Item = &ObligationCollateral> {
        self.collaterals.iter().filter(|c| c.amount > 0)
    }

    pub fn is_liquidatable(&self) -> bool {
        self.debt > self.liquidation_limit
    }
}
