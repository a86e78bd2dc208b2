use anchor_lang::prelude::*;
use anchor_spl::token::{self, Token, TokenAccount, Transfer};

use crate::constants::MARKET_SEED;
use crate::errors::MarketError;
use crate::events::FeesWithdrawn;
use crate::state::Market;

/// Authority moves collected fees out of the fee vault. The curve reserve is never touchable.
#[event_cpi]
#[derive(Accounts)]
pub struct WithdrawFees<'info> {
    pub authority: Signer<'info>,
    #[account(
        seeds = [MARKET_SEED, market.rwa_mint.as_ref()],
        bump = market.bump,
        has_one = authority @ MarketError::Unauthorized,
        has_one = fee_vault @ MarketError::InvalidFeeVault,
    )]
    pub market: Box<Account<'info, Market>>,
    #[account(mut)]
    pub fee_vault: Box<Account<'info, TokenAccount>>,
    #[account(mut, token::mint = market.quote_mint)]
    pub destination: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

impl WithdrawFees<'_> {
    pub fn validate(&self, amount: u64) -> Result<()> {
        require!(amount > 0, MarketError::ZeroAmount);
        require_gte!(self.fee_vault.amount, amount, MarketError::InsufficientFees);
        Ok(())
    }
}

pub fn handle_withdraw_fees(ctx: Context<WithdrawFees>, amount: u64) -> Result<()> {
    ctx.accounts.validate(amount)?;
    let market = &ctx.accounts.market;
    let seeds: &[&[u8]] = &[MARKET_SEED, market.rwa_mint.as_ref(), &[market.bump]];
    let accounts = Transfer {
        from: ctx.accounts.fee_vault.to_account_info(),
        to: ctx.accounts.destination.to_account_info(),
        authority: market.to_account_info(),
    };
    token::transfer(
        CpiContext::new_with_signer(ctx.accounts.token_program.key(), accounts, &[seeds]),
        amount,
    )?;
    let event = FeesWithdrawn {
        market: market.key(),
        destination: ctx.accounts.destination.key(),
        amount,
    };
    emit_cpi!(event);
    Ok(())
}
