//! Seeds, bounds and defaults of the rule_dao program.

/// Dao PDA: [DAO_SEED, stake_mint, id (u64 LE)].
pub const DAO_SEED: &[u8] = b"dao";
/// The DAO's signing authority (stake vault owner, market authority after attach): [AUTHORITY_SEED, dao].
pub const AUTHORITY_SEED: &[u8] = rwa_rules::DAO_AUTHORITY_SEED;
/// RuleSet: [RULE_SET_SEED, dao].
pub const RULE_SET_SEED: &[u8] = b"rule_set";
/// Stake vault (token account owned by the authority PDA): [STAKE_VAULT_SEED, dao].
pub const STAKE_VAULT_SEED: &[u8] = b"stake_vault";
/// StakePosition: [POSITION_SEED, dao, owner].
pub const POSITION_SEED: &[u8] = b"position";
/// Proposal: [PROPOSAL_SEED, dao, index (u64 LE)].
pub const PROPOSAL_SEED: &[u8] = b"proposal";
/// VoteRecord: [VOTE_SEED, proposal, position].
pub const VOTE_SEED: &[u8] = b"vote";

pub const MAX_URI_LEN: usize = 200;
/// Bounds on DAO configuration.
pub const MIN_THRESHOLD_BPS: u16 = 5_001;
pub const MAX_BPS: u16 = 10_000;
pub const MAX_PERIOD_SLOTS: u64 = 10_000_000;
