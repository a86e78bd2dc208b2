use anchor_lang::prelude::*;
use anchor_spl::token::{self, Token, TokenAccount, Transfer};

use crate::errors::LendingError;
use crate::events::ObligationChanged;
use crate::instructions::common::accrue_interest;
use crate::state::{LendingMarket, Obligation};

/// Repays debt for any obligation (anyone may pay); interest is realised first. `u64::MAX` (or
/// anything above the debt) repays in full and takes only what is owed.
#[event_cpi]
#[derive(Accounts)]
pub struct Repay<'info> {
    pub payer: Signer<'info>,
    #[account(mut, has_one = liquidity_vault)]
    pub lending_market: Box<Account<'info, LendingMarket>>,
    #[account(mut, has_one = lending_market)]
    pub obligation: Box<Account<'info, Obligation>>,
    #[account(mut)]
    pub liquidity_vault: Box<Account<'info, TokenAccount>>,
    #[account(mut, token::mint = lending_market.quote_mint, token::authority = payer)]
    pub payer_quote_account: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

pub fn handle_repay(ctx: Context<Repay>, amount: u64) -> Result<()> {
    require!(amount > 0, LendingError::ZeroAmount);
    let slot = Clock::get()?.slot;
    {
        let accounts = &mut *ctx.accounts;
        accrue_interest(&mut accounts.obligation, &mut accounts.lending_market, slot)?;
    }
    let debt = ctx.accounts.obligation.debt;
    require!(debt > 0, LendingError::NoDebt);
    let paid = amount.min(debt);
    token::transfer(
        CpiContext::new(
            ctx.accounts.token_program.key(),
            Transfer {
                from: ctx.accounts.payer_quote_account.to_account_info(),
                to: ctx.accounts.liquidity_vault.to_account_info(),
                authority: ctx.accounts.payer.to_account_info(),
            },
        ),
        paid,
    )?;
    let market = &mut ctx.accounts.lending_market;
    market.available = market
        .available
        .checked_add(paid)
        .ok_or(LendingError::MathOverflow)?;
    market.total_debt = market.total_debt.saturating_sub(paid);
    let obligation = &mut ctx.accounts.obligation;
    obligation.debt -= paid;
    let event = ObligationChanged {
        obligation: obligation.key(),
        action: "repay".into(),
        collateral: Pubkey::default(),
        amount: paid,
        debt: obligation.debt,
    };
    emit_cpi!(event);
    Ok(())
}
