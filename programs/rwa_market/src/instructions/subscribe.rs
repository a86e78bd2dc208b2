use anchor_lang::prelude::*;
use anchor_spl::token::{self, MintTo, Transfer};

use crate::errors::{MarketError, MathResultExt};
use crate::events::Subscribed;
use crate::instructions::primary::PrimaryTrade;

impl PrimaryTrade<'_> {
    pub fn validate_subscribe(&self, quote_in: u64) -> Result<rwa_math::Decimal> {
        require_keys_eq!(
            self.vault.key(),
            self.nav.subscription_vault,
            MarketError::InvalidNavAccount
        );
        self.validate_primary(quote_in)
    }
}

/// An authorised participant pays at most `quote_in` (NAV plus the subscription fee) into the
/// issuer's subscription vault and receives the newly minted tokens it buys (at least
/// `min_amount_out`). The curve's supply and reserve are untouched: these tokens are the issuer's
/// to back.
pub fn handle_subscribe(
    ctx: Context<PrimaryTrade>,
    quote_in: u64,
    min_amount_out: u64,
) -> Result<()> {
    let nav = ctx.accounts.validate_subscribe(quote_in)?;
    let accounts = &ctx.accounts;
    let market = &accounts.market;
    let subscription = rwa_math::primary::subscribe(
        quote_in,
        nav,
        accounts.nav.subscribe_fee_bps,
        market.rwa_decimals,
        market.quote_decimals,
    )
    .or_market_err()?;
    require!(subscription.amount > 0, MarketError::ZeroAmount);
    require_gte!(
        subscription.amount,
        min_amount_out,
        MarketError::SlippageExceeded
    );
    token::transfer(
        CpiContext::new(
            accounts.token_program.key(),
            Transfer {
                from: accounts.wallet_quote_account.to_account_info(),
                to: accounts.vault.to_account_info(),
                authority: accounts.wallet.to_account_info(),
            },
        ),
        subscription.cost(),
    )?;
    let bump = [market.bump];
    let [seed, mint] = accounts.market_seeds();
    let seeds: &[&[u8]] = &[seed, mint, &bump];
    token::mint_to(
        CpiContext::new_with_signer(
            accounts.token_program.key(),
            MintTo {
                mint: accounts.rwa_mint.to_account_info(),
                to: accounts.wallet_rwa_account.to_account_info(),
                authority: market.to_account_info(),
            },
            &[seeds],
        ),
        subscription.amount,
    )?;
    let slot = Clock::get()?.slot;
    let nav_account = &mut ctx.accounts.nav;
    nav_account.primary_minted = nav_account
        .primary_minted
        .saturating_add(subscription.amount);
    let event = Subscribed {
        market: nav_account.market,
        participant: ctx.accounts.wallet.key(),
        nav: nav.raw(),
        amount: subscription.amount,
        value: subscription.value,
        fee: subscription.fee,
        primary_minted: nav_account.primary_minted,
        slot,
    };
    emit_cpi!(event);
    Ok(())
}
