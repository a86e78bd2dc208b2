//! Client helpers for rule_dao: PDAs and instruction builders from the program's own Anchor types.

use anchor_lang::{InstructionData, ToAccountMetas};
use anchor_spl::token::spl_token;
use rule_dao::constants::*;
use rule_dao::state::{DaoConfig, ProposalKind, VoteChoice};
use rwa_rules::RuleValues;
use solana_address::Address;
use solana_instruction::{AccountMeta, Instruction};

use crate::market::MarketAddresses;

pub fn dao_event_authority() -> Address {
    Address::find_program_address(&[b"__event_authority"], &crate::rule_dao_id()).0
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DaoAddresses {
    pub dao: Address,
    pub stake_mint: Address,
    pub authority: Address,
    pub stake_vault: Address,
    pub rule_set: Address,
}

impl DaoAddresses {
    pub fn derive(stake_mint: Address, id: u64) -> Self {
        let program = crate::rule_dao_id();
        let dao = Address::find_program_address(
            &[DAO_SEED, stake_mint.as_ref(), &id.to_le_bytes()],
            &program,
        )
        .0;
        DaoAddresses {
            dao,
            stake_mint,
            authority: Address::find_program_address(&[AUTHORITY_SEED, dao.as_ref()], &program).0,
            stake_vault: Address::find_program_address(&[STAKE_VAULT_SEED, dao.as_ref()], &program)
                .0,
            rule_set: Address::find_program_address(&[RULE_SET_SEED, dao.as_ref()], &program).0,
        }
    }

    pub fn position(&self, owner: &Address) -> Address {
        Address::find_program_address(
            &[POSITION_SEED, self.dao.as_ref(), owner.as_ref()],
            &crate::rule_dao_id(),
        )
        .0
    }

    pub fn proposal(&self, index: u64) -> Address {
        Address::find_program_address(
            &[PROPOSAL_SEED, self.dao.as_ref(), &index.to_le_bytes()],
            &crate::rule_dao_id(),
        )
        .0
    }

    pub fn vote_record(&self, proposal: &Address, position: &Address) -> Address {
        Address::find_program_address(
            &[VOTE_SEED, proposal.as_ref(), position.as_ref()],
            &crate::rule_dao_id(),
        )
        .0
    }
}

/// Defaults used by tests and the demo (slots): 100-slot vote, 20-slot hold-up, 50-slot cooldown,
/// 20% quorum, 66.67% supermajority.
pub fn default_config() -> DaoConfig {
    DaoConfig {
        voting_period_slots: 100,
        hold_up_slots: 20,
        unstake_cooldown_slots: 50,
        quorum_bps: 2_000,
        threshold_bps: 6_667,
        min_proposal_stake: 1,
    }
}

pub fn create_dao_ix(
    creator: &Address,
    addresses: &DaoAddresses,
    id: u64,
    config: DaoConfig,
    rules: RuleValues,
    veto_authority: Address,
) -> Instruction {
    let accounts = rule_dao::accounts::CreateDao {
        creator: *creator,
        stake_mint: addresses.stake_mint,
        dao: addresses.dao,
        authority: addresses.authority,
        stake_vault: addresses.stake_vault,
        rule_set: addresses.rule_set,
        token_program: spl_token::ID,
        system_program: solana_system_interface::program::ID,
        event_authority: dao_event_authority(),
        program: crate::rule_dao_id(),
    };
    Instruction {
        program_id: crate::rule_dao_id(),
        accounts: accounts.to_account_metas(None),
        data: rule_dao::instruction::CreateDao {
            id,
            config,
            rules,
            veto_authority,
        }
        .data(),
    }
}

/// The three staking instructions share their accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StakeAction {
    Stake(u64),
    RequestUnstake(u64),
    Withdraw,
}

pub fn staking_ix(
    addresses: &DaoAddresses,
    owner: &Address,
    owner_token_account: &Address,
    action: StakeAction,
) -> Instruction {
    let accounts = rule_dao::accounts::Staking {
        owner: *owner,
        dao: addresses.dao,
        position: addresses.position(owner),
        authority: addresses.authority,
        stake_vault: addresses.stake_vault,
        owner_token_account: *owner_token_account,
        token_program: spl_token::ID,
        system_program: solana_system_interface::program::ID,
        event_authority: dao_event_authority(),
        program: crate::rule_dao_id(),
    };
    let data = match action {
        StakeAction::Stake(amount) => rule_dao::instruction::Stake { amount }.data(),
        StakeAction::RequestUnstake(amount) => {
            rule_dao::instruction::RequestUnstake { amount }.data()
        }
        StakeAction::Withdraw => rule_dao::instruction::WithdrawUnstaked {}.data(),
    };
    Instruction {
        program_id: crate::rule_dao_id(),
        accounts: accounts.to_account_metas(None),
        data,
    }
}

