use anchor_lang::prelude::*;
use anchor_spl::token::{self, Token, TokenAccount, Transfer};
use rwa_math::lending::{collateral_for_value, collateral_value};
use rwa_math::wide::mul_div;
use rwa_math::{Decimal, Rounding};

use crate::errors::{LendingError, MathResultExt};
use crate::events::{BadDebtRecorded, Liquidated};
use crate::instructions::common::{load_configs, recompute, require_refreshed, with_market_signer};
use crate::state::{CollateralConfig, LendingMarket, Obligation, RiskMatrix};

/// Permissionless when the obligation's debt exceeds its liquidation limit (collateral at low
/// prices / liquidation CR): the liquidator repays up to the close factor of the debt and takes
/// collateral worth the repayment plus the bonus (at the mid price), at least `min_collateral_out`.
/// If that exhausts all collateral while debt remains, the rest is written off as bad debt and
/// recorded (the loss falls on depositors' share value, visibly). Requires `refresh_obligation`
/// right before; remaining accounts: the obligation's collateral configs.
#[event_cpi]
#[derive(Accounts)]
pub struct Liquidate<'info> {
    pub liquidator: Signer<'info>,
    #[account(mut, has_one = liquidity_vault)]
    pub lending_market: Box<Account<'info, LendingMarket>>,
    #[account(mut, has_one = lending_market)]
    pub obligation: Box<Account<'info, Obligation>>,
    #[account(mut, has_one = lending_market @ LendingError::InvalidCollateralConfig, has_one = vault @ LendingError::InvalidCollateralConfig)]
    pub collateral: Box<Account<'info, CollateralConfig>>,
    #[account(mut)]
    pub vault: Box<Account<'info, TokenAccount>>,
    #[account(mut)]
    pub liquidity_vault: Box<Account<'info, TokenAccount>>,
    #[account(mut, token::mint = lending_market.quote_mint, token::authority = liquidator)]
    pub liquidator_quote_account: Box<Account<'info, TokenAccount>>,
    #[account(mut, token::mint = collateral.rwa_mint)]
    pub liquidator_rwa_account: Box<Account<'info, TokenAccount>>,
    #[account(address = lending_market.risk)]
    pub risk: Box<Account<'info, RiskMatrix>>,
    /// CHECK: the instructions sysvar (address checked).
    #[account(address = solana_instructions_sysvar::ID)]
    pub instructions: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
}

pub fn handle_liquidate<'info>(
    ctx: Context<'info, Liquidate<'info>>,
    repay_amount: u64,
    min_collateral_out: u64,
) -> Result<()> {
    require!(repay_amount > 0, LendingError::ZeroAmount);
    ctx.accounts.lending_market.require_active()?;
    let slot = Clock::get()?.slot;
    let obligation_key = ctx.accounts.obligation.key();
    require_refreshed(
        &ctx.accounts.obligation,
        &obligation_key,
        &ctx.accounts.instructions,
        slot,
    )?;
    require!(
        ctx.accounts.obligation.is_liquidatable(),
        LendingError::ObligationHealthy
    );
    let config = &ctx.accounts.collateral;
    require_eq!(
        config.last_refresh_slot,
        slot,
        LendingError::RefreshRequired
    );
    let index = ctx
        .accounts
        .obligation
        .position_of(&config.key())
        .ok_or(LendingError::CollateralNotFound)?;
    let held = ctx.accounts.obligation.collaterals[index].amount;
    let debt = ctx.accounts.obligation.debt;
    let quote_decimals = ctx.accounts.lending_market.quote_decimals;
    let params = config.params;
    let price = Decimal::from_raw(config.price);

    let max_repay = mul_div(
        debt as u128,
        params.close_factor_bps as u128,
        10_000,
        Rounding::Up,
    )
    .or_lending_err()? as u64;
    let mut repay = repay_amount.min(max_repay).min(debt);
    let bonus = 10_000 + params.liquidation_bonus_bps as u128;
    let seize_value =
        mul_div(repay as u128, bonus, 10_000, Rounding::Down).or_lending_err()? as u64;
    let mut seize = collateral_for_value(
        seize_value,
        price,
        config.rwa_decimals,
        quote_decimals,
        Rounding::Down,
    )
    .or_lending_err()?;
    if seize > held {
        // Not enough of this collateral: take all of it, for what it is worth without the bonus.
        seize = held;
        let held_value = collateral_value(
            held,
            price,
            config.rwa_decimals,
            quote_decimals,
            Rounding::Down,
        )
        .or_lending_err()?;
        repay = mul_div(held_value as u128, 10_000, bonus, Rounding::Up)
            .or_lending_err()?
            .min(repay as u128) as u64;
    }
    require_gte!(
        seize,
        min_collateral_out.max(1),
        LendingError::LiquidationSlippage
    );

    token::transfer(
        CpiContext::new(
            ctx.accounts.token_program.key(),
            Transfer {
                from: ctx.accounts.liquidator_quote_account.to_account_info(),
                to: ctx.accounts.liquidity_vault.to_account_info(),
                authority: ctx.accounts.liquidator.to_account_info(),
            },
        ),
        repay,
    )?;
    let market = &ctx.accounts.lending_market;
    with_market_signer(market, |signer| {
        token::transfer(
            CpiContext::new_with_signer(
                ctx.accounts.token_program.key(),
                Transfer {
                    from: ctx.accounts.vault.to_account_info(),
                    to: ctx.accounts.liquidator_rwa_account.to_account_info(),
                    authority: market.to_account_info(),
                },
                signer,
            ),
            seize,
        )
    })?;

    let market_key = ctx.accounts.lending_market.key();
    let (configs, keys) = load_configs(&market_key, ctx.remaining_accounts)?;
    let (liquidated, bad_debt) = {
        let accounts = &mut *ctx.accounts;
        accounts.collateral.total_collateral -= seize;
        let market = &mut accounts.lending_market;
        market.available = market
            .available
            .checked_add(repay)
            .ok_or(LendingError::MathOverflow)?;
        market.total_debt = market.total_debt.saturating_sub(repay);
        let obligation = &mut accounts.obligation;
        obligation.debt -= repay;
        obligation.collaterals[index].amount -= seize;
        let mut bad_debt = None;
        if obligation.active().count() == 0 && obligation.debt > 0 {
            let written_off = obligation.debt;
            obligation.debt = 0;
            market.total_debt = market.total_debt.saturating_sub(written_off);
            market.bad_debt = market.bad_debt.saturating_add(written_off);
            bad_debt = Some(BadDebtRecorded {
                obligation: obligation_key,
                amount: written_off,
                total_bad_debt: market.bad_debt,
            });
        }
        let refs: Vec<&CollateralConfig> = configs.iter().map(|c| &**c).collect();
        recompute(
            obligation,
            &refs,
            &keys,
            &accounts.risk,
            market.quote_decimals,
            slot,
            true,
        )?;
        let liquidated = Liquidated {
            obligation: obligation_key,
            liquidator: accounts.liquidator.key(),
            collateral: accounts.collateral.key(),
            repaid: repay,
            collateral_seized: seize,
            debt_after: obligation.debt,
        };
        (liquidated, bad_debt)
    };
    emit_cpi!(liquidated);
    if let Some(bad_debt) = bad_debt {
        emit_cpi!(bad_debt);
    }
    Ok(())
}
