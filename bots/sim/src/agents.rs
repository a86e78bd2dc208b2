//! The agent population. Each agent is a keypair with token accounts and one of the daemon's
//! strategies from `rwa-agent-core` (market maker, arbitrage, risk parity, keeper, governance,
//! noise) or a directional trader (value, momentum, herding). The shell here does what the
//! daemon's shell does over RPC, over the in-process bank instead: build the view, call the pure
//! strategy, turn its intents into the same instructions (`rwa_harness::agent`), send them.

use rwa_agent_core::intent::{Intent, Side};
use rwa_agent_core::strategies::{
    ap_arbitrage, arbitrage, directional, governance, keeper, market_maker, noise, risk_parity,
};
use rwa_agent_core::view::RulesView;
use rwa_harness::agent::{instructions_for, market_view, Holder};
use rwa_harness::market::{MakerAddresses, TraderAccounts};
use rwa_harness::solana_address::Address;
use rwa_harness::solana_keypair::Keypair;
use rwa_harness::solana_signer::Signer;

use crate::world::{World, UNIT};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    MarketMaker,
    Arbitrage,
    Keeper,
    Governance,
    RiskParity,
    Borrower,
    Noise,
    Momentum,
    Value,
    ApArbitrage,
    Referrer,
    Prospect,
}

impl Kind {
    pub const ALL: [Kind; 12] = [
        Kind::MarketMaker,
        Kind::Arbitrage,
        Kind::Keeper,
        Kind::Governance,
        Kind::RiskParity,
        Kind::Borrower,
        Kind::Noise,
        Kind::Momentum,
        Kind::Value,
        Kind::ApArbitrage,
        Kind::Referrer,
        Kind::Prospect,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::MarketMaker => "market_maker",
            Kind::Arbitrage => "arbitrage",
            Kind::Keeper => "keeper",
            Kind::Governance => "governance",
            Kind::RiskParity => "risk_parity",
            Kind::Borrower => "borrower",
            Kind::Noise => "noise",
            Kind::Momentum => "momentum",
            Kind::Value => "value",
            Kind::ApArbitrage => "ap_arbitrage",
            Kind::Referrer => "referrer",
            Kind::Prospect => "prospect",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == text)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Active,
    Stopped,
    /// Trades away from NAV at full size every step.
    Adversarial,
}

pub struct Agent {
    pub id: usize,
    pub kind: Kind,
    pub keypair: Keypair,
    /// The market a single-market agent trades (risk parity, keepers and governors use all).
    pub market: usize,
    pub quote_account: Address,
    /// RWA token account per market (`None` where the agent never holds that token).
    pub rwa_accounts: Vec<Option<Address>>,
    pub maker: Option<MakerAddresses>,
    pub resting_mid: Option<f64>,
    pub status: Status,
    pub herding: bool,
    /// Wealth at the start (quote base units, marked at spot).
    pub start_wealth: f64,
    pub capital: u64,
    // strategy state
    pub forecast: f64,
    pub schedule: risk_parity::Schedule,
    /// Risk parity: how many times the targets were re-solved.
    pub reestimations: u64,
    pub landed: u64,
    pub refused: u64,
    /// A prospect: whether it trades yet, the referrer's quote account it names on every trade,
    /// and the step it sells everything after an airdrop (when it dumps).
    pub joined: bool,
    pub referrer: Option<Address>,
    pub dump_at: Option<u64>,
    pub dump_landed: bool,
    /// A referrer: the prospects it brought in, with the step each joined.
    pub recruits: Vec<(usize, u64)>,
    /// Holds stake in the rule DAO and votes on rules proposals by its own reward.
    pub staked: bool,
    /// A risk-parity investor: (step, risky weights right after) of every rebalance that traded.
    pub rebalances: Vec<(u64, Vec<f64>)>,
}

