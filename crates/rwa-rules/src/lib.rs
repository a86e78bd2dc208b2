//! The trading rules agents vote on. `rule_dao` writes them into its `RuleSet` account; `rwa_market`
//! and `rwa_lending` read that account through [`load_rule_set`], which checks the owner program,
//! the Anchor discriminator and the address the reading program has on record. Kept in its own
//! crate so the readers need not depend on the DAO program (which itself calls into rwa_market).

use anchor_lang::prelude::*;

/// The rule_dao program (see programs/rule_dao, keys/rule_dao-keypair.json).
pub const RULE_DAO_PROGRAM_ID: Pubkey = pubkey!("GYgcQeHe92d7zCReHg1PjWfiexce5Yo4XSzZbye1gDfN");

/// Anchor discriminator of `rule_dao::state::RuleSet` (sha256("account:RuleSet")[..8]); a test in
/// the harness checks it against the program's own constant.
pub const RULE_SET_DISCRIMINATOR: [u8; 8] = [57, 66, 204, 128, 106, 151, 170, 243];

/// The rules. Zero disables a numeric limit.
#[derive(
    AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, Default, InitSpace,
)]
pub struct RuleValues {
    /// Largest RWA amount (base units) one market transaction may trade.
    pub max_trade_amount: u64,
    /// Circuit breaker: largest price move (bps) from the price at the start of a window...
    pub circuit_breaker_bps: u16,
    /// ...of this many slots; a trade that moves the price further halts trading...
    pub circuit_breaker_window_slots: u64,
    /// ...for this many slots.
    pub circuit_breaker_halt_slots: u64,
    /// Volatility per sqrt(slot) (18-digit fixed point) above which lending refuses new borrows.
    pub volatility_limit: u128,
    /// Floor under the lending collateral ratio (bps, 15_000 = 150%). Max leverage is CR / (CR - 1).
    pub min_collateral_ratio_bps: u16,
    /// Longest a maker quote may stay live (slots).
    pub max_quote_lifetime_slots: u64,
    /// Who may update the lending risk covariance.
    pub covariance_authority: Pubkey,
    /// Fewest slots between two executed rule changes.
    pub update_cadence_slots: u64,
}

/// The account as the DAO writes it, for readers.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleSetView {
    pub dao: Pubkey,
    pub version: u64,
    pub updated_slot: u64,
    pub bump: u8,
    pub rules: RuleValues,
}

#[error_code(offset = 9000)]
pub enum RuleSetError {
    #[msg("RuleSet account is not the one on record")]
    RuleSetMismatch, // 9000
    #[msg("RuleSet account is not owned by the rule_dao program")]
    RuleSetWrongOwner, // 9001
    #[msg("Account is not a RuleSet")]
    RuleSetWrongType, // 9002
    #[msg("A RuleSet account is required: the market is governed")]
    RuleSetMissing, // 9003
}

/// Reads the RuleSet at `expected`, refusing any other account, owner or type.
pub fn load_rule_set(account: &AccountInfo, expected: &Pubkey) -> Result<RuleSetView> {
    require_keys_eq!(account.key(), *expected, RuleSetError::RuleSetMismatch);
    require_keys_eq!(
        *account.owner,
        RULE_DAO_PROGRAM_ID,
        RuleSetError::RuleSetWrongOwner
    );
    let data = account.try_borrow_data()?;
    require!(
        data.len() >= 8 && data[..8] == RULE_SET_DISCRIMINATOR,
        RuleSetError::RuleSetWrongType
    );
    RuleSetView::deserialize(&mut &data[8..]).map_err(|_| error!(RuleSetError::RuleSetWrongType))
}

/// The governed-or-not decision every reader makes: `None` when `on_record` is unset (no DAO
/// attached), the rules when it is and the right account was passed, an error otherwise.
pub fn rules_for(on_record: &Pubkey, passed: Option<&AccountInfo>) -> Result<Option<RuleValues>> {
    if *on_record == Pubkey::default() {
        return Ok(None);
    }
    let account = passed.ok_or(RuleSetError::RuleSetMissing)?;
    Ok(Some(load_rule_set(account, on_record)?.rules))
}
