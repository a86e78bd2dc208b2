use anchor_lang::prelude::*;
use pyth_solana_receiver_sdk::price_update::{PriceUpdateV2, VerificationLevel};
use rwa_market::state::PriceOracle;
use rwa_math::lending::{annualize, borrow_rate, collateral_ratio_bps};
use rwa_math::{Decimal, Rounding};

use crate::errors::{LendingError, MathResultExt};
use crate::events::CollateralRefreshed;
use crate::state::{CollateralConfig, LendingMarket};

/// Reads the collateral's prices and volatility and updates its rate and collateral ratio.
/// The rwa_market oracle's TWAP is the market price; its EWMA volatility over the TWAP window is
/// the market confidence band. Where a Pyth feed is configured its PriceUpdateV2 is required
/// (owner = the Pyth receiver program, full Wormhole verification, the configured feed id, not
/// older than the limit) and must agree with the TWAP within tolerance; the low price is the
/// lower of the two confidence-biased prices.
#[event_cpi]
#[derive(Accounts)]
pub struct RefreshCollateral<'info> {
    pub lending_market: Box<Account<'info, LendingMarket>>,
    #[account(mut, has_one = lending_market @ LendingError::InvalidCollateralConfig, has_one = oracle @ LendingError::InvalidOracle)]
    pub collateral: Box<Account<'info, CollateralConfig>>,
    pub oracle: AccountLoader<'info, PriceOracle>,
    /// Required when the collateral has a Pyth feed.
    pub pyth_price: Option<Account<'info, PriceUpdateV2>>,
    /// Required when the lending market has a RuleSet (it floors the collateral ratio).
    /// CHECK: verified by `rwa_rules::load_rule_set`.
    pub rule_set: Option<UncheckedAccount<'info>>,
}

fn pyth_to_decimal(value: i64, exponent: i32) -> Result<Decimal> {
    require!(value > 0, LendingError::InvalidPythPrice);
    let digits = 18i32 + exponent;
    require!((0..=36).contains(&digits), LendingError::InvalidPythPrice);
    let raw = (value as u128)
        .checked_mul(10u128.pow(digits as u32))
        .ok_or(LendingError::InvalidPythPrice)?;
    Ok(Decimal::from_raw(raw))
}

fn bps_of(part: Decimal, whole: Decimal) -> Result<u128> {
    rwa_math::wide::mul_div(part.raw(), 10_000, whole.raw().max(1), Rounding::Up).or_lending_err()
}

pub fn handle_refresh_collateral(ctx: Context<RefreshCollateral>) -> Result<()> {
    let clock = Clock::get()?;
    let slot = clock.slot;
    let params = ctx.accounts.collateral.params;
    let oracle = ctx.accounts.oracle.load()?;
    let latest = oracle.latest().ok_or(LendingError::StaleOracle)?;
    require_gte!(
        latest.slot.saturating_add(params.max_staleness_slots),
        slot,
        LendingError::StaleOracle
    );
    let twap = oracle.twap(slot)?.ok_or(LendingError::StaleOracle)?;
    require!(!twap.is_zero(), LendingError::StaleOracle);
    let sigma_slot = oracle.volatility_per_slot()?;
    let window = oracle.twap_window_slots;
    drop(oracle);
    // One-sigma move over the TWAP window as the market's confidence band.
    let band = rwa_math::oracle::volatility_over(sigma_slot, window).or_lending_err()?;
    let market_conf = twap.mul(band, Rounding::Up).or_lending_err()?;
    require!(
        bps_of(market_conf, twap)? <= params.max_confidence_bps as u128,
        LendingError::OracleTooUncertain
    );
    let mut price = twap;
    let mut price_low = twap.saturating_sub(market_conf);
    let mut used_pyth = false;
    if params.has_pyth() {
        let update = ctx
            .accounts
            .pyth_price
            .as_ref()
            .ok_or(LendingError::InvalidPythPrice)?;
        require!(
            update.verification_level == VerificationLevel::Full,
            LendingError::InvalidPythPrice
        );
        let pyth = update
            .get_price_no_older_than(&clock, params.pyth_max_age_secs, &params.pyth_feed_id)
            .map_err(|_| error!(LendingError::InvalidPythPrice))?;
        let pyth_price = pyth_to_decimal(pyth.price, pyth.exponent)?;
        let pyth_conf = if pyth.conf == 0 {
            Decimal::ZERO
        } else {
            pyth_to_decimal(pyth.conf as i64, pyth.exponent)?
        };
        require!(
            bps_of(pyth_conf, pyth_price)? <= params.max_confidence_bps as u128,
            LendingError::OracleTooUncertain
        );
        let gap = if pyth_price > twap {
            pyth_price.checked_sub(twap)
        } else {
            twap.checked_sub(pyth_price)
        }
        .or_lending_err()?;
        require!(
            bps_of(gap, twap)? <= params.max_divergence_bps as u128,
            LendingError::OracleDivergence
        );
        price = pyth_price;
        price_low = price_low.min(pyth_price.saturating_sub(pyth_conf));
        used_pyth = true;
    }
    let market = &ctx.accounts.lending_market;
    let rules = market.rules(
        ctx.accounts
            .rule_set
            .as_ref()
            .map(|account| account.as_ref()),
    )?;
    let floor = rules.map(|r| r.min_collateral_ratio_bps).unwrap_or(0);
    let sigma = annualize(sigma_slot, market.slots_per_year).or_lending_err()?;
    let rate = borrow_rate(
        Decimal::from_raw(params.r0),
        Decimal::from_raw(params.beta),
        sigma,
    )
    .or_lending_err()?;
    let cr_bps = collateral_ratio_bps(
        params.cr_min_bps,
        Decimal::from_raw(params.gamma),
        sigma,
        floor,
    )
    .or_lending_err()?;
    let collateral = &mut ctx.accounts.collateral;
    collateral.price = price.raw();
    collateral.price_low = price_low.raw();
    collateral.sigma_slot = sigma_slot.raw();
    collateral.sigma = sigma.raw();
    collateral.rate = rate.raw();
    collateral.cr_bps = cr_bps;
    collateral.last_refresh_slot = slot;
    let event = CollateralRefreshed {
        collateral: collateral.key(),
        price: price.raw(),
        price_low: price_low.raw(),
        sigma: sigma.raw(),
        rate: rate.raw(),
        collateral_ratio_bps: cr_bps,
        used_pyth,
        slot,
    };
    emit_cpi!(event);
    Ok(())
}
