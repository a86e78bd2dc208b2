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
    /// Quote base units paid as fee (the referrer's share included).
    pub fee: u64,
    /// The referrer the trader named (owner of the account paid; default key: none) and the
    /// part of `fee` it received.
    pub referrer: Pubkey,
    pub referrer_fee: u64,
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
    pub quote_band_bps: u16,
    pub paused: bool,
    pub referrer_share_bps: u16,
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

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MakerOpened {
    pub market: Pubkey,
    pub maker: Pubkey,
    pub owner: Pubkey,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryChanged {
    pub market: Pubkey,
    pub maker: Pubkey,
    /// true for a deposit, false for a withdrawal.
    pub deposit: bool,
    pub rwa_amount: u64,
    pub quote_amount: u64,
    pub rwa_inventory: u64,
    pub quote_inventory: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MakerClosed {
    pub market: Pubkey,
    pub maker: Pubkey,
    pub owner: Pubkey,
    pub rwa_returned: u64,
    pub quote_returned: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotePosted {
    pub market: Pubkey,
    pub maker: Pubkey,
    pub bid_price: u128,
    pub bid_size: u64,
    pub ask_price: u128,
    pub ask_size: u64,
    pub expiry_slot: u64,
    pub sequence: u64,
    pub slot: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteCancelled {
    pub market: Pubkey,
    pub maker: Pubkey,
    pub sequence: u64,
    pub slot: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteFilled {
    pub market: Pubkey,
    pub maker: Pubkey,
    pub taker: Pubkey,
    /// The taker's side: Buy means the taker bought from the maker's ask.
    pub side: TradeSide,
    pub price: u128,
    /// RWA base units filled.
    pub size: u64,
    /// Quote base units exchanged (fee excluded).
    pub quote_amount: u64,
    pub bid_size_left: u64,
    pub ask_size_left: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwapExecuted {
    pub market: Pubkey,
    pub taker: Pubkey,
    pub side: TradeSide,
    /// RWA base units in total (makers and curve).
    pub amount: u64,
    /// Quote base units in total, fee excluded.
    pub quote_amount: u64,
    pub fee: u64,
    /// The referrer named (default key: none) and its part of `fee`.
    pub referrer: Pubkey,
    pub referrer_fee: u64,
    pub curve_amount: u64,
    pub curve_quote_amount: u64,
    pub maker_fills: u8,
    /// Price of the last unit filled (what the oracle recorded).
    pub last_price: u128,
    pub supply: u64,
    pub reserve: u64,
    pub slot: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSetAttached {
    pub market: Pubkey,
    pub rule_set: Pubkey,
    /// The DAO authority PDA that now holds the market authority.
    pub authority: Pubkey,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CircuitBreakerTripped {
    pub market: Pubkey,
    /// The breaker's reference: the oracle TWAP over the breaker window (what the oracle holds
    /// during the halt).
    pub reference_price: u128,
    pub price: u128,
    pub move_bps: u64,
    pub halted_until_slot: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrimaryMarketOpened {
    pub market: Pubkey,
    pub nav_account: Pubkey,
    pub publisher: Pubkey,
    pub max_staleness_slots: u64,
    pub max_confidence_bps: u16,
    pub subscribe_fee_bps: u16,
    pub redeem_fee_bps: u16,
    pub redemption_window_slots: u64,
    pub redemption_cap_per_window: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NavPublished {
    pub market: Pubkey,
    pub publisher: Pubkey,
    pub nav: u128,
    pub confidence_bps: u16,
    pub slot: u64,
    pub unix_time: i64,
    pub nav_variance_per_slot: u128,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantChanged {
    pub market: Pubkey,
    pub wallet: Pubkey,
    pub allowed: bool,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribed {
    pub market: Pubkey,
    pub participant: Pubkey,
    pub nav: u128,
    pub amount: u64,
    pub value: u64,
    pub fee: u64,
    pub primary_minted: u64,
    pub slot: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redeemed {
    pub market: Pubkey,
    pub participant: Pubkey,
    pub nav: u128,
    pub amount: u64,
    pub value: u64,
    pub fee: u64,
    pub primary_burned: u64,
    pub slot: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionsWithdrawn {
    pub market: Pubkey,
    pub destination: Pubkey,
    pub amount: u64,
}
