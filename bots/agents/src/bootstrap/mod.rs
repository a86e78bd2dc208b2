//! `rwa-agents bootstrap`: creates the markets, the lending market and the rule DAO described in a
//! TOML file on any cluster (after `anchor deploy`, or on the embedded localnet). Idempotent and
//! crash-safe: every keypair a step needs is written to the state file before the step is sent, and
//! each step is skipped when its account already exists, so a rerun neither duplicates nor loses
//! anything.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use rwa_client::dao::*;
use rwa_client::lending::*;
use rwa_client::market::*;
use rwa_client::solana_address::Address;
use rwa_client::solana_keypair::Keypair;
use rwa_client::solana_signer::Signer;
use rwa_client::solana_transaction::Transaction;
use rwa_client::SolInstruction as Instruction;
use rwa_math::Decimal;
use serde::{Deserialize, Serialize};
use solana_rpc_client::nonblocking::rpc_client::RpcClient;

use crate::curve_spec::parse_curve;

mod config;
mod state;

pub use config::*;
pub use state::*;

fn parse_address(text: &str, what: &str) -> Result<Address> {
    text.parse::<Address>()
        .map_err(|_| anyhow!("{what} {text:?} is not a base58 address"))
}

fn decimal(text: &str, what: &str) -> Result<Decimal> {
    text.parse::<Decimal>()
        .map_err(|e| anyhow!("{what} {text:?}: {e}"))
}

fn keypair(bytes: &[u8]) -> Result<Keypair> {
    Keypair::try_from(bytes).map_err(|e| anyhow!("stored keypair is invalid: {e}"))
}

struct Session<'a> {
    rpc: &'a RpcClient,
    payer: &'a Keypair,
    state_path: PathBuf,
    state: BootstrapState,
}

impl Session<'_> {
    fn save(&self) -> Result<()> {
        let temporary = self.state_path.with_extension("tmp");
        write_private(&temporary, &serde_json::to_vec_pretty(&self.state)?)
            .with_context(|| format!("writing {}", temporary.display()))?;
        std::fs::rename(&temporary, &self.state_path)
            .with_context(|| format!("writing {}", self.state_path.display()))
    }

    async fn exists(&self, address: &Address) -> Result<bool> {
        Ok(self
            .rpc
            .get_account_with_commitment(address, self.rpc.commitment())
            .await?
            .value
            .is_some())
    }

    async fn send(&self, instructions: &[Instruction], signers: &[&Keypair]) -> Result<()> {
        let mut keys: Vec<&Keypair> = vec![self.payer];
        keys.extend(signers.iter().filter(|k| k.pubkey() != self.payer.pubkey()));
        let blockhash = self.rpc.get_latest_blockhash().await?;
        let transaction = Transaction::new_signed_with_payer(
            instructions,
            Some(&self.payer.pubkey()),
            &keys,
            blockhash,
        );
        crate::chain::send_and_confirm(self.rpc, &transaction)
            .await
            .map(|_| ())
    }

    async fn token_account(&self, mint: &Address, owner: &Address) -> Result<Address> {
        let account = Keypair::new();
        let instructions = crate::chain::new_token_account_ixs(
            self.rpc,
            &self.payer.pubkey(),
            &account.pubkey(),
            mint,
            owner,
        )
        .await?;
        self.send(&instructions, &[&account]).await?;
        Ok(account.pubkey())
    }
}

