//! Genesis: markets bought up to their starting supply, makers opened, the DAO and the lending
//! market created, every agent funded, all by transactions of the programs.

use rwa_harness::dao::{DaoAddresses, StakeAction};
use rwa_harness::lending::LendingAddresses;
use rwa_harness::market::MakerAddresses;
use rwa_harness::solana_keypair::Keypair;
use rwa_harness::solana_signer::Signer;

use crate::agents::{Agent, Kind, Status};
use crate::scenario::{Scenario, Shock};
use crate::world::{World, UNIT, WHOLE};
use crate::SimError;

pub struct Population {
    pub agents: Vec<Agent>,
    /// The scenario's council: most of the stake, used only for `rule_change` shocks.
    pub council: Option<Keypair>,
}

/// The kinds of the N agents, fixed roles first, then the mix (largest remainder rounding).
pub fn roster(s: &Scenario) -> Vec<(Kind, usize)> {
    let m = s.assets.count;
    let a = &s.agents;
    let mut roster = Vec::with_capacity(a.count);
    for i in 0..m {
        for _ in 0..a.market_makers_per_asset {
            roster.push((Kind::MarketMaker, i));
        }
    }
    for k in 0..a.arbitrageurs {
        roster.push((Kind::Arbitrage, k % m));
    }
    for _ in 0..a.keepers {
        roster.push((Kind::Keeper, 0));
    }
    if s.dao.enabled {
        for k in 0..a.governors {
            roster.push((Kind::Governance, k % m));
        }
    }
    for _ in 0..a.risk_parity {
        roster.push((Kind::RiskParity, 0));
    }
    if s.lending.enabled {
        let collateral = m.min(rwa_lending::constants::MAX_COLLATERALS);
        for k in 0..a.borrowers {
            roster.push((Kind::Borrower, k % collateral));
        }
    }
    let rest = a.count - roster.len();
    let shares = [
        (Kind::Noise, a.mix.noise),
        (Kind::Momentum, a.mix.momentum),
        (Kind::Value, a.mix.value),
    ];
    let total: f64 = shares.iter().map(|(_, s)| s).sum();
    let mut counts: Vec<(Kind, usize, f64)> = shares
        .iter()
        .map(|(k, share)| {
            let exact = if total > 0.0 {
                rest as f64 * share / total
            } else {
                0.0
            };
            (*k, exact.floor() as usize, exact - exact.floor())
        })
        .collect();
    let mut left = rest - counts.iter().map(|c| c.1).sum::<usize>();
    let mut by_remainder: Vec<usize> = (0..counts.len()).collect();
    by_remainder.sort_by(|&x, &y| counts[y].2.total_cmp(&counts[x].2).then(x.cmp(&y)));
    for &i in by_remainder.iter().cycle() {
        if left == 0 {
            break;
        }
        counts[i].1 += 1;
        left -= 1;
    }
    let mut k = 0;
    for (kind, count, _) in counts {
        for _ in 0..count {
            roster.push((kind, k % m));
            k += 1;
        }
    }
    // Authorised participants come on top of the N agents, and only with a primary market: a run
    // without one is exactly the scenario without them.
    if s.primary.enabled {
        for k in 0..a.ap_arbitrageurs {
            roster.push((Kind::ApArbitrage, k % m));
        }
    }
    // So do the incentives' referrers and prospects.
    if s.incentives.enabled {
        for i in 0..m {
            for _ in 0..s.incentives.referrers_per_asset {
                roster.push((Kind::Referrer, i));
            }
            for _ in 0..s.incentives.prospects_per_asset {
                roster.push((Kind::Prospect, i));
            }
        }
    }
    roster
}

/// Whole quote tokens an agent of `kind` starts with.
fn capital_of(s: &Scenario, kind: Kind) -> u64 {
    match kind {
        Kind::Prospect => s.incentives.prospect_capital,
        Kind::Referrer => 0,
        _ => s.capital_of(kind),
    }
}

/// Each prospect's starting token balance (base units): exponential with the scenario's mean,
/// so some already hold the minimum and most hold a little (what an airdrop tops up).
fn prospect_tokens(s: &Scenario) -> Vec<u64> {
    let mut rng = crate::fundamentals::Rng::new(s.seed, 5);
    let count = s.incentives.prospects_per_asset * s.assets.count;
    (0..count)
        .map(|_| {
            let u = rng.uniform().max(1e-12);
            (-u.ln() * s.incentives.prospect_tokens_mean * UNIT) as u64
        })
        .collect()
}