impl Agent {
    pub fn trader(&self, market: usize) -> Option<TraderAccounts> {
        Some(TraderAccounts {
            trader: self.keypair.pubkey(),
            rwa_account: self.rwa_accounts[market]?,
            quote_account: self.quote_account,
        })
    }
}

/// What every agent sees of the exogenous world this step (not on chain: NAVs are fundamentals
/// the value traders research, the price history is what any reader of the chain records).
pub struct Signals<'a> {
    pub step: u64,
    pub nav: &'a [f64],
    /// Spot price of every market at the end of every step so far.
    pub spot_history: &'a [Vec<f64>],
    /// The herd's signal: the average market's log return over the momentum lookback.
    pub herd: f64,
    /// sigma_system per sqrt(slot) over the scenario's window of every market's price (what the
    /// stability term of every voter's reward uses); None before two steps of history.
    pub sigma_system: Option<f64>,
    /// Each market's fair value as the value traders see it: the NAV they research, or the
    /// valuation model's V as of the end of the previous step (`agents.fair_value`).
    pub fair_value: &'a [f64],
}

/// Per-kind parameters scaled to the agent's capital.
pub struct Tuning {
    pub slots_per_step: u64,
    pub momentum_lookback: usize,
    pub dao: crate::scenario::Dao,
    pub lending: crate::scenario::Lending,
    pub risk_parity: crate::scenario::RiskParity,
    pub nav0: f64,
    pub fair_value: crate::scenario::FairValue,
}

impl Tuning {
    /// The scenario's settings every agent acts by (momentum looks back 5 steps).
    pub fn of(scenario: &crate::scenario::Scenario) -> Tuning {
        Tuning {
            slots_per_step: scenario.slots_per_step,
            momentum_lookback: 5,
            dao: scenario.dao.clone(),
            lending: scenario.lending.clone(),
            risk_parity: scenario.risk_parity.clone(),
            nav0: scenario.assets.nav,
            fair_value: scenario.agents.fair_value,
        }
    }

    /// RWA base units worth `share` of `capital` (quote base units) at the starting NAV (both
    /// tokens have the same decimals).
    fn tokens(&self, capital: u64, share: f64) -> u64 {
        (capital as f64 * share / self.nav0) as u64
    }

    /// A directional trader acting past `threshold`, at full size (`share` of capital) once
    /// the signal reaches `full_at`, never below 0.1% of capital.
    fn signal_trader(
        &self,
        capital: u64,
        share: f64,
        threshold: f64,
        full_at: f64,
    ) -> directional::DirectionalParams {
        let max_size = self.tokens(capital, share).max(1);
        directional::DirectionalParams {
            threshold,
            size_per_signal: max_size as f64 / (full_at - threshold),
            max_size,
            min_size: self.tokens(capital, 0.001).max(1),
            max_slippage: 0.05,
            max_impact: 0.5,
        }
    }

    /// Value traders: act on a 0.2% mispricing, a quarter of capital at 2.2%.
    fn directional(&self, capital: u64) -> directional::DirectionalParams {
        self.signal_trader(capital, 0.25, 0.002, 0.022)
    }

    /// Momentum and herding traders: act on a 1% move over the lookback, a tenth of capital at 5%.
    fn trend(&self, capital: u64) -> directional::DirectionalParams {
        self.signal_trader(capital, 0.1, 0.01, 0.05)
    }

    fn market_maker(&self, capital: u64) -> market_maker::MarketMakerParams {
        let inventory = self.tokens(capital, 0.5);
        market_maker::MarketMakerParams {
            quote_size: (inventory / 20).max(1),
            target_inventory: inventory,
            max_inventory: inventory * 4,
            quote_lifetime_slots: 5 * self.slots_per_step,
            ..market_maker::MarketMakerParams::default()
        }
    }
}

