use anchor_lang::prelude::*;
use pyth_solana_receiver_sdk::price_update::{PriceUpdateV2, VerificationLevel};
use rwa_market::state::{NavAttestation, PriceOracle};
use rwa_math::lending::{annualize, borrow_rate, collateral_ratio_bps};
use rwa_math::{Decimal, Rounding};

use crate::constants::{MAX_RATE_STEP_PER_SLOT, RATE_RAMP_CAP_SLOTS};
use crate::errors::{LendingError, MathResultExt};
use crate::events::CollateralRefreshed;
use crate::state::{CollateralConfig, LendingMarket};

/// Reads the collateral's prices and volatility and updates its rate and collateral ratio.
///
/// Prices (every one of them expensive to move): the rwa_market oracle's TWAP is the mid price;
/// borrowing limits use the lower of the TWAP and the curve's spot (a borrower cannot borrow
/// against a price the market just left), less a one-sigma band over the TWAP window;
/// liquidation limits use the TWAP less that band, never the spot (one trade can move the spot
/// within a slot, and a forced liquidation would pay for it). The band is capped at
/// `max_confidence_bps` for valuation and never blocks a refresh; borrows refuse when it is
/// wider, or when the oracle's last write is stale. Where a Pyth feed is configured its
/// PriceUpdateV2 is required (owner = the Pyth receiver program, full Wormhole verification, the
/// configured feed id, not older than the limit) and must agree with the TWAP within tolerance.
///
/// NAV: where the market has a primary market (rwa_market's NAV account exists at its address,
/// which every refresh must pass), a fresh NAV caps every valuation price at the NAV less its
/// confidence band (collateral at the lower of market price and NAV), and the NAV's own
/// volatility counts when it is the larger; a stale or too uncertain NAV blocks borrowing
/// (`require_borrowable`) but never a repay or a liquidation.
///
/// Terms: sigma is capped at `max_sigma`; the rate target r0 + beta sigma at `max_rate`; the
/// stored rate moves toward its target by a bounded step per slot, so no third party can lock a
/// one-slot spike into every borrower with a permissionless refresh.
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
    /// The market's NAV account address (rwa_market PDA [NAV_SEED, market]), passed whether or
    /// not it exists, so no refresher can leave a published NAV out.
    /// CHECK: address fixed by the seeds; read only when rwa_market owns it (`nav_reading`).
    #[account(
        seeds = [rwa_market::constants::NAV_SEED, collateral.rwa_market.as_ref()],
        bump,
        seeds::program = rwa_market::ID,
    )]
    pub nav: UncheckedAccount<'info>,
}

/// What the market's NAV account says.
struct NavReading {
    nav: Decimal,
    confidence_bps: u64,
    published_slot: u64,
    fresh_until_slot: u64,
    variance_per_slot: Decimal,
}

