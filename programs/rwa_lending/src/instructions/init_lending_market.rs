use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::constants::*;
use crate::errors::LendingError;
use crate::events::LendingMarketCreated;
use crate::state::{LendingMarket, RiskMatrix};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct LendingMarketParams {
    pub reserve_factor_bps: u16,
    /// Annualised portfolio volatility cap for indebted obligations (18-digit fixed point).
    pub sigma_p_cap: u128,
    pub slots_per_year: u64,
    pub risk_authority: Pubkey,
}

impl LendingMarketParams {
    /// Bounds checked wherever the parameters are set (creation and updates).
    pub fn validate(&self) -> Result<()> {
        require!(
            self.reserve_factor_bps <= MAX_RESERVE_FACTOR_BPS
                && (MIN_SLOTS_PER_YEAR..=MAX_SLOTS_PER_YEAR).contains(&self.slots_per_year)
                && self.sigma_p_cap <= MAX_SIGMA_CAP,
            LendingError::InvalidParams
        );
        Ok(())
    }
}

/// Creates a lending market: its quote reserve (liquidity vault, share mint) and risk matrix.
#[event_cpi]
#[derive(Accounts)]
#[instruction(id: u64)]
pub struct InitLendingMarket<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    pub quote_mint: Box<Account<'info, Mint>>,
    #[account(init, payer = admin, space = 8 + LendingMarket::INIT_SPACE, seeds = [LENDING_MARKET_SEED, quote_mint.key().as_ref(), &id.to_le_bytes()], bump)]
    pub lending_market: Box<Account<'info, LendingMarket>>,
    #[account(init, payer = admin, seeds = [LIQUIDITY_VAULT_SEED, lending_market.key().as_ref()], bump, token::mint = quote_mint, token::authority = lending_market)]
    pub liquidity_vault: Box<Account<'info, TokenAccount>>,
    #[account(init, payer = admin, seeds = [SHARE_MINT_SEED, lending_market.key().as_ref()], bump, mint::decimals = quote_mint.decimals, mint::authority = lending_market)]
    pub share_mint: Box<Account<'info, Mint>>,
    #[account(init, payer = admin, space = 8 + RiskMatrix::INIT_SPACE, seeds = [RISK_SEED, lending_market.key().as_ref()], bump)]
    pub risk: Box<Account<'info, RiskMatrix>>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

impl InitLendingMarket<'_> {
    pub fn validate(&self, params: &LendingMarketParams) -> Result<()> {
        params.validate()?;
        require!(self.quote_mint.decimals <= 9, LendingError::InvalidParams);
        Ok(())
    }
}

pub fn handle_init_lending_market(
    ctx: Context<InitLendingMarket>,
    id: u64,
    params: LendingMarketParams,
) -> Result<()> {
    ctx.accounts.validate(&params)?;
    let key = ctx.accounts.lending_market.key();
    let mut identity = [[0i16; MAX_COLLATERALS]; MAX_COLLATERALS];
    for (i, row) in identity.iter_mut().enumerate() {
        row[i] = 10_000;
    }
    ctx.accounts.risk.set_inner(RiskMatrix {
        lending_market: key,
        correlations_bps: identity,
        updated_slot: Clock::get()?.slot,
        updated_by: ctx.accounts.admin.key(),
    });
    ctx.accounts.lending_market.set_inner(LendingMarket {
        bump: ctx.bumps.lending_market,
        vault_bump: ctx.bumps.liquidity_vault,
        share_mint_bump: ctx.bumps.share_mint,
        risk_bump: ctx.bumps.risk,
        id,
        admin: ctx.accounts.admin.key(),
        quote_mint: ctx.accounts.quote_mint.key(),
        quote_decimals: ctx.accounts.quote_mint.decimals,
        liquidity_vault: ctx.accounts.liquidity_vault.key(),
        share_mint: ctx.accounts.share_mint.key(),
        risk: ctx.accounts.risk.key(),
        risk_authority: params.risk_authority,
        rule_set: Pubkey::default(),
        reserve_factor_bps: params.reserve_factor_bps,
        sigma_p_cap: params.sigma_p_cap,
        slots_per_year: params.slots_per_year,
        available: 0,
        total_debt: 0,
        total_shares: 0,
        protocol_fees: 0,
        bad_debt: 0,
        collateral_count: 0,
        paused: false,
        governance_authority: Pubkey::default(),
        reserved: [0; 4],
    });
    emit_cpi!(LendingMarketCreated {
        lending_market: key,
        quote_mint: ctx.accounts.quote_mint.key(),
        admin: ctx.accounts.admin.key()
    });
    Ok(())
}