fn send(
    world: &mut World,
    agent: &mut Agent,
    instructions: &[rwa_harness::SolInstruction],
) -> bool {
    if instructions.is_empty() {
        return false;
    }
    match world.send(instructions, &[&agent.keypair]) {
        Ok(()) => {
            agent.landed += 1;
            true
        }
        Err(failure) => {
            agent.refused += 1;
            let reason = match failure.custom_code() {
                Some(code) => format!("{}: custom error {code}", agent.kind.name()),
                None => format!("{}: {:?}", agent.kind.name(), failure.error),
            };
            *world.refusals.entry(reason).or_insert(0) += 1;
            false
        }
    }
}

/// The rule set in force as a strategy sees it.
pub(crate) fn rules_view(world: &World) -> RulesView {
    world
        .rules()
        .map(|r| RulesView {
            max_trade_amount: r.max_trade_amount,
            max_quote_lifetime_slots: r.max_quote_lifetime_slots,
            max_quote_band_bps: r.max_quote_band_bps,
            circuit_breaker_bps: r.circuit_breaker_bps,
            circuit_breaker_halt_slots: r.circuit_breaker_halt_slots,
        })
        .unwrap_or_default()
}

/// One market's view for `agent`, as the daemon builds it (wallet or maker inventory).
fn view_for(
    world: &World,
    agent: &Agent,
    market: usize,
) -> Option<rwa_agent_core::view::MarketView> {
    let state = world.market(market);
    let oracle = world.oracle(market);
    let makers = world.makers(market);
    let holder = Holder {
        own_maker: agent.maker.map(|m| m.maker),
        wallet_rwa: agent.rwa_accounts[market]
            .map(|a| world.balance(&a))
            .unwrap_or(0),
        wallet_quote: world.balance(&agent.quote_account),
        resting_mid: agent.resting_mid,
    };
    market_view(
        world.slot(),
        &state,
        &oracle,
        &makers,
        holder,
        rules_view(world),
    )
    .ok()
}

/// Carries out one strategy intent through the shared instruction builders.
fn carry_out(world: &mut World, agent: &mut Agent, market: usize, intent: &Intent) -> bool {
    let Some(trader) = agent.trader(market) else {
        return false;
    };
    let venue = &world.markets[market];
    let mut instructions = instructions_for(
        intent,
        &venue.addresses,
        &trader,
        agent.maker,
        &venue.makers,
    );
    if let (Some(referrer), Intent::Swap { .. }) = (agent.referrer, intent) {
        instructions = instructions
            .into_iter()
            .map(|ix| rwa_harness::market::with_referrer(ix, referrer))
            .collect();
    }
    let landed = send(world, agent, &instructions);
    if landed {
        match intent {
            Intent::PostQuote {
                bid_price,
                ask_price,
                ..
            } => agent.resting_mid = Some((bid_price + ask_price) / 2.0),
            Intent::CancelQuote => agent.resting_mid = None,
            _ => {}
        }
    }
    landed
}

