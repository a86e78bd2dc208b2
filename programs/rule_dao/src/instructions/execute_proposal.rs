use anchor_lang::prelude::*;
use rwa_math::governance::tally;

use crate::constants::*;
use crate::errors::DaoError;
use crate::events::{ConfigUpdated, ProposalStateChanged, RulesUpdated, VetoAuthorityChanged};
use crate::state::{Dao, Proposal, ProposalKind, ProposalState, RuleSet};

/// Permissionless once voting has ended, the proposal passed (quorum and supermajority) and the
/// hold-up has elapsed without a veto. For `MarketParams`, the remaining accounts are the market,
/// its oracle, rwa_market's event authority and the rwa_market program; for `LendingParams` the
/// lending market, rwa_lending's event authority and the rwa_lending program; for `LendingPause`
/// the same plus the RuleSet (rwa_lending reads it).
#[event_cpi]
#[derive(Accounts)]
pub struct ExecuteProposal<'info> {
    pub executor: Signer<'info>,
    #[account(mut, seeds = [DAO_SEED, dao.stake_mint.as_ref(), &dao.id.to_le_bytes()], bump = dao.bump, has_one = rule_set)]
    pub dao: Box<Account<'info, Dao>>,
    #[account(mut, seeds = [RULE_SET_SEED, dao.key().as_ref()], bump = rule_set.bump)]
    pub rule_set: Box<Account<'info, RuleSet>>,
    #[account(mut, seeds = [PROPOSAL_SEED, dao.key().as_ref(), &proposal.index.to_le_bytes()], bump = proposal.bump, has_one = dao)]
    pub proposal: Box<Account<'info, Proposal>>,
    /// CHECK: the DAO authority PDA, signer of market calls.
    #[account(seeds = [AUTHORITY_SEED, dao.key().as_ref()], bump = dao.authority_bump)]
    pub authority: UncheckedAccount<'info>,
}

impl ExecuteProposal<'_> {
    pub fn validate(&self, slot: u64) -> Result<()> {
        let proposal = &self.proposal;
        let dao = &self.dao;
        require!(
            proposal.state == ProposalState::Voting,
            DaoError::InvalidProposalState
        );
        require_eq!(
            proposal.config_version,
            dao.config_version,
            DaoError::ProposalStale
        );
        require_gt!(slot, proposal.voting_ends_slot, DaoError::VotingOpen);
        let result = tally(
            proposal.yes,
            proposal.no,
            proposal.abstain,
            proposal.total_stake_snapshot,
            dao.config.quorum_bps,
            dao.config.threshold_bps,
        );
        require!(result.passed(), DaoError::ProposalDefeated);
        require_gte!(
            slot,
            proposal
                .voting_ends_slot
                .saturating_add(dao.config.hold_up_slots),
            DaoError::HoldUpNotElapsed
        );
        if let ProposalKind::Rules { .. } = proposal.kind {
            // Bounded at read as well: a RuleSet written before the bound existed cannot freeze rules.
            let cadence = self
                .rule_set
                .rules
                .update_cadence_slots
                .min(rwa_rules::MAX_UPDATE_CADENCE_SLOTS);
            require_gte!(
                slot,
                self.rule_set.updated_slot.saturating_add(cadence),
                DaoError::RuleCadence
            );
        }
        Ok(())
    }
}

