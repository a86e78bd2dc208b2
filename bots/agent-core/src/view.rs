//! What a strategy sees: one snapshot of a market, built by the I/O shell from chain state.

use rwa_math::CurveMarket;

/// A live maker quote on the market (the strategy's own included).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuoteView {
    /// Index of the maker in the view's maker list (stable within one snapshot).
    pub maker: usize,
    pub own: bool,
    pub bid_price: f64,
    pub bid_size: u64,
    pub ask_price: f64,
    pub ask_size: u64,
    pub expiry_slot: u64,
}

/// The agent's own state on this market.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Position {
    /// RWA base units held (wallet plus maker escrow).
    pub rwa: u64,
    /// Quote base units held.
    pub quote: u64,
    /// The agent's current quote sequence (0 before the first).
    pub sequence: u64,
    /// The agent's resting quote mid, if it has one live.
    pub resting_mid: Option<f64>,
}

/// Rules in force (zero: no limit), as read from the RuleSet.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct RulesView {
    pub max_trade_amount: u64,
    pub max_quote_lifetime_slots: u64,
    /// Tightest quote band the RuleSet allows (bps around the curve's spot; 0: the market's).
    pub max_quote_band_bps: u16,
    /// Circuit breaker: trip band (0: off) and halt length.
    pub circuit_breaker_bps: u16,
    pub circuit_breaker_halt_slots: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MarketView {
    pub slot: u64,
    pub curve: CurveMarket,
    pub supply: u64,
    pub max_supply: u64,
    pub fee_bps: u16,
    /// Spot price of the curve (quote tokens per whole token).
    pub spot: f64,
    pub twap: f64,
    /// EWMA volatility per sqrt(slot).
    pub volatility: f64,
    /// Maker quotes must lie within this many bps of `spot` (the market's band, tightened by the
    /// RuleSet): the program refuses a quote outside it (QuoteOutsideBand).
    pub quote_band_bps: u16,
    /// The market is paused: no trade and no quote is accepted.
    pub paused: bool,
    /// The circuit breaker halts trading until this slot (0 or past: not halted).
    pub halted_until_slot: u64,
    pub quotes: Vec<QuoteView>,
    pub position: Position,
    pub rules: RulesView,
    /// The market's primary market at NAV, when it has one and the agent is a participant.
    pub primary: Option<PrimaryView>,
}

/// A primary market as an authorised participant sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PrimaryView {
    /// The attested NAV (quote tokens per whole token, 18-digit fixed point).
    pub nav_raw: u128,
    /// Fresh and certain enough for the program to accept subscriptions and redemptions now.
    pub usable: bool,
    pub subscribe_fee_bps: u16,
    pub redeem_fee_bps: u16,
    /// Most RWA base units redeemable now: the window's room left (the vault is checked by
    /// pricing against `redemption_vault`).
    pub redeemable: u64,
    /// Quote base units in the redemption vault.
    pub redemption_vault: u64,
}

impl PrimaryView {
    pub fn nav(&self) -> rwa_math::Decimal {
        rwa_math::Decimal::from_raw(self.nav_raw)
    }
}

impl MarketView {
    pub fn token_unit(&self) -> f64 {
        10f64.powi(self.curve.decimals as i32)
    }

    pub fn quote_unit(&self) -> f64 {
        10f64.powi(self.curve.quote_decimals as i32)
    }

    /// Trades are refused now (paused, or halted by the circuit breaker).
    pub fn trading_halted(&self) -> bool {
        self.paused || self.slot < self.halted_until_slot
    }

    pub fn live_quotes(&self) -> impl Iterator<Item = &QuoteView> {
        self.quotes
            .iter()
            .filter(move |q| q.expiry_slot >= self.slot)
    }
}
