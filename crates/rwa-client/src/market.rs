//! Client helpers for rwa_market: PDA derivation and instruction builders from the program's own
//! Anchor types (so account order and encoding can never drift from the program).

use anchor_lang::{InstructionData, ToAccountMetas};
use anchor_spl::token::spl_token;
use rwa_market::instructions::{InitializeMarketArgs, MarketParamsUpdate};
use solana_address::Address;
use solana_instruction::Instruction;

/// Every address of one market.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketAddresses {
    pub market: Address,
    pub rwa_mint: Address,
    pub quote_mint: Address,
    pub reserve_vault: Address,
    pub fee_vault: Address,
    pub oracle: Address,
    /// The RuleSet once a rule DAO is attached (passed to trades and quote updates).
    pub rule_set: Option<Address>,
}

pub fn event_authority() -> Address {
    Address::find_program_address(&[b"__event_authority"], &crate::rwa_market_id()).0
}

impl MarketAddresses {
    pub fn derive(rwa_mint: Address, quote_mint: Address) -> Self {
        use rwa_market::constants::*;
        let program = crate::rwa_market_id();
        let market = Address::find_program_address(&[MARKET_SEED, rwa_mint.as_ref()], &program).0;
        MarketAddresses {
            market,
            rwa_mint,
            quote_mint,
            reserve_vault: Address::find_program_address(
                &[RESERVE_SEED, market.as_ref()],
                &program,
            )
            .0,
            fee_vault: Address::find_program_address(&[FEE_VAULT_SEED, market.as_ref()], &program)
                .0,
            oracle: Address::find_program_address(&[ORACLE_SEED, market.as_ref()], &program).0,
            rule_set: None,
        }
    }
}

pub fn initialize_market_ix(
    payer: &Address,
    authority: &Address,
    addresses: &MarketAddresses,
    args: InitializeMarketArgs,
) -> Instruction {
    let accounts = rwa_market::accounts::InitializeMarket {
        payer: *payer,
        authority: *authority,
        market: addresses.market,
        rwa_mint: addresses.rwa_mint,
        quote_mint: addresses.quote_mint,
        reserve_vault: addresses.reserve_vault,
        fee_vault: addresses.fee_vault,
        oracle: addresses.oracle,
        token_program: spl_token::ID,
        system_program: solana_system_interface::program::ID,
        event_authority: event_authority(),
        program: crate::rwa_market_id(),
    };
    Instruction {
        program_id: crate::rwa_market_id(),
        accounts: accounts.to_account_metas(None),
        data: rwa_market::instruction::InitializeMarket { args }.data(),
    }
}

/// The trader's side of a trade.
#[derive(Clone, Copy, Debug)]
pub struct TraderAccounts {
    pub trader: Address,
    pub rwa_account: Address,
    pub quote_account: Address,
}

pub fn trade_accounts(
    addresses: &MarketAddresses,
    trader: &TraderAccounts,
) -> Vec<solana_instruction::AccountMeta> {
    trade_accounts_with_referrer(addresses, trader, None)
}

/// Trade accounts naming `referrer` (a quote-token account, not the trader's) to receive the
/// market's referrer share of the fee.
pub fn trade_accounts_with_referrer(
    addresses: &MarketAddresses,
    trader: &TraderAccounts,
    referrer: Option<Address>,
) -> Vec<solana_instruction::AccountMeta> {
    rwa_market::accounts::Trade {
        trader: trader.trader,
        market: addresses.market,
        rwa_mint: addresses.rwa_mint,
        quote_mint: addresses.quote_mint,
        trader_rwa_account: trader.rwa_account,
        trader_quote_account: trader.quote_account,
        reserve_vault: addresses.reserve_vault,
        fee_vault: addresses.fee_vault,
        oracle: addresses.oracle,
        token_program: spl_token::ID,
        rule_set: addresses.rule_set,
        referrer_quote_account: referrer,
        event_authority: event_authority(),
        program: crate::rwa_market_id(),
    }
    .to_account_metas(None)
}

