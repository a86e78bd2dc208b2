use anchor_lang::prelude::*;
use anchor_spl::token::{self, CloseAccount, Token, TokenAccount};

use crate::constants::*;
use crate::errors::MarketError;
use crate::events::MakerClosed;
use crate::instructions::maker_inventory::maker_transfer;
use crate::state::{Maker, Market};

/// Returns everything in escrow to the owner, closes both vaults and the maker account (rent back
/// to the owner). Any live quote goes with it.
#[event_cpi]
#[derive(Accounts)]
pub struct CloseMaker<'info> {
    #[account(mut)]
    pub owner: Signer<'info>,
    #[account(seeds = [MARKET_SEED, market.rwa_mint.as_ref()], bump = market.bump)]
    pub market: Box<Account<'info, Market>>,
    #[account(
        mut,
        close = owner,
        seeds = [MAKER_SEED, market.key().as_ref(), maker.owner.as_ref()],
        bump = maker.bump,
        has_one = market @ MarketError::InvalidMakerAccount,
        has_one = owner @ MarketError::NotMakerOwner,
        has_one = rwa_vault @ MarketError::InvalidMakerAccount,
        has_one = quote_vault @ MarketError::InvalidMakerAccount,
    )]
    pub maker: Box<Account<'info, Maker>>,
    #[account(mut)]
    pub rwa_vault: Box<Account<'info, TokenAccount>>,
    #[account(mut)]
    pub quote_vault: Box<Account<'info, TokenAccount>>,
    #[account(mut, token::mint = market.rwa_mint, token::authority = owner)]
    pub owner_rwa_account: Box<Account<'info, TokenAccount>>,
    #[account(mut, token::mint = market.quote_mint, token::authority = owner)]
    pub owner_quote_account: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

pub fn handle_close_maker(ctx: Context<CloseMaker>) -> Result<()> {
    let accounts = &ctx.accounts;
    // Everything in the vaults goes back, including anything donated beyond the tracked inventory.
    let (rwa_returned, quote_returned) = (accounts.rwa_vault.amount, accounts.quote_vault.amount);
    maker_transfer(
        &accounts.maker,
        &accounts.token_program,
        accounts.rwa_vault.to_account_info(),
        accounts.owner_rwa_account.to_account_info(),
        rwa_returned,
    )?;
    maker_transfer(
        &accounts.maker,
        &accounts.token_program,
        accounts.quote_vault.to_account_info(),
        accounts.owner_quote_account.to_account_info(),
        quote_returned,
    )?;
    let maker = &accounts.maker;
    let seeds: &[&[u8]] = &[
        MAKER_SEED,
        maker.market.as_ref(),
        maker.owner.as_ref(),
        &[maker.bump],
    ];
    for vault in [
        accounts.rwa_vault.to_account_info(),
        accounts.quote_vault.to_account_info(),
    ] {
        let close = CloseAccount {
            account: vault,
            destination: accounts.owner.to_account_info(),
            authority: maker.to_account_info(),
        };
        token::close_account(CpiContext::new_with_signer(
            accounts.token_program.key(),
            close,
            &[seeds],
        ))?;
    }
    let event = MakerClosed {
        market: maker.market,
        maker: maker.key(),
        owner: maker.owner,
        rwa_returned,
        quote_returned,
    };
    emit_cpi!(event);
    Ok(())
}
