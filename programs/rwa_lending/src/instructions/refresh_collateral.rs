use anchor_lang::prelude::*;
use pyth_solana_receiver_sdk::price_update::{PriceUpdateV2, VerificationLevel};
use rwa_market::state::PriceOracle;
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
