use anchor_lang::prelude::*;

/// rwa_lending errors. Codes are stable: never renumber, only append.
#[error_code]
pub enum LendingError {
    #[msg("Amount must be greater than zero")]
    ZeroAmount, // 6000
    #[msg("Parameter out of bounds")]
    InvalidParams, // 6001
    #[msg("Arithmetic overflow")]
    MathOverflow, // 6002
    #[msg("Oracle price is stale")]
    StaleOracle, // 6003
    #[msg("Oracle price is too uncertain")]
    OracleTooUncertain, // 6004
    #[msg("Oracle account does not match the collateral config")]
    InvalidOracle, // 6005
    #[msg("Pyth price invalid, unverified, for another feed or too old")]
    InvalidPythPrice, // 6006
    #[msg("Pyth price and market TWAP disagree beyond tolerance")]
    OracleDivergence, // 6007
    #[msg("Refresh the collateral, then the obligation, immediately before this instruction")]
    RefreshRequired, // 6008
    #[msg("Borrow limit exceeded")]
    BorrowLimitExceeded, // 6009
    #[msg("Portfolio volatility above the cap")]
    PortfolioVolatilityTooHigh, // 6010
    #[msg("Collateral volatility above the RuleSet limit: new borrows refused")]
    VolatilityTooHigh, // 6011
    #[msg("Not enough liquidity in the vault")]
    InsufficientLiquidity, // 6012
    #[msg("Obligation is healthy")]
    ObligationHealthy, // 6013
    #[msg("Liquidation would pay out less than the minimum")]
    LiquidationSlippage, // 6014
    #[msg("Collateral not held by this obligation")]
    CollateralNotFound, // 6015
    #[msg("Obligation already holds the maximum number of collateral kinds")]
    TooManyCollaterals, // 6016
    #[msg("Lending market already holds the maximum number of collateral assets")]
    CollateralListFull, // 6017
    #[msg("Collateral config does not belong to this lending market")]
    InvalidCollateralConfig, // 6018
    #[msg("Signer is not allowed to do this")]
    Unauthorized, // 6019
    #[msg("Correlation matrix out of bounds")]
    InvalidCorrelations, // 6020
    #[msg("Not enough collateral")]
    InsufficientCollateral, // 6021
    #[msg("Nothing to repay")]
    NoDebt, // 6022
    #[msg("Wrong mint for this account")]
    InvalidMint, // 6023
    #[msg("Lending market is paused")]
    LendingPaused, // 6024
    #[msg("The lending market is governed by its rule DAO: this needs an executed proposal")]
    GovernedByDao, // 6025
    #[msg("Lending market is already in that pause state")]
    PauseStateUnchanged, // 6026
}

impl From<rwa_math::MathError> for LendingError {
    fn from(_: rwa_math::MathError) -> Self {
        LendingError::MathOverflow
    }
}

pub trait MathResultExt<T> {
    fn or_lending_err(self) -> Result<T>;
}

impl<T> MathResultExt<T> for core::result::Result<T, rwa_math::MathError> {
    fn or_lending_err(self) -> Result<T> {
        self.map_err(|error| error!(LendingError::from(error)))
    }
}