pub fn build(s: &Scenario) -> Result<(World, Population), SimError> {
    let mut world = World::new();
    let m = s.assets.count;
    let roster = roster(s);
    // Tokens handed to each agent of the roster at genesis.
    let mut prospect_balances = prospect_tokens(s).into_iter();
    let handed: Vec<u64> = roster
        .iter()
        .map(|(kind, _)| {
            let share = match kind {
                Kind::MarketMaker
                | Kind::Arbitrage
                | Kind::Noise
                | Kind::Momentum
                | Kind::Value => s.agents.token_share,
                Kind::Borrower => 1.0,
                Kind::Prospect => return prospect_balances.next().expect("one per prospect"),
                _ => 0.0,
            };
            (s.capital_of(*kind) as f64 * share / s.assets.nav * UNIT) as u64
        })
        .collect();
    let airdrop_budget = s
        .incentives
        .airdrop
        .as_ref()
        .filter(|_| s.incentives.enabled)
        .map(|d| (d.budget * UNIT) as u64)
        .unwrap_or(0);
    // Everything handed out (and the airdrop budget) comes from the genesis holder's supply.
    for i in 0..m {
        let needed: u64 = roster
            .iter()
            .zip(&handed)
            .filter(|((_, k), _)| *k == i)
            .map(|(_, tokens)| *tokens)
            .sum::<u64>()
            + airdrop_budget;
        let supply = match s.assets.supply {
            Some(supply) => {
                if needed > supply * WHOLE / 10 * 8 {
                    return Err(SimError::Scenario(format!(
                        "{}: the agents of market {i} start with {} tokens, more than 80% of assets.supply = {supply}; raise assets.supply (or leave it out) or lower agents.capital/token_share",
                        s.name,
                        needed / WHOLE,
                    )));
                }
                supply
            }
            None => (needed / WHOLE * 5 / 4).max(1_000),
        };
        world.create_market(
            i,
            s.assets.nav,
            supply,
            s.assets.intercept,
            s.assets.fee_bps,
        )?;
    }
    if s.incentives.enabled && s.incentives.referrer_share_bps > 0 {
        for i in 0..m {
            let addresses = world.markets[i].addresses;
            let authority = world.markets[i].authority.insecure_clone();
            world.setup(
                "referrer share",
                &[rwa_harness::market::set_market_params_ix(
                    &addresses,
                    &authority.pubkey(),
                    rwa_market::instructions::MarketParamsUpdate {
                        referrer_share_bps: Some(s.incentives.referrer_share_bps),
                        ..Default::default()
                    },
                )],
                &[&authority],
            )?;
        }
    }
    if s.primary.enabled {
        // A NAV counts as fresh for two publication intervals.
        let staleness = (s.slots_per_step * s.primary.publish_every * 2)
            .clamp(1, rwa_market::constants::MAX_NAV_STALENESS_SLOTS);
        for i in 0..m {
            let supply = world.market(i).supply;
            let funding =
                (supply as f64 / WHOLE as f64 * s.assets.nav * s.primary.redemption_funding * UNIT)
                    as u64;
            world.open_primary_market(i, &s.primary, s.assets.nav, funding, staleness)?;
        }
    }
    // Participants are allowed by the market authority, before a DAO takes that role over.
    let mut participant_keys: std::collections::BTreeMap<usize, Keypair> = Default::default();
    for (id, (kind, market)) in roster.iter().enumerate() {
        if *kind == Kind::ApArbitrage {
            let keypair = world.env.new_funded_keypair(10_000_000_000);
            let addresses = world.markets[*market].addresses;
            let authority = world.markets[*market].authority.insecure_clone();
            let payer = world.env.payer.pubkey();
            world.setup(
                "allow participant",
                &[rwa_harness::market::add_participant_ix(
                    &payer,
                    &authority.pubkey(),
                    &addresses,
                    &keypair.pubkey(),
                )],
                &[&authority],
            )?;
            participant_keys.insert(id, keypair);
        }
    }
    let lending = if s.lending.enabled {
        Some(create_lending(&mut world, s)?)
    } else {
        None
    };
    let (dao, governance_mint) = if s.dao.enabled {
        let (dao, mint) = create_dao(&mut world, s)?;
        (Some(dao), Some(mint))
    } else {
        (None, None)
    };
    let mut agents = Vec::with_capacity(roster.len());
    let mut staked: u64 = 0;
    for (id, (kind, market)) in roster.into_iter().enumerate() {
        let capital = capital_of(s, kind) * WHOLE;
        let keypair = match participant_keys.remove(&id) {
            Some(keypair) => keypair,
            None => world.env.new_funded_keypair(10_000_000_000),
        };
        let owner = keypair.pubkey();
        let quote_mint = world.quote_mint;
        let quote_account = world.token_account(&quote_mint, &owner);
        let mut rwa_accounts = vec![None; m];
        let holds = |i: usize| match kind {
            Kind::RiskParity => true,
            Kind::Keeper => world_collateral(s, i),
            Kind::Governance | Kind::Referrer => false,
            _ => i == market,
        };
        for (i, slot) in rwa_accounts.iter_mut().enumerate() {
            if holds(i) {
                let mint = world.markets[i].addresses.rwa_mint;
                *slot = Some(world.token_account(&mint, &owner));
            }
        }
        let quote = if kind == Kind::Borrower { 0 } else { capital };
        if quote > 0 {
            world.mint_quote(&quote_account, quote);
        }
        let tokens = handed[id];
        if tokens > 0 {
            let account = rwa_accounts[market].expect("trader holds its market");
            world.hand_out(market, &account, tokens)?;
        }
        let mut agent = Agent {
            id,
            kind,
            keypair,
            market,
            quote_account,
            rwa_accounts,
            maker: None,
            resting_mid: None,
            status: Status::Active,
            herding: false,
            start_wealth: 0.0,
            capital,
            forecast: 0.0,
            schedule: Default::default(),
            reestimations: 0,
            landed: 0,
            refused: 0,
            joined: false,
            referrer: None,
            dump_at: None,
            dump_landed: false,
            recruits: Vec::new(),
            staked: false,
            rebalances: Vec::new(),
        };
        match kind {
            Kind::MarketMaker => {
                let maker = MakerAddresses::derive(&world.markets[market].addresses.market, &owner);
                let trader = agent.trader(market).expect("maker holds its market");
                let addresses = world.markets[market].addresses;
                world.setup(
                    "open maker",
                    &[
                        rwa_harness::market::open_maker_ix(&addresses, &maker),
                        rwa_harness::market::maker_inventory_ix(
                            &addresses,
                            &maker,
                            &trader,
                            true,
                            tokens,
                            capital / 2,
                        ),
                    ],
                    &[&agent.keypair],
                )?;
                world
                    .token_accounts
                    .push((addresses.rwa_mint, maker.rwa_vault));
                world
                    .token_accounts
                    .push((addresses.quote_mint, maker.quote_vault));
                world.markets[market].makers.push(maker);
                agent.maker = Some(maker);
            }
            Kind::Borrower => {
                let lending = lending.as_ref().expect("borrowers only with lending");
                let addresses = world.markets[market].addresses;
                let account = agent.rwa_accounts[market].expect("borrower holds its market");
                world.setup(
                    "pledge collateral",
                    &[
                        rwa_harness::lending::init_obligation_ix(&owner, lending),
                        rwa_harness::lending::deposit_collateral_ix(
                            lending, &owner, &addresses, &account, tokens,
                        ),
                    ],
                    &[&agent.keypair],
                )?;
                world.borrowers.push((owner, lending.obligation(&owner)));
            }
            _ => {}
        }
        if stakes(s, kind) && capital > 0 {
            let dao = dao.as_ref().expect("stakers only with a DAO");
            let mint = governance_mint.expect("governance mint");
            let account = world.env.create_token_account(&mint, &owner);
            world.env.mint_to(&mint, &account, capital);
            world.setup(
                "stake",
                &[rwa_harness::dao::staking_ix(
                    dao,
                    &owner,
                    &account,
                    StakeAction::Stake(capital),
                )],
                &[&agent.keypair],
            )?;
            staked += capital;
            agent.staked = true;
        }
        agents.push(agent);
    }
    let council = match (
        &dao,
        s.shocks
            .iter()
            .any(|x| matches!(x, Shock::RuleChange { .. })),
    ) {
        (Some(dao), true) => {
            let keypair = world.env.new_funded_keypair(10_000_000_000);
            let mint = governance_mint.expect("governance mint");
            let account = world.env.create_token_account(&mint, &keypair.pubkey());
            // Three times everyone else's stake: the council passes what it proposes.
            let stake = staked * 3;
            world.env.mint_to(&mint, &account, stake);
            world.setup(
                "council stake",
                &[rwa_harness::dao::staking_ix(
                    dao,
                    &keypair.pubkey(),
                    &account,
                    StakeAction::Stake(stake),
                )],
                &[&keypair],
            )?;
            Some(keypair)
        }
        _ => None,
    };
    world.env.advance_slots(1);
    let population = Population { agents, council };
    Ok((world, population))
}

