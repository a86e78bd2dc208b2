//! Accounts shared by `deposit_inventory` and `withdraw_inventory`: the maker's escrow vaults and
//! the owner's own token accounts.

use anchor_lang::prelude::*;
use anchor_spl::token::{self, Token, TokenAccount, Transfer};

use crate::constants::*;
use crate::errors::MarketError;
use crate::state::{Maker, Market};

#[event_cpi]
#[derive(Accounts)]
pub struct MakerInventory<'info> {
    pub owner: Signer<'info>,
    #[account(seeds = [MARKET_SEED, market.rwa_mint.as_ref()], bump = market.bump)]
    pub market: Box<Account<'info, Market>>,
    #[account(
        mut,
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

impl<'info> MakerInventory<'info> {
    pub fn owner_to_vault(
        &self,
        from: AccountInfo<'info>,
        to: AccountInfo<'info>,
        amount: u64,
    ) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        let accounts = Transfer {
            from,
            to,
            authority: self.owner.to_account_info(),
        };
        token::transfer(CpiContext::new(self.token_program.key(), accounts), amount)
    }

    pub fn vault_to_owner(
        &self,
        from: AccountInfo<'info>,
        to: AccountInfo<'info>,
        amount: u64,
    ) -> Result<()> {
        maker_transfer(&self.maker, &self.token_program, from, to, amount)
    }
}

/// A transfer out of a maker vault, signed by the maker PDA.
pub fn maker_transfer<'info>(
    maker: &Account<'info, Maker>,
    token_program: &Program<'info, Token>,
    from: AccountInfo<'info>,
    to: AccountInfo<'info>,
    amount: u64,
) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    let seeds: &[&[u8]] = &[
        MAKER_SEED,
        maker.market.as_ref(),
        maker.owner.as_ref(),
        &[maker.bump],
    ];
    let accounts = Transfer {
        from,
        to,
        authority: maker.to_account_info(),
    };
    token::transfer(
        CpiContext::new_with_signer(token_program.key(), accounts, &[seeds]),
        amount,
    )
}
