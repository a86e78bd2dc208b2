use anchor_lang::prelude::*;

use crate::errors::LendingError;
use crate::events::ObligationRefreshed;
use crate::instructions::common::{accrue_interest, load_configs, recompute};
use crate::state::{LendingMarket, Obligation, RiskMatrix};

/// Accrues interest at the obligation's rate, then recomputes its limits, rate and portfolio
/// volatility from its collateral configs (remaining accounts, each refreshed in this slot).
/// Borrow, collateral withdrawal and liquidation require this as the instruction right before.
#[event_cpi]
#[derive(Accounts)]
pub struct RefreshObligation<'info> {
    #[account(mut)]
    pub lending_market: Box<Account<'info, LendingMarket>>,
    #[account(mut, has_one = lending_market)]
    pub obligation: Box<Account<'info, Obligation>>,
    #[account(has_one = lending_market, address = lending_market.risk)]
    pub risk: Box<Account<'info, RiskMatrix>>,
}

pub fn handle_refresh_obligation<'info>(
    ctx: Context<'info, RefreshObligation<'info>>,
) -> Result<()> {
    let slot = Clock::get()?.slot;
    let market_key = ctx.accounts.lending_market.key();
    let (configs, keys) = load_configs(&market_key, ctx.remaining_accounts)?;
    let event = {
        let accounts = &mut *ctx.accounts;
        let interest =
            accrue_interest(&mut accounts.obligation, &mut accounts.lending_market, slot)?;
        let refs: Vec<&crate::state::CollateralConfig> = configs.iter().map(|c| &**c).collect();
        recompute(
            &mut accounts.obligation,
            &refs,
            &keys,
            &accounts.risk,
            accounts.lending_market.quote_decimals,
            slot,
            true,
        )?;
        require!(
            accounts.obligation.active().count() <= keys.len(),
            LendingError::RefreshRequired
        );
        let obligation = &mut accounts.obligation;
        obligation.last_refresh_slot = slot;
        ObligationRefreshed {
            obligation: obligation.key(),
            debt: obligation.debt,
            interest_accrued: interest,
            borrow_limit: obligation.borrow_limit,
            liquidation_limit: obligation.liquidation_limit,
            rate: obligation.rate,
            sigma_p: obligation.sigma_p,
            slot,
        }
    };
    emit_cpi!(event);
    Ok(())
}
