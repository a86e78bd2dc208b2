//! Events, emitted by self-CPI (`emit_cpi!`): they appear as inner instructions of the transaction
//! on every cluster and in the native test runtime, and cannot be lost to log truncation.

use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TradeSide {
    Buy,
    Sell,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketInitialized {
    pub market: Pubkey,
    pub authority: Pubkey,
    pub rwa_mint: Pubkey,
    pub quote_mint: Pubkey,
    pub curve_kind: u8,
    pub curve_params: [u128; 3],
    pub fee_bps: u16,
    pub max_supply: u64,
    pub name: String,
    pub symbol: String,
    pub uri: String,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradeExecuted {
    pub market: Pubkey,
    pub trader: Pubkey,
    pub side: TradeSide,
    /// RWA base units bought or sold.
    pub amount: u64,
    /// Quote base units paid to / taken from the curve reserve, fees excluded.
    pub quote_amount: u64,
    /// Quote base units paid as fee.
    pub fee: u64,
    /// Spot prices (quote tokens per whole token, 18-digit fixed point) before and after.
    pub price_before: u128,
    pub price_after: u128,
    pub supply: u64,
    pub reserve: u64,
    pub slot: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OracleUpdated {
    pub market: Pubkey,
    pub slot: u64,
    pub price: u128,
    /// EWMA variance of log returns per slot (18-digit fixed point).
    pub ewma_variance: u128,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketParamsUpdated {
    pub market: Pubkey,
    pub authority: Pubkey,
    pub fee_bps: u16,
    pub max_supply: u64,
    pub twap_window_slots: u64,
    pub ewma_lambda_bps: u16,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketPauseChanged {
    pub market: Pubkey,
    pub paused: bool,
    pub slot: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeesWithdrawn {
    pub market: Pubkey,
    pub destination: Pubkey,
    pub amount: u64,
}
