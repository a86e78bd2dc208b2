//! Client helpers for rwa_market's primary market at NAV: its addresses and one builder per
//! instruction (from the program's own Anchor types).

use anchor_lang::{InstructionData, ToAccountMetas};
use anchor_spl::token::spl_token;
use rwa_market::instructions::PrimaryMarketArgs;
use solana_address::Address;
use solana_instruction::Instruction;

use crate::market::{event_authority, MarketAddresses, TraderAccounts};

/// The primary market's accounts for one market.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrimaryAddresses {
    pub nav: Address,
    pub subscription_vault: Address,
    pub redemption_vault: Address,
}

impl PrimaryAddresses {
    pub fn derive(market: &Address) -> Self {
        use rwa_market::constants::*;
        let program = crate::rwa_market_id();
        let pda = |seed: &[u8]| Address::find_program_address(&[seed, market.as_ref()], &program).0;
        PrimaryAddresses {
            nav: pda(NAV_SEED),
            subscription_vault: pda(SUBSCRIPTION_VAULT_SEED),
            redemption_vault: pda(REDEMPTION_VAULT_SEED),
        }
    }
}

/// The allow-list entry of `wallet` on `market`.
pub fn participant_address(market: &Address, wallet: &Address) -> Address {
    Address::find_program_address(
        &[
            rwa_market::constants::PARTICIPANT_SEED,
            market.as_ref(),
            wallet.as_ref(),
        ],
        &crate::rwa_market_id(),
    )
    .0
}

pub fn init_primary_market_ix(
    payer: &Address,
    authority: &Address,
    market: &MarketAddresses,
    args: PrimaryMarketArgs,
) -> Instruction {
    let p = PrimaryAddresses::derive(&market.market);
    let accounts = rwa_market::accounts::InitPrimaryMarket {
        payer: *payer,
        authority: *authority,
        market: market.market,
        nav: p.nav,
        quote_mint: market.quote_mint,
        subscription_vault: p.subscription_vault,
        redemption_vault: p.redemption_vault,
        token_program: spl_token::ID,
        system_program: solana_system_interface::program::ID,
        event_authority: event_authority(),
        program: crate::rwa_market_id(),
    };
    Instruction {
        program_id: crate::rwa_market_id(),
        accounts: accounts.to_account_metas(None),
        data: rwa_market::instruction::InitPrimaryMarket { args }.data(),
    }
}

/// `nav`: quote tokens per RWA token as 18-digit fixed point; `confidence_bps` of it.
pub fn publish_nav_ix(
    publisher: &Address,
    market: &MarketAddresses,
    nav: u128,
    confidence_bps: u16,
) -> Instruction {
    let accounts = rwa_market::accounts::PublishNav {
        publisher: *publisher,
        market: market.market,
        nav: PrimaryAddresses::derive(&market.market).nav,
        event_authority: event_authority(),
        program: crate::rwa_market_id(),
    };
    Instruction {
        program_id: crate::rwa_market_id(),
        accounts: accounts.to_account_metas(None),
        data: rwa_market::instruction::PublishNav {
            nav,
            confidence_bps,
        }
        .data(),
    }
}

pub fn add_participant_ix(
    payer: &Address,
    authority: &Address,
    market: &MarketAddresses,
    wallet: &Address,
) -> Instruction {
    let accounts = rwa_market::accounts::AddParticipant {
        payer: *payer,
        authority: *authority,
        market: market.market,
        nav: PrimaryAddresses::derive(&market.market).nav,
        participant: participant_address(&market.market, wallet),
        system_program: solana_system_interface::program::ID,
        event_authority: event_authority(),
        program: crate::rwa_market_id(),
    };
    Instruction {
        program_id: crate::rwa_market_id(),
        accounts: accounts.to_account_metas(None),
        data: rwa_market::instruction::AddParticipant { wallet: *wallet }.data(),
    }
}

