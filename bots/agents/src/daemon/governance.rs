//! The governance agent: stake, propose, vote, execute on the rule DAO.

use super::*;

pub(crate) fn dao_addresses(dao: &rule_dao::state::Dao) -> rwa_client::dao::DaoAddresses {
    rwa_client::dao::DaoAddresses::derive(dao.stake_mint, dao.id)
}

/// Keeps `stake_amount` staked in the DAO (stake is locked; only increases happen here).
pub(crate) async fn ensure_stake(
    rpc: &RpcClient,
    payer: &Keypair,
    config: &StrategyConfig,
) -> Result<()> {
    let dao_address =
        crate::chain::parse_address(config.dao.as_deref().unwrap_or_default(), "governance dao")?;
    let dao: rule_dao::state::Dao = account(rpc, &dao_address).await?;
    let addresses = dao_addresses(&dao);
    let wanted = config.stake_amount.unwrap_or(0);
    let staked =
        account::<rule_dao::state::StakePosition>(rpc, &addresses.position(&payer.pubkey()))
            .await
            .map(|p| p.amount)
            .unwrap_or(0);
    if wanted > staked {
        let from = crate::chain::parse_address(
            config
                .stake_account
                .as_deref()
                .ok_or_else(|| anyhow!("governance needs `stake_account` to stake from"))?,
            "stake_account",
        )?;
        let stake = rwa_client::dao::staking_ix(
            &addresses,
            &payer.pubkey(),
            &from,
            rwa_client::dao::StakeAction::Stake(wanted - staked),
        );
        match pipeline::send(
            rpc,
            payer,
            &[],
            &[stake],
            &PipelineConfig::default(),
            &mut pipeline::unjournaled,
        )
        .await?
        {
            Outcome::Landed(_) => {}
            Outcome::Refused(reason) => bail!("staking in {dao_address}: {reason}"),
        }
    }
    Ok(())
}

