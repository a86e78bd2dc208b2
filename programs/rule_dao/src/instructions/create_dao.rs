use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};
use rwa_rules::RuleValues;

use crate::constants::*;
use crate::events::DaoCreated;
use crate::state::{validate_rules, Dao, DaoConfig, RuleSet};

/// Creates a rule domain: the DAO, its authority PDA, the stake vault and the initial RuleSet.
#[event_cpi]
#[derive(Accounts)]
#[instruction(id: u64)]
pub struct CreateDao<'info> {
    #[account(mut)]
    pub creator: Signer<'info>,
    pub stake_mint: Box<Account<'info, Mint>>,
    #[account(init, payer = creator, space = 8 + Dao::INIT_SPACE, seeds = [DAO_SEED, stake_mint.key().as_ref(), &id.to_le_bytes()], bump)]
    pub dao: Box<Account<'info, Dao>>,
    /// CHECK: PDA that signs for the DAO (vault owner, market authority); holds no data.
    #[account(seeds = [AUTHORITY_SEED, dao.key().as_ref()], bump)]
    pub authority: UncheckedAccount<'info>,
    #[account(init, payer = creator, seeds = [STAKE_VAULT_SEED, dao.key().as_ref()], bump, token::mint = stake_mint, token::authority = authority)]
    pub stake_vault: Box<Account<'info, TokenAccount>>,
    #[account(init, payer = creator, space = 8 + RuleSet::INIT_SPACE, seeds = [RULE_SET_SEED, dao.key().as_ref()], bump)]
    pub rule_set: Box<Account<'info, RuleSet>>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

impl CreateDao<'_> {
    pub fn validate(&self, config: &DaoConfig, rules: &RuleValues) -> Result<()> {
        config.validate()?;
        validate_rules(rules)
    }
}

pub fn handle_create_dao(
    ctx: Context<CreateDao>,
    id: u64,
    config: DaoConfig,
    rules: RuleValues,
    veto_authority: Pubkey,
) -> Result<()> {
    ctx.accounts.validate(&config, &rules)?;
    let slot = Clock::get()?.slot;
    let dao_key = ctx.accounts.dao.key();
    ctx.accounts.rule_set.set_inner(RuleSet {
        dao: dao_key,
        version: 1,
        updated_slot: slot,
        bump: ctx.bumps.rule_set,
        rules,
    });
    ctx.accounts.dao.set_inner(Dao {
        bump: ctx.bumps.dao,
        authority_bump: ctx.bumps.authority,
        stake_vault_bump: ctx.bumps.stake_vault,
        rule_set_bump: ctx.bumps.rule_set,
        id,
        creator: ctx.accounts.creator.key(),
        stake_mint: ctx.accounts.stake_mint.key(),
        stake_vault: ctx.accounts.stake_vault.key(),
        rule_set: ctx.accounts.rule_set.key(),
        veto_authority,
        config,
        config_version: 1,
        total_staked: 0,
        proposal_count: 0,
        reserved: [0; 8],
    });
    emit_cpi!(DaoCreated {
        dao: dao_key,
        stake_mint: ctx.accounts.stake_mint.key(),
        rule_set: ctx.accounts.rule_set.key(),
        authority: ctx.accounts.authority.key(),
        veto_authority,
        config,
        rules,
    });
    Ok(())
}