/// `instruction` (a trade or swap built by this module) with `referrer` named as referrer.
pub fn with_referrer(mut instruction: Instruction, referrer: Address) -> Instruction {
    // The referrer's slot is where an account built with one differs from one built without.
    let probe = TraderAccounts {
        trader: Address::default(),
        rwa_account: Address::default(),
        quote_account: Address::default(),
    };
    let addresses = MarketAddresses::derive(Address::default(), Address::default());
    let plain = trade_accounts(&addresses, &probe);
    let named = trade_accounts_with_referrer(&addresses, &probe, Some(referrer));
    if let Some(index) = (0..plain.len()).find(|&i| plain[i] != named[i]) {
        instruction.accounts[index] = named[index].clone();
    }
    instruction
}

/// The four curve trades with their slippage bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TradeKind {
    BuyExactOut { amount: u64, max_quote_in: u64 },
    BuyExactIn { quote_in: u64, min_amount_out: u64 },
    SellExactIn { amount: u64, min_quote_out: u64 },
    SellExactOut { quote_out: u64, max_amount_in: u64 },
}

pub fn trade_ix(
    addresses: &MarketAddresses,
    trader: &TraderAccounts,
    kind: TradeKind,
) -> Instruction {
    use rwa_market::instruction as ix;
    let data = match kind {
        TradeKind::BuyExactOut {
            amount,
            max_quote_in,
        } => ix::BuyExactOut {
            amount,
            max_quote_in,
        }
        .data(),
        TradeKind::BuyExactIn {
            quote_in,
            min_amount_out,
        } => ix::BuyExactIn {
            quote_in,
            min_amount_out,
        }
        .data(),
        TradeKind::SellExactIn {
            amount,
            min_quote_out,
        } => ix::SellExactIn {
            amount,
            min_quote_out,
        }
        .data(),
        TradeKind::SellExactOut {
            quote_out,
            max_amount_in,
        } => ix::SellExactOut {
            quote_out,
            max_amount_in,
        }
        .data(),
    };
    Instruction {
        program_id: crate::rwa_market_id(),
        accounts: trade_accounts(addresses, trader),
        data,
    }
}

pub fn update_oracle_ix(addresses: &MarketAddresses) -> Instruction {
    let accounts = rwa_market::accounts::UpdateOracle {
        market: addresses.market,
        oracle: addresses.oracle,
        event_authority: event_authority(),
        program: crate::rwa_market_id(),
    };
    Instruction {
        program_id: crate::rwa_market_id(),
        accounts: accounts.to_account_metas(None),
        data: rwa_market::instruction::UpdateOracle {}.data(),
    }
}

pub fn set_market_params_ix(
    addresses: &MarketAddresses,
    authority: &Address,
    update: MarketParamsUpdate,
) -> Instruction {
    let accounts = rwa_market::accounts::SetMarketParams {
        authority: *authority,
        market: addresses.market,
        oracle: addresses.oracle,
        event_authority: event_authority(),
        program: crate::rwa_market_id(),
    };
    Instruction {
        program_id: crate::rwa_market_id(),
        accounts: accounts.to_account_metas(None),
        data: rwa_market::instruction::SetMarketParams { update }.data(),
    }
}

pub fn set_paused_ix(
    addresses: &MarketAddresses,
    authority: &Address,
    paused: bool,
) -> Instruction {
    let accounts = rwa_market::accounts::SetPaused {
        authority: *authority,
        market: addresses.market,
        event_authority: event_authority(),
        program: crate::rwa_market_id(),
    };
    let data = if paused {
        rwa_market::instruction::PauseMarket {}.data()
    } else {
        rwa_market::instruction::UnpauseMarket {}.data()
    };
    Instruction {
        program_id: crate::rwa_market_id(),
        accounts: accounts.to_account_metas(None),
        data,
    }
}

pub fn withdraw_fees_ix(
    addresses: &MarketAddresses,
    authority: &Address,
    destination: &Address,
    amount: u64,
) -> Instruction {
    let accounts = rwa_market::accounts::WithdrawFees {
        authority: *authority,
        market: addresses.market,
        fee_vault: addresses.fee_vault,
        destination: *destination,
        token_program: spl_token::ID,
        event_authority: event_authority(),
        program: crate::rwa_market_id(),
    };
    Instruction {
        program_id: crate::rwa_market_id(),
        accounts: accounts.to_account_metas(None),
        data: rwa_market::instruction::WithdrawFees { amount }.data(),
    }
}