/// One step of one agent.
pub fn act(world: &mut World, agent: &mut Agent, signals: &Signals, tuning: &Tuning) {
    if agent.status == Status::Stopped {
        return;
    }
    // Every staked agent governs by its own reward (realised profit, sigma_system): it votes on
    // open rules proposals, executes what passed, and proposes what its reward calls for.
    if agent.staked && agent.kind != Kind::Governance && agent.status == Status::Active {
        govern(world, agent, signals, tuning);
    }
    let m = agent.market;
    if agent.status == Status::Adversarial {
        if let Some(view) = view_for(world, agent, m) {
            // Push the price away from NAV: buy above it, sell below it, at full size.
            let away = -directional::log_return(view.spot, signals.nav[m]);
            let p = directional::DirectionalParams {
                threshold: 0.0,
                size_per_signal: f64::MAX,
                ..tuning.directional(agent.capital * 4)
            };
            let signal = if away == 0.0 { 1.0 } else { away.signum() };
            for intent in directional::step(&view, signal, &p) {
                carry_out(world, agent, m, &intent);
            }
        }
        return;
    }
    match agent.kind {
        Kind::MarketMaker => {
            let Some(mut view) = view_for(world, agent, m) else {
                return;
            };
            if tuning.fair_value == crate::scenario::FairValue::Model {
                // The maker's reservation price is anchored on its fair value: V instead of
                // the TWAP.
                view.twap = signals.fair_value[m];
            }
            for intent in market_maker::step(&view, &tuning.market_maker(agent.capital)) {
                carry_out(world, agent, m, &intent);
            }
        }
        Kind::Arbitrage => {
            let Some(view) = view_for(world, agent, m) else {
                return;
            };
            for intent in arbitrage::step(&view, &arbitrage::ArbitrageParams::default()) {
                carry_out(world, agent, m, &intent);
            }
        }
        Kind::ApArbitrage => {
            let Some(mut view) = view_for(world, agent, m) else {
                return;
            };
            view.primary = world.primary_view(m);
            for intent in ap_arbitrage::step(&view, &ap_arbitrage::ApParams::default()) {
                carry_out(world, agent, m, &intent);
            }
        }
        Kind::Noise | Kind::Momentum | Kind::Value => {
            let Some(view) = view_for(world, agent, m) else {
                return;
            };
            let intents = if agent.herding {
                directional::step(&view, signals.herd, &tuning.trend(agent.capital))
            } else {
                match agent.kind {
                    Kind::Noise => noise::step(&view, &noise_params(agent, tuning)),
                    Kind::Momentum => {
                        let history = signals.spot_history;
                        let signal = if history.len() > tuning.momentum_lookback {
                            let now = history[history.len() - 1][m];
                            let then = history[history.len() - 1 - tuning.momentum_lookback][m];
                            directional::log_return(then, now)
                        } else {
                            0.0
                        };
                        directional::step(&view, signal, &tuning.trend(agent.capital))
                    }
                    _ => directional::step(
                        &view,
                        directional::log_return(view.spot, signals.fair_value[m]),
                        &tuning.directional(agent.capital),
                    ),
                }
            };
            for intent in intents {
                carry_out(world, agent, m, &intent);
            }
        }
        Kind::Prospect => prospect(world, agent, signals.step, tuning),
        // Referrers recruit between steps (`incentives::recruit`, it needs the prospects).
        Kind::Referrer => {}
        Kind::RiskParity => rebalance(world, agent, signals, tuning),
        Kind::Keeper => keep(world, agent, tuning),
        Kind::Governance => govern(world, agent, signals, tuning),
        Kind::Borrower => borrow(world, agent, tuning, signals.step),
    }
}

/// The noise trader's parameters for an agent of `capital` (prospects trade the same way).
fn noise_params(agent: &Agent, tuning: &Tuning) -> noise::NoiseParams {
    noise::NoiseParams {
        seed: agent.id as u64 * 7919 + 17,
        trade_probability: 0.5,
        max_size: tuning.tokens(agent.capital, 0.02).max(1),
        max_slippage: 0.05,
    }
}

/// Expected quote turnover per step of a noise trader of `capital` whole quote tokens (trades
/// half the steps, uniform size up to 2% of capital): what a referrer expects of a recruit
/// before it has seen one trade.
pub fn expected_noise_turnover(capital: f64) -> f64 {
    0.5 * 0.01 * capital
}

/// A prospect: idle until it joins; then a noise trader naming its referrer on every trade;
/// after an airdrop that made it a holder, it may sell everything at its dump step.
fn prospect(world: &mut World, agent: &mut Agent, step: u64, tuning: &Tuning) {
    let m = agent.market;
    if agent.dump_at == Some(step) {
        agent.dump_at = None;
        let Some(view) = view_for(world, agent, m) else {
            return;
        };
        if view.position.rwa > 0 {
            let dump = Intent::Swap {
                side: Side::Sell,
                amount: view.position.rwa,
                limit_quote: 0,
            };
            agent.dump_landed = carry_out(world, agent, m, &dump);
        }
        return;
    }
    if !agent.joined {
        return;
    }
    let Some(view) = view_for(world, agent, m) else {
        return;
    };
    for intent in noise::step(&view, &noise_params(agent, tuning)) {
        carry_out(world, agent, m, &intent);
    }
}