/// Runs the bootstrap; returns the state (also written to `state_path`).
pub async fn run(
    rpc: &RpcClient,
    payer: &Keypair,
    config: &BootstrapConfig,
    state_path: &Path,
    other_cluster: OtherClusterState,
) -> Result<BootstrapState> {
    let genesis = rpc
        .get_genesis_hash()
        .await
        .context("reading the cluster's genesis hash")?
        .to_string();
    let mut state: BootstrapState = match std::fs::read(state_path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a bootstrap state file", state_path.display()))?,
        Err(_) => BootstrapState::default(),
    };
    if !state.is_empty() {
        // Files written before the genesis hash was recorded: the quote mint (created first)
        // must exist here, or the file belongs to another cluster.
        let recorded = match &state.genesis_hash {
            Some(recorded) => Some(recorded.clone()),
            None => match &state.quote_mint {
                Some(mint) => {
                    let mint = parse_address(mint, "state quote_mint")?;
                    let present = rpc
                        .get_account_with_commitment(&mint, rpc.commitment())
                        .await?
                        .value
                        .is_some();
                    (!present).then(|| "unknown (an earlier cluster)".to_string())
                }
                None => None,
            },
        };
        if let Some(recorded) = recorded.filter(|recorded| *recorded != genesis) {
            match other_cluster {
                OtherClusterState::Refuse => bail!(
                    "{} was written for another cluster (genesis {recorded}; this cluster's genesis is {genesis}): \
                     its accounts do not exist here. Move it away or pass another --out, then rerun.",
                    state_path.display()
                ),
                OtherClusterState::SetAside => {
                    let prefix: String = recorded.chars().filter(char::is_ascii_alphanumeric).take(8).collect();
                    let aside = state_path.with_extension(format!("json.stale-{}", if prefix.is_empty() { "old".into() } else { prefix }));
                    std::fs::rename(state_path, &aside).with_context(|| {
                        format!("moving {} aside to {}", state_path.display(), aside.display())
                    })?;
                    println!(
                        "{} belonged to an earlier cluster (genesis {recorded}); moved it to {} and starting fresh",
                        state_path.display(),
                        aside.display()
                    );
                    state = BootstrapState::default();
                }
            }
        }
    }
    state.genesis_hash = Some(genesis);
    let mut session = Session {
        rpc,
        payer,
        state_path: state_path.to_path_buf(),
        state,
    };

    // quote mint
    let quote_mint = match (&config.quote.mint, &session.state.quote_mint) {
        (Some(mint), _) => parse_address(mint, "quote.mint")?,
        (None, Some(mint)) if session.exists(&parse_address(mint, "quote mint")?).await? => {
            parse_address(mint, "quote mint")?
        }
        (None, _) => {
            let mint = match &session.state.quote_mint_keypair {
                Some(bytes) => keypair(bytes)?,
                None => {
                    let mint = Keypair::new();
                    session.state.quote_mint_keypair = Some(mint.to_bytes().to_vec());
                    session.state.quote_mint = Some(mint.pubkey().to_string());
                    session.save()?;
                    mint
                }
            };
            if !session.exists(&mint.pubkey()).await? {
                use rwa_client::solana_program_pack::Pack;
                let space = anchor_spl::token::spl_token::state::Mint::LEN;
                let rent = rpc.get_minimum_balance_for_rent_exemption(space).await?;
                let spl = anchor_spl::token::spl_token::ID;
                session
                    .send(
                        &[
                            rwa_client::solana_instruction_compat::create_account(
                                &payer.pubkey(),
                                &mint.pubkey(),
                                rent,
                                space as u64,
                                &spl,
                            ),
                            anchor_spl::token::spl_token::instruction::initialize_mint2(
                                &spl,
                                &mint.pubkey(),
                                &payer.pubkey(),
                                None,
                                config.quote.decimals,
                            )?,
                        ],
                        &[&mint],
                    )
                    .await?;
                println!("created quote mint {}", mint.pubkey());
            }
            mint.pubkey()
        }
    };
    session.state.quote_mint = Some(quote_mint.to_string());
    session.save()?;
    let payer_quote = match &session.state.payer_quote_account {
        Some(existing) => Some(parse_address(existing, "payer quote account")?),
        None if config.quote.mint.is_none() && config.quote.mint_to_payer > 0 => {
            let account = session.token_account(&quote_mint, &payer.pubkey()).await?;
            let spl = anchor_spl::token::spl_token::ID;
            session
                .send(
                    &[anchor_spl::token::spl_token::instruction::mint_to(
                        &spl,
                        &quote_mint,
                        &account,
                        &payer.pubkey(),
                        &[],
                        config.quote.mint_to_payer,
                    )?],
                    &[],
                )
                .await?;
            session.state.payer_quote_account = Some(account.to_string());
            session.save()?;
            Some(account)
        }
        None => None,
    };

    // markets
    let mut market_addresses: BTreeMap<String, MarketAddresses> = BTreeMap::new();
    for market in &config.markets {
        let curve = parse_curve(&serde_json::to_string(&market.curve)?)
            .with_context(|| format!("market {}", market.symbol))?;
        let entry = match session.state.markets.get(&market.symbol) {
            Some(entry) => entry.clone(),
            None => {
                let (rwa_mint, authority) = (Keypair::new(), Keypair::new());
                let addresses = MarketAddresses::derive(rwa_mint.pubkey(), quote_mint);
                let entry = MarketState {
                    market: addresses.market.to_string(),
                    rwa_mint: rwa_mint.pubkey().to_string(),
                    oracle: addresses.oracle.to_string(),
                    rwa_mint_keypair: rwa_mint.to_bytes().to_vec(),
                    authority_keypair: authority.to_bytes().to_vec(),
                    attached: false,
                };
                session
                    .state
                    .markets
                    .insert(market.symbol.clone(), entry.clone());
                session.save()?;
                entry
            }
        };
        let rwa_mint = keypair(&entry.rwa_mint_keypair)?;
        let authority = keypair(&entry.authority_keypair)?;
        let addresses = MarketAddresses::derive(rwa_mint.pubkey(), quote_mint);
        if !session.exists(&addresses.market).await? {
            let mut args = market_args(curve, market.rwa_decimals, market.max_supply);
            args.fee_bps = market.fee_bps;
            args.twap_window_slots = market.twap_window_slots;
            args.ewma_lambda_bps = market.ewma_lambda_bps;
            args.name = market.name.clone();
            args.symbol = market.symbol.clone();
            args.uri = market.uri.clone();
            session
                .send(
                    &[initialize_market_ix(
                        &payer.pubkey(),
                        &authority.pubkey(),
                        &addresses,
                        args,
                    )],
                    &[&rwa_mint, &authority],
                )
                .await?;
            println!("created market {} {}", market.symbol, addresses.market);
            if market.seed_buy > 0 {
                let payer_quote = payer_quote.ok_or_else(|| anyhow!("seed_buy needs quote tokens: set quote.mint_to_payer (a mint created here)"))?;
                let rwa_account = session
                    .token_account(&addresses.rwa_mint, &payer.pubkey())
                    .await?;
                let trader = TraderAccounts {
                    trader: payer.pubkey(),
                    rwa_account,
                    quote_account: payer_quote,
                };
                session
                    .send(
                        &[trade_ix(
                            &addresses,
                            &trader,
                            TradeKind::BuyExactOut {
                                amount: market.seed_buy,
                                max_quote_in: u64::MAX,
                            },
                        )],
                        &[],
                    )
                    .await?;
            }
        } else {
            println!("market {} exists: {}", market.symbol, addresses.market);
        }
        if let Some(primary) = &market.primary {
            open_primary_market(
                &mut session,
                payer,
                &authority,
                &addresses,
                primary,
                payer_quote,
            )
            .await
            .with_context(|| format!("market {} primary market", market.symbol))?;
        }
        market_addresses.insert(market.symbol.clone(), addresses);
    }

    // lending
    if let Some(lending) = &config.lending {
        let a = LendingAddresses::derive(quote_mint, lending.id);
        if !session.exists(&a.lending_market).await? {
            let params = rwa_lending::instructions::LendingMarketParams {
                reserve_factor_bps: lending.reserve_factor_bps,
                sigma_p_cap: decimal(&lending.sigma_p_cap, "lending.sigma_p_cap")?.raw(),
                slots_per_year: rwa_math::lending::DEFAULT_SLOTS_PER_YEAR,
                risk_authority: payer.pubkey(),
            };
            session
                .send(
                    &[init_lending_market_ix(
                        &payer.pubkey(),
                        &a,
                        lending.id,
                        params,
                    )],
                    &[],
                )
                .await?;
            println!("created lending market {}", a.lending_market);
            if lending.initial_liquidity > 0 {
                let payer_quote = payer_quote.ok_or_else(|| {
                    anyhow!("initial_liquidity needs quote tokens: set quote.mint_to_payer")
                })?;
                let shares = session
                    .token_account(&a.share_mint, &payer.pubkey())
                    .await?;
                session
                    .send(
                        &[liquidity_ix(
                            &a,
                            &payer.pubkey(),
                            &payer_quote,
                            &shares,
                            true,
                            lending.initial_liquidity,
                        )],
                        &[],
                    )
                    .await?;
            }
        }
        let c = &lending.collateral;
        let params = rwa_lending::state::CollateralParams {
            r0: decimal(&c.r0, "collateral.r0")?.raw(),
            beta: decimal(&c.beta, "collateral.beta")?.raw(),
            gamma: decimal(&c.gamma, "collateral.gamma")?.raw(),
            cr_min_bps: c.cr_min_bps,
            liquidation_cr_bps: c.liquidation_cr_bps,
            liquidation_bonus_bps: c.liquidation_bonus_bps,
            close_factor_bps: c.close_factor_bps,
            max_staleness_slots: c.max_staleness_slots,
            max_confidence_bps: c.max_confidence_bps,
            pyth_feed_id: [0; 32],
            pyth_max_age_secs: c.pyth_max_age_secs,
            max_divergence_bps: c.max_divergence_bps,
            max_sigma: decimal(&c.max_sigma, "collateral.max_sigma")?.raw(),
            max_rate: decimal(&c.max_rate, "collateral.max_rate")?.raw(),
        };
        for (symbol, m) in &market_addresses {
            if !session.exists(&a.collateral(&m.market).config).await? {
                session
                    .send(&[add_collateral_ix(&payer.pubkey(), &a, m, params)], &[])
                    .await?;
                println!("accepted {symbol} as collateral");
            }
        }
        session.state.lending_market = Some(a.lending_market.to_string());
        session.save()?;
    }

    // rule DAO
    if let Some(dao) = &config.dao {
        let stake = market_addresses.get(&dao.stake_market).ok_or_else(|| {
            anyhow!(
                "dao.stake_market {:?} is not one of the markets",
                dao.stake_market
            )
        })?;
        let addresses = DaoAddresses::derive(stake.rwa_mint, dao.id);
        if !session.exists(&addresses.dao).await? {
            let r = &dao.rules;
            let rules = rwa_rules::RuleValues {
                max_trade_amount: r.max_trade_amount,
                circuit_breaker_bps: r.circuit_breaker_bps,
                circuit_breaker_window_slots: r.circuit_breaker_window_slots,
                circuit_breaker_halt_slots: r.circuit_breaker_halt_slots,
                volatility_limit: match &r.volatility_limit {
                    Some(text) => decimal(text, "dao.rules.volatility_limit")?.raw(),
                    None => 0,
                },
                min_collateral_ratio_bps: r.min_collateral_ratio_bps,
                max_quote_lifetime_slots: r.max_quote_lifetime_slots,
                covariance_authority: match &r.covariance_authority {
                    Some(text) => parse_address(text, "dao.rules.covariance_authority")?,
                    None => payer.pubkey(),
                },
                update_cadence_slots: r.update_cadence_slots,
                circuit_breaker_min_notional: r.circuit_breaker_min_notional,
                max_quote_band_bps: r.max_quote_band_bps,
                guardian: match &r.guardian {
                    Some(text) => parse_address(text, "dao.rules.guardian")?,
                    None => Default::default(),
                },
            };
            let config = rule_dao::state::DaoConfig {
                voting_period_slots: dao.voting_period_slots,
                hold_up_slots: dao.hold_up_slots,
                unstake_cooldown_slots: dao.unstake_cooldown_slots,
                quorum_bps: dao.quorum_bps,
                threshold_bps: dao.threshold_bps,
                min_proposal_stake: dao.min_proposal_stake,
            };
            let veto = match &dao.veto_authority {
                Some(text) => parse_address(text, "dao.veto_authority")?,
                None => payer.pubkey(),
            };
            session
                .send(
                    &[create_dao_ix(
                        &payer.pubkey(),
                        &addresses,
                        dao.id,
                        config,
                        rules,
                        veto,
                    )],
                    &[],
                )
                .await?;
            println!(
                "created rule DAO {} (RuleSet {})",
                addresses.dao, addresses.rule_set
            );
        }
        session.state.dao = Some(addresses.dao.to_string());
        session.state.rule_set = Some(addresses.rule_set.to_string());
        session.save()?;
        if dao.attach_markets {
            for (symbol, m) in &market_addresses {
                let entry = session
                    .state
                    .markets
                    .get(symbol)
                    .cloned()
                    .ok_or_else(|| anyhow!("market {symbol} missing from state"))?;
                let market: rwa_market::state::Market = {
                    let account = rpc.get_account(&m.market).await?;
                    anchor_lang::AccountDeserialize::try_deserialize(&mut account.data.as_slice())
                        .map_err(|e| anyhow!("{e}"))?
                };
                if market.rule_set == Address::default() {
                    let authority = keypair(&entry.authority_keypair)?;
                    session
                        .send(
                            &[attach_rule_set_ix(
                                m,
                                &authority.pubkey(),
                                &addresses.rule_set,
                            )],
                            &[&authority],
                        )
                        .await?;
                    println!("market {symbol} now obeys the DAO");
                }
                if let Some(state) = session.state.markets.get_mut(symbol) {
                    state.attached = true;
                }
                session.save()?;
            }
        }
        if dao.attach_lending {
            let lending = config
                .lending
                .as_ref()
                .ok_or_else(|| anyhow!("dao.attach_lending needs a [lending] section"))?;
            let a = LendingAddresses::derive(quote_mint, lending.id);
            let account = rpc.get_account(&a.lending_market).await?;
            let market: rwa_lending::state::LendingMarket =
                anchor_lang::AccountDeserialize::try_deserialize(&mut account.data.as_slice())
                    .map_err(|e| anyhow!("{e}"))?;
            if market.rule_set == Address::default() {
                session
                    .send(
                        &[attach_lending_rule_set_ix(
                            &a,
                            &payer.pubkey(),
                            &addresses.rule_set,
                        )],
                        &[],
                    )
                    .await?;
                println!("lending market now obeys the DAO");
            }
        }
    }
    if config.markets.is_empty() && config.lending.is_none() && config.dao.is_none() {
        bail!("nothing to bootstrap: the config has no [[market]], [lending] or [dao]");
    }
    Ok(session.state)
}

