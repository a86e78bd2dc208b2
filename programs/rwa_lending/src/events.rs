use anchor_lang::prelude::*;

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LendingMarketCreated {
    pub lending_market: Pubkey,
    pub quote_mint: Pubkey,
    pub admin: Pubkey,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollateralConfigured {
    pub lending_market: Pubkey,
    pub collateral: Pubkey,
    pub rwa_market: Pubkey,
    pub index: u8,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiquidityChanged {
    pub lending_market: Pubkey,
    pub owner: Pubkey,
    pub deposit: bool,
    pub amount: u64,
    pub shares: u64,
    pub total_shares: u64,
    pub total_value: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollateralRefreshed {
    pub collateral: Pubkey,
    pub price: u128,
    pub price_low: u128,
    pub sigma: u128,
    pub rate: u128,
    pub collateral_ratio_bps: u64,
    pub used_pyth: bool,
    /// The market's NAV at this refresh (0: no primary market or none published).
    pub nav: u128,
    pub slot: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObligationRefreshed {
    pub obligation: Pubkey,
    pub debt: u64,
    pub interest_accrued: u64,
    pub borrow_limit: u64,
    pub liquidation_limit: u64,
    pub rate: u128,
    pub sigma_p: u128,
    pub slot: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObligationChanged {
    pub obligation: Pubkey,
    /// "deposit_collateral", "withdraw_collateral", "borrow" or "repay".
    pub action: String,
    pub collateral: Pubkey,
    pub amount: u64,
    pub debt: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Liquidated {
    pub obligation: Pubkey,
    pub liquidator: Pubkey,
    pub collateral: Pubkey,
    pub repaid: u64,
    pub collateral_seized: u64,
    pub debt_after: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadDebtRecorded {
    pub obligation: Pubkey,
    pub amount: u64,
    pub total_bad_debt: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrelationsUpdated {
    pub lending_market: Pubkey,
    pub authority: Pubkey,
    pub slot: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolFeesClaimed {
    pub lending_market: Pubkey,
    pub amount: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LendingParamsUpdated {
    pub lending_market: Pubkey,
    pub params: crate::instructions::LendingMarketParams,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LendingPauseChanged {
    pub lending_market: Pubkey,
    pub paused: bool,
    pub by: Pubkey,
    pub slot: u64,
}