/// One governance step: forecast volatility, execute what passed, vote on what is open (by
/// reward), propose tighter or looser rules when the forecast crosses a threshold.
pub(crate) async fn govern(
    rpc: &RpcClient,
    payer: &Keypair,
    running: &mut Running,
    journal: &mut Journal,
    metrics: &Metrics,
    volatility: f64,
    slot: u64,
) -> Result<()> {
    use rule_dao::state::{Dao, Proposal, ProposalKind, ProposalState, RuleSet, VoteChoice};
    use rwa_agent_core::strategies::governance;
    let params = governance::GovernanceParams {
        tighten_above: running
            .config
            .tighten_above
            .unwrap_or(governance::GovernanceParams::default().tighten_above),
        relax_below: running
            .config
            .relax_below
            .unwrap_or(governance::GovernanceParams::default().relax_below),
        ..governance::GovernanceParams::default()
    };
    running.forecast = governance::forecast(running.forecast, volatility, params.lambda);
    let dao_address = crate::chain::parse_address(
        running.config.dao.as_deref().unwrap_or_default(),
        "governance dao",
    )?;
    let dao: Dao = account(rpc, &dao_address).await?;
    let addresses = dao_addresses(&dao);
    let rule_set: RuleSet = account(rpc, &dao.rule_set).await?;
    let proposals: Vec<(Address, Proposal)> = {
        use anchor_lang::Discriminator;
        use solana_account_decoder_client_types::UiAccountEncoding;
        use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
        use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
        let config = RpcProgramAccountsConfig {
            filters: Some(vec![
                RpcFilterType::Memcmp(Memcmp::new_base58_encoded(0, Proposal::DISCRIMINATOR)),
                RpcFilterType::Memcmp(Memcmp::new_base58_encoded(8 + 1, dao_address.as_ref())),
            ]),
            account_config: RpcAccountInfoConfig {
                encoding: Some(UiAccountEncoding::Base64),
                ..Default::default()
            },
            with_context: None,
            sort_results: None,
        };
        let mut decoded = Vec::new();
        for (address, ui) in rpc
            .get_program_ui_accounts_with_config(&rwa_client::rule_dao_id(), config)
            .await?
        {
            if let Some(data) = ui.data.decode() {
                if let Ok(proposal) = Proposal::try_deserialize(&mut data.as_slice()) {
                    decoded.push((address, proposal));
                }
            }
        }
        decoded
    };
    let baseline = running.config.baseline_breaker_bps.unwrap_or(1_500);
    let tight =
        rule_set.rules.circuit_breaker_bps != 0 && rule_set.rules.circuit_breaker_bps < baseline;
    let position = addresses.position(&payer.pubkey());
    let mut open = Vec::new();
    for (address, proposal) in &proposals {
        if proposal.state != ProposalState::Voting || proposal.config_version != dao.config_version
        {
            continue;
        }
        let voted = rpc
            .get_account(&addresses.vote_record(address, &position))
            .await
            .is_ok();
        open.push(governance::OpenProposal {
            index: proposal.index,
            voting_ends_slot: proposal.voting_ends_slot,
            breaker: match &proposal.kind {
                ProposalKind::Rules { rules } => Some(rwa_client::agent::breaker_of(rules)),
                _ => None,
            },
            voted,
        });
    }
    let current = rule_set.rules;
    let actions = governance::decide(
        &params,
        running.forecast,
        rwa_client::agent::breaker_of(&current),
        tight,
        &open,
        slot,
        dao.config.hold_up_slots,
        |proposal| {
            rwa_client::agent::breaker_of(&rwa_client::agent::proposed_rules(
                current, proposal, baseline,
            ))
        },
    );
    for action in actions {
        match action {
            governance::GovernanceAction::Execute { index } => {
                let address = addresses.proposal(index);
                let id = format!("{}:execute:{address}", running.config.name);
                let execute = rwa_client::dao::execute_ix(&addresses, &payer.pubkey(), index, None);
                send_recorded(
                    rpc,
                    payer,
                    running,
                    journal,
                    metrics,
                    id,
                    serde_json::json!({ "Execute": address.to_string() }),
                    &[execute],
                )
                .await?;
            }
            governance::GovernanceAction::Vote { index, vote } => {
                let choice = match vote {
                    governance::Vote::Yes => VoteChoice::Yes,
                    governance::Vote::No => VoteChoice::No,
                    governance::Vote::Abstain => VoteChoice::Abstain,
                };
                let address = addresses.proposal(index);
                let id = format!("{}:vote:{address}", running.config.name);
                let vote = rwa_client::dao::vote_ix(&addresses, &payer.pubkey(), index, choice);
                send_recorded(rpc, payer, running, journal, metrics, id, serde_json::json!({ "Vote": { "proposal": address.to_string(), "choice": format!("{choice:?}") } }), &[vote]).await?;
            }
            governance::GovernanceAction::Propose { proposal } => {
                let rules = rwa_client::agent::proposed_rules(current, proposal, baseline);
                let id = format!("{}:propose:{}", running.config.name, dao.proposal_count);
                let propose = rwa_client::dao::propose_ix(
                    &addresses,
                    &payer.pubkey(),
                    dao.proposal_count,
                    ProposalKind::Rules { rules },
                    "rwa-agents://governance/volatility-forecast",
                );
                if send_recorded(
                    rpc,
                    payer,
                    running,
                    journal,
                    metrics,
                    id,
                    serde_json::json!({ "Propose": format!("{proposal:?}") }),
                    &[propose],
                )
                .await?
                {
                    // The proposer backs its own proposal right away (it proposed because its
                    // reward says so).
                    let proposal_address = addresses.proposal(dao.proposal_count);
                    let id = format!("{}:vote:{proposal_address}", running.config.name);
                    let vote = rwa_client::dao::vote_ix(
                        &addresses,
                        &payer.pubkey(),
                        dao.proposal_count,
                        VoteChoice::Yes,
                    );
                    send_recorded(rpc, payer, running, journal, metrics, id, serde_json::json!({ "Vote": { "proposal": proposal_address.to_string(), "choice": "Yes" } }), &[vote]).await?;
                }
            }
        }
    }
    Ok(())
}
