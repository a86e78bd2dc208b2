use anchor_lang::prelude::*;
use rwa_math::route::notional;
use rwa_math::{Decimal, Rounding};

use crate::errors::MathResultExt;

/// A market maker's escrow and its one live two-sided quote on a market.
#[account]
#[derive(InitSpace, Debug)]
pub struct Maker {
    pub bump: u8,
    pub rwa_vault_bump: u8,
    pub quote_vault_bump: u8,
    pub market: Pubkey,
    pub owner: Pubkey,
    pub rwa_vault: Pubkey,
    pub quote_vault: Pubkey,
    /// Escrowed RWA base units (the vault may hold more if someone donates; only this counts).
    pub rwa_inventory: u64,
    /// Escrowed quote base units.
    pub quote_inventory: u64,
    /// Quote tokens per whole RWA token, 18-digit fixed point.
    pub bid_price: u128,
    /// RWA base units the maker still buys at `bid_price`.
    pub bid_size: u64,
    pub ask_price: u128,
    /// RWA base units the maker still sells at `ask_price`.
    pub ask_size: u64,
    /// Last slot the quote can be filled in.
    pub expiry_slot: u64,
    pub posted_slot: u64,
    /// Sequence of the last accepted quote update; updates must increase it.
    pub sequence: u64,
    /// Cumulative RWA base units bought / sold by this maker through fills.
    pub bought: u64,
    pub sold: u64,
    pub fill_count: u64,
    pub reserved: [u64; 8],
}

impl Maker {
    pub fn is_live(&self, slot: u64) -> bool {
        slot <= self.expiry_slot && (self.bid_size > 0 || self.ask_size > 0)
    }

    /// RWA inventory the live quote commits (its ask size).
    pub fn committed_rwa(&self, slot: u64) -> u64 {
        if self.is_live(slot) {
            self.ask_size
        } else {
            0
        }
    }

    /// Quote inventory the live quote commits: the bid's notional, rounded up.
    pub fn committed_quote(&self, slot: u64, decimals: u8, quote_decimals: u8) -> Result<u64> {
        if !self.is_live(slot) || self.bid_size == 0 {
            return Ok(0);
        }
        notional(
            self.bid_size,
            Decimal::from_raw(self.bid_price),
            decimals,
            quote_decimals,
            Rounding::Up,
        )
        .or_market_err()
    }

    pub fn bid(&self, slot: u64) -> rwa_math::route::Level {
        let size = if self.is_live(slot) { self.bid_size } else { 0 };
        rwa_math::route::Level {
            price: Decimal::from_raw(self.bid_price),
            size,
        }
    }

    pub fn ask(&self, slot: u64) -> rwa_math::route::Level {
        let size = if self.is_live(slot) { self.ask_size } else { 0 };
        rwa_math::route::Level {
            price: Decimal::from_raw(self.ask_price),
            size,
        }
    }
}
