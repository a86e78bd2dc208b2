use anchor_lang::prelude::*;

use crate::constants::MARKET_SEED;
use crate::errors::MarketError;
use crate::events::RuleSetAttached;
use crate::state::Market;

/// Hands the market to a rule DAO: the market obeys the DAO's RuleSet from now on, and its
/// authority (parameters, pause, fees) moves to the DAO's authority PDA, so parameter changes
/// happen only by executed proposals. One way: there is no detach.
#[event_cpi]
#[derive(Accounts)]
pub struct AttachRuleSet<'info> {
    pub authority: Signer<'info>,
    #[account(
        mut,
        seeds = [MARKET_SEED, market.rwa_mint.as_ref()],
        bump = market.bump,
        has_one = authority @ MarketError::Unauthorized,
    )]
    pub market: Box<Account<'info, Market>>,
    /// CHECK: owner, discriminator and type verified by `rwa_rules::load_rule_set`.
    pub rule_set: UncheckedAccount<'info>,
}

impl AttachRuleSet<'_> {
    pub fn validate(&self) -> Result<rwa_rules::RuleSetView> {
        require!(
            !self.market.is_governed(),
            MarketError::RuleSetAlreadyAttached
        );
        rwa_rules::load_rule_set(&self.rule_set, &self.rule_set.key())
    }
}

pub fn handle_attach_rule_set(ctx: Context<AttachRuleSet>) -> Result<()> {
    let view = ctx.accounts.validate()?;
    let dao_authority = rwa_rules::dao_authority(&view.dao);
    let market = &mut ctx.accounts.market;
    market.rule_set = ctx.accounts.rule_set.key();
    market.authority = dao_authority;
    let event = RuleSetAttached {
        market: market.key(),
        rule_set: market.rule_set,
        authority: dao_authority,
    };
    emit_cpi!(event);
    Ok(())
}
