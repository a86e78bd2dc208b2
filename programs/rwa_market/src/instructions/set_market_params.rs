use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::MarketError;
use crate::events::{MarketParamsUpdated, MarketPauseChanged};
use crate::state::{Market, PriceOracle};

/// Parameter changes that keep the curve (and so the solvency invariant) intact. The curve itself
/// is immutable once created: changing it would re-price every token already issued.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct MarketParamsUpdate {
    pub fee_bps: Option<u16>,
    /// New cap in RWA base units; never below the current supply.
    pub max_supply: Option<u64>,
    pub twap_window_slots: Option<u64>,
    pub ewma_lambda_bps: Option<u16>,
    pub new_authority: Option<Pubkey>,
    /// Band around the curve's spot for maker quotes (bps, 10..=5_000).
    pub quote_band_bps: Option<u16>,
    /// Pause or resume trading (how a DAO-governed market is resumed after a guardian pause).
    pub paused: Option<bool>,
    /// Replace the NAV publisher of the market's primary market (not the default key).
    pub nav_publisher: Option<Pubkey>,
    /// Share of the fee paid to referrers (bps of the fee, at most 5,000).
    pub referrer_share_bps: Option<u16>,
}

#[event_cpi]
#[derive(Accounts)]
pub struct SetMarketParams<'info> {
    pub authority: Signer<'info>,
    #[account(
        mut,
        seeds = [MARKET_SEED, market.rwa_mint.as_ref()],
        bump = market.bump,
        has_one = authority @ MarketError::Unauthorized,
        has_one = oracle @ MarketError::InvalidOracle,
    )]
    pub market: Box<Account<'info, Market>>,
    #[account(mut)]
    pub oracle: AccountLoader<'info, PriceOracle>,
}

impl SetMarketParams<'_> {
    pub fn validate(&self, update: &MarketParamsUpdate) -> Result<()> {
        require!(
            *update != MarketParamsUpdate::default(),
            MarketError::NoParamsChanged
        );
        if let Some(fee_bps) = update.fee_bps {
            require!(fee_bps <= MAX_FEE_BPS, MarketError::InvalidFee);
        }
        if let Some(max_supply) = update.max_supply {
            require!(
                max_supply > 0 && max_supply >= self.market.supply,
                MarketError::InvalidMaxSupply
            );
            // The whole new cap must stay priceable in quote base units.
            let curve = self.market.curve_market()?;
            curve
                .validate(max_supply)
                .map_err(|_| error!(MarketError::InvalidMaxSupply))?;
        }
        if let Some(window) = update.twap_window_slots {
            require!(
                (MIN_TWAP_WINDOW_SLOTS..=MAX_TWAP_WINDOW_SLOTS).contains(&window),
                MarketError::InvalidOracleConfig
            );
        }
        if let Some(band) = update.quote_band_bps {
            require!(
                (MIN_QUOTE_BAND_BPS..=MAX_QUOTE_BAND_BPS).contains(&band),
                MarketError::InvalidQuoteBand
            );
        }
        if let Some(lambda) = update.ewma_lambda_bps {
            require!(
                (MIN_EWMA_LAMBDA_BPS..=MAX_EWMA_LAMBDA_BPS).contains(&lambda),
                MarketError::InvalidOracleConfig
            );
        }
        if let Some(share) = update.referrer_share_bps {
            require!(
                share <= MAX_REFERRER_SHARE_BPS,
                MarketError::InvalidReferrer
            );
        }
        if let Some(publisher) = update.nav_publisher {
            require!(
                publisher != Pubkey::default(),
                MarketError::InvalidPrimaryConfig
            );
        }
        Ok(())
    }
}

pub fn handle_set_market_params(
    ctx: Context<SetMarketParams>,
    update: MarketParamsUpdate,
) -> Result<()> {
    ctx.accounts.validate(&update)?;
    let market = &mut ctx.accounts.market;
    if let Some(fee_bps) = update.fee_bps {
        market.fee_bps = fee_bps;
    }
    if let Some(max_supply) = update.max_supply {
        market.max_supply = max_supply;
    }
    if let Some(authority) = update.new_authority {
        market.authority = authority;
    }
    if let Some(band) = update.quote_band_bps {
        market.quote_band_bps = band;
    }
    if let Some(publisher) = update.nav_publisher {
        market.nav_publisher = publisher;
    }
    if let Some(share) = update.referrer_share_bps {
        market.referrer_share_bps = share;
    }
    let pause_changed = update.paused.filter(|paused| *paused != market.paused);
    if let Some(paused) = pause_changed {
        market.paused = paused;
    }
    let mut oracle = ctx.accounts.oracle.load_mut()?;
    if let Some(window) = update.twap_window_slots {
        oracle.twap_window_slots = window;
    }
    if let Some(lambda) = update.ewma_lambda_bps {
        oracle.ewma_lambda_bps = lambda;
    }
    let event = MarketParamsUpdated {
        market: market.key(),
        authority: market.authority,
        fee_bps: market.fee_bps,
        max_supply: market.max_supply,
        twap_window_slots: oracle.twap_window_slots,
        ewma_lambda_bps: oracle.ewma_lambda_bps,
        quote_band_bps: market.quote_band_bps,
        paused: market.paused,
        referrer_share_bps: market.referrer_share_bps,
    };
    drop(oracle);
    emit_cpi!(event);
    if let Some(paused) = pause_changed {
        emit_cpi!(MarketPauseChanged {
            market: ctx.accounts.market.key(),
            paused,
            slot: Clock::get()?.slot,
        });
    }
    Ok(())
}
