//! Client helpers for rwa_lending: PDAs, instruction builders from the program's own Anchor types,
//! and a Pyth PriceUpdateV2 account writer for oracle tests.

use anchor_lang::{InstructionData, ToAccountMetas};
use anchor_spl::token::spl_token;
use rwa_lending::constants::*;
use rwa_lending::instructions::LendingMarketParams;
use rwa_lending::state::CollateralParams;
use solana_address::Address;
use solana_instruction::{AccountMeta, Instruction};

use crate::market::MarketAddresses;

pub fn lending_event_authority() -> Address {
    Address::find_program_address(&[b"__event_authority"], &crate::rwa_lending_id()).0
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LendingAddresses {
    pub lending_market: Address,
    pub quote_mint: Address,
    pub liquidity_vault: Address,
    pub share_mint: Address,
    pub risk: Address,
    pub rule_set: Option<Address>,
}

impl LendingAddresses {
    pub fn derive(quote_mint: Address, id: u64) -> Self {
        let program = crate::rwa_lending_id();
        let lending_market = Address::find_program_address(
            &[LENDING_MARKET_SEED, quote_mint.as_ref(), &id.to_le_bytes()],
            &program,
        )
        .0;
        LendingAddresses {
            lending_market,
            quote_mint,
            liquidity_vault: Address::find_program_address(
                &[LIQUIDITY_VAULT_SEED, lending_market.as_ref()],
                &program,
            )
            .0,
            share_mint: Address::find_program_address(
                &[SHARE_MINT_SEED, lending_market.as_ref()],
                &program,
            )
            .0,
            risk: Address::find_program_address(&[RISK_SEED, lending_market.as_ref()], &program).0,
            rule_set: None,
        }
    }

    pub fn collateral(&self, rwa_market: &Address) -> CollateralAddresses {
        let program = crate::rwa_lending_id();
        let config = Address::find_program_address(
            &[
                COLLATERAL_SEED,
                self.lending_market.as_ref(),
                rwa_market.as_ref(),
            ],
            &program,
        )
        .0;
        CollateralAddresses {
            config,
            vault: Address::find_program_address(
                &[COLLATERAL_VAULT_SEED, config.as_ref()],
                &program,
            )
            .0,
        }
    }

    pub fn obligation(&self, owner: &Address) -> Address {
        Address::find_program_address(
            &[
                OBLIGATION_SEED,
                self.lending_market.as_ref(),
                owner.as_ref(),
            ],
            &crate::rwa_lending_id(),
        )
        .0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CollateralAddresses {
    pub config: Address,
    pub vault: Address,
}

pub fn ix(accounts: Vec<AccountMeta>, data: Vec<u8>) -> Instruction {
    Instruction {
        program_id: crate::rwa_lending_id(),
        accounts,
        data,
    }
}

pub fn init_lending_market_ix(
    admin: &Address,
    a: &LendingAddresses,
    id: u64,
    params: LendingMarketParams,
) -> Instruction {
    let accounts = rwa_lending::accounts::InitLendingMarket {
        admin: *admin,
        quote_mint: a.quote_mint,
        lending_market: a.lending_market,
        liquidity_vault: a.liquidity_vault,
        share_mint: a.share_mint,
        risk: a.risk,
        token_program: spl_token::ID,
        system_program: solana_system_interface::program::ID,
        event_authority: lending_event_authority(),
        program: crate::rwa_lending_id(),
    };
    ix(
        accounts.to_account_metas(None),
        rwa_lending::instruction::InitLendingMarket { id, params }.data(),
    )
}

pub fn add_collateral_ix(
    admin: &Address,
    a: &LendingAddresses,
    market: &MarketAddresses,
    params: CollateralParams,
) -> Instruction {
    let c = a.collateral(&market.market);
    let accounts = rwa_lending::accounts::AddCollateral {
        admin: *admin,
        lending_market: a.lending_market,
        rwa_market: market.market,
        oracle: market.oracle,
        rwa_mint: market.rwa_mint,
        collateral: c.config,
        vault: c.vault,
        token_program: spl_token::ID,
        system_program: solana_system_interface::program::ID,
        event_authority: lending_event_authority(),
        program: crate::rwa_lending_id(),
    };
    ix(
        accounts.to_account_metas(None),
        rwa_lending::instruction::AddCollateral { params }.data(),
    )
}

pub fn refresh_collateral_ix(
    a: &LendingAddresses,
    market: &MarketAddresses,
    oracle: Option<Address>,
    pyth: Option<Address>,
) -> Instruction {
    let c = a.collateral(&market.market);
    let accounts = rwa_lending::accounts::RefreshCollateral {
        lending_market: a.lending_market,
        collateral: c.config,
        oracle: oracle.unwrap_or(market.oracle),
        pyth_price: pyth,
        rule_set: a.rule_set,
        nav: crate::primary::PrimaryAddresses::derive(&market.market).nav,
        event_authority: lending_event_authority(),
        program: crate::rwa_lending_id(),
    };
    ix(
        accounts.to_account_metas(None),
        rwa_lending::instruction::RefreshCollateral {}.data(),
    )
}

pub fn init_obligation_ix(owner: &Address, a: &LendingAddresses) -> Instruction {
    let accounts = rwa_lending::accounts::InitObligation {
        owner: *owner,
        lending_market: a.lending_market,
        obligation: a.obligation(owner),
        system_program: solana_system_interface::program::ID,
    };
    ix(
        accounts.to_account_metas(None),
        rwa_lending::instruction::InitObligation {}.data(),
    )
}

pub fn configs_meta(a: &LendingAddresses, markets: &[MarketAddresses]) -> Vec<AccountMeta> {
    markets
        .iter()
        .map(|m| AccountMeta::new_readonly(a.collateral(&m.market).config, false))
        .collect()
}

pub fn refresh_obligation_ix(
    a: &LendingAddresses,
    owner: &Address,
    markets: &[MarketAddresses],
) -> Instruction {
    let accounts = rwa_lending::accounts::RefreshObligation {
        lending_market: a.lending_market,
        obligation: a.obligation(owner),
        risk: a.risk,
        event_authority: lending_event_authority(),
        program: crate::rwa_lending_id(),
    };
    let mut metas = accounts.to_account_metas(None);
    metas.extend(configs_meta(a, markets));
    ix(metas, rwa_lending::instruction::RefreshObligation {}.data())
}

/// Refresh every collateral, then the obligation: the prefix borrow/withdraw/liquidate need.
pub fn refresh_all(
    a: &LendingAddresses,
    owner: &Address,
    markets: &[MarketAddresses],
) -> Vec<Instruction> {
    let mut instructions: Vec<Instruction> = markets
        .iter()
        .map(|m| refresh_collateral_ix(a, m, None, None))
        .collect();
    instructions.push(refresh_obligation_ix(a, owner, markets));
    instructions
}

pub fn collateral_move_metas(
    a: &LendingAddresses,
    owner: &Address,
    market: &MarketAddresses,
    owner_rwa: &Address,
) -> Vec<AccountMeta> {
    let c = a.collateral(&market.market);
    rwa_lending::accounts::CollateralMove {
        owner: *owner,
        lending_market: a.lending_market,
        obligation: a.obligation(owner),
        collateral: c.config,
        vault: c.vault,
        owner_rwa_account: *owner_rwa,
        risk: a.risk,
        instructions: solana_instructions_sysvar_id(),
        token_program: spl_token::ID,
        event_authority: lending_event_authority(),
        program: crate::rwa_lending_id(),
    }
    .to_account_metas(None)
}

pub fn solana_instructions_sysvar_id() -> Address {
    "Sysvar1nstructions1111111111111111111111111"
        .parse()
        .expect("instructions sysvar id")
}

pub fn deposit_collateral_ix(
    a: &LendingAddresses,
    owner: &Address,
    market: &MarketAddresses,
    owner_rwa: &Address,
    amount: u64,
) -> Instruction {
    ix(
        collateral_move_metas(a, owner, market, owner_rwa),
        rwa_lending::instruction::DepositCollateral { amount }.data(),
    )
}

/// `all_markets`: every collateral the obligation holds (to recompute its limits).
pub fn withdraw_collateral_ix(
    a: &LendingAddresses,
    owner: &Address,
    market: &MarketAddresses,
    owner_rwa: &Address,
    amount: u64,
    all_markets: &[MarketAddresses],
) -> Instruction {
    let mut metas = collateral_move_metas(a, owner, market, owner_rwa);
    metas.extend(configs_meta(a, all_markets));
    ix(
        metas,
        rwa_lending::instruction::WithdrawCollateral { amount }.data(),
    )
}

pub fn borrow_ix(
    a: &LendingAddresses,
    owner: &Address,
    destination: &Address,
    amount: u64,
    all_markets: &[MarketAddresses],
) -> Instruction {
    let accounts = rwa_lending::accounts::Borrow {
        owner: *owner,
        lending_market: a.lending_market,
        obligation: a.obligation(owner),
        liquidity_vault: a.liquidity_vault,
        destination: *destination,
        instructions: solana_instructions_sysvar_id(),
        rule_set: a.rule_set,
        token_program: spl_token::ID,
        event_authority: lending_event_authority(),
        program: crate::rwa_lending_id(),
    };
    let mut metas = accounts.to_account_metas(None);
    metas.extend(configs_meta(a, all_markets));
    ix(metas, rwa_lending::instruction::Borrow { amount }.data())
}

pub fn repay_ix(
    a: &LendingAddresses,
    payer: &Address,
    obligation_owner: &Address,
    payer_quote: &Address,
    amount: u64,
) -> Instruction {
    let accounts = rwa_lending::accounts::Repay {
        payer: *payer,
        lending_market: a.lending_market,
        obligation: a.obligation(obligation_owner),
        liquidity_vault: a.liquidity_vault,
        payer_quote_account: *payer_quote,
        token_program: spl_token::ID,
        event_authority: lending_event_authority(),
        program: crate::rwa_lending_id(),
    };
    ix(
        accounts.to_account_metas(None),
        rwa_lending::instruction::Repay { amount }.data(),
    )
}

#[allow(clippy::too_many_arguments)]
pub fn liquidate_ix(
    a: &LendingAddresses,
    liquidator: &Address,
    obligation_owner: &Address,
    market: &MarketAddresses,
    liquidator_quote: &Address,
    liquidator_rwa: &Address,
    repay_amount: u64,
    min_collateral_out: u64,
    all_markets: &[MarketAddresses],
) -> Instruction {
    let c = a.collateral(&market.market);
    let accounts = rwa_lending::accounts::Liquidate {
        liquidator: *liquidator,
        lending_market: a.lending_market,
        obligation: a.obligation(obligation_owner),
        collateral: c.config,
        vault: c.vault,
        liquidity_vault: a.liquidity_vault,
        liquidator_quote_account: *liquidator_quote,
        liquidator_rwa_account: *liquidator_rwa,
        risk: a.risk,
        instructions: solana_instructions_sysvar_id(),
        token_program: spl_token::ID,
        event_authority: lending_event_authority(),
        program: crate::rwa_lending_id(),
    };
    let mut metas = accounts.to_account_metas(None);
    metas.extend(configs_meta(a, all_markets));
    ix(
        metas,
        rwa_lending::instruction::Liquidate {
            repay_amount,
            min_collateral_out,
        }
        .data(),
    )
}

/// Deposit (`deposit = true`, amount in quote) or withdraw (amount in shares) liquidity.
pub fn liquidity_ix(
    a: &LendingAddresses,
    owner: &Address,
    owner_quote: &Address,
    owner_shares: &Address,
    deposit: bool,
    amount: u64,
) -> Instruction {
    let accounts = rwa_lending::accounts::Liquidity {
        owner: *owner,
        lending_market: a.lending_market,
        liquidity_vault: a.liquidity_vault,
        share_mint: a.share_mint,
        owner_quote_account: *owner_quote,
        owner_share_account: *owner_shares,
        token_program: spl_token::ID,
        event_authority: lending_event_authority(),
        program: crate::rwa_lending_id(),
    };
    let data = if deposit {
        rwa_lending::instruction::DepositLiquidity { amount }.data()
    } else {
        rwa_lending::instruction::WithdrawLiquidity { shares: amount }.data()
    };
    ix(accounts.to_account_metas(None), data)
}

pub fn update_correlations_ix(
    a: &LendingAddresses,
    authority: &Address,
    correlations_bps: [[i16; MAX_COLLATERALS]; MAX_COLLATERALS],
) -> Instruction {
    let accounts = rwa_lending::accounts::UpdateCorrelations {
        authority: *authority,
        lending_market: a.lending_market,
        risk: a.risk,
        rule_set: a.rule_set,
        event_authority: lending_event_authority(),
        program: crate::rwa_lending_id(),
    };
    ix(
        accounts.to_account_metas(None),
        rwa_lending::instruction::UpdateCorrelations { correlations_bps }.data(),
    )
}

pub fn attach_lending_rule_set_ix(
    a: &LendingAddresses,
    admin: &Address,
    rule_set: &Address,
) -> Instruction {
    let accounts = rwa_lending::accounts::AttachLendingRuleSet {
        admin: *admin,
        lending_market: a.lending_market,
        rule_set: *rule_set,
    };
    ix(
        accounts.to_account_metas(None),
        rwa_lending::instruction::AttachRuleSet {}.data(),
    )
}

/// A correlation matrix with unit diagonal and `rho` everywhere else.
pub fn uniform_correlations(rho: i16) -> [[i16; MAX_COLLATERALS]; MAX_COLLATERALS] {
    let mut matrix = [[rho; MAX_COLLATERALS]; MAX_COLLATERALS];
    for (i, row) in matrix.iter_mut().enumerate() {
        row[i] = 10_000;
    }
    matrix
}

/// Parameters used across the tests (overridden per test).
pub fn default_collateral_params() -> CollateralParams {
    let wad = |text: &str| text.parse::<rwa_math::Decimal>().expect("decimal").raw();
    CollateralParams {
        r0: wad("0.02"),
        beta: wad("0.5"),
        gamma: wad("0"),
        cr_min_bps: 15_000,
        liquidation_cr_bps: 12_000,
        liquidation_bonus_bps: 500,
        close_factor_bps: 5_000,
        max_staleness_slots: 1_000,
        max_confidence_bps: 2_000,
        pyth_feed_id: [0; 32],
        pyth_max_age_secs: 60,
        max_divergence_bps: 500,
        max_sigma: wad("5"),
        max_rate: wad("3"),
    }
}

/// Pause (guardian or governing authority) or resume (governing authority) lending.
pub fn set_lending_pause_ix(
    a: &LendingAddresses,
    authority: &Address,
    paused: bool,
) -> Instruction {
    let accounts = rwa_lending::accounts::SetLendingPause {
        authority: *authority,
        lending_market: a.lending_market,
        rule_set: a.rule_set,
        event_authority: lending_event_authority(),
        program: crate::rwa_lending_id(),
    };
    ix(
        accounts.to_account_metas(None),
        rwa_lending::instruction::SetLendingPause { paused }.data(),
    )
}

pub fn update_lending_params_ix(
    a: &LendingAddresses,
    authority: &Address,
    params: LendingMarketParams,
) -> Instruction {
    let accounts = rwa_lending::accounts::UpdateLendingParams {
        authority: *authority,
        lending_market: a.lending_market,
        event_authority: lending_event_authority(),
        program: crate::rwa_lending_id(),
    };
    ix(
        accounts.to_account_metas(None),
        rwa_lending::instruction::UpdateLendingParams { params }.data(),
    )
}
