//! Accounts shared by `stake`, `request_unstake` and `withdraw_unstaked`.

use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

use crate::constants::*;
use crate::errors::DaoError;
use crate::state::{Dao, StakePosition};

#[event_cpi]
#[derive(Accounts)]
pub struct Staking<'info> {
    #[account(mut)]
    pub owner: Signer<'info>,
    #[account(mut, seeds = [DAO_SEED, dao.stake_mint.as_ref(), &dao.id.to_le_bytes()], bump = dao.bump, has_one = stake_vault)]
    pub dao: Box<Account<'info, Dao>>,
    #[account(
        init_if_needed,
        payer = owner,
        space = 8 + StakePosition::INIT_SPACE,
        seeds = [POSITION_SEED, dao.key().as_ref(), owner.key().as_ref()],
        bump,
    )]
    pub position: Box<Account<'info, StakePosition>>,
    /// CHECK: the DAO's authority PDA (signs vault withdrawals).
    #[account(seeds = [AUTHORITY_SEED, dao.key().as_ref()], bump = dao.authority_bump)]
    pub authority: UncheckedAccount<'info>,
    #[account(mut)]
    pub stake_vault: Box<Account<'info, TokenAccount>>,
    #[account(mut, token::mint = dao.stake_mint, token::authority = owner)]
    pub owner_token_account: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

impl Staking<'_> {
    /// A fresh position (created by `init_if_needed`) gets its identity here.
    pub fn bind_position(&mut self, bump: u8) -> Result<()> {
        let position = &mut self.position;
        if position.owner == Pubkey::default() {
            position.bump = bump;
            position.dao = self.dao.key();
            position.owner = self.owner.key();
        }
        require_keys_eq!(position.owner, self.owner.key(), DaoError::NotPositionOwner);
        Ok(())
    }
}
