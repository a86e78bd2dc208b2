use anchor_lang::prelude::*;
use anchor_spl::token::{self, Token, TokenAccount, Transfer};

use crate::errors::LendingError;
use crate::events::ObligationChanged;
use crate::instructions::common::{
    config_of, load_configs, require_borrowable, require_refreshed, with_market_signer,
};
use crate::state::{LendingMarket, Obligation};

/// Draws quote tokens against the obligation's collateral. Requires `refresh_obligation` right
/// before; refused above the borrow limit (collateral at low prices / CR), above the portfolio
/// volatility cap, or (under a RuleSet) when any collateral's volatility exceeds the rule's limit.
/// Remaining accounts: the obligation's collateral configs (for the volatility rule).
#[event_cpi]
#[derive(Accounts)]
pub struct Borrow<'info> {
    pub owner: Signer<'info>,
    #[account(mut, has_one = liquidity_vault)]
    pub lending_market: Box<Account<'info, LendingMarket>>,
    #[account(mut, has_one = lending_market, has_one = owner @ LendingError::Unauthorized)]
    pub obligation: Box<Account<'info, Obligation>>,
    #[account(mut)]
    pub liquidity_vault: Box<Account<'info, TokenAccount>>,
    #[account(mut, token::mint = lending_market.quote_mint)]
    pub destination: Box<Account<'info, TokenAccount>>,
    /// CHECK: the instructions sysvar (address checked).
    #[account(address = solana_instructions_sysvar::ID)]
    pub instructions: UncheckedAccount<'info>,
    /// CHECK: verified by `rwa_rules::load_rule_set` when the market has a RuleSet.
    pub rule_set: Option<UncheckedAccount<'info>>,
    pub token_program: Program<'info, Token>,
}

pub fn validate_borrow<'info>(
    ctx: &Context<'info, Borrow<'info>>,
    amount: u64,
    slot: u64,
) -> Result<()> {
    require!(amount > 0, LendingError::ZeroAmount);
    let obligation = &ctx.accounts.obligation;
    let market = &ctx.accounts.lending_market;
    market.require_active()?;
    require_refreshed(
        obligation,
        &obligation.key(),
        &ctx.accounts.instructions,
        slot,
    )?;
    let new_debt = obligation
        .debt
        .checked_add(amount)
        .ok_or(LendingError::MathOverflow)?;
    require_gte!(
        obligation.borrow_limit,
        new_debt,
        LendingError::BorrowLimitExceeded
    );
    require!(
        market.sigma_p_cap == 0 || obligation.sigma_p <= market.sigma_p_cap,
        LendingError::PortfolioVolatilityTooHigh
    );
    require_gte!(
        market.available.saturating_sub(market.protocol_fees),
        amount,
        LendingError::InsufficientLiquidity
    );
    let (configs, keys) = load_configs(&market.key(), ctx.remaining_accounts)?;
    let refs: Vec<&crate::state::CollateralConfig> = configs.iter().map(|c| &**c).collect();
    require_borrowable(obligation, &refs, &keys, slot)?;
    if let Some(rules) = market.rules(
        ctx.accounts
            .rule_set
            .as_ref()
            .map(|account| account.as_ref()),
    )? {
        if rules.volatility_limit > 0 {
            for entry in obligation.active() {
                require!(
                    config_of(&refs, &keys, &entry.config)?.sigma_slot <= rules.volatility_limit,
                    LendingError::VolatilityTooHigh
                );
            }
        }
    }
    Ok(())
}

pub fn handle_borrow<'info>(ctx: Context<'info, Borrow<'info>>, amount: u64) -> Result<()> {
    let slot = Clock::get()?.slot;
    validate_borrow(&ctx, amount, slot)?;
    let market = &ctx.accounts.lending_market;
    with_market_signer(market, |signer| {
        token::transfer(
            CpiContext::new_with_signer(
                ctx.accounts.token_program.key(),
                Transfer {
                    from: ctx.accounts.liquidity_vault.to_account_info(),
                    to: ctx.accounts.destination.to_account_info(),
                    authority: market.to_account_info(),
                },
                signer,
            ),
            amount,
        )
    })?;
    let market = &mut ctx.accounts.lending_market;
    market.available -= amount;
    market.total_debt = market
        .total_debt
        .checked_add(amount)
        .ok_or(LendingError::MathOverflow)?;
    let obligation = &mut ctx.accounts.obligation;
    obligation.debt += amount;
    let event = ObligationChanged {
        obligation: obligation.key(),
        action: "borrow".into(),
        collateral: Pubkey::default(),
        amount,
        debt: obligation.debt,
    };
    emit_cpi!(event);
    Ok(())
}
