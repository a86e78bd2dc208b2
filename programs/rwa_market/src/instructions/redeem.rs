use anchor_lang::prelude::*;
use anchor_spl::token::{self, Burn, Transfer};

use crate::errors::{MarketError, MathResultExt};
use crate::events::Redeemed;
use crate::instructions::primary::PrimaryTrade;

impl PrimaryTrade<'_> {
    pub fn validate_redeem(&self, amount: u64) -> Result<rwa_math::Decimal> {
        require_keys_eq!(
            self.vault.key(),
            self.nav.redemption_vault,
            MarketError::InvalidNavAccount
        );
        self.validate_primary(amount)
    }
}

/// An authorised participant burns `amount` tokens and receives their NAV value less the
/// redemption fee (at least `min_quote_out`) from the vault the issuer funds. Refused, with
/// nothing changed, when the window's cap would be exceeded or the vault holds too little.
pub fn handle_redeem(ctx: Context<PrimaryTrade>, amount: u64, min_quote_out: u64) -> Result<()> {
    let nav = ctx.accounts.validate_redeem(amount)?;
    let slot = Clock::get()?.slot;
    let redemption = {
        let accounts = &ctx.accounts;
        rwa_math::primary::redeem(
            amount,
            nav,
            accounts.nav.redeem_fee_bps,
            accounts.market.rwa_decimals,
            accounts.market.quote_decimals,
        )
        .or_market_err()?
    };
    let proceeds = redemption.proceeds();
    require_gte!(proceeds, min_quote_out, MarketError::SlippageExceeded);
    require_gte!(
        ctx.accounts.vault.amount,
        proceeds,
        MarketError::RedemptionVaultShort
    );
    ctx.accounts.nav.count_redemption(slot, amount)?;
    let accounts = &ctx.accounts;
    token::burn(
        CpiContext::new(
            accounts.token_program.key(),
            Burn {
                mint: accounts.rwa_mint.to_account_info(),
                from: accounts.wallet_rwa_account.to_account_info(),
                authority: accounts.wallet.to_account_info(),
            },
        ),
        amount,
    )?;
    let bump = [accounts.market.bump];
    let [seed, mint] = accounts.market_seeds();
    let seeds: &[&[u8]] = &[seed, mint, &bump];
    if proceeds > 0 {
        token::transfer(
            CpiContext::new_with_signer(
                accounts.token_program.key(),
                Transfer {
                    from: accounts.vault.to_account_info(),
                    to: accounts.wallet_quote_account.to_account_info(),
                    authority: accounts.market.to_account_info(),
                },
                &[seeds],
            ),
            proceeds,
        )?;
    }
    let nav_account = &mut ctx.accounts.nav;
    nav_account.primary_burned = nav_account.primary_burned.saturating_add(amount);
    let event = Redeemed {
        market: nav_account.market,
        participant: ctx.accounts.wallet.key(),
        nav: nav.raw(),
        amount,
        value: redemption.value,
        fee: redemption.fee,
        primary_burned: nav_account.primary_burned,
        slot,
    };
    emit_cpi!(event);
    Ok(())
}
