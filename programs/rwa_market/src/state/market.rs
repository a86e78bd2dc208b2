use anchor_lang::prelude::*;
use rwa_math::{Curve, CurveKind, CurveMarket, Decimal};

use crate::constants::*;
use crate::errors::{MarketError, MathResultExt};

/// One RWA market: a mint whose authority is this PDA, priced by a bonding curve against a quote mint.
#[account]
#[derive(InitSpace, Debug)]
pub struct Market {
    pub version: u8,
    pub bump: u8,
    pub reserve_vault_bump: u8,
    pub fee_vault_bump: u8,
    pub oracle_bump: u8,
    pub paused: bool,
    /// 0 linear, 1 exponential, 2 sigmoid.
    pub curve_kind: u8,
    pub rwa_decimals: u8,
    pub quote_decimals: u8,
    pub fee_bps: u16,
    pub authority: Pubkey,
    pub rwa_mint: Pubkey,
    pub quote_mint: Pubkey,
    pub reserve_vault: Pubkey,
    pub fee_vault: Pubkey,
    pub oracle: Pubkey,
    /// Curve parameters as 18-digit fixed point (see `rwa_math::Curve::params`).
    pub curve_params: [u128; 3],
    pub max_supply: u64,
    /// RWA base units issued by the curve and not sold back.
    pub supply: u64,
    /// Quote base units in the reserve that back the curve (fees live in the fee vault).
    pub reserve: u64,
    /// Cumulative fees charged, quote base units.
    pub total_fees: u64,
    pub buy_volume: u128,
    pub sell_volume: u128,
    pub trade_count: u64,
    pub created_slot: u64,
    pub last_trade_slot: u64,
    #[max_len(MAX_NAME_LEN)]
    pub name: String,
    #[max_len(MAX_SYMBOL_LEN)]
    pub symbol: String,
    #[max_len(MAX_URI_LEN)]
    pub uri: String,
    /// The rule DAO's RuleSet this market obeys (default: none attached).
    pub rule_set: Pubkey,
    /// Circuit breaker: whether it tripped and in which slot. The halt's end is re-derived from
    /// the rules in force at every check (`halted_until`), so a rule change applies to a running
    /// halt and no stored value can outlive the rules' bounds.
    pub halted: bool,
    pub halt_started_slot: u64,
    /// The halt's end as derived when it tripped (informational; checks use `halted_until`).
    pub halted_until_slot: u64,
    /// Maker quotes must lie within this band around the curve's spot (bps), at post and at fill.
    pub quote_band_bps: u16,
    /// RWA base units and quote notional traded in `volume_slot` (the RuleSet's max trade size
    /// and the breaker's minimum notional count per market per slot, not per instruction).
    pub volume_slot: u64,
    pub volume_amount: u64,
    pub volume_notional: u64,
    /// Who may publish the NAV of this market's primary market (default key: no primary market).
    /// Set at `init_primary_market`; changed by the authority (or the DAO) through
    /// `set_market_params`.
    pub nav_publisher: Pubkey,
    /// Share of each trade's fee (bps of the fee) paid to a referrer the trader names; the rest
    /// goes to the fee vault. 0 (the default): no referral rewards.
    pub referrer_share_bps: u16,
    /// Room for fields added by later versions without a realloc.
    pub reserved: [u64; 4],
}

pub fn curve_kind_from_u8(kind: u8) -> Result<CurveKind> {
    match kind {
        0 => Ok(CurveKind::Linear),
        1 => Ok(CurveKind::Exponential),
        2 => Ok(CurveKind::Sigmoid),
        _ => err!(MarketError::InvalidCurveKind),
    }
}

impl Market {
    pub fn curve(&self) -> Result<Curve> {
        let params = self.curve_params.map(Decimal::from_raw);
        Ok(Curve::from_params(
            curve_kind_from_u8(self.curve_kind)?,
            params,
        ))
    }

    pub fn curve_market(&self) -> Result<CurveMarket> {
        CurveMarket::new(self.curve()?, self.rwa_decimals, self.quote_decimals).or_market_err()
    }

    pub fn spot_price(&self) -> Result<Decimal> {
        self.curve_market()?.spot_price(self.supply).or_market_err()
    }