/// The risk-parity investor: the daemon's `rebalance` over the bank (ERC targets re-solved on
/// the schedule, legs bounded by the curve math, sells first).
fn rebalance(world: &mut World, agent: &mut Agent, signals: &Signals, tuning: &Tuning) {
    let settings = &tuning.risk_parity;
    let n = world.markets.len();
    if signals.spot_history.len() < 20 {
        return; // not enough history to estimate a covariance
    }
    let window = signals.spot_history.len().min(settings.window_steps);
    let history = &signals.spot_history[signals.spot_history.len() - window..];
    let price_history: Vec<Vec<f64>> = (0..n)
        .map(|i| history.iter().map(|row| row[i]).collect())
        .collect();
    let mut prices = Vec::with_capacity(n);
    let mut holdings = Vec::with_capacity(n);
    let mut curves = Vec::with_capacity(n);
    let mut costs = Vec::with_capacity(n);
    for i in 0..n {
        let state = world.market(i);
        let Ok(curve) = state.curve_market() else {
            return;
        };
        let Ok(spot) = state.spot_price() else {
            return;
        };
        prices.push(spot.to_f64());
        holdings.push(
            agent.rwa_accounts[i]
                .map(|a| world.balance(&a))
                .unwrap_or(0) as f64
                / UNIT,
        );
        costs.push(state.fee_bps as f64 / 10_000.0 + 0.001);
        curves.push((curve, state.supply, state.fee_bps));
    }
    let view = risk_parity::PortfolioView {
        slot: world.slot(),
        price_history,
        prices,
        holdings,
        cash: world.balance(&agent.quote_account) as f64 / UNIT,
        caps: vec![settings.cap; n],
        costs,
        last_rebalance_slot: agent.schedule.last_rebalance_slot,
        held_targets: agent.schedule.held_targets.clone(),
    };
    let every = settings.rebalance_every_steps;
    let params = risk_parity::RiskParityParams {
        drift_band: settings.drift_band,
        rebalance_every_slots: every * tuning.slots_per_step,
        // The covariance is per step: tracking volatility over the rebalancing horizon is
        // sqrt(horizon in steps) times the per-step figure.
        risk_value: (every as f64).sqrt(),
    };
    let Some(mut plan) = risk_parity::plan(&view, &params) else {
        return;
    };
    let slot = world.slot();
    agent.schedule.adopt(&plan, slot);
    agent.reestimations += plan.reestimated as u64;
    plan.trades.sort_by_key(|t| t.side == Side::Buy);
    let mut all_landed = true;
    for trade in &plan.trades {
        let amount = (trade.amount * UNIT).floor() as u64;
        let (curve, supply, fee_bps) = &curves[trade.asset];
        let Some(trader) = agent.trader(trade.asset) else {
            continue;
        };
        let cash = world.balance(&agent.quote_account);
        let Some((side, kind)) =
            rwa_harness::agent::rebalance_leg(curve, *supply, *fee_bps, trade.side, amount, cash)
        else {
            continue;
        };
        let ix = rwa_harness::market::swap_ix(
            &world.markets[trade.asset].addresses,
            &trader,
            side,
            kind,
            &[],
        );
        all_landed &= send(world, agent, &[ix]);
    }
    agent.schedule.settle(&plan, all_landed, slot);
    if !plan.trades.is_empty() {
        // The book's risky weights right after the rebalance, for the RC spread at rebalances.
        let spots = crate::metrics::spots(world);
        let values: Vec<f64> = (0..n)
            .map(|i| {
                agent.rwa_accounts[i]
                    .map(|a| world.balance(&a) as f64 * spots[i])
                    .unwrap_or(0.0)
            })
            .collect();
        let total: f64 = values.iter().sum();
        if total > 0.0 {
            agent
                .rebalances
                .push((signals.step, values.iter().map(|v| v / total).collect()));
        }
    }
}