/// Default args for a market with the given curve; tests override fields as needed.
pub fn market_args(
    curve: rwa_math::Curve,
    rwa_decimals: u8,
    max_supply: u64,
) -> InitializeMarketArgs {
    InitializeMarketArgs {
        curve_kind: curve.kind() as u8,
        curve_params: curve.params().map(|p| p.raw()),
        rwa_decimals,
        fee_bps: 30,
        max_supply,
        twap_window_slots: 150,
        ewma_lambda_bps: 9_400,
        name: "Test RWA".to_string(),
        symbol: "TRWA".to_string(),
        uri: "https://example.org/rwa.json".to_string(),
    }
}

/// A maker's addresses on one market.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MakerAddresses {
    pub owner: Address,
    pub maker: Address,
    pub rwa_vault: Address,
    pub quote_vault: Address,
}

impl MakerAddresses {
    pub fn derive(market: &Address, owner: &Address) -> Self {
        use rwa_market::constants::*;
        let program = crate::rwa_market_id();
        let maker =
            Address::find_program_address(&[MAKER_SEED, market.as_ref(), owner.as_ref()], &program)
                .0;
        MakerAddresses {
            owner: *owner,
            maker,
            rwa_vault: Address::find_program_address(&[MAKER_RWA_SEED, maker.as_ref()], &program).0,
            quote_vault: Address::find_program_address(
                &[MAKER_QUOTE_SEED, maker.as_ref()],
                &program,
            )
            .0,
        }
    }

    /// The three remaining accounts a swap needs for this maker.
    pub fn swap_accounts(&self) -> [solana_instruction::AccountMeta; 3] {
        [
            solana_instruction::AccountMeta::new(self.maker, false),
            solana_instruction::AccountMeta::new(self.rwa_vault, false),
            solana_instruction::AccountMeta::new(self.quote_vault, false),
        ]
    }
}

pub fn open_maker_ix(market: &MarketAddresses, maker: &MakerAddresses) -> Instruction {
    let accounts = rwa_market::accounts::OpenMaker {
        owner: maker.owner,
        market: market.market,
        rwa_mint: market.rwa_mint,
        quote_mint: market.quote_mint,
        maker: maker.maker,
        rwa_vault: maker.rwa_vault,
        quote_vault: maker.quote_vault,
        token_program: spl_token::ID,
        system_program: solana_system_interface::program::ID,
        event_authority: event_authority(),
        program: crate::rwa_market_id(),
    };
    Instruction {
        program_id: crate::rwa_market_id(),
        accounts: accounts.to_account_metas(None),
        data: rwa_market::instruction::OpenMaker {}.data(),
    }
}

pub fn maker_inventory_accounts(
    market: &MarketAddresses,
    maker: &MakerAddresses,
    owner_rwa: &Address,
    owner_quote: &Address,
) -> Vec<solana_instruction::AccountMeta> {
    rwa_market::accounts::MakerInventory {
        owner: maker.owner,
        market: market.market,
        maker: maker.maker,
        rwa_vault: maker.rwa_vault,
        quote_vault: maker.quote_vault,
        owner_rwa_account: *owner_rwa,
        owner_quote_account: *owner_quote,
        token_program: spl_token::ID,
        event_authority: event_authority(),
        program: crate::rwa_market_id(),
    }
    .to_account_metas(None)
}

/// Deposit (`deposit = true`) or withdraw inventory between the owner's token accounts and the escrow.
pub fn maker_inventory_ix(
    market: &MarketAddresses,
    maker: &MakerAddresses,
    owner_accounts: &TraderAccounts,
    deposit: bool,
    rwa_amount: u64,
    quote_amount: u64,
) -> Instruction {
    let data = if deposit {
        rwa_market::instruction::DepositInventory {
            rwa_amount,
            quote_amount,
        }
        .data()
    } else {
        rwa_market::instruction::WithdrawInventory {
            rwa_amount,
            quote_amount,
        }
        .data()
    };
    Instruction {
        program_id: crate::rwa_market_id(),
        accounts: maker_inventory_accounts(
            market,
            maker,
            &owner_accounts.rwa_account,
            &owner_accounts.quote_account,
        ),
        data,
    }
}

pub fn close_maker_ix(
    market: &MarketAddresses,
    maker: &MakerAddresses,
    owner_accounts: &TraderAccounts,
) -> Instruction {
    let accounts = rwa_market::accounts::CloseMaker {
        owner: maker.owner,
        market: market.market,
        maker: maker.maker,
        rwa_vault: maker.rwa_vault,
        quote_vault: maker.quote_vault,
        owner_rwa_account: owner_accounts.rwa_account,
        owner_quote_account: owner_accounts.quote_account,
        token_program: spl_token::ID,
        event_authority: event_authority(),
        program: crate::rwa_market_id(),
    };
    Instruction {
        program_id: crate::rwa_market_id(),
        accounts: accounts.to_account_metas(None),
        data: rwa_market::instruction::CloseMaker {}.data(),
    }
}

