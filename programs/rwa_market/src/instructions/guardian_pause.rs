use anchor_lang::prelude::*;

use crate::constants::MARKET_SEED;
use crate::errors::MarketError;
use crate::events::MarketPauseChanged;
use crate::state::Market;

/// Emergency stop for a DAO-governed market: the RuleSet's guardian may pause it (only pause;
/// resuming is an executed `MarketParams { paused: Some(false) }` proposal), so an attack in
/// progress does not wait for a vote.
#[event_cpi]
#[derive(Accounts)]
pub struct GuardianPause<'info> {
    pub guardian: Signer<'info>,
    #[account(mut, seeds = [MARKET_SEED, market.rwa_mint.as_ref()], bump = market.bump)]
    pub market: Box<Account<'info, Market>>,
    /// CHECK: owner, discriminator and address verified by `rwa_rules::load_rule_set`.
    pub rule_set: UncheckedAccount<'info>,
}

impl GuardianPause<'_> {
    pub fn validate(&self) -> Result<()> {
        let rules = rwa_rules::rules_for(&self.market.rule_set, Some(self.rule_set.as_ref()))?
            .ok_or(MarketError::NotGuardian)?;
        require!(
            rules.is_guardian(&self.guardian.key()),
            MarketError::NotGuardian
        );
        require!(!self.market.paused, MarketError::PauseStateUnchanged);
        Ok(())
    }
}

pub fn handle_guardian_pause(ctx: Context<GuardianPause>) -> Result<()> {
    ctx.accounts.validate()?;
    ctx.accounts.market.paused = true;
    emit_cpi!(MarketPauseChanged {
        market: ctx.accounts.market.key(),
        paused: true,
        slot: Clock::get()?.slot,
    });
    Ok(())
}
