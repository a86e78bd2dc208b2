use anchor_lang::prelude::*;
use anchor_spl::token::{self, Token, TokenAccount, Transfer};

use crate::constants::*;
use crate::errors::MarketError;
use crate::events::SubscriptionsWithdrawn;
use crate::state::{Market, NavAttestation};

#[event_cpi]
#[derive(Accounts)]
pub struct WithdrawSubscriptions<'info> {
    pub authority: Signer<'info>,
    #[account(
        seeds = [MARKET_SEED, market.rwa_mint.as_ref()],
        bump = market.bump,
        has_one = authority @ MarketError::Unauthorized,
    )]
    pub market: Box<Account<'info, Market>>,
    #[account(
        seeds = [NAV_SEED, market.key().as_ref()],
        bump = nav.bump,
        has_one = market @ MarketError::InvalidNavAccount,
        has_one = subscription_vault @ MarketError::InvalidNavAccount,
    )]
    pub nav: Box<Account<'info, NavAttestation>>,
    #[account(mut)]
    pub subscription_vault: Box<Account<'info, TokenAccount>>,
    #[account(mut, token::mint = market.quote_mint)]
    pub destination: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

impl WithdrawSubscriptions<'_> {
    pub fn validate(&self, amount: u64) -> Result<()> {
        require!(amount > 0, MarketError::ZeroAmount);
        require_gte!(
            self.subscription_vault.amount,
            amount,
            MarketError::InsufficientLiquidity
        );
        Ok(())
    }
}

/// The issuer takes subscription proceeds (to invest in the asset, or to fund redemptions).
pub fn handle_withdraw_subscriptions(
    ctx: Context<WithdrawSubscriptions>,
    amount: u64,
) -> Result<()> {
    ctx.accounts.validate(amount)?;
    let accounts = &ctx.accounts;
    let bump = [accounts.market.bump];
    let seeds: &[&[u8]] = &[MARKET_SEED, accounts.market.rwa_mint.as_ref(), &bump];
    token::transfer(
        CpiContext::new_with_signer(
            accounts.token_program.key(),
            Transfer {
                from: accounts.subscription_vault.to_account_info(),
                to: accounts.destination.to_account_info(),
                authority: accounts.market.to_account_info(),
            },
            &[seeds],
        ),
        amount,
    )?;
    emit_cpi!(SubscriptionsWithdrawn {
        market: ctx.accounts.market.key(),
        destination: ctx.accounts.destination.key(),
        amount,
    });
    Ok(())
}