pub fn remove_participant_ix(
    authority: &Address,
    market: &MarketAddresses,
    wallet: &Address,
    rent_recipient: &Address,
) -> Instruction {
    let accounts = rwa_market::accounts::RemoveParticipant {
        authority: *authority,
        market: market.market,
        participant: participant_address(&market.market, wallet),
        rent_recipient: *rent_recipient,
        event_authority: event_authority(),
        program: crate::rwa_market_id(),
    };
    Instruction {
        program_id: crate::rwa_market_id(),
        accounts: accounts.to_account_metas(None),
        data: rwa_market::instruction::RemoveParticipant {}.data(),
    }
}

fn primary_trade_accounts(
    market: &MarketAddresses,
    who: &TraderAccounts,
    vault: Address,
) -> Vec<solana_instruction::AccountMeta> {
    rwa_market::accounts::PrimaryTrade {
        wallet: who.trader,
        participant: participant_address(&market.market, &who.trader),
        market: market.market,
        nav: PrimaryAddresses::derive(&market.market).nav,
        rwa_mint: market.rwa_mint,
        quote_mint: market.quote_mint,
        wallet_rwa_account: who.rwa_account,
        wallet_quote_account: who.quote_account,
        vault,
        token_program: spl_token::ID,
        event_authority: event_authority(),
        program: crate::rwa_market_id(),
    }
    .to_account_metas(None)
}

/// Pay at most `quote_in` for new tokens at NAV (at least `min_amount_out`).
pub fn subscribe_ix(
    market: &MarketAddresses,
    who: &TraderAccounts,
    quote_in: u64,
    min_amount_out: u64,
) -> Instruction {
    let vault = PrimaryAddresses::derive(&market.market).subscription_vault;
    Instruction {
        program_id: crate::rwa_market_id(),
        accounts: primary_trade_accounts(market, who, vault),
        data: rwa_market::instruction::Subscribe {
            quote_in,
            min_amount_out,
        }
        .data(),
    }
}

/// Burn `amount` tokens for their NAV value less the fee (at least `min_quote_out`).
pub fn redeem_ix(
    market: &MarketAddresses,
    who: &TraderAccounts,
    amount: u64,
    min_quote_out: u64,
) -> Instruction {
    let vault = PrimaryAddresses::derive(&market.market).redemption_vault;
    Instruction {
        program_id: crate::rwa_market_id(),
        accounts: primary_trade_accounts(market, who, vault),
        data: rwa_market::instruction::Redeem {
            amount,
            min_quote_out,
        }
        .data(),
    }
}

pub fn withdraw_subscriptions_ix(
    authority: &Address,
    market: &MarketAddresses,
    destination: &Address,
    amount: u64,
) -> Instruction {
    let p = PrimaryAddresses::derive(&market.market);
    let accounts = rwa_market::accounts::WithdrawSubscriptions {
        authority: *authority,
        market: market.market,
        nav: p.nav,
        subscription_vault: p.subscription_vault,
        destination: *destination,
        token_program: spl_token::ID,
        event_authority: event_authority(),
        program: crate::rwa_market_id(),
    };
    Instruction {
        program_id: crate::rwa_market_id(),
        accounts: accounts.to_account_metas(None),
        data: rwa_market::instruction::WithdrawSubscriptions { amount }.data(),
    }
}

/// Default primary-market terms for tests and bootstraps: NAV at most 150 slots old and 1%
/// uncertain, 0.1% fees, 1,000,000 tokens (6 decimals) redeemable per 216,000 slots.
pub fn primary_args(publisher: Address) -> PrimaryMarketArgs {
    PrimaryMarketArgs {
        publisher,
        max_staleness_slots: 150,
        max_confidence_bps: 100,
        subscribe_fee_bps: 10,
        redeem_fee_bps: 10,
        redemption_window_slots: 216_000,
        redemption_cap_per_window: 1_000_000_000_000,
    }
}
