use anchor_lang::prelude::*;

/// One owner's stake in one DAO.
///
/// Snapshot rule: a position can vote on a proposal only if its stake last increased in a slot
/// before the proposal was created, and it votes with its current amount (which can only have
/// gone down since). Stake that arrives after creation therefore never votes on it, and a flash
/// stake (stake, vote, unstake in one slot) cannot vote at all. Topping up a position forfeits
/// its vote on proposals already open: vote first, then add stake.
#[account]
#[derive(InitSpace, Debug)]
pub struct StakePosition {
    pub bump: u8,
    pub dao: Pubkey,
    pub owner: Pubkey,
    /// Stake counting for votes.
    pub amount: u64,
    pub last_increase_slot: u64,
    /// Stake in cooldown, withdrawable from `unstake_ready_slot`.
    pub unstaking_amount: u64,
    pub unstake_ready_slot: u64,
    /// No unstake request until after this slot (end of the latest voting period voted in).
    pub votes_locked_until_slot: u64,
    pub votes_cast: u64,
}