/// The market's primary market (idempotent): opened with the payer as NAV publisher, the first
/// NAV attested, the redemption vault funded, the participants allowed.
async fn open_primary_market(
    session: &mut Session<'_>,
    payer: &Keypair,
    authority: &Keypair,
    addresses: &MarketAddresses,
    primary: &PrimaryConfigFile,
    payer_quote: Option<Address>,
) -> Result<()> {
    use rwa_client::primary::*;
    let p = PrimaryAddresses::derive(&addresses.market);
    if !session.exists(&p.nav).await? {
        let args = rwa_market::instructions::PrimaryMarketArgs {
            publisher: payer.pubkey(),
            max_staleness_slots: primary.max_staleness_slots,
            max_confidence_bps: primary.max_confidence_bps,
            subscribe_fee_bps: primary.subscribe_fee_bps,
            redeem_fee_bps: primary.redeem_fee_bps,
            redemption_window_slots: primary.redemption_window_slots,
            redemption_cap_per_window: primary.redemption_cap_per_window,
        };
        let nav = if primary.nav.trim() == "spot" {
            let account = session.rpc.get_account(&addresses.market).await?;
            let market: rwa_market::state::Market =
                anchor_lang::AccountDeserialize::try_deserialize(&mut account.data.as_slice())
                    .map_err(|e| anyhow!("{e}"))?;
            market.spot_price().map_err(|e| anyhow!("{e}"))?
        } else {
            decimal(&primary.nav, "primary.nav")?
        };
        session
            .send(
                &[
                    init_primary_market_ix(&payer.pubkey(), &authority.pubkey(), addresses, args),
                    publish_nav_ix(&payer.pubkey(), addresses, nav.raw(), 0),
                ],
                &[authority],
            )
            .await?;
        println!(
            "opened the primary market of {} at NAV {nav}",
            addresses.market
        );
        if primary.redemption_funding > 0 {
            let from = payer_quote.ok_or_else(|| {
                anyhow!("redemption_funding needs quote tokens: set quote.mint_to_payer")
            })?;
            let transfer = anchor_spl::token::spl_token::instruction::transfer(
                &anchor_spl::token::spl_token::ID,
                &from,
                &p.redemption_vault,
                &payer.pubkey(),
                &[],
                primary.redemption_funding,
            )?;
            session.send(&[transfer], &[]).await?;
        }
    }
    for wallet in &primary.participants {
        let wallet: Address = if wallet == "payer" {
            payer.pubkey()
        } else {
            wallet
                .parse()
                .map_err(|_| anyhow!("participant {wallet:?} is not an address"))?
        };
        if !session
            .exists(&participant_address(&addresses.market, &wallet))
            .await?
        {
            session
                .send(
                    &[add_participant_ix(
                        &payer.pubkey(),
                        &authority.pubkey(),
                        addresses,
                        &wallet,
                    )],
                    &[authority],
                )
                .await?;
            println!("allowed participant {wallet}");
        }
    }
    Ok(())
}
