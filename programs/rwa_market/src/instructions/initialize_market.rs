use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};
use rwa_math::{Curve, CurveMarket, Decimal};

use crate::constants::*;
use crate::errors::{MarketError, MathResultExt};
use crate::events::MarketInitialized;
use crate::state::{curve_kind_from_u8, Market, PriceOracle};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct InitializeMarketArgs {
    /// 0 linear (slope, intercept), 1 exponential (a, k), 2 sigmoid (max_price, k, midpoint).
    pub curve_kind: u8,
    /// Curve parameters as 18-digit fixed point; unused slots must be zero.
    pub curve_params: [u128; 3],
    /// Decimals of the RWA mint created for this market (0..=9).
    pub rwa_decimals: u8,
    pub fee_bps: u16,
    /// Supply cap in RWA base units.
    pub max_supply: u64,
    pub twap_window_slots: u64,
    pub ewma_lambda_bps: u16,
    pub name: String,
    pub symbol: String,
    pub uri: String,
}

#[event_cpi]
#[derive(Accounts)]
#[instruction(args: InitializeMarketArgs)]
pub struct InitializeMarket<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
    /// Market authority (parameter changes, pause, fee withdrawal).
    pub authority: Signer<'info>,
    #[account(
        init,
        payer = payer,
        space = 8 + Market::INIT_SPACE,
        seeds = [MARKET_SEED, rwa_mint.key().as_ref()],
        bump,
    )]
    pub market: Box<Account<'info, Market>>,
    /// Fresh RWA mint; its mint authority is the market PDA, so only the curve issues tokens.
    #[account(
        init,
        payer = payer,
        mint::decimals = args.rwa_decimals,
        mint::authority = market,
    )]
    pub rwa_mint: Box<Account<'info, Mint>>,
    pub quote_mint: Box<Account<'info, Mint>>,
    #[account(
        init,
        payer = payer,
        seeds = [RESERVE_SEED, market.key().as_ref()],
        bump,
        token::mint = quote_mint,
        token::authority = market,
    )]
    pub reserve_vault: Box<Account<'info, TokenAccount>>,
    #[account(
        init,
        payer = payer,
        seeds = [FEE_VAULT_SEED, market.key().as_ref()],
        bump,
        token::mint = quote_mint,
        token::authority = market,
    )]
    pub fee_vault: Box<Account<'info, TokenAccount>>,
    #[account(
        init,
        payer = payer,
        space = PriceOracle::SIZE,
        seeds = [ORACLE_SEED, market.key().as_ref()],
        bump,
    )]
    pub oracle: AccountLoader<'info, PriceOracle>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

impl InitializeMarket<'_> {
    pub fn validate(&self, args: &InitializeMarketArgs) -> Result<()> {
        require!(args.fee_bps <= MAX_FEE_BPS, MarketError::InvalidFee);
        require!(
            (MIN_TWAP_WINDOW_SLOTS..=MAX_TWAP_WINDOW_SLOTS).contains(&args.twap_window_slots)
                && (MIN_EWMA_LAMBDA_BPS..=MAX_EWMA_LAMBDA_BPS).contains(&args.ewma_lambda_bps),
            MarketError::InvalidOracleConfig
        );
        require!(
            args.name.len() <= MAX_NAME_LEN
                && args.symbol.len() <= MAX_SYMBOL_LEN
                && args.uri.len() <= MAX_URI_LEN,
            MarketError::MetadataTooLong
        );
        require!(args.max_supply > 0, MarketError::InvalidMaxSupply);
        let kind = curve_kind_from_u8(args.curve_kind)?;
        let curve = Curve::from_params(kind, args.curve_params.map(Decimal::from_raw));
        // Parameters a curve kind does not use must be zero, so stored state has one meaning.
        require!(
            curve.params().map(|p| p.raw()) == args.curve_params,
            MarketError::InvalidCurveParams
        );
        let curve_market =
            CurveMarket::new(curve, args.rwa_decimals, self.quote_mint.decimals).or_market_err()?;
        curve_market.validate(args.max_supply).or_market_err()
    }
}

pub fn handle_initialize_market(
    ctx: Context<InitializeMarket>,
    args: InitializeMarketArgs,
) -> Result<()> {
    ctx.accounts.validate(&args)?;
    let slot = Clock::get()?.slot;
    let market_key = ctx.accounts.market.key();
    let market = &mut ctx.accounts.market;
    market.set_inner(Market {
        version: MARKET_VERSION,
        bump: ctx.bumps.market,
        reserve_vault_bump: ctx.bumps.reserve_vault,
        fee_vault_bump: ctx.bumps.fee_vault,
        oracle_bump: ctx.bumps.oracle,
        paused: false,
        curve_kind: args.curve_kind,
        rwa_decimals: args.rwa_decimals,
        quote_decimals: ctx.accounts.quote_mint.decimals,
        fee_bps: args.fee_bps,
        authority: ctx.accounts.authority.key(),
        rwa_mint: ctx.accounts.rwa_mint.key(),
        quote_mint: ctx.accounts.quote_mint.key(),
        reserve_vault: ctx.accounts.reserve_vault.key(),
        fee_vault: ctx.accounts.fee_vault.key(),
        oracle: ctx.accounts.oracle.key(),
        curve_params: args.curve_params,
        max_supply: args.max_supply,
        supply: 0,
        reserve: 0,
        total_fees: 0,
        buy_volume: 0,
        sell_volume: 0,
        trade_count: 0,
        created_slot: slot,
        last_trade_slot: 0,
        name: args.name.clone(),
        symbol: args.symbol.clone(),
        uri: args.uri.clone(),
        rule_set: Pubkey::default(),
        halted: false,
        halt_started_slot: 0,
        halted_until_slot: 0,
        quote_band_bps: DEFAULT_QUOTE_BAND_BPS,
        volume_slot: 0,
        volume_amount: 0,
        volume_notional: 0,
        nav_publisher: Pubkey::default(),
        referrer_share_bps: 0,
        reserved: [0; 4],
    });
    let initial_price = market.spot_price()?;

    let mut oracle = ctx.accounts.oracle.load_init()?;
    oracle.market = market_key;
    oracle.bump = ctx.bumps.oracle;
    oracle.ewma_lambda_bps = args.ewma_lambda_bps;
    oracle.twap_window_slots = args.twap_window_slots;
    oracle.initialize(slot, initial_price);
    drop(oracle);

    emit_cpi!(MarketInitialized {
        market: market_key,
        authority: ctx.accounts.authority.key(),
        rwa_mint: ctx.accounts.rwa_mint.key(),
        quote_mint: ctx.accounts.quote_mint.key(),
        curve_kind: args.curve_kind,
        curve_params: args.curve_params,
        fee_bps: args.fee_bps,
        max_supply: args.max_supply,
        name: args.name,
        symbol: args.symbol,
        uri: args.uri,
    });
    Ok(())
}