/// The keeper: refreshes stale market oracles and liquidates unhealthy obligations (the
/// daemon's keeper logic; the liquidation plan is `keeper::liquidations`).
fn keep(world: &mut World, agent: &mut Agent, tuning: &Tuning) {
    let slot = world.slot();
    for i in 0..world.markets.len() {
        let age = world
            .oracle(i)
            .latest()
            .map(|o| slot.saturating_sub(o.slot))
            .unwrap_or(u64::MAX);
        if age >= 3 * tuning.slots_per_step {
            let ix = rwa_harness::market::update_oracle_ix(&world.markets[i].addresses);
            send(world, agent, &[ix]);
        }
    }
    let Some(lending) = world.lending else {
        return;
    };
    let collateral_markets: Vec<usize> = (0..world.markets.len())
        .filter(|&i| world.markets[i].collateral.is_some())
        .collect();
    let config_addresses: Vec<Address> = (0..world.markets.len())
        .map(|i| {
            world.markets[i]
                .collateral
                .map(|c| c.config)
                .unwrap_or_default()
        })
        .collect();
    let config_address = |i: usize| config_addresses[i];
    let configs: Vec<rwa_lending::state::CollateralConfig> = collateral_markets
        .iter()
        .map(|&i| world.decode(&config_address(i)))
        .collect();
    let infos: Vec<keeper::CollateralInfo> = collateral_markets
        .iter()
        .zip(&configs)
        .map(|(&i, c)| {
            let twap = world.oracle(i).twap(slot).map(|p| p.to_f64());
            rwa_harness::agent::collateral_info(c, twap)
        })
        .collect();
    let obligations: Vec<(Address, rwa_lending::state::Obligation)> = world
        .borrowers
        .iter()
        .filter_map(|(owner, obligation)| world.try_decode(obligation).map(|o| (*owner, o)))
        .collect();
    let watched: Vec<Address> = collateral_markets
        .iter()
        .map(|&i| config_address(i))
        .collect();
    let views: Vec<keeper::ObligationView> = obligations
        .iter()
        .map(|(_, o)| rwa_harness::agent::obligation_view(o, &watched))
        .collect();
    let available = world.balance(&agent.quote_account);
    let plans = keeper::liquidations(
        &views,
        &infos,
        crate::world::DECIMALS,
        available,
        &keeper::KeeperParams::default(),
    );
    for plan in plans {
        let (owner, obligation) = &obligations[plan.obligation];
        let held: Vec<rwa_harness::market::MarketAddresses> = obligation
            .active()
            .filter_map(|entry| {
                collateral_markets
                    .iter()
                    .find(|&&i| config_address(i) == entry.config)
                    .map(|&i| world.markets[i].addresses)
            })
            .collect();
        let seized = collateral_markets[plan.collateral];
        let Some(rwa_account) = agent.rwa_accounts[seized] else {
            continue;
        };
        let mut instructions = rwa_harness::lending::refresh_all(&lending, owner, &held);
        instructions.push(rwa_harness::lending::liquidate_ix(
            &lending,
            &agent.keypair.pubkey(),
            owner,
            &world.markets[seized].addresses,
            &agent.quote_account,
            &rwa_account,
            plan.repay,
            1,
            &held,
        ));
        if send(world, agent, &instructions) {
            world.liquidations += 1;
        }
    }
}

