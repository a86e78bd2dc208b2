//! The simulated chain: one in-process runtime (the harness's LiteSVM bank with the programs as
//! native builtins) holding the quote mint, M RWA markets with their makers, the rule DAO and the
//! lending market, and every agent's keypair and token accounts. Everything here is set up by
//! real transactions, so the conservation checks can account for every token.

use anchor_lang::AccountDeserialize;
use anchor_spl::token::spl_token;
use rwa_harness::dao::DaoAddresses;
use rwa_harness::lending::LendingAddresses;
use rwa_harness::market::{MakerAddresses, MarketAddresses, TraderAccounts};
use rwa_harness::solana_address::Address;
use rwa_harness::solana_keypair::Keypair;
use rwa_harness::solana_program_pack::Pack;
use rwa_harness::solana_signer::Signer;
use rwa_harness::{SolInstruction as Instruction, TestEnv};
use rwa_market::state::{Maker, Market, PriceOracle};
use rwa_math::{Curve, Decimal};

use crate::SimError;

/// Token decimals of the quote token and of every RWA token.
pub const DECIMALS: u8 = 6;
pub const UNIT: f64 = 1_000_000.0;
pub const WHOLE: u64 = 1_000_000;

pub struct SimMarket {
    pub addresses: MarketAddresses,
    pub authority: Keypair,
    pub makers: Vec<MakerAddresses>,
    /// Its collateral config and vault in the lending market, when it is one (derived once:
    /// a PDA derivation costs curve arithmetic).
    pub collateral: Option<rwa_harness::lending::CollateralAddresses>,
}

/// Counts of what the runtime did.
#[derive(Clone, Copy, Debug, Default)]
pub struct TxCounts {
    pub landed: u64,
    pub refused: u64,
    /// Time inside the runtime (building, signing, executing transactions).
    pub runtime: std::time::Duration,
}

pub struct World {
    pub env: TestEnv,
    pub quote_mint: Address,
    /// The genesis holder: bought every curve's starting supply and handed tokens out; keeps the
    /// rest, never trades.
    pub genesis_quote: Address,
    pub genesis_rwa: Vec<Address>,
    pub markets: Vec<SimMarket>,
    pub dao: Option<DaoAddresses>,
    pub lending: Option<LendingAddresses>,
    /// Every token account the simulation created, by mint (for the conservation checks).
    pub token_accounts: Vec<(Address, Address)>,
    pub tx: TxCounts,
    /// Owners of lending obligations and the obligations (the keepers watch these).
    pub borrowers: Vec<(Address, Address)>,
    pub liquidations: u64,
    /// Proposals sent, rule changes executed, proposal indexes that could not be executed.
    pub proposals: u64,
    pub rule_changes: u64,
    pub failed_executions: Vec<u64>,
    /// Refused agent transactions by "kind: error" (program error codes are stable).
    pub refusals: std::collections::BTreeMap<String, u64>,
    /// Quote base units the issuer keeps in each market's redemption vault.
    pub redemption_targets: Vec<u64>,
}

impl World {
    /// A runtime for simulation: signatures are not verified (every transaction is signed by
    /// keys the simulator holds) and no transaction history is kept.
    pub fn new() -> World {
        let mut env =
            TestEnv::with_runtime(|svm| svm.with_sigverify(false).with_transaction_history(0));
        env.unsigned = true;
        let quote_mint = env.create_mint(DECIMALS);
        let payer = env.payer.pubkey();
        let genesis_quote = env.create_token_account(&quote_mint, &payer);
        World {
            env,
            quote_mint,
            genesis_quote,
            genesis_rwa: Vec::new(),
            markets: Vec::new(),
            dao: None,
            lending: None,
            token_accounts: vec![(quote_mint, genesis_quote)],
            tx: TxCounts::default(),
            borrowers: Vec::new(),
            liquidations: 0,
            proposals: 0,
            rule_changes: 0,
            failed_executions: Vec::new(),
            refusals: Default::default(),
            redemption_targets: Vec::new(),
        }
    }

