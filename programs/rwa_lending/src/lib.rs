//! rwa_lending: quote-token lending against RWA collateral with risk-driven terms.
//!
//! Rates and collateral ratios follow each asset's volatility (r = r0 + beta * sigma,
//! CR = CRmin + gamma * sigma, sigma from the rwa_market oracle, optionally cross-checked with
//! Pyth); an obligation's portfolio volatility sqrt(w' Sigma w) is capped; health uses
//! confidence-biased low prices; liquidation is permissionless with close factor and bonus;
//! bad debt is recorded, never hidden. Borrow, withdraw and liquidate require the collateral and
//! the obligation to be refreshed immediately before, in the same transaction.

use anchor_lang::prelude::*;

pub mod constants;
pub mod errors;
pub mod events;
pub mod instructions;
pub mod state;

use constants::MAX_COLLATERALS;
use instructions::*;
use state::CollateralParams;

declare_id!("6WJcQZKjgsFNc5ztQ4znEdc2Jx4uhHBmgj78eKuhFjaY");

#[program]
pub mod rwa_lending {
    use super::*;

    pub fn init_lending_market(
        ctx: Context<InitLendingMarket>,
        id: u64,
        params: LendingMarketParams,
    ) -> Result<()> {
        instructions::init_lending_market::handle_init_lending_market(ctx, id, params)
    }

    pub fn add_collateral(ctx: Context<AddCollateral>, params: CollateralParams) -> Result<()> {
        instructions::add_collateral::handle_add_collateral(ctx, params)
    }

    pub fn update_correlations(
        ctx: Context<UpdateCorrelations>,
        correlations_bps: [[i16; MAX_COLLATERALS]; MAX_COLLATERALS],
    ) -> Result<()> {
        instructions::admin::handle_update_correlations(ctx, correlations_bps)
    }

    pub fn attach_rule_set(ctx: Context<AttachLendingRuleSet>) -> Result<()> {
        instructions::admin::handle_attach_rule_set(ctx)
    }

    pub fn update_lending_params(
        ctx: Context<UpdateLendingParams>,
        params: LendingMarketParams,
    ) -> Result<()> {
        instructions::admin::handle_update_lending_params(ctx, params)
    }

    pub fn set_lending_pause(ctx: Context<SetLendingPause>, paused: bool) -> Result<()> {
        instructions::admin::handle_set_lending_pause(ctx, paused)
    }

    pub fn claim_protocol_fees(ctx: Context<ClaimProtocolFees>, amount: u64) -> Result<()> {
        instructions::admin::handle_claim_protocol_fees(ctx, amount)
    }

    pub fn deposit_liquidity(ctx: Context<Liquidity>, amount: u64) -> Result<()> {
        instructions::liquidity::handle_deposit_liquidity(ctx, amount)
    }

    pub fn withdraw_liquidity(ctx: Context<Liquidity>, shares: u64) -> Result<()> {
        instructions::liquidity::handle_withdraw_liquidity(ctx, shares)
    }

    pub fn refresh_collateral(ctx: Context<RefreshCollateral>) -> Result<()> {
        instructions::refresh_collateral::handle_refresh_collateral(ctx)
    }

    pub fn init_obligation(ctx: Context<InitObligation>) -> Result<()> {
        instructions::init_obligation::handle_init_obligation(ctx)
    }

    pub fn refresh_obligation<'info>(ctx: Context<'info, RefreshObligation<'info>>) -> Result<()> {
        instructions::refresh_obligation::handle_refresh_obligation(ctx)
    }

    pub fn deposit_collateral(ctx: Context<CollateralMove>, amount: u64) -> Result<()> {
        instructions::collateral_move::handle_deposit_collateral(ctx, amount)
    }

    pub fn withdraw_collateral<'info>(
        ctx: Context<'info, CollateralMove<'info>>,
        amount: u64,
    ) -> Result<()> {
        instructions::collateral_move::handle_withdraw_collateral(ctx, amount)
    }

    pub fn borrow<'info>(ctx: Context<'info, Borrow<'info>>, amount: u64) -> Result<()> {
        instructions::borrow::handle_borrow(ctx, amount)
    }

    pub fn repay(ctx: Context<Repay>, amount: u64) -> Result<()> {
        instructions::repay::handle_repay(ctx, amount)
    }

    pub fn liquidate<'info>(
        ctx: Context<'info, Liquidate<'info>>,
        repay_amount: u64,
        min_collateral_out: u64,
    ) -> Result<()> {
        instructions::liquidate::handle_liquidate(ctx, repay_amount, min_collateral_out)
    }
}