/// The governor: the daemon's `govern` over the bank. Forecasts volatility from the markets'
/// oracles, executes what passed, votes on open proposals by its reward, proposes tighter or
/// looser breakers when the forecast crosses its thresholds.
/// The reward parameters of a voter: the scenario's alpha and thresholds, and the agent's own
/// realised profit rate over a voting period (zero for a governor: it holds no book).
fn voter_params(
    world: &World,
    agent: &Agent,
    signals: &Signals,
    tuning: &Tuning,
) -> governance::GovernanceParams {
    let profit_rate = if agent.kind == Kind::Governance {
        0.0
    } else {
        let spots = crate::metrics::spots(world);
        let horizon_steps =
            tuning.dao.voting_period_slots as f64 / tuning.slots_per_step.max(1) as f64;
        governance::realised_profit_rate(
            agent.start_wealth,
            wealth(world, agent, &spots),
            signals.step,
            horizon_steps,
        )
    };
    governance::GovernanceParams {
        alpha: tuning.dao.alpha,
        tighten_above: tuning.dao.tighten_above,
        relax_below: tuning.dao.relax_below,
        profit_rate,
        ..governance::GovernanceParams::default()
    }
}

fn govern(world: &mut World, agent: &mut Agent, signals: &Signals, tuning: &Tuning) {
    use rule_dao::state::{Dao, Proposal, ProposalKind, ProposalState, VoteChoice};
    let Some(addresses) = world.dao else {
        return;
    };
    let params = voter_params(world, agent, signals, tuning);
    // The forecast is sigma_system over the recent window of every market's price (the seeds'
    // definition), not one market's oracle; nothing to act on before there is history.
    let Some(sigma) = signals.sigma_system else {
        return;
    };
    agent.forecast = sigma;
    let dao: Dao = world.decode(&addresses.dao);
    let Some(rules) = world.rules() else {
        return;
    };
    let slot = world.slot();
    let baseline = tuning.dao.baseline_breaker_bps;
    let me = agent.keypair.pubkey();
    let position = addresses.position(&me);
    let mut open = Vec::new();
    for index in 0..dao.proposal_count {
        let address = addresses.proposal(index);
        let Some(proposal) = world.try_decode::<Proposal>(&address) else {
            continue;
        };
        if proposal.state != ProposalState::Voting || proposal.config_version != dao.config_version
        {
            continue;
        }
        open.push(governance::OpenProposal {
            index,
            voting_ends_slot: proposal.voting_ends_slot,
            breaker: match &proposal.kind {
                ProposalKind::Rules { rules } => Some(rwa_harness::agent::breaker_of(rules)),
                _ => None,
            },
            voted: world
                .env
                .account(&addresses.vote_record(&address, &position))
                .is_some(),
        });
    }
    let tight = rules.circuit_breaker_bps != 0 && rules.circuit_breaker_bps < baseline;
    let actions = governance::decide(
        &params,
        agent.forecast,
        rwa_harness::agent::breaker_of(&rules),
        tight,
        &open,
        slot,
        dao.config.hold_up_slots,
        |proposal| {
            rwa_harness::agent::breaker_of(&rwa_harness::agent::proposed_rules(
                rules, proposal, baseline,
            ))
        },
    );
    for action in actions {
        match action {
            governance::GovernanceAction::Execute { index } => {
                if world.failed_executions.contains(&index) {
                    continue;
                }
                let execute = rwa_harness::dao::execute_ix(&addresses, &me, index, None);
                if send(world, agent, &[execute]) {
                    world.rule_changes += 1;
                } else {
                    // defeated (or otherwise not executable): nobody retries it
                    world.failed_executions.push(index);
                }
            }
            governance::GovernanceAction::Vote { index, vote } => {
                let choice = match vote {
                    governance::Vote::Yes => VoteChoice::Yes,
                    governance::Vote::No => VoteChoice::No,
                    governance::Vote::Abstain => VoteChoice::Abstain,
                };
                send(
                    world,
                    agent,
                    &[rwa_harness::dao::vote_ix(&addresses, &me, index, choice)],
                );
            }
            governance::GovernanceAction::Propose { proposal } => {
                let proposed = rwa_harness::agent::proposed_rules(rules, proposal, baseline);
                let index = dao.proposal_count;
                let propose = rwa_harness::dao::propose_ix(
                    &addresses,
                    &me,
                    index,
                    ProposalKind::Rules { rules: proposed },
                    "rwa-sim://governance/volatility-forecast",
                );
                if send(world, agent, &[propose]) {
                    world.proposals += 1;
                    send(
                        world,
                        agent,
                        &[rwa_harness::dao::vote_ix(
                            &addresses,
                            &me,
                            index,
                            VoteChoice::Yes,
                        )],
                    );
                }
            }
        }
    }
}

