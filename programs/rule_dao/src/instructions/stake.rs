use anchor_lang::prelude::*;
use anchor_spl::token::{self, Transfer};

use crate::errors::DaoError;
use crate::events::StakeChanged;
use crate::instructions::staking::Staking;

/// Locks stake-mint tokens in the DAO vault. The position's snapshot slot moves to now, so this
/// stake votes only on proposals created in later slots.
pub fn handle_stake(ctx: Context<Staking>, amount: u64) -> Result<()> {
    require!(amount > 0, DaoError::ZeroAmount);
    ctx.accounts.bind_position(ctx.bumps.position)?;
    let accounts = Transfer {
        from: ctx.accounts.owner_token_account.to_account_info(),
        to: ctx.accounts.stake_vault.to_account_info(),
        authority: ctx.accounts.owner.to_account_info(),
    };
    token::transfer(
        CpiContext::new(ctx.accounts.token_program.key(), accounts),
        amount,
    )?;
    let slot = Clock::get()?.slot;
    let position = &mut ctx.accounts.position;
    position.amount = position
        .amount
        .checked_add(amount)
        .ok_or(DaoError::MathOverflow)?;
    position.last_increase_slot = slot;
    let dao = &mut ctx.accounts.dao;
    dao.total_staked = dao
        .total_staked
        .checked_add(amount)
        .ok_or(DaoError::MathOverflow)?;
    let event = StakeChanged {
        dao: dao.key(),
        owner: position.owner,
        action: "stake".into(),
        amount,
        position_amount: position.amount,
        unstaking_amount: position.unstaking_amount,
        total_staked: dao.total_staked,
        slot,
    };
    emit_cpi!(event);
    Ok(())
}