    /// The solvency invariant: the reserve covers selling the whole supply back down the curve.
    /// It holds by construction (buyers pay upper bounds, sellers receive lower bounds of their
    /// segment's integral; see `CurveMarket::reserve_floor`); this re-checks it against a lower
    /// bound derived from `spot` (the settlement's spot at the current supply, rounded down), a
    /// couple of operations instead of a whole-supply integral for the linear and exponential
    /// curves.
    pub fn check_solvency(&self, spot: Decimal) -> Result<()> {
        let floor = self
            .curve_market()?
            .reserve_floor(self.supply, spot)
            .or_market_err()?;
        require_gte!(self.reserve, floor, MarketError::ReserveInvariantViolated);
        Ok(())
    }

    pub fn require_active(&self) -> Result<()> {
        require!(!self.paused, MarketError::MarketPaused);
        Ok(())
    }

    pub fn is_governed(&self) -> bool {
        self.rule_set != Pubkey::default()
    }

    /// Adds a trade to this slot's volume (reset when a new slot starts); saturating.
    pub fn count_volume(&mut self, slot: u64, amount: u64, notional: u64) {
        if self.volume_slot != slot {
            self.volume_slot = slot;
            self.volume_amount = 0;
            self.volume_notional = 0;
        }
        self.volume_amount = self.volume_amount.saturating_add(amount);
        self.volume_notional = self.volume_notional.saturating_add(notional);
    }

    /// First slot trading may resume under `rules` (0: not halted). Re-derived from the rules in
    /// force, with the halt length bounded, so no rule value can halt a market forever.
    pub fn halted_until(&self, rules: &rwa_rules::RuleValues) -> u64 {
        if !self.halted || rules.circuit_breaker_bps == 0 {
            return 0;
        }
        let length = rules
            .circuit_breaker_halt_slots
            .min(rwa_rules::MAX_HALT_SLOTS);
        self.halt_started_slot
            .saturating_add(length)
            .saturating_add(1)
    }

    /// The band (bps) maker quotes must respect: the market's, tightened by the RuleSet's.
    pub fn effective_quote_band_bps(&self, rules: Option<&rwa_rules::RuleValues>) -> u16 {
        match rules {
            Some(rules) if rules.max_quote_band_bps > 0 => {
                self.quote_band_bps.min(rules.max_quote_band_bps)
            }
            _ => self.quote_band_bps,
        }
    }

    /// Whether a maker price lies within the quote band around `spot` (at post and at fill).
    pub fn within_quote_band(
        &self,
        price: Decimal,
        spot: Decimal,
        rules: Option<&rwa_rules::RuleValues>,
    ) -> bool {
        let band = self.effective_quote_band_bps(rules) as u64;
        rwa_math::oracle::deviation_bps(price, spot, spot) <= band
    }

    /// Circuit breaker after a trade that moved the curve's spot from `spot_before` to
    /// `spot_after`: it trips when the spot ends further from `reference` (the oracle's TWAP over
    /// the breaker window, which no cheap trade can move) than the rule allows, the trade moved
    /// it away from the reference (a trade back toward it never trips), and this slot's traded
    /// notional reaches the rule's minimum (a dust trade cannot halt the market). The trade
    /// that trips it still settles (a failed transaction could not record the halt). Returns the
    /// deviation in bps.
    pub fn apply_circuit_breaker(
        &mut self,
        rules: &rwa_rules::RuleValues,
        slot: u64,
        reference: Decimal,
        spot_before: Decimal,
        spot_after: Decimal,
    ) -> Option<u64> {
        if rules.circuit_breaker_bps == 0
            || self.volume_notional < rules.circuit_breaker_min_notional
        {
            return None;
        }
        let move_bps = rwa_math::oracle::deviation_bps(spot_after, reference, reference);
        let away = spot_after.raw().abs_diff(reference.raw())
            > spot_before.raw().abs_diff(reference.raw());
        if move_bps <= rules.circuit_breaker_bps as u64 || !away {
            return None;
        }
        self.halted = true;
        self.halt_started_slot = slot;
        self.halted_until_slot = self.halted_until(rules);
        Some(move_bps)
    }
}