fn world_collateral(s: &Scenario, market: usize) -> bool {
    s.lending.enabled && market < rwa_lending::constants::MAX_COLLATERALS
}

fn create_lending(world: &mut World, s: &Scenario) -> Result<LendingAddresses, SimError> {
    let admin = world.env.payer.pubkey();
    let lending = LendingAddresses::derive(world.quote_mint, 1);
    let params = rwa_lending::instructions::LendingMarketParams {
        reserve_factor_bps: 1_000,
        sigma_p_cap: 0,
        slots_per_year: rwa_math::lending::DEFAULT_SLOTS_PER_YEAR,
        risk_authority: admin,
    };
    world.setup(
        "lending market",
        &[rwa_harness::lending::init_lending_market_ix(
            &admin, &lending, 1, params,
        )],
        &[],
    )?;
    let gamma = rwa_math::Decimal::from_f64(s.lending.gamma).map_err(|_| {
        SimError::Scenario(format!("lending.gamma {} out of range", s.lending.gamma))
    })?;
    for i in 0..s.assets.count.min(rwa_lending::constants::MAX_COLLATERALS) {
        let params = rwa_lending::state::CollateralParams {
            gamma: gamma.raw(),
            cr_min_bps: s.lending.cr_min_bps,
            liquidation_cr_bps: s.lending.liquidation_cr_bps,
            ..rwa_harness::lending::default_collateral_params()
        };
        let addresses = world.markets[i].addresses;
        world.setup(
            "add collateral",
            &[rwa_harness::lending::add_collateral_ix(
                &admin, &lending, &addresses, params,
            )],
            &[],
        )?;
        let c = lending.collateral(&addresses.market);
        world.markets[i].collateral = Some(c);
        world.token_accounts.push((addresses.rwa_mint, c.vault));
    }
    world
        .token_accounts
        .push((world.quote_mint, lending.liquidity_vault));
    let shares = world.env.create_token_account(&lending.share_mint, &admin);
    let amount = s.lending.liquidity * WHOLE;
    let genesis_quote = world.genesis_quote;
    world.mint_quote(&genesis_quote, amount);
    world.setup(
        "lending liquidity",
        &[rwa_harness::lending::liquidity_ix(
            &lending,
            &admin,
            &genesis_quote,
            &shares,
            true,
            amount,
        )],
        &[],
    )?;
    world.lending = Some(lending);
    Ok(lending)
}

