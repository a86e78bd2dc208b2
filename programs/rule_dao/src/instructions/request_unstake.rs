use anchor_lang::prelude::*;

use crate::errors::DaoError;
use crate::events::StakeChanged;
use crate::instructions::staking::Staking;

/// Starts the cooldown for `amount`: it stops counting for votes now and is withdrawable after
/// the cooldown. Refused while the position's votes on open proposals lock it.
pub fn validate_request_unstake(ctx: &Context<Staking>, amount: u64, slot: u64) -> Result<()> {
    require!(amount > 0, DaoError::ZeroAmount);
    let position = &ctx.accounts.position;
    require_keys_eq!(
        position.owner,
        ctx.accounts.owner.key(),
        DaoError::NotPositionOwner
    );
    require_gt!(
        slot,
        position.votes_locked_until_slot,
        DaoError::VotesLocked
    );
    require_gte!(position.amount, amount, DaoError::InsufficientStake);
    Ok(())
}

pub fn handle_request_unstake(ctx: Context<Staking>, amount: u64) -> Result<()> {
    let slot = Clock::get()?.slot;
    validate_request_unstake(&ctx, amount, slot)?;
    let cooldown = ctx.accounts.dao.config.unstake_cooldown_slots;
    let position = &mut ctx.accounts.position;
    position.amount -= amount;
    position.unstaking_amount = position
        .unstaking_amount
        .checked_add(amount)
        .ok_or(DaoError::MathOverflow)?;
    position.unstake_ready_slot = slot.saturating_add(cooldown);
    let dao = &mut ctx.accounts.dao;
    dao.total_staked = dao.total_staked.saturating_sub(amount);
    let event = StakeChanged {
        dao: dao.key(),
        owner: position.owner,
        action: "unstake_requested".into(),
        amount,
        position_amount: position.amount,
        unstaking_amount: position.unstaking_amount,
        total_staked: dao.total_staked,
        slot,
    };
    emit_cpi!(event);
    Ok(())
}
