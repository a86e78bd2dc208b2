use anchor_lang::prelude::*;

use crate::constants::*;
use crate::state::{LendingMarket, Obligation, ObligationCollateral};

/// Opens the caller's obligation in a lending market.
#[derive(Accounts)]
pub struct InitObligation<'info> {
    #[account(mut)]
    pub owner: Signer<'info>,
    pub lending_market: Box<Account<'info, LendingMarket>>,
    #[account(init, payer = owner, space = 8 + Obligation::INIT_SPACE, seeds = [OBLIGATION_SEED, lending_market.key().as_ref(), owner.key().as_ref()], bump)]
    pub obligation: Box<Account<'info, Obligation>>,
    pub system_program: Program<'info, System>,
}

pub fn handle_init_obligation(ctx: Context<InitObligation>) -> Result<()> {
    let slot = Clock::get()?.slot;
    ctx.accounts.obligation.set_inner(Obligation {
        bump: ctx.bumps.obligation,
        lending_market: ctx.accounts.lending_market.key(),
        owner: ctx.accounts.owner.key(),
        collaterals: [ObligationCollateral::default(); MAX_OBLIGATION_COLLATERALS],
        debt: 0,
        rate: 0,
        last_accrual_slot: slot,
        last_refresh_slot: 0,
        borrow_limit: 0,
        liquidation_limit: 0,
        collateral_value: 0,
        sigma_p: 0,
    });
    Ok(())
}