fn create_dao(
    world: &mut World,
    s: &Scenario,
) -> Result<(DaoAddresses, rwa_harness::solana_address::Address), SimError> {
    let mint = world.env.create_mint(6);
    let dao = DaoAddresses::derive(mint, 1);
    let payer = world.env.payer.pubkey();
    let config = rule_dao::state::DaoConfig {
        voting_period_slots: s.dao.voting_period_slots,
        hold_up_slots: s.dao.hold_up_slots,
        unstake_cooldown_slots: 50,
        quorum_bps: 2_000,
        threshold_bps: 6_667,
        min_proposal_stake: 1,
    };
    world.setup(
        "rule DAO",
        &[rwa_harness::dao::create_dao_ix(
            &payer,
            &dao,
            1,
            config,
            initial_rules(s),
            payer,
        )],
        &[],
    )?;
    for i in 0..world.markets.len() {
        let addresses = world.markets[i].addresses;
        let authority = world.markets[i].authority.insecure_clone();
        world.setup(
            "attach rule set",
            &[rwa_harness::market::attach_rule_set_ix(
                &addresses,
                &authority.pubkey(),
                &dao.rule_set,
            )],
            &[&authority],
        )?;
        world.markets[i].addresses.rule_set = Some(dao.rule_set);
    }
    if let Some(mut lending) = world.lending {
        world.setup(
            "attach lending rule set",
            &[rwa_harness::lending::attach_lending_rule_set_ix(
                &lending,
                &payer,
                &dao.rule_set,
            )],
            &[],
        )?;
        lending.rule_set = Some(dao.rule_set);
        world.lending = Some(lending);
    }
    world.dao = Some(dao);
    Ok((dao, mint))
}

