use anchor_lang::prelude::*;

use crate::constants::MARKET_SEED;
use crate::errors::MarketError;
use crate::events::OracleUpdated;
use crate::state::{Market, PriceOracle};

/// Permissionless: records the curve's current spot price (keepers call it on a cadence so the
/// oracle's last write stays recent). Calling it more often changes nothing a reader sees: the
/// curve's spot only moves by trades, which record it themselves, checkpoints are spaced by the
/// window, and the variance decays per slot, not per call. While a circuit-breaker halt holds,
/// it records the price the oracle already holds (the breaker's reference), never the spot the
/// halt froze.
#[event_cpi]
#[derive(Accounts)]
pub struct UpdateOracle<'info> {
    #[account(
        seeds = [MARKET_SEED, market.rwa_mint.as_ref()],
        bump = market.bump,
        has_one = oracle @ MarketError::InvalidOracle,
    )]
    pub market: Box<Account<'info, Market>>,
    #[account(mut)]
    pub oracle: AccountLoader<'info, PriceOracle>,
}

impl UpdateOracle<'_> {
    pub fn validate(&self) -> Result<()> {
        // The oracle's back-reference must agree with the market's forward one.
        require_keys_eq!(
            self.oracle.load()?.market,
            self.market.key(),
            MarketError::InvalidOracle
        );
        Ok(())
    }
}

pub fn handle_update_oracle(ctx: Context<UpdateOracle>) -> Result<()> {
    ctx.accounts.validate()?;
    let slot = Clock::get()?.slot;
    let spot = ctx.accounts.market.spot_price()?;
    let mut oracle = ctx.accounts.oracle.load_mut()?;
    oracle.observe_spot(slot, spot);
    let price = oracle.spot();
    let event = OracleUpdated {
        market: ctx.accounts.market.key(),
        slot,
        price: price.raw(),
        ewma_variance: oracle.ewma_variance,
    };
    drop(oracle);
    emit_cpi!(event);
    Ok(())
}
