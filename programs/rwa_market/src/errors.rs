use anchor_lang::prelude::*;

/// rwa_market errors. Codes are stable: never renumber, only append.
#[error_code]
pub enum MarketError {
    #[msg("Amount must be greater than zero")]
    ZeroAmount, // 6000
    #[msg("Slippage bound exceeded")]
    SlippageExceeded, // 6001
    #[msg("Market is paused")]
    MarketPaused, // 6002
    #[msg("Trade would exceed the market's max supply")]
    MaxSupplyExceeded, // 6003
    #[msg("Trade would sell more than the curve supply")]
    InsufficientSupply, // 6004
    #[msg("Arithmetic overflow")]
    MathOverflow, // 6005
    #[msg("Curve parameters out of bounds")]
    InvalidCurveParams, // 6006
    #[msg("Unknown curve kind")]
    InvalidCurveKind, // 6007
    #[msg("Token decimals above 9 are not supported")]
    UnsupportedDecimals, // 6008
    #[msg("Fee above the maximum")]
    InvalidFee, // 6009
    #[msg("Oracle window or decay out of bounds")]
    InvalidOracleConfig, // 6010
    #[msg("Name, symbol or uri too long")]
    MetadataTooLong, // 6011
    #[msg("Max supply must be positive and not below the current supply")]
    InvalidMaxSupply, // 6012
    #[msg("Reserve does not cover selling the whole supply")]
    ReserveInvariantViolated, // 6013
    #[msg("Trade too small to move a base unit")]
    TradeTooSmall, // 6014
    #[msg("Reserve vault does not belong to this market")]
    InvalidReserveVault, // 6015
    #[msg("Fee vault does not belong to this market")]
    InvalidFeeVault, // 6016
    #[msg("Oracle does not belong to this market")]
    InvalidOracle, // 6017
    #[msg("Mint does not match the market")]
    InvalidMint, // 6018
    #[msg("Signer is not the market authority")]
    Unauthorized, // 6019
    #[msg("Market is already in that pause state")]
    PauseStateUnchanged, // 6020
    #[msg("Nothing to update")]
    NoParamsChanged, // 6021
    #[msg("Not enough fees in the fee vault")]
    InsufficientFees, // 6022
    #[msg("Quote sequence must increase")]
    InvalidSequence, // 6023
    #[msg("Crossed quote: bid must be below ask")]
    CrossedQuote, // 6024
    #[msg("Quote size exceeds escrowed inventory")]
    QuoteExceedsInventory, // 6025
    #[msg("Quote expiry is in the past")]
    QuoteExpiryInPast, // 6026
    #[msg("Quote expiry is too far in the future")]
    QuoteExpiryTooFar, // 6027
    #[msg("Quoted side needs a positive price")]
    InvalidQuotePrice, // 6028
    #[msg("Withdrawal would leave less than the live quote commits")]
    InventoryCommitted, // 6029
    #[msg("Not enough inventory in escrow")]
    InsufficientInventory, // 6030
    #[msg("Maker account, vault or market does not match")]
    InvalidMakerAccount, // 6031
    #[msg("Too many makers for one swap")]
    TooManyMakers, // 6032
    #[msg("Signer is not the maker's owner")]
    NotMakerOwner, // 6033
    #[msg("Not enough liquidity across the quotes and the curve")]
    InsufficientLiquidity, // 6034
    #[msg("Trade larger than the RuleSet's max trade size")]
    MaxTradeSizeExceeded, // 6035
    #[msg("Circuit breaker active: trading halted")]
    CircuitBreakerActive, // 6036
    #[msg("A RuleSet is already attached")]
    RuleSetAlreadyAttached, // 6037
    #[msg("Quote price outside the band around the curve's spot")]
    QuoteOutsideBand, // 6038
    #[msg("Signer is neither the market authority nor the RuleSet's guardian")]
    NotGuardian, // 6039
    #[msg("Quote band out of bounds")]
    InvalidQuoteBand, // 6040
    #[msg("Signer is not the market's NAV publisher")]
    NotNavPublisher, // 6041
    #[msg("NAV must be positive, at most 1e12, with a confidence of at most 100%")]
    InvalidNav, // 6042
    #[msg("NAV not published, or older than the market's staleness limit")]
    NavStale, // 6043
    #[msg("NAV confidence wider than the market's limit")]
    NavTooUncertain, // 6044
    #[msg("Wallet is not an authorised participant of this market")]
    NotParticipant, // 6045
    #[msg("Redemption exceeds the cap for this window")]
    RedemptionCapExceeded, // 6046
    #[msg("Redemption vault holds less than this redemption pays")]
    RedemptionVaultShort, // 6047
    #[msg("Primary market parameters out of bounds")]
    InvalidPrimaryConfig, // 6048
    #[msg("NAV account does not belong to this market")]
    InvalidNavAccount, // 6049
    #[msg("Referrer share above the maximum, or a trader naming itself as referrer")]
    InvalidReferrer, // 6050
}

impl From<rwa_math::MathError> for MarketError {
    fn from(error: rwa_math::MathError) -> Self {
        use rwa_math::MathError;
        match error {
            MathError::InvalidCurve(_) | MathError::Domain => MarketError::InvalidCurveParams,
            MathError::UnsupportedDecimals => MarketError::UnsupportedDecimals,
            MathError::SupplyOutOfRange => MarketError::InsufficientSupply,
            MathError::Overflow
            | MathError::Underflow
            | MathError::DivisionByZero
            | MathError::NoConvergence => MarketError::MathOverflow,
        }
    }
}

/// `?`-friendly conversion from math results into Anchor errors.
pub trait MathResultExt<T> {
    fn or_market_err(self) -> Result<T>;
}

impl<T> MathResultExt<T> for core::result::Result<T, rwa_math::MathError> {
    fn or_market_err(self) -> Result<T> {
        self.map_err(|error| error!(MarketError::from(error)))
    }
}
