use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};
use rwa_market::state::{Market, PriceOracle};

use crate::constants::*;
use crate::errors::LendingError;
use crate::events::CollateralConfigured;
use crate::state::{CollateralConfig, CollateralParams, LendingMarket};

/// Accepts an rwa_market market's token as collateral, linked to that market's oracle (owner and
/// discriminator checked through the rwa_market types).
#[event_cpi]
#[derive(Accounts)]
pub struct AddCollateral<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(mut, has_one = admin @ LendingError::Unauthorized)]
    pub lending_market: Box<Account<'info, LendingMarket>>,
    #[account(has_one = oracle @ LendingError::InvalidOracle, has_one = rwa_mint @ LendingError::InvalidMint)]
    pub rwa_market: Box<Account<'info, Market>>,
    pub oracle: AccountLoader<'info, PriceOracle>,
    pub rwa_mint: Box<Account<'info, Mint>>,
    #[account(init, payer = admin, space = 8 + CollateralConfig::INIT_SPACE, seeds = [COLLATERAL_SEED, lending_market.key().as_ref(), rwa_market.key().as_ref()], bump)]
    pub collateral: Box<Account<'info, CollateralConfig>>,
    #[account(init, payer = admin, seeds = [COLLATERAL_VAULT_SEED, collateral.key().as_ref()], bump, token::mint = rwa_mint, token::authority = lending_market)]
    pub vault: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

impl AddCollateral<'_> {
    pub fn validate(&self, params: &CollateralParams) -> Result<()> {
        params.validate()?;
        // After attaching a rule DAO the admin no longer changes what backs depositors' money.
        require!(
            !self.lending_market.is_governed(),
            LendingError::GovernedByDao
        );
        require!(
            (self.lending_market.collateral_count as usize) < MAX_COLLATERALS,
            LendingError::CollateralListFull
        );
        Ok(())
    }
}

pub fn handle_add_collateral(ctx: Context<AddCollateral>, params: CollateralParams) -> Result<()> {
    ctx.accounts.validate(&params)?;
    let market = &mut ctx.accounts.lending_market;
    let index = market.collateral_count;
    market.collateral_count += 1;
    let key = ctx.accounts.collateral.key();
    ctx.accounts.collateral.set_inner(CollateralConfig {
        bump: ctx.bumps.collateral,
        vault_bump: ctx.bumps.vault,
        index,
        lending_market: market.key(),
        rwa_market: ctx.accounts.rwa_market.key(),
        rwa_mint: ctx.accounts.rwa_mint.key(),
        rwa_decimals: ctx.accounts.rwa_mint.decimals,
        oracle: ctx.accounts.oracle.key(),
        vault: ctx.accounts.vault.key(),
        params,
        total_collateral: 0,
        price: 0,
        price_low: 0,
        sigma_slot: 0,
        sigma: 0,
        rate: 0,
        cr_bps: params.cr_min_bps as u64,
        last_refresh_slot: 0,
        price_liquidation: 0,
        confidence_bps: 0,
        oracle_slot: 0,
        nav_present: false,
        nav_price: 0,
        nav_slot: 0,
        nav_fresh_until_slot: 0,
        nav_confidence_bps: 0,
    });
    emit_cpi!(CollateralConfigured {
        lending_market: market.key(),
        collateral: key,
        rwa_market: ctx.accounts.rwa_market.key(),
        index
    });
    Ok(())
}