/// The rules at genesis: none (all zero) unless the scenario is the fixed-rules arm, which has
/// the breaker the governors would tighten to in force from the start.
fn initial_rules(s: &Scenario) -> rwa_rules::RuleValues {
    if s.dao.fixed_rules {
        rwa_harness::agent::proposed_rules(
            rwa_rules::RuleValues::default(),
            rwa_agent_core::strategies::governance::RuleProposal::Tighten,
            s.dao.baseline_breaker_bps,
        )
    } else {
        rwa_rules::RuleValues::default()
    }
}

/// Whether an agent of `kind` stakes its capital in the DAO and votes: governors always; every
/// other agent with a book when the scenario lets traders vote.
pub fn stakes(s: &Scenario, kind: Kind) -> bool {
    s.dao.enabled
        && match kind {
            Kind::Governance => true,
            Kind::Referrer | Kind::Prospect => false,
            _ => s.dao.traders_vote,
        }
}

/// The council proposes a `rule_change` shock's rules and votes for them; returns the proposal.
pub fn council_propose(
    world: &mut World,
    population: &Population,
    shock: &Shock,
) -> Result<Option<u64>, SimError> {
    let Shock::RuleChange {
        max_trade_tokens,
        circuit_breaker_bps,
        circuit_breaker_window_slots,
        circuit_breaker_halt_slots,
        ..
    } = shock
    else {
        return Ok(None);
    };
    let (Some(dao), Some(council)) = (world.dao, population.council.as_ref()) else {
        return Ok(None);
    };
    let mut rules = world.rules().unwrap_or_default();
    rules.max_trade_amount = max_trade_tokens * WHOLE;
    rules.circuit_breaker_bps = *circuit_breaker_bps;
    rules.circuit_breaker_window_slots = *circuit_breaker_window_slots;
    rules.circuit_breaker_halt_slots = *circuit_breaker_halt_slots;
    let state: rule_dao::state::Dao = world.decode(&dao.dao);
    let index = state.proposal_count;
    let me = council.pubkey();
    let council = council.insecure_clone();
    world.setup(
        "council proposal",
        &[
            rwa_harness::dao::propose_ix(
                &dao,
                &me,
                index,
                rule_dao::state::ProposalKind::Rules { rules },
                "rwa-sim://scenario/rule-change",
            ),
            rwa_harness::dao::vote_ix(&dao, &me, index, rule_dao::state::VoteChoice::Yes),
        ],
        &[&council],
    )?;
    world.proposals += 1;
    Ok(Some(index))
}

/// Executes the council's proposal once its hold-up has passed; true when done.
pub fn council_execute(world: &mut World, population: &Population, index: u64) -> bool {
    let (Some(dao), Some(council)) = (world.dao, population.council.as_ref()) else {
        return true;
    };
    let proposal: rule_dao::state::Proposal = world.decode(&dao.proposal(index));
    if proposal.state != rule_dao::state::ProposalState::Voting {
        return true; // a governor executed it already
    }
    let state: rule_dao::state::Dao = world.decode(&dao.dao);
    if world.slot() < proposal.voting_ends_slot + state.config.hold_up_slots + 1 {
        return false;
    }
    let council = council.insecure_clone();
    let execute = rwa_harness::dao::execute_ix(&dao, &council.pubkey(), index, None);
    if world.send(&[execute], &[&council]).is_ok() {
        world.rule_changes += 1;
    }
    true
}
