//! `deposit_collateral` and `withdraw_collateral`: RWA tokens in and out of an obligation.

use anchor_lang::prelude::*;
use anchor_spl::token::{self, Token, TokenAccount, Transfer};

use crate::errors::LendingError;
use crate::events::ObligationChanged;
use crate::instructions::common::{
    load_configs, recompute, require_borrowable, require_refreshed, with_market_signer,
};
use crate::state::{CollateralConfig, LendingMarket, Obligation, ObligationCollateral, RiskMatrix};

#[event_cpi]
#[derive(Accounts)]
pub struct CollateralMove<'info> {
    pub owner: Signer<'info>,
    #[account(mut)]
    pub lending_market: Box<Account<'info, LendingMarket>>,
    #[account(mut, has_one = lending_market, has_one = owner @ LendingError::Unauthorized)]
    pub obligation: Box<Account<'info, Obligation>>,
    #[account(mut, has_one = lending_market @ LendingError::InvalidCollateralConfig, has_one = vault @ LendingError::InvalidCollateralConfig)]
    pub collateral: Box<Account<'info, CollateralConfig>>,
    #[account(mut)]
    pub vault: Box<Account<'info, TokenAccount>>,
    #[account(mut, token::mint = collateral.rwa_mint, token::authority = owner)]
    pub owner_rwa_account: Box<Account<'info, TokenAccount>>,
    #[account(address = lending_market.risk)]
    pub risk: Box<Account<'info, RiskMatrix>>,
    /// CHECK: the instructions sysvar (address checked), read for the refresh requirement.
    #[account(address = solana_instructions_sysvar::ID)]
    pub instructions: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
}

/// Adds collateral; needs no refresh (more collateral never hurts), but limits only count it
/// after the next refresh.
pub fn handle_deposit_collateral(ctx: Context<CollateralMove>, amount: u64) -> Result<()> {
    require!(amount > 0, LendingError::ZeroAmount);
    let accounts = &ctx.accounts;
    token::transfer(
        CpiContext::new(
            accounts.token_program.key(),
            Transfer {
                from: accounts.owner_rwa_account.to_account_info(),
                to: accounts.vault.to_account_info(),
                authority: accounts.owner.to_account_info(),
            },
        ),
        amount,
    )?;
    let config_key = ctx.accounts.collateral.key();
    let obligation = &mut ctx.accounts.obligation;
    let slot = match obligation
        .collaterals
        .iter()
        .position(|c| c.config == config_key)
    {
        Some(index) => index,
        None => obligation
            .collaterals
            .iter()
            .position(|c| c.amount == 0)
            .ok_or(LendingError::TooManyCollaterals)?,
    };
    let entry = &mut obligation.collaterals[slot];
    *entry = ObligationCollateral {
        config: config_key,
        amount: entry
            .amount
            .checked_add(amount)
            .ok_or(LendingError::MathOverflow)?,
    };
    let collateral = &mut ctx.accounts.collateral;
    collateral.total_collateral = collateral
        .total_collateral
        .checked_add(amount)
        .ok_or(LendingError::MathOverflow)?;
    let event = ObligationChanged {
        obligation: obligation.key(),
        action: "deposit_collateral".into(),
        collateral: config_key,
        amount,
        debt: obligation.debt,
    };
    emit_cpi!(event);
    Ok(())
}

/// Removes collateral; requires a refresh right before, and an indebted obligation must stay
/// within its borrow limit and the portfolio volatility cap afterwards.
pub fn handle_withdraw_collateral<'info>(
    ctx: Context<'info, CollateralMove<'info>>,
    amount: u64,
) -> Result<()> {
    require!(amount > 0, LendingError::ZeroAmount);
    ctx.accounts.lending_market.require_active()?;
    let slot = Clock::get()?.slot;
    let obligation_key = ctx.accounts.obligation.key();
    require_refreshed(
        &ctx.accounts.obligation,
        &obligation_key,
        &ctx.accounts.instructions,
        slot,
    )?;
    let config_key = ctx.accounts.collateral.key();
    let market_key = ctx.accounts.lending_market.key();
    let (configs, keys) = load_configs(&market_key, ctx.remaining_accounts)?;
    {
        let obligation = &mut ctx.accounts.obligation;
        let index = obligation
            .position_of(&config_key)
            .ok_or(LendingError::CollateralNotFound)?;
        let entry = &mut obligation.collaterals[index];
        entry.amount = entry
            .amount
            .checked_sub(amount)
            .ok_or(LendingError::InsufficientCollateral)?;
        let refs: Vec<&CollateralConfig> = configs.iter().map(|c| &**c).collect();
        recompute(
            obligation,
            &refs,
            &keys,
            &ctx.accounts.risk,
            ctx.accounts.lending_market.quote_decimals,
            slot,
            true,
        )?;
        if obligation.debt > 0 {
            require_borrowable(obligation, &refs, &keys, slot)?;
            require_gte!(
                obligation.borrow_limit,
                obligation.debt,
                LendingError::BorrowLimitExceeded
            );
            let cap = ctx.accounts.lending_market.sigma_p_cap;
            require!(
                cap == 0 || obligation.sigma_p <= cap,
                LendingError::PortfolioVolatilityTooHigh
            );
        }
    }
    let market = &ctx.accounts.lending_market;
    with_market_signer(market, |signer| {
        token::transfer(
            CpiContext::new_with_signer(
                ctx.accounts.token_program.key(),
                Transfer {
                    from: ctx.accounts.vault.to_account_info(),
                    to: ctx.accounts.owner_rwa_account.to_account_info(),
                    authority: market.to_account_info(),
                },
                signer,
            ),
            amount,
        )
    })?;
    ctx.accounts.collateral.total_collateral -= amount;
    let event = ObligationChanged {
        obligation: obligation_key,
        action: "withdraw_collateral".into(),
        collateral: config_key,
        amount,
        debt: ctx.accounts.obligation.debt,
    };
    emit_cpi!(event);
    Ok(())
}