pub fn update_quote_accounts(
    market: &MarketAddresses,
    maker: &MakerAddresses,
    signer: &Address,
) -> Vec<solana_instruction::AccountMeta> {
    rwa_market::accounts::UpdateQuote {
        owner: *signer,
        market: market.market,
        maker: maker.maker,
        rule_set: market.rule_set,
        event_authority: event_authority(),
        program: crate::rwa_market_id(),
    }
    .to_account_metas(None)
}

pub fn attach_rule_set_ix(
    market: &MarketAddresses,
    authority: &Address,
    rule_set: &Address,
) -> Instruction {
    let accounts = rwa_market::accounts::AttachRuleSet {
        authority: *authority,
        market: market.market,
        rule_set: *rule_set,
        event_authority: event_authority(),
        program: crate::rwa_market_id(),
    };
    Instruction {
        program_id: crate::rwa_market_id(),
        accounts: accounts.to_account_metas(None),
        data: rwa_market::instruction::AttachRuleSet {}.data(),
    }
}

/// The RuleSet's guardian pauses a governed market.
pub fn guardian_pause_ix(
    market: &MarketAddresses,
    guardian: &Address,
    rule_set: &Address,
) -> Instruction {
    let accounts = rwa_market::accounts::GuardianPause {
        guardian: *guardian,
        market: market.market,
        rule_set: *rule_set,
        event_authority: event_authority(),
        program: crate::rwa_market_id(),
    };
    Instruction {
        program_id: crate::rwa_market_id(),
        accounts: accounts.to_account_metas(None),
        data: rwa_market::instruction::GuardianPauseMarket {}.data(),
    }
}

pub fn post_quote_ix(
    market: &MarketAddresses,
    maker: &MakerAddresses,
    quote: rwa_market::instructions::QuoteParams,
) -> Instruction {
    Instruction {
        program_id: crate::rwa_market_id(),
        accounts: update_quote_accounts(market, maker, &maker.owner),
        data: rwa_market::instruction::PostQuote { quote }.data(),
    }
}

/// `post_quote` signed by someone other than the owner (for refusal tests).
pub fn post_quote_ix_signed_by(
    market: &MarketAddresses,
    maker: &MakerAddresses,
    signer: &Address,
    quote: rwa_market::instructions::QuoteParams,
) -> Instruction {
    Instruction {
        program_id: crate::rwa_market_id(),
        accounts: update_quote_accounts(market, maker, signer),
        data: rwa_market::instruction::PostQuote { quote }.data(),
    }
}

pub fn cancel_quote_ix(market: &MarketAddresses, maker: &MakerAddresses) -> Instruction {
    Instruction {
        program_id: crate::rwa_market_id(),
        accounts: update_quote_accounts(market, maker, &maker.owner),
        data: rwa_market::instruction::CancelQuote {}.data(),
    }
}

/// Routed swaps: exact in or exact out, buy or sell, through `makers` and the curve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SwapKind {
    ExactIn { amount_in: u64, min_amount_out: u64 },
    ExactOut { amount_out: u64, max_amount_in: u64 },
}

pub fn swap_ix(
    market: &MarketAddresses,
    taker: &TraderAccounts,
    side: rwa_market::events::TradeSide,
    kind: SwapKind,
    makers: &[MakerAddresses],
) -> Instruction {
    let mut accounts = trade_accounts(market, taker);
    for maker in makers {
        accounts.extend(maker.swap_accounts());
    }
    let data = match kind {
        SwapKind::ExactIn {
            amount_in,
            min_amount_out,
        } => rwa_market::instruction::SwapExactIn {
            side,
            amount_in,
            min_amount_out,
        }
        .data(),
        SwapKind::ExactOut {
            amount_out,
            max_amount_in,
        } => rwa_market::instruction::SwapExactOut {
            side,
            amount_out,
            max_amount_in,
        }
        .data(),
    };
    Instruction {
        program_id: crate::rwa_market_id(),
        accounts,
        data,
    }
}
