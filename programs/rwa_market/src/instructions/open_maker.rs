use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::constants::*;
use crate::errors::MarketError;
use crate::events::MakerOpened;
use crate::state::{Maker, Market};

/// Creates the caller's maker account on a market with its two escrow vaults (authority: the maker PDA).
#[event_cpi]
#[derive(Accounts)]
pub struct OpenMaker<'info> {
    #[account(mut)]
    pub owner: Signer<'info>,
    #[account(
        seeds = [MARKET_SEED, rwa_mint.key().as_ref()],
        bump = market.bump,
        has_one = rwa_mint @ MarketError::InvalidMint,
        has_one = quote_mint @ MarketError::InvalidMint,
    )]
    pub market: Box<Account<'info, Market>>,
    pub rwa_mint: Box<Account<'info, Mint>>,
    pub quote_mint: Box<Account<'info, Mint>>,
    #[account(
        init,
        payer = owner,
        space = 8 + Maker::INIT_SPACE,
        seeds = [MAKER_SEED, market.key().as_ref(), owner.key().as_ref()],
        bump,
    )]
    pub maker: Box<Account<'info, Maker>>,
    #[account(
        init,
        payer = owner,
        seeds = [MAKER_RWA_SEED, maker.key().as_ref()],
        bump,
        token::mint = rwa_mint,
        token::authority = maker,
    )]
    pub rwa_vault: Box<Account<'info, TokenAccount>>,
    #[account(
        init,
        payer = owner,
        seeds = [MAKER_QUOTE_SEED, maker.key().as_ref()],
        bump,
        token::mint = quote_mint,
        token::authority = maker,
    )]
    pub quote_vault: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

pub fn handle_open_maker(ctx: Context<OpenMaker>) -> Result<()> {
    let maker_key = ctx.accounts.maker.key();
    ctx.accounts.maker.set_inner(Maker {
        bump: ctx.bumps.maker,
        rwa_vault_bump: ctx.bumps.rwa_vault,
        quote_vault_bump: ctx.bumps.quote_vault,
        market: ctx.accounts.market.key(),
        owner: ctx.accounts.owner.key(),
        rwa_vault: ctx.accounts.rwa_vault.key(),
        quote_vault: ctx.accounts.quote_vault.key(),
        rwa_inventory: 0,
        quote_inventory: 0,
        bid_price: 0,
        bid_size: 0,
        ask_price: 0,
        ask_size: 0,
        expiry_slot: 0,
        posted_slot: 0,
        sequence: 0,
        bought: 0,
        sold: 0,
        fill_count: 0,
        reserved: [0; 8],
    });
    emit_cpi!(MakerOpened {
        market: ctx.accounts.market.key(),
        maker: maker_key,
        owner: ctx.accounts.owner.key()
    });
    Ok(())
}
