use anchor_lang::prelude::*;
use anchor_spl::token::{self, Transfer};

use crate::constants::AUTHORITY_SEED;
use crate::errors::DaoError;
use crate::events::StakeChanged;
use crate::instructions::staking::Staking;

/// Returns stake whose cooldown has elapsed.
pub fn validate_withdraw_unstaked(ctx: &Context<Staking>, slot: u64) -> Result<()> {
    let position = &ctx.accounts.position;
    require_keys_eq!(
        position.owner,
        ctx.accounts.owner.key(),
        DaoError::NotPositionOwner
    );
    require!(position.unstaking_amount > 0, DaoError::ZeroAmount);
    require_gte!(
        slot,
        position.unstake_ready_slot,
        DaoError::CooldownNotElapsed
    );
    Ok(())
}

pub fn handle_withdraw_unstaked(ctx: Context<Staking>) -> Result<()> {
    let slot = Clock::get()?.slot;
    validate_withdraw_unstaked(&ctx, slot)?;
    let amount = ctx.accounts.position.unstaking_amount;
    let dao_key = ctx.accounts.dao.key();
    let seeds: &[&[u8]] = &[
        AUTHORITY_SEED,
        dao_key.as_ref(),
        &[ctx.accounts.dao.authority_bump],
    ];
    let accounts = Transfer {
        from: ctx.accounts.stake_vault.to_account_info(),
        to: ctx.accounts.owner_token_account.to_account_info(),
        authority: ctx.accounts.authority.to_account_info(),
    };
    token::transfer(
        CpiContext::new_with_signer(ctx.accounts.token_program.key(), accounts, &[seeds]),
        amount,
    )?;
    let position = &mut ctx.accounts.position;
    position.unstaking_amount = 0;
    let event = StakeChanged {
        dao: dao_key,
        owner: position.owner,
        action: "withdrawn".into(),
        amount,
        position_amount: position.amount,
        unstaking_amount: 0,
        total_staked: ctx.accounts.dao.total_staked,
        slot,
    };
    emit_cpi!(event);
    Ok(())
}
