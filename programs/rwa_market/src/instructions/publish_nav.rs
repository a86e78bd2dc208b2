use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::MarketError;
use crate::events::NavPublished;
use crate::state::{Market, NavAttestation};

#[event_cpi]
#[derive(Accounts)]
pub struct PublishNav<'info> {
    pub publisher: Signer<'info>,
    #[account(
        seeds = [MARKET_SEED, market.rwa_mint.as_ref()],
        bump = market.bump,
    )]
    pub market: Box<Account<'info, Market>>,
    #[account(
        mut,
        seeds = [NAV_SEED, market.key().as_ref()],
        bump = nav.bump,
        has_one = market @ MarketError::InvalidNavAccount,
    )]
    pub nav: Box<Account<'info, NavAttestation>>,
}

impl PublishNav<'_> {
    pub fn validate(&self, nav: u128, confidence_bps: u16) -> Result<()> {
        require_keys_eq!(
            self.publisher.key(),
            self.market.nav_publisher,
            MarketError::NotNavPublisher
        );
        require!(
            nav > 0 && nav <= MAX_NAV && confidence_bps <= 10_000,
            MarketError::InvalidNav
        );
        Ok(())
    }
}

/// Records the issuer's NAV (quote tokens per RWA token, 18-digit) and its confidence (bps).
pub fn handle_publish_nav(ctx: Context<PublishNav>, nav: u128, confidence_bps: u16) -> Result<()> {
    ctx.accounts.validate(nav, confidence_bps)?;
    let clock = Clock::get()?;
    let account = &mut ctx.accounts.nav;
    account.record(nav, confidence_bps, clock.slot, clock.unix_timestamp);
    let event = NavPublished {
        market: account.market,
        publisher: ctx.accounts.publisher.key(),
        nav,
        confidence_bps,
        slot: clock.slot,
        unix_time: clock.unix_timestamp,
        nav_variance_per_slot: account.nav_variance_per_slot,
    };
    emit_cpi!(event);
    Ok(())
}
