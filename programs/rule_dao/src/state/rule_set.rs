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

/// Bounds any rule value must respect, whatever the vote (`RuleValues::validate`; the README
/// has the table). The failing rule is logged.
pub fn validate_rules(rules: &RuleValues) -> Result<()> {
    rules.validate().map_err(|bound| {
        msg!("rule out of bounds: {:?}", bound);
        error!(DaoError::InvalidRules)
    })
}