/// The borrower: pledged its tokens at genesis. After a warm-up (so the oracle has a volatility
/// estimate) and then every `relever_every_steps` it refreshes its obligation and moves its debt
/// back to `borrow_fraction` of its borrow limit: borrowing more when under, repaying from the
/// cash it holds when the limit fell below its debt. With gamma > 0 the limit tracks volatility,
/// so these periodic updates are what the research's "daily updates" claim is about.
fn borrow(world: &mut World, agent: &mut Agent, tuning: &Tuning, step: u64) {
    let l = &tuning.lending;
    if step < l.warmup_steps
        || !(step - l.warmup_steps).is_multiple_of(l.relever_every_steps.max(1))
    {
        return;
    }
    let Some(lending) = world.lending else {
        return;
    };
    let me = agent.keypair.pubkey();
    let Some(obligation_address) = world
        .borrowers
        .iter()
        .find(|(o, _)| *o == me)
        .map(|(_, a)| *a)
    else {
        return;
    };
    let markets = vec![world.markets[agent.market].addresses];
    let refresh = rwa_harness::lending::refresh_all(&lending, &me, &markets);
    if !send(world, agent, &refresh) {
        return;
    }
    let obligation: rwa_lending::state::Obligation = world.decode(&obligation_address);
    let target = (obligation.borrow_limit as f64 * l.borrow_fraction) as u64;
    if obligation.debt < target.saturating_mul(9) / 10 {
        let mut instructions = refresh;
        instructions.push(rwa_harness::lending::borrow_ix(
            &lending,
            &me,
            &agent.quote_account,
            target - obligation.debt,
            &markets,
        ));
        send(world, agent, &instructions);
    } else if obligation.debt > obligation.borrow_limit {
        let cash = world.balance(&agent.quote_account);
        let repay = (obligation.debt - target).min(cash);
        if repay > 0 {
            let ix =
                rwa_harness::lending::repay_ix(&lending, &me, &me, &agent.quote_account, repay);
            send(world, agent, &[ix]);
        }
    }
}

/// Quote value of everything the agent holds, marked at spot: wallet, maker escrow and (for
/// borrowers) pledged collateral less debt.
pub fn wealth(world: &World, agent: &Agent, spots: &[f64]) -> f64 {
    let mut value = world.balance(&agent.quote_account) as f64;
    for (i, account) in agent.rwa_accounts.iter().enumerate() {
        if let Some(account) = account {
            value += world.balance(account) as f64 * spots[i];
        }
    }
    if let Some(maker) = agent.maker {
        if let Some(state) = world.try_decode::<rwa_market::state::Maker>(&maker.maker) {
            value +=
                state.quote_inventory as f64 + state.rwa_inventory as f64 * spots[agent.market];
        }
    }
    if agent.kind == Kind::Borrower {
        let me = agent.keypair.pubkey();
        let obligation = world
            .borrowers
            .iter()
            .find(|(owner, _)| *owner == me)
            .map(|(_, o)| o);
        if let Some(o) =
            obligation.and_then(|o| world.try_decode::<rwa_lending::state::Obligation>(o))
        {
            for entry in o.active() {
                if let Some(i) = world.market_of_collateral(&entry.config) {
                    value += entry.amount as f64 * spots[i];
                }
            }
            value -= o.debt as f64;
        }
    }
    value / UNIT
}
