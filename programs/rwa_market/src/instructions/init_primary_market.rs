use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::constants::*;
use crate::errors::MarketError;
use crate::events::PrimaryMarketOpened;
use crate::state::{Market, NavAttestation};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct PrimaryMarketArgs {
    /// Who attests the NAV (the issuer's key; the market authority or the DAO can change it
    /// through `set_market_params`).
    pub publisher: Pubkey,
    /// Subscriptions and redemptions need a NAV at most this many slots old (1..=216,000).
    pub max_staleness_slots: u64,
    /// ... and at most this uncertain (bps of the NAV, 1..=5,000).
    pub max_confidence_bps: u16,
    /// Fees (bps, at most 500), kept by the issuer.
    pub subscribe_fee_bps: u16,
    pub redeem_fee_bps: u16,
    /// At most `redemption_cap_per_window` RWA base units redeemed per window (1..=1,512,000 slots).
    pub redemption_window_slots: u64,
    pub redemption_cap_per_window: u64,
}

#[event_cpi]
#[derive(Accounts)]
pub struct InitPrimaryMarket<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
    pub authority: Signer<'info>,
    #[account(
        mut,
        seeds = [MARKET_SEED, market.rwa_mint.as_ref()],
        bump = market.bump,
        has_one = authority @ MarketError::Unauthorized,
        has_one = quote_mint @ MarketError::InvalidMint,
    )]
    pub market: Box<Account<'info, Market>>,
    #[account(
        init,
        payer = payer,
        space = 8 + NavAttestation::INIT_SPACE,
        seeds = [NAV_SEED, market.key().as_ref()],
        bump,
    )]
    pub nav: Box<Account<'info, NavAttestation>>,
    pub quote_mint: Box<Account<'info, Mint>>,
    #[account(
        init,
        payer = payer,
        seeds = [SUBSCRIPTION_VAULT_SEED, market.key().as_ref()],
        bump,
        token::mint = quote_mint,
        token::authority = market,
    )]
    pub subscription_vault: Box<Account<'info, TokenAccount>>,
    #[account(
        init,
        payer = payer,
        seeds = [REDEMPTION_VAULT_SEED, market.key().as_ref()],
        bump,
        token::mint = quote_mint,
        token::authority = market,
    )]
    pub redemption_vault: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

impl InitPrimaryMarket<'_> {
    pub fn validate(&self, args: &PrimaryMarketArgs) -> Result<()> {
        require!(
            args.publisher != Pubkey::default()
                && (1..=MAX_NAV_STALENESS_SLOTS).contains(&args.max_staleness_slots)
                && (1..=MAX_NAV_CONFIDENCE_BPS).contains(&args.max_confidence_bps)
                && args.subscribe_fee_bps <= MAX_PRIMARY_FEE_BPS
                && args.redeem_fee_bps <= MAX_PRIMARY_FEE_BPS
                && (1..=MAX_REDEMPTION_WINDOW_SLOTS).contains(&args.redemption_window_slots)
                && args.redemption_cap_per_window > 0,
            MarketError::InvalidPrimaryConfig
        );
        Ok(())
    }
}

pub fn handle_init_primary_market(
    ctx: Context<InitPrimaryMarket>,
    args: PrimaryMarketArgs,
) -> Result<()> {
    ctx.accounts.validate(&args)?;
    let slot = Clock::get()?.slot;
    let market_key = ctx.accounts.market.key();
    let nav = &mut ctx.accounts.nav;
    nav.version = NAV_VERSION;
    nav.bump = ctx.bumps.nav;
    nav.subscription_vault_bump = ctx.bumps.subscription_vault;
    nav.redemption_vault_bump = ctx.bumps.redemption_vault;
    nav.market = market_key;
    nav.max_staleness_slots = args.max_staleness_slots;
    nav.max_confidence_bps = args.max_confidence_bps;
    nav.subscribe_fee_bps = args.subscribe_fee_bps;
    nav.redeem_fee_bps = args.redeem_fee_bps;
    nav.redemption_window_slots = args.redemption_window_slots;
    nav.redemption_cap_per_window = args.redemption_cap_per_window;
    nav.window_start_slot = slot;
    nav.subscription_vault = ctx.accounts.subscription_vault.key();
    nav.redemption_vault = ctx.accounts.redemption_vault.key();
    let nav_account = nav.key();
    ctx.accounts.market.nav_publisher = args.publisher;
    emit_cpi!(PrimaryMarketOpened {
        market: market_key,
        nav_account,
        publisher: args.publisher,
        max_staleness_slots: args.max_staleness_slots,
        max_confidence_bps: args.max_confidence_bps,
        subscribe_fee_bps: args.subscribe_fee_bps,
        redeem_fee_bps: args.redeem_fee_bps,
        redemption_window_slots: args.redemption_window_slots,
        redemption_cap_per_window: args.redemption_cap_per_window,
    });
    Ok(())
}