    /// Sends one transaction, counting it; a refusal is returned (and changes nothing).
    pub fn send(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<(), rwa_harness::TxFailure> {
        let started = std::time::Instant::now();
        // Only keys the message asks for may sign (an agent's refresh needs no signature).
        let signers: Vec<&Keypair> = signers
            .iter()
            .copied()
            .filter(|k| {
                let key = k.pubkey();
                instructions
                    .iter()
                    .any(|ix| ix.accounts.iter().any(|a| a.is_signer && a.pubkey == key))
            })
            .collect();
        let outcome = self.env.send(instructions, &signers).map(|_| ());
        self.tx.runtime += started.elapsed();
        match &outcome {
            Ok(()) => self.tx.landed += 1,
            Err(_) => self.tx.refused += 1,
        }
        outcome
    }

    /// Setup transactions must land; a refusal there is a bug in the setup, reported as such.
    pub fn setup(
        &mut self,
        what: &str,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<(), SimError> {
        self.send(instructions, signers)
            .map_err(|failure| SimError::Setup(format!("{what}: {failure}")))
    }

    pub fn token_account(&mut self, mint: &Address, owner: &Address) -> Address {
        let account = self.env.create_token_account(mint, owner);
        self.token_accounts.push((*mint, account));
        account
    }

    pub fn mint_quote(&mut self, destination: &Address, amount: u64) {
        let mint = self.quote_mint;
        self.env.mint_to(&mint, destination, amount);
    }

    /// A linear-curve market whose spot is `nav` once `supply` whole tokens are out (and
    /// `intercept` x `nav` at zero supply); the genesis holder buys that supply.
    pub fn create_market(
        &mut self,
        index: usize,
        nav: f64,
        supply: u64,
        intercept: f64,
        fee_bps: u16,
    ) -> Result<(), SimError> {
        let decimal = |x: f64| {
            Decimal::from_f64(x)
                .map_err(|_| SimError::Setup(format!("curve parameter {x} out of range")))
        };
        let curve = Curve::Linear {
            slope: decimal(nav * (1.0 - intercept) / supply as f64)?,
            intercept: decimal(nav * intercept)?,
        };
        let mut args = rwa_harness::market::market_args(
            curve,
            DECIMALS,
            supply.saturating_mul(20).saturating_mul(WHOLE),
        );
        args.fee_bps = fee_bps;
        args.name = format!("Simulated RWA {index}");
        args.symbol = format!("SIM{index}");
        let quote_mint = self.quote_mint;
        let (fixture, _) = self
            .env
            .create_market(Some(quote_mint), args)
            .map_err(|f| SimError::Setup(format!("market {index}: {f}")))?;
        let addresses = fixture.addresses;
        let payer = self.env.payer.pubkey();
        let genesis_rwa = self.token_account(&addresses.rwa_mint, &payer);
        // Enough quote for the genesis purchase (the curve integral is below nav * supply) plus fees.
        let cost = (nav * supply as f64 * UNIT) as u64;
        let genesis_quote = self.genesis_quote;
        self.mint_quote(&genesis_quote, cost);
        let trader = TraderAccounts {
            trader: payer,
            rwa_account: genesis_rwa,
            quote_account: genesis_quote,
        };
        self.setup(
            "genesis purchase",
            &[rwa_harness::market::trade_ix(
                &addresses,
                &trader,
                rwa_harness::market::TradeKind::BuyExactOut {
                    amount: supply * WHOLE,
                    max_quote_in: cost,
                },
            )],
            &[],
        )?;
        self.token_accounts
            .push((addresses.quote_mint, addresses.reserve_vault));
        self.token_accounts
            .push((addresses.quote_mint, addresses.fee_vault));
        self.genesis_rwa.push(genesis_rwa);
        self.markets.push(SimMarket {
            addresses,
            authority: fixture.authority,
            makers: Vec::new(),
            collateral: None,
        });
        Ok(())
    }

    /// Moves RWA tokens from the genesis holder.
    pub fn hand_out(
        &mut self,
        market: usize,
        destination: &Address,
        amount: u64,
    ) -> Result<(), SimError> {
        let payer = self.env.payer.pubkey();
        let transfer = spl_token::instruction::transfer(
            &spl_token::ID,
            &self.genesis_rwa[market],
            destination,
            &payer,
            &[],
            amount,
        )
        .map_err(|e| SimError::Setup(e.to_string()))?;
        self.setup("hand out tokens", &[transfer], &[])
    }

    /// Opens market `index`'s primary market: the world's payer publishes the NAV, the issuer's
    /// redemption vault starts with `funding` quote base units.
    pub fn open_primary_market(
        &mut self,
        index: usize,
        terms: &crate::scenario::Primary,
        nav: f64,
        funding: u64,
        max_staleness_slots: u64,
    ) -> Result<(), SimError> {
        use rwa_harness::market::{init_primary_market_ix, primary_args, PrimaryAddresses};
        let addresses = self.markets[index].addresses;
        let authority = self.markets[index].authority.insecure_clone();
        let payer = self.env.payer.pubkey();
        let args = rwa_market::instructions::PrimaryMarketArgs {
            subscribe_fee_bps: terms.subscribe_fee_bps,
            redeem_fee_bps: terms.redeem_fee_bps,
            max_staleness_slots,
            redemption_cap_per_window: u64::MAX / 4,
            ..primary_args(payer)
        };
        self.setup(
            "open primary market",
            &[init_primary_market_ix(
                &payer,
                &authority.pubkey(),
                &addresses,
                args,
            )],
            &[&authority],
        )?;
        let primary = PrimaryAddresses::derive(&addresses.market);
        self.token_accounts
            .push((addresses.quote_mint, primary.subscription_vault));
        self.token_accounts
            .push((addresses.quote_mint, primary.redemption_vault));
        if self.redemption_targets.len() <= index {
            self.redemption_targets.resize(index + 1, 0);
        }
        self.redemption_targets[index] = funding;
        self.publish_nav(index, nav)
    }

    /// The issuer attests `nav` for market `index` and tops the redemption vault back up to
    /// `redemption_target` from its treasury (outside the simulation: new quote, counted like
    /// every other token).
    pub fn publish_nav(&mut self, index: usize, nav: f64) -> Result<(), SimError> {
        use rwa_harness::market::{publish_nav_ix, PrimaryAddresses};
        let addresses = self.markets[index].addresses;
        let payer = self.env.payer.pubkey();
        let raw = Decimal::from_f64(nav)
            .map_err(|_| SimError::Setup(format!("NAV {nav} out of range")))?
            .raw();
        self.setup(
            "publish NAV",
            &[publish_nav_ix(&payer, &addresses, raw, 0)],
            &[],
        )?;
        let vault = PrimaryAddresses::derive(&addresses.market).redemption_vault;
        let target = self.redemption_targets.get(index).copied().unwrap_or(0);
        let held = self.balance(&vault);
        if held < target {
            self.mint_quote(&vault, target - held);
        }
        Ok(())
    }

    /// Market `index`'s primary market as a participant sees it, when it has one.
    pub fn primary_view(&self, index: usize) -> Option<rwa_agent_core::view::PrimaryView> {
        let primary =
            rwa_harness::market::PrimaryAddresses::derive(&self.markets[index].addresses.market);
        let nav: rwa_market::state::NavAttestation = self.try_decode(&primary.nav)?;
        Some(rwa_harness::agent::primary_view(
            &nav,
            self.balance(&primary.redemption_vault),
            self.slot(),
        ))
    }

    pub fn market(&self, index: usize) -> Market {
        self.decode(&self.markets[index].addresses.market)
    }

    pub fn oracle(&self, index: usize) -> PriceOracle {
        self.env
            .zero_copy_account(&self.markets[index].addresses.oracle)
    }

    pub fn decode<T: AccountDeserialize>(&self, address: &Address) -> T {
        self.env.anchor_account(address)
    }

    pub fn try_decode<T: AccountDeserialize>(&self, address: &Address) -> Option<T> {
        let account = self.env.account(address)?;
        T::try_deserialize(&mut account.data.as_slice()).ok()
    }

    /// Every maker on the market with its state, in the market's maker order.
    pub fn makers(&self, index: usize) -> Vec<(Address, Maker)> {
        self.markets[index]
            .makers
            .iter()
            .filter_map(|m| {
                self.try_decode::<Maker>(&m.maker)
                    .map(|state| (m.maker, state))
            })
            .collect()
    }

    pub fn balance(&self, account: &Address) -> u64 {
        self.env
            .account(account)
            .and_then(|a| spl_token::state::Account::unpack_from_slice(&a.data).ok())
            .map(|a| a.amount)
            .unwrap_or(0)
    }

    pub fn slot(&self) -> u64 {
        self.env.slot()
    }

    /// The market whose collateral config is `config`.
    pub fn market_of_collateral(&self, config: &Address) -> Option<usize> {
        self.markets
            .iter()
            .position(|m| m.collateral.is_some_and(|c| c.config == *config))
    }

    pub fn rules(&self) -> Option<rwa_rules::RuleValues> {
        let dao = self.dao.as_ref()?;
        self.try_decode::<rule_dao::state::RuleSet>(&dao.rule_set)
            .map(|r| r.rules)
    }

    /// The invariants every step must keep; the first broken one is returned as an error naming
    /// the account and the amounts.
    pub fn check_invariants(&self) -> Result<(), SimError> {
        let broken = |what: String| Err(SimError::Invariant(what));
        // Conservation: every token of every mint sits in an account the simulation knows.
        let mut mints: Vec<Address> = vec![self.quote_mint];
        mints.extend(self.markets.iter().map(|m| m.addresses.rwa_mint));
        for mint in &mints {
            let held: u128 = self
                .token_accounts
                .iter()
                .filter(|(m, _)| m == mint)
                .map(|(_, account)| self.balance(account) as u128)
                .sum();
            let supply = self.env.mint_supply(mint) as u128;
            if held != supply {
                return broken(format!(
                    "conservation: mint {mint} has supply {supply} but known accounts hold {held}"
                ));
            }
        }
        for (index, m) in self.markets.iter().enumerate() {
            let market = self.market(index);
            // The mint's supply is the curve's supply plus what the primary market minted and
            // less what it burned.
            let minted = self.env.mint_supply(&m.addresses.rwa_mint);
            let (primary_minted, primary_burned) = self
                .try_decode::<rwa_market::state::NavAttestation>(
                    &rwa_harness::market::PrimaryAddresses::derive(&m.addresses.market).nav,
                )
                .map_or((0, 0), |nav| (nav.primary_minted, nav.primary_burned));
            if market.supply as u128 + primary_minted as u128
                != minted as u128 + primary_burned as u128
            {
                return broken(format!(
                    "market {index}: curve supply {} + primary minted {primary_minted} - burned {primary_burned} != mint supply {minted}",
                    market.supply
                ));
            }
            // Solvency: the reserve can buy every token back down the curve.
            let vault = self.balance(&m.addresses.reserve_vault);
            let curve = market
                .curve_market()
                .map_err(|e| SimError::Invariant(format!("market {index}: {e}")))?;
            let owed = curve
                .sell_proceeds(market.supply, market.supply)
                .map_err(|e| SimError::Invariant(format!("market {index}: {e}")))?;
            if vault < market.reserve || market.reserve < owed {
                return broken(format!(
                    "market {index} insolvent: vault {vault}, recorded reserve {}, buy-back of the supply {owed}",
                    market.reserve
                ));
            }
            // Maker escrow: recorded inventories never exceed what the vaults hold (the form a
            // negative balance would take).
            for maker in &m.makers {
                if let Some(state) = self.try_decode::<Maker>(&maker.maker) {
                    let (rwa, quote) = (
                        self.balance(&maker.rwa_vault),
                        self.balance(&maker.quote_vault),
                    );
                    if state.rwa_inventory > rwa || state.quote_inventory > quote {
                        return broken(format!(
                            "maker {} on market {index}: inventory ({}, {}) exceeds vaults ({rwa}, {quote})",
                            maker.maker, state.rwa_inventory, state.quote_inventory
                        ));
                    }
                }
            }
        }
        if let Some(lending) = &self.lending {
            let state: rwa_lending::state::LendingMarket = self.decode(&lending.lending_market);
            let vault = self.balance(&lending.liquidity_vault);
            if vault < state.available {
                return broken(format!(
                    "lending: vault {vault} < recorded available liquidity {}",
                    state.available
                ));
            }
            for (m, c) in self
                .markets
                .iter()
                .filter_map(|m| m.collateral.map(|c| (m, c)))
            {
                let config: rwa_lending::state::CollateralConfig = self.decode(&c.config);
                let held = self.balance(&c.vault);
                if config.total_collateral != held {
                    return broken(format!(
                        "lending collateral {}: recorded {} but vault holds {held}",
                        m.addresses.market, config.total_collateral
                    ));
                }
            }
        }
        Ok(())
    }
}

impl Default for World {
    fn default() -> Self {
        World::new()
    }
}
