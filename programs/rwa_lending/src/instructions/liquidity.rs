//! Depositor side: `deposit_liquidity` (quote in, shares minted, rounded down) and
//! `withdraw_liquidity` (shares burned, quote out, rounded down).

use anchor_lang::prelude::*;
use anchor_spl::token::{self, Burn, Mint, MintTo, Token, TokenAccount, Transfer};
use rwa_math::lending::{amount_for_shares, shares_for_deposit};

use crate::errors::{LendingError, MathResultExt};
use crate::events::LiquidityChanged;
use crate::instructions::common::with_market_signer;
use crate::state::LendingMarket;

#[event_cpi]
#[derive(Accounts)]
pub struct Liquidity<'info> {
    pub owner: Signer<'info>,
    #[account(mut, has_one = liquidity_vault, has_one = share_mint)]
    pub lending_market: Box<Account<'info, LendingMarket>>,
    #[account(mut)]
    pub liquidity_vault: Box<Account<'info, TokenAccount>>,
    #[account(mut)]
    pub share_mint: Box<Account<'info, Mint>>,
    #[account(mut, token::mint = lending_market.quote_mint, token::authority = owner)]
    pub owner_quote_account: Box<Account<'info, TokenAccount>>,
    #[account(mut, token::mint = share_mint, token::authority = owner)]
    pub owner_share_account: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

pub fn handle_deposit_liquidity(ctx: Context<Liquidity>, amount: u64) -> Result<()> {
    require!(amount > 0, LendingError::ZeroAmount);
    ctx.accounts.lending_market.require_active()?;
    let market = &ctx.accounts.lending_market;
    let shares =
        shares_for_deposit(amount, market.total_shares, market.total_value()?).or_lending_err()?;
    require!(shares > 0, LendingError::ZeroAmount);
    let accounts = &ctx.accounts;
    token::transfer(
        CpiContext::new(
            accounts.token_program.key(),
            Transfer {
                from: accounts.owner_quote_account.to_account_info(),
                to: accounts.liquidity_vault.to_account_info(),
                authority: accounts.owner.to_account_info(),
            },
        ),
        amount,
    )?;
    with_market_signer(market, |signer| {
        token::mint_to(
            CpiContext::new_with_signer(
                accounts.token_program.key(),
                MintTo {
                    mint: accounts.share_mint.to_account_info(),
                    to: accounts.owner_share_account.to_account_info(),
                    authority: market.to_account_info(),
                },
                signer,
            ),
            shares,
        )
    })?;
    let market = &mut ctx.accounts.lending_market;
    market.available = market
        .available
        .checked_add(amount)
        .ok_or(LendingError::MathOverflow)?;
    market.total_shares = market
        .total_shares
        .checked_add(shares)
        .ok_or(LendingError::MathOverflow)?;
    let event = LiquidityChanged {
        lending_market: market.key(),
        owner: ctx.accounts.owner.key(),
        deposit: true,
        amount,
        shares,
        total_shares: market.total_shares,
        total_value: market.total_value()?,
    };
    emit_cpi!(event);
    Ok(())
}

pub fn handle_withdraw_liquidity(ctx: Context<Liquidity>, shares: u64) -> Result<()> {
    require!(shares > 0, LendingError::ZeroAmount);
    let market = &ctx.accounts.lending_market;
    let amount =
        amount_for_shares(shares, market.total_shares, market.total_value()?).or_lending_err()?;
    require!(amount > 0, LendingError::ZeroAmount);
    // Liquidity not lent out and not owed to the protocol.
    let lendable = market.available.saturating_sub(market.protocol_fees);
    require_gte!(lendable, amount, LendingError::InsufficientLiquidity);
    let accounts = &ctx.accounts;
    token::burn(
        CpiContext::new(
            accounts.token_program.key(),
            Burn {
                mint: accounts.share_mint.to_account_info(),
                from: accounts.owner_share_account.to_account_info(),
                authority: accounts.owner.to_account_info(),
            },
        ),
        shares,
    )?;
    with_market_signer(market, |signer| {
        token::transfer(
            CpiContext::new_with_signer(
                accounts.token_program.key(),
                Transfer {
                    from: accounts.liquidity_vault.to_account_info(),
                    to: accounts.owner_quote_account.to_account_info(),
                    authority: market.to_account_info(),
                },
                signer,
            ),
            amount,
        )
    })?;
    let market = &mut ctx.accounts.lending_market;
    market.available -= amount;
    market.total_shares -= shares;
    let event = LiquidityChanged {
        lending_market: market.key(),
        owner: ctx.accounts.owner.key(),
        deposit: false,
        amount,
        shares,
        total_shares: market.total_shares,
        total_value: market.total_value()?,
    };
    emit_cpi!(event);
    Ok(())
}