pub fn propose_ix(
    addresses: &DaoAddresses,
    proposer: &Address,
    index: u64,
    kind: ProposalKind,
    description_uri: &str,
) -> Instruction {
    let accounts = rule_dao::accounts::Propose {
        proposer: *proposer,
        dao: addresses.dao,
        position: addresses.position(proposer),
        proposal: addresses.proposal(index),
        system_program: solana_system_interface::program::ID,
        event_authority: dao_event_authority(),
        program: crate::rule_dao_id(),
    };
    Instruction {
        program_id: crate::rule_dao_id(),
        accounts: accounts.to_account_metas(None),
        data: rule_dao::instruction::Propose {
            kind,
            description_uri: description_uri.to_string(),
        }
        .data(),
    }
}

pub fn vote_ix(
    addresses: &DaoAddresses,
    voter: &Address,
    index: u64,
    choice: VoteChoice,
) -> Instruction {
    let proposal = addresses.proposal(index);
    let position = addresses.position(voter);
    let accounts = rule_dao::accounts::CastVote {
        voter: *voter,
        dao: addresses.dao,
        proposal,
        position,
        vote_record: addresses.vote_record(&proposal, &position),
        system_program: solana_system_interface::program::ID,
        event_authority: dao_event_authority(),
        program: crate::rule_dao_id(),
    };
    Instruction {
        program_id: crate::rule_dao_id(),
        accounts: accounts.to_account_metas(None),
        data: rule_dao::instruction::CastVote { choice }.data(),
    }
}

pub fn cancel_ix(addresses: &DaoAddresses, proposer: &Address, index: u64) -> Instruction {
    let accounts = rule_dao::accounts::CancelProposal {
        proposer: *proposer,
        dao: addresses.dao,
        proposal: addresses.proposal(index),
        event_authority: dao_event_authority(),
        program: crate::rule_dao_id(),
    };
    Instruction {
        program_id: crate::rule_dao_id(),
        accounts: accounts.to_account_metas(None),
        data: rule_dao::instruction::CancelProposal {}.data(),
    }
}

pub fn veto_ix(addresses: &DaoAddresses, veto_authority: &Address, index: u64) -> Instruction {
    let accounts = rule_dao::accounts::VetoProposal {
        veto_authority: *veto_authority,
        dao: addresses.dao,
        proposal: addresses.proposal(index),
        event_authority: dao_event_authority(),
        program: crate::rule_dao_id(),
    };
    Instruction {
        program_id: crate::rule_dao_id(),
        accounts: accounts.to_account_metas(None),
        data: rule_dao::instruction::VetoProposal {}.data(),
    }
}

/// `execute_proposal`; `market` supplies the accounts a `MarketParams` proposal calls into.
pub fn execute_ix(
    addresses: &DaoAddresses,
    executor: &Address,
    index: u64,
    market: Option<&MarketAddresses>,
) -> Instruction {
    let accounts = rule_dao::accounts::ExecuteProposal {
        executor: *executor,
        dao: addresses.dao,
        rule_set: addresses.rule_set,
        proposal: addresses.proposal(index),
        authority: addresses.authority,
        event_authority: dao_event_authority(),
        program: crate::rule_dao_id(),
    };
    let mut metas = accounts.to_account_metas(None);
    if let Some(market) = market {
        metas.extend([
            AccountMeta::new(market.market, false),
            AccountMeta::new(market.oracle, false),
            AccountMeta::new_readonly(crate::market::event_authority(), false),
            AccountMeta::new_readonly(crate::rwa_market_id(), false),
        ]);
    }
    Instruction {
        program_id: crate::rule_dao_id(),
        accounts: metas,
        data: rule_dao::instruction::ExecuteProposal {}.data(),
    }
}

/// `execute_proposal` for a proposal that calls rwa_lending (`LendingParams`, `LendingPause`):
/// the remaining accounts are the lending market, rwa_lending's event authority and the program.
pub fn execute_lending_ix(
    addresses: &DaoAddresses,
    executor: &Address,
    index: u64,
    lending_market: &Address,
) -> Instruction {
    let mut instruction = execute_ix(addresses, executor, index, None);
    instruction.accounts.extend([
        AccountMeta::new(*lending_market, false),
        AccountMeta::new_readonly(crate::lending::lending_event_authority(), false),
        AccountMeta::new_readonly(crate::rwa_lending_id(), false),
    ]);
    instruction
}
