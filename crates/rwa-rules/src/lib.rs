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

/// The rules. Zero disables a numeric limit. Every value is bounded (see [`RuleValues::validate`]
/// and the README's table) so that no vote can brick a market, the lending market or the DAO.
#[derive(
    AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, Default, InitSpace,
)]
pub struct RuleValues {
    /// Largest RWA amount (base units) one market may trade per slot, over all transactions.
    pub max_trade_amount: u64,
    /// Circuit breaker: largest deviation (bps) of the curve's spot after a trade from...
    pub circuit_breaker_bps: u16,
    /// ...the oracle's TWAP over this many slots; a trade that moves the spot further halts
    /// trading...
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
    /// Quote-token notional (base units) a market must trade in one slot before the breaker
    /// may trip: a dust trade cannot halt a market.
    pub circuit_breaker_min_notional: u64,
    /// Widest band (bps) around the curve's spot that maker quotes may use (tightens the
    /// market's own band).
    pub max_quote_band_bps: u16,
    /// May pause (only pause) the markets and the lending market that obey this RuleSet.
    pub guardian: Pubkey,
}

/// Longest circuit-breaker halt any rule can set (~1 hour of 400 ms slots).
pub const MAX_HALT_SLOTS: u64 = 9_000;
/// Longest breaker reference window (~1 day).
pub const MAX_BREAKER_WINDOW_SLOTS: u64 = 216_000;
/// Narrowest breaker band: tighter would halt on ordinary trading.
pub const MIN_CIRCUIT_BREAKER_BPS: u16 = 50;
/// Smallest non-zero per-slot trade limit (base units): smaller would make trading impossible.
pub const MIN_MAX_TRADE_AMOUNT: u64 = 1_000;
/// Smallest non-zero volatility limit per sqrt(slot) (1e-5, about 9% a year): smaller would
/// refuse every borrow against any asset that ever trades.
pub const MIN_VOLATILITY_LIMIT: u128 = 10_000_000_000_000;
/// Collateral-ratio floor bounds (bps).
pub const MAX_MIN_COLLATERAL_RATIO_BPS: u16 = 50_000;
/// Quote lifetime bounds when set (slots).
pub const MIN_QUOTE_LIFETIME_SLOTS: u64 = 10;
pub const MAX_QUOTE_LIFETIME_SLOTS: u64 = 9_000;
/// Longest cadence between rule changes (~1 day): longer could freeze the rules.
pub const MAX_UPDATE_CADENCE_SLOTS: u64 = 216_000;
/// Quote band bounds when set (bps).
pub const MIN_QUOTE_BAND_BPS: u16 = 10;
pub const MAX_QUOTE_BAND_BPS: u16 = 5_000;

/// Which rule is out of bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleBound {
    MaxTradeAmount,
    CircuitBreakerBps,
    CircuitBreakerWindow,
    CircuitBreakerHalt,
    VolatilityLimit,
    MinCollateralRatio,
    QuoteLifetime,
    UpdateCadence,
    QuoteBand,
}

impl RuleValues {
    /// Bounds every rule value must respect, whatever the vote (checked where rules are set).
    pub fn validate(&self) -> core::result::Result<(), RuleBound> {
        let zero_or = |value: u64, low: u64, high: u64| value == 0 || (low..=high).contains(&value);
        if !zero_or(self.max_trade_amount, MIN_MAX_TRADE_AMOUNT, u64::MAX) {
            return Err(RuleBound::MaxTradeAmount);
        }
        if !zero_or(
            self.circuit_breaker_bps as u64,
            MIN_CIRCUIT_BREAKER_BPS as u64,
            10_000,
        ) {
            return Err(RuleBound::CircuitBreakerBps);
        }
        if self.circuit_breaker_bps > 0
            && !(1..=MAX_BREAKER_WINDOW_SLOTS).contains(&self.circuit_breaker_window_slots)
        {
            return Err(RuleBound::CircuitBreakerWindow);
        }
        if self.circuit_breaker_window_slots > MAX_BREAKER_WINDOW_SLOTS {
            return Err(RuleBound::CircuitBreakerWindow);
        }
        if self.circuit_breaker_halt_slots > MAX_HALT_SLOTS {
            return Err(RuleBound::CircuitBreakerHalt);
        }
        if self.volatility_limit != 0 && self.volatility_limit < MIN_VOLATILITY_LIMIT {
            return Err(RuleBound::VolatilityLimit);
        }
        if !zero_or(
            self.min_collateral_ratio_bps as u64,
            10_001,
            MAX_MIN_COLLATERAL_RATIO_BPS as u64,
        ) {
            return Err(RuleBound::MinCollateralRatio);
        }
        if !zero_or(
            self.max_quote_lifetime_slots,
            MIN_QUOTE_LIFETIME_SLOTS,
            MAX_QUOTE_LIFETIME_SLOTS,
        ) {
            return Err(RuleBound::QuoteLifetime);
        }
        if self.update_cadence_slots > MAX_UPDATE_CADENCE_SLOTS {
            return Err(RuleBound::UpdateCadence);
        }
        if !zero_or(
            self.max_quote_band_bps as u64,
            MIN_QUOTE_BAND_BPS as u64,
            MAX_QUOTE_BAND_BPS as u64,
        ) {
            return Err(RuleBound::QuoteBand);
        }
        Ok(())
    }

    /// Whether `signer` is this RuleSet's guardian (never the default key).
    pub fn is_guardian(&self, signer: &Pubkey) -> bool {
        self.guardian != Pubkey::default() && self.guardian == *signer
    }
}

/// The rule DAO's authority PDA for `dao` (signs the CPIs its executed proposals make): the
/// admin of every program attached to that DAO.
pub fn dao_authority(dao: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[DAO_AUTHORITY_SEED, dao.as_ref()], &RULE_DAO_PROGRAM_ID).0
}

/// Seed of the DAO authority PDA ([DAO_AUTHORITY_SEED, dao]); rule_dao's `AUTHORITY_SEED`.
pub const DAO_AUTHORITY_SEED: &[u8] = b"authority";

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
