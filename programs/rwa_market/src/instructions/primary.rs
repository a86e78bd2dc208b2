//! Accounts and checks shared by `subscribe` and `redeem` (the primary market at NAV).

use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::constants::*;
use crate::errors::MarketError;
use crate::state::{Market, NavAttestation, Participant};

#[event_cpi]
#[derive(Accounts)]
pub struct PrimaryTrade<'info> {
    pub wallet: Signer<'info>,
    /// The wallet's allow-list entry, checked by `validate_participant` (a missing or foreign
    /// entry is refused as `NotParticipant`).
    /// CHECK: owner, type, market and wallet verified in `validate_participant`.
    pub participant: UncheckedAccount<'info>,
    #[account(
        mut,
        seeds = [MARKET_SEED, rwa_mint.key().as_ref()],
        bump = market.bump,
        has_one = rwa_mint @ MarketError::InvalidMint,
        has_one = quote_mint @ MarketError::InvalidMint,
    )]
    pub market: Box<Account<'info, Market>>,
    #[account(
        mut,
        seeds = [NAV_SEED, market.key().as_ref()],
        bump = nav.bump,
        has_one = market @ MarketError::InvalidNavAccount,
    )]
    pub nav: Box<Account<'info, NavAttestation>>,
    #[account(mut)]
    pub rwa_mint: Box<Account<'info, Mint>>,
    pub quote_mint: Box<Account<'info, Mint>>,
    #[account(mut, token::mint = rwa_mint, token::authority = wallet)]
    pub wallet_rwa_account: Box<Account<'info, TokenAccount>>,
    #[account(mut, token::mint = quote_mint, token::authority = wallet)]
    pub wallet_quote_account: Box<Account<'info, TokenAccount>>,
    /// The subscription vault (subscribe) or the redemption vault (redeem), checked against the
    /// NAV account by the instruction.
    #[account(mut)]
    pub vault: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

impl PrimaryTrade<'_> {
    /// Market live, wallet allowed, amount non-zero; returns the NAV usable now.
    pub fn validate_primary(&self, requested: u64) -> Result<rwa_math::Decimal> {
        self.market.require_active()?;
        self.validate_participant()?;
        require!(requested > 0, MarketError::ZeroAmount);
        self.nav.usable_nav(Clock::get()?.slot)
    }

    fn validate_participant(&self) -> Result<()> {
        let info = self.participant.as_ref();
        require!(
            info.owner == &crate::ID && !info.data_is_empty(),
            MarketError::NotParticipant
        );
        let data = info.try_borrow_data()?;
        let entry = Participant::try_deserialize(&mut &data[..])
            .map_err(|_| error!(MarketError::NotParticipant))?;
        require!(
            entry.market == self.market.key() && entry.wallet == self.wallet.key(),
            MarketError::NotParticipant
        );
        Ok(())
    }

    pub fn market_seeds(&self) -> [&[u8]; 2] {
        [MARKET_SEED, self.market.rwa_mint.as_ref()]
    }
}