/// The remaining accounts of a proposal that calls another program: exactly `N` of them, the
/// first being the `target` account on record, the last the called program.
fn call_accounts<'a, 'info, const N: usize>(
    remaining: &'a [AccountInfo<'info>],
    target: &Pubkey,
    program_id: &Pubkey,
) -> Result<&'a [AccountInfo<'info>; N]> {
    let accounts: &[AccountInfo<'info>; N] = remaining
        .try_into()
        .map_err(|_| error!(DaoError::InvalidMarketAccounts))?;
    require_keys_eq!(accounts[0].key(), *target, DaoError::InvalidMarketAccounts);
    require_keys_eq!(
        accounts[N - 1].key(),
        *program_id,
        DaoError::InvalidMarketAccounts
    );
    Ok(accounts)
}

pub fn handle_execute_proposal<'info>(ctx: Context<'info, ExecuteProposal<'info>>) -> Result<()> {
    let slot = Clock::get()?.slot;
    ctx.accounts.validate(slot)?;
    let dao_key = ctx.accounts.dao.key();
    let authority_bump = [ctx.accounts.dao.authority_bump];
    let seeds: &[&[u8]] = &[AUTHORITY_SEED, dao_key.as_ref(), &authority_bump];
    let authority = ctx.accounts.authority.to_account_info();
    match ctx.accounts.proposal.kind.clone() {
        ProposalKind::Rules { rules } => {
            let rule_set = &mut ctx.accounts.rule_set;
            rule_set.rules = rules;
            rule_set.version += 1;
            rule_set.updated_slot = slot;
            let event = RulesUpdated {
                dao: dao_key,
                rule_set: rule_set.key(),
                version: rule_set.version,
                rules,
            };
            emit_cpi!(event);
        }
        ProposalKind::Config { config } => {
            let dao = &mut ctx.accounts.dao;
            dao.config = config;
            dao.config_version += 1;
            let event = ConfigUpdated {
                dao: dao_key,
                config_version: dao.config_version,
                config,
            };
            emit_cpi!(event);
        }
        ProposalKind::MarketParams { market, update } => {
            let [market_account, oracle, event_authority, program] =
                call_accounts::<4>(ctx.remaining_accounts, &market, &rwa_market::ID)?;
            let accounts = rwa_market::cpi::accounts::SetMarketParams {
                authority,
                market: market_account.clone(),
                oracle: oracle.clone(),
                event_authority: event_authority.clone(),
                program: program.clone(),
            };
            rwa_market::cpi::set_market_params(
                CpiContext::new_with_signer(rwa_market::ID, accounts, &[seeds]),
                update,
            )?;
        }
        ProposalKind::VetoAuthority { veto_authority } => {
            ctx.accounts.dao.veto_authority = veto_authority;
            let event = VetoAuthorityChanged {
                dao: dao_key,
                veto_authority,
            };
            emit_cpi!(event);
        }
        ProposalKind::LendingParams {
            lending_market,
            params,
        } => {
            let [market_account, event_authority, program] =
                call_accounts::<3>(ctx.remaining_accounts, &lending_market, &rwa_lending::ID)?;
            let accounts = rwa_lending::cpi::accounts::UpdateLendingParams {
                authority,
                lending_market: market_account.clone(),
                event_authority: event_authority.clone(),
                program: program.clone(),
            };
            rwa_lending::cpi::update_lending_params(
                CpiContext::new_with_signer(rwa_lending::ID, accounts, &[seeds]),
                params,
            )?;
        }
        ProposalKind::LendingPause {
            lending_market,
            paused,
        } => {
            let [market_account, event_authority, program] =
                call_accounts::<3>(ctx.remaining_accounts, &lending_market, &rwa_lending::ID)?;
            let accounts = rwa_lending::cpi::accounts::SetLendingPause {
                authority,
                lending_market: market_account.clone(),
                rule_set: Some(ctx.accounts.rule_set.to_account_info()),
                event_authority: event_authority.clone(),
                program: program.clone(),
            };
            rwa_lending::cpi::set_lending_pause(
                CpiContext::new_with_signer(rwa_lending::ID, accounts, &[seeds]),
                paused,
            )?;
        }
    }
    let proposal = &mut ctx.accounts.proposal;
    proposal.state = ProposalState::Executed;
    proposal.executed_slot = slot;
    let event = ProposalStateChanged {
        proposal: proposal.key(),
        state: ProposalState::Executed,
        slot,
    };
    emit_cpi!(event);
    Ok(())
}