/// The market's NAV account now, or None without a primary market or a publication.
fn nav_reading(account: &AccountInfo) -> Result<Option<NavReading>> {
    if account.owner != &rwa_market::ID || account.data_is_empty() {
        return Ok(None);
    }
    let data = account.try_borrow_data()?;
    let nav = NavAttestation::try_deserialize(&mut &data[..])?;
    if nav.nav == 0 {
        return Ok(None);
    }
    Ok(Some(NavReading {
        nav: Decimal::from_raw(nav.nav),
        confidence_bps: nav.confidence_bps as u64,
        published_slot: nav.publish_slot,
        fresh_until_slot: nav.publish_slot.saturating_add(nav.max_staleness_slots),
        variance_per_slot: Decimal::from_raw(nav.nav_variance_per_slot),
    }))
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
    let twap = oracle.twap(slot).ok_or(LendingError::StaleOracle)?;
    require!(!twap.is_zero(), LendingError::StaleOracle);
    let spot = oracle.spot_at(slot);
    let sigma_slot = oracle.volatility_per_slot(slot);
    let window = oracle.twap_window_slots;
    let oracle_slot = oracle.last_slot;
    drop(oracle);
    // One-sigma move over the TWAP window as the market's confidence band (bps of price).
    let band = rwa_math::oracle::volatility_over(sigma_slot, window);
    let confidence_bps = u64::try_from(band.raw().saturating_mul(10_000).div_ceil(rwa_math::SCALE))
        .unwrap_or(u64::MAX);
    let applied_bps = confidence_bps.min(params.max_confidence_bps as u64);
    let less_band = |price: Decimal| -> Result<Decimal> {
        price
            .mul_div_int(10_000 - applied_bps as u128, 10_000, Rounding::Down)
            .or_lending_err()
    };
    let mut price = twap;
    let mut price_low = less_band(twap.min(spot))?;
    let mut price_liquidation = less_band(twap)?;
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
        let pyth_low = pyth_price.saturating_sub(pyth_conf);
        price = pyth_price;
        price_low = price_low.min(pyth_low);
        price_liquidation = price_liquidation.min(pyth_low);
        used_pyth = true;
    }
    let nav_info = ctx.accounts.nav.to_account_info();
    let nav_present = nav_info.owner == &rwa_market::ID && !nav_info.data_is_empty();
    let reading = nav_reading(&nav_info)?;
    let mut sigma_slot = sigma_slot;
    let mut nav_price = Decimal::ZERO;
    let (mut nav_slot, mut nav_fresh_until, mut nav_confidence) = (0, 0, 0);
    if let Some(reading) = reading {
        (nav_price, nav_slot, nav_fresh_until, nav_confidence) = (
            reading.nav,
            reading.published_slot,
            reading.fresh_until_slot,
            reading.confidence_bps,
        );
        if slot <= reading.fresh_until_slot {
            let band = reading.confidence_bps.min(params.max_confidence_bps as u64) as u128;
            let nav_low = reading
                .nav
                .mul_div_int(10_000 - band, 10_000, Rounding::Down)
                .or_lending_err()?;
            price_low = price_low.min(nav_low);
            price_liquidation = price_liquidation.min(nav_low);
            sigma_slot = sigma_slot.max(rwa_math::oracle::volatility(reading.variance_per_slot));
        }
    }
    let market = &ctx.accounts.lending_market;
    let rules = market.rules(
        ctx.accounts
            .rule_set
            .as_ref()
            .map(|account| account.as_ref()),
    )?;
    let floor = rules.map(|r| r.min_collateral_ratio_bps).unwrap_or(0);
    let sigma = annualize(sigma_slot, market.slots_per_year)
        .unwrap_or(Decimal::MAX)
        .min(Decimal::from_raw(params.max_sigma));
    let target_rate = borrow_rate(
        Decimal::from_raw(params.r0),
        Decimal::from_raw(params.beta),
        sigma,
    )
    .unwrap_or(Decimal::MAX)
    .min(Decimal::from_raw(params.max_rate));
    let cr_bps = collateral_ratio_bps(
        params.cr_min_bps,
        Decimal::from_raw(params.gamma),
        sigma,
        floor,
    )
    .or_lending_err()?;
    let collateral = &mut ctx.accounts.collateral;
    let rate = if collateral.last_refresh_slot == 0 {
        target_rate.raw()
    } else {
        let elapsed = slot
            .saturating_sub(collateral.last_refresh_slot)
            .min(RATE_RAMP_CAP_SLOTS);
        ramp_toward(
            collateral.rate,
            target_rate.raw(),
            MAX_RATE_STEP_PER_SLOT * elapsed as u128,
        )
    };
    collateral.price = price.raw();
    collateral.price_low = price_low.raw();
    collateral.price_liquidation = price_liquidation.raw();
    collateral.confidence_bps = confidence_bps;
    collateral.oracle_slot = oracle_slot;
    collateral.nav_present = nav_present;
    collateral.nav_price = nav_price.raw();
    collateral.nav_slot = nav_slot;
    collateral.nav_fresh_until_slot = nav_fresh_until;
    collateral.nav_confidence_bps = nav_confidence;
    collateral.sigma_slot = sigma_slot.raw();
    collateral.sigma = sigma.raw();
    collateral.rate = rate;
    collateral.cr_bps = cr_bps;
    collateral.last_refresh_slot = slot;
    let event = CollateralRefreshed {
        collateral: collateral.key(),
        price: price.raw(),
        price_low: price_low.raw(),
        sigma: sigma.raw(),
        rate,
        collateral_ratio_bps: cr_bps,
        used_pyth,
        nav: nav_price.raw(),
        slot,
    };
    emit_cpi!(event);
    Ok(())
}

/// `current` moved toward `target` by at most `step`.
fn ramp_toward(current: u128, target: u128, step: u128) -> u128 {
    if target > current {
        current.saturating_add(step).min(target)
    } else {
        current.saturating_sub(step).max(target)
    }
}
