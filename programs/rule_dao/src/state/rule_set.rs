use anchor_lang::prelude::*;
use rwa_rules::RuleValues;

use crate::errors::DaoError;

/// The rules in force. Layout mirrored by `rwa_rules::RuleSetView` (checked by a test).
#[account]
#[derive(InitSpace, Debug)]
pub struct RuleSet {
    pub dao: Pubkey,
    /// Increments with every executed rule change.
    pub version: u64,
    pub updated_slot: u64,
    pub bump: u8,
    pub rules: RuleValues,
}

/// Bounds any rule value must respect, whatever the vote.
pub fn validate_rules(rules: &RuleValues) -> Result<()> {
    require!(rules.circuit_breaker_bps <= 10_000, DaoError::InvalidRules);
    require!(
        rules.circuit_breaker_bps == 0 || rules.circuit_breaker_window_slots > 0,
        DaoError::InvalidRules
    );
    require!(
        rules.min_collateral_ratio_bps == 0 || rules.min_collateral_ratio_bps > 10_000,
        DaoError::InvalidRules
    );
    Ok(())
}
