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
    /// Circuit breaker: the window's first slot and the price it started from.
    pub breaker_window_start_slot: u64,
    pub breaker_window_start_price: u128,
    /// Trading is halted until (excluding) this slot.
    pub halted_until_slot: u64,
    /// Room for fields added by later versions without a realloc.
    pub reserved: [u64; 8],
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
    pub fn check_solvency(&self) -> Result<()> {
        let full_sell_back = self
            .curve_market()?
            .sell_proceeds(self.supply, self.supply)
            .or_market_err()?;
        require_gte!(
            self.reserve,
            full_sell_back,
            MarketError::ReserveInvariantViolated
        );
        Ok(())
    }

    pub fn require_active(&self) -> Result<()> {
        require!(!self.paused, MarketError::MarketPaused);
        Ok(())
    }

    pub fn is_governed(&self) -> bool {
        self.rule_set != Pubkey::default()
    }

    /// Circuit breaker bookkeeping after a trade that moved the price from `price_before` to
    /// `price_after` in `slot`. The trade that crosses the band still settles (a failed
    /// transaction could not record the halt); trading then halts for the configured slots.
    /// Returns the trip event when it trips.
    pub fn apply_circuit_breaker(
        &mut self,
        rules: &rwa_rules::RuleValues,
        slot: u64,
        price_before: u128,
        price_after: u128,
    ) -> Option<(u128, u64)> {
        if rules.circuit_breaker_bps == 0 || rules.circuit_breaker_window_slots == 0 {
            return None;
        }
        if self.breaker_window_start_price == 0
            || slot
                >= self
                    .breaker_window_start_slot
                    .saturating_add(rules.circuit_breaker_window_slots)
        {
            self.breaker_window_start_slot = slot;
            self.breaker_window_start_price = price_before;
        }
        let start = self.breaker_window_start_price;
        if start == 0 {
            return None;
        }
        let moved = price_after.abs_diff(start);
        let move_bps = rwa_math::wide::mul_div(moved, 10_000, start, rwa_math::Rounding::Down)
            .unwrap_or(u128::MAX);
        if move_bps > rules.circuit_breaker_bps as u128 {
            self.halted_until_slot = slot
                .saturating_add(rules.circuit_breaker_halt_slots)
                .saturating_add(1);
            return Some((start, u64::try_from(move_bps).unwrap_or(u64::MAX)));
        }
        None
    }
}
