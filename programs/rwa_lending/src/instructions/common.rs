//! Obligation book-keeping shared by the instructions: interest accrual, limits from refreshed
//! collateral, and the same-transaction refresh requirement.

use anchor_lang::prelude::*;
use anchor_lang::Discriminator;
use rwa_math::lending::{accrue, collateral_value, limit_at_ratio, portfolio_sigma};
use rwa_math::{Decimal, Rounding};

use crate::constants::LENDING_MARKET_SEED;
use crate::errors::{LendingError, MathResultExt};
use crate::state::{CollateralConfig, LendingMarket, Obligation, RiskMatrix};

/// Runs `cpi` signed as the lending market PDA, which owns every vault and the share mint.
pub fn with_market_signer<R>(market: &LendingMarket, cpi: impl FnOnce(&[&[&[u8]]]) -> R) -> R {
    let id = market.id.to_le_bytes();
    let seeds: &[&[u8]] = &[
        LENDING_MARKET_SEED,
        market.quote_mint.as_ref(),
        &id,
        &[market.bump],
    ];
    cpi(&[seeds])
}

/// Realises the interest accrued since the last accrual at the obligation's rate; the market's
/// debt grows by the same amount and the protocol's share is set aside. Returns the interest.
pub fn accrue_interest(
    obligation: &mut Obligation,
    market: &mut LendingMarket,
    slot: u64,
) -> Result<u64> {
    let elapsed = slot.saturating_sub(obligation.last_accrual_slot);
    obligation.last_accrual_slot = slot;
    if elapsed == 0 || obligation.debt == 0 {
        return Ok(0);
    }
    // Saturating: accrual never makes a repay or a refresh fail.
    let grown = accrue(
        obligation.debt,
        Decimal::from_raw(obligation.rate),
        elapsed,
        market.slots_per_year,
    );
    let interest = grown - obligation.debt;
    obligation.debt = grown;
    market.total_debt = market.total_debt.saturating_add(interest);
    // interest * bps / 10_000 <= interest: cannot overflow.
    let fee = rwa_math::wide::mul_div(
        interest as u128,
        market.reserve_factor_bps as u128,
        10_000,
        Rounding::Down,
    )
    .unwrap_or(0) as u64;
    market.protocol_fees = market.protocol_fees.saturating_add(fee);
    Ok(interest)
}

/// Recomputes limits, rate and portfolio volatility from collateral configs refreshed this slot.
/// `configs` must hold every active collateral of the obligation.
pub fn recompute(
    obligation: &mut Obligation,
    configs: &[&CollateralConfig],
    config_keys: &[Pubkey],
    risk: &RiskMatrix,
    quote_decimals: u8,
    slot: u64,
    require_fresh: bool,
) -> Result<()> {
    let (mut borrow_limit, mut liquidation_limit, mut value_low) = (0u64, 0u64, 0u64);
    let mut weights = Vec::new();
    let mut sigmas = Vec::new();
    let mut indices = Vec::new();
    let mut weighted_rate: u128 = 0;
    let mut weight_total: u128 = 0;
    for entry in obligation.active() {
        let config = config_of(configs, config_keys, &entry.config)?;
        if require_fresh {
            require_eq!(
                config.last_refresh_slot,
                slot,
                LendingError::RefreshRequired
            );
        }
        // Collateral value at a price, rounded down (in the vault's favour).
        let value_at = |price: u128| {
            collateral_value(
                entry.amount,
                Decimal::from_raw(price),
                config.rwa_decimals,
                quote_decimals,
                Rounding::Down,
            )
            .or_lending_err()
        };
        let low = value_at(config.price_low)?;
        let at_liquidation_price = value_at(config.price_liquidation)?;
        let mid = value_at(config.price)?;
        value_low = value_low
            .checked_add(low)
            .ok_or(LendingError::MathOverflow)?;
        borrow_limit = borrow_limit
            .checked_add(limit_at_ratio(low, config.cr_bps).or_lending_err()?)
            .ok_or(LendingError::MathOverflow)?;
        let liquidation = limit_at_ratio(
            at_liquidation_price,
            config.params.liquidation_cr_bps as u64,
        )
        .or_lending_err()?;
        liquidation_limit = liquidation_limit
            .checked_add(liquidation)
            .ok_or(LendingError::MathOverflow)?;
        weights.push(mid);
        sigmas.push(Decimal::from_raw(config.sigma));
        indices.push(config.index as usize);
        weighted_rate = weighted_rate
            .checked_add(
                config
                    .rate
                    .checked_mul(mid as u128)
                    .ok_or(LendingError::MathOverflow)?,
            )
            .ok_or(LendingError::MathOverflow)?;
        weight_total += mid as u128;
    }
    obligation.borrow_limit = borrow_limit;
    obligation.liquidation_limit = liquidation_limit;
    obligation.collateral_value = value_low;
    // Value-weighted rate, rounded up.
    obligation.rate = if weight_total == 0 {
        obligation.rate
    } else {
        weighted_rate.div_ceil(weight_total)
    };
    let sigma_p = portfolio_sigma(&weights, &sigmas, &|i, j| {
        risk.correlation(indices[i], indices[j])
    })
    .or_lending_err()?;
    obligation.sigma_p = sigma_p.raw();
    Ok(())
}

/// The config `key` among those passed (an active collateral whose config is missing means the
/// caller did not pass, and so did not refresh, every collateral).
pub fn config_of<'a>(
    configs: &[&'a CollateralConfig],
    config_keys: &[Pubkey],
    key: &Pubkey,
) -> Result<&'a CollateralConfig> {
    let position = config_keys
        .iter()
        .position(|candidate| candidate == key)
        .ok_or(LendingError::RefreshRequired)?;
    Ok(configs[position])
}

/// Collateral configs passed as remaining accounts (owner and discriminator checked, same market).
pub fn load_configs<'info>(
    market: &Pubkey,
    remaining: &'info [AccountInfo<'info>],
) -> Result<(Vec<Account<'info, CollateralConfig>>, Vec<Pubkey>)> {
    let mut configs = Vec::with_capacity(remaining.len());
    let mut keys = Vec::with_capacity(remaining.len());
    for info in remaining {
        let config: Account<'info, CollateralConfig> = Account::try_from(info)?;
        require_keys_eq!(
            config.lending_market,
            *market,
            LendingError::InvalidCollateralConfig
        );
        keys.push(info.key());
        configs.push(config);
    }
    Ok((configs, keys))
}

/// The instruction right before this one in the transaction must be this program's
/// `refresh_obligation` for `obligation` (Kamino-style check), and the refresh must be from this slot.
pub fn require_refreshed(
    obligation: &Obligation,
    obligation_key: &Pubkey,
    instructions: &AccountInfo,
    slot: u64,
) -> Result<()> {
    require_eq!(
        obligation.last_refresh_slot,
        slot,
        LendingError::RefreshRequired
    );
    let current = solana_instructions_sysvar::load_current_index_checked(instructions)
        .map_err(|_| error!(LendingError::RefreshRequired))?;
    require!(current > 0, LendingError::RefreshRequired);
    let previous =
        solana_instructions_sysvar::load_instruction_at_checked(current as usize - 1, instructions)
            .map_err(|_| error!(LendingError::RefreshRequired))?;
    require_keys_eq!(
        previous.program_id,
        crate::ID,
        LendingError::RefreshRequired
    );
    require!(
        previous
            .data
            .starts_with(crate::instruction::RefreshObligation::DISCRIMINATOR),
        LendingError::RefreshRequired
    );
    require!(
        previous
            .accounts
            .iter()
            .any(|meta| meta.pubkey == *obligation_key),
        LendingError::RefreshRequired
    );
    Ok(())
}

/// New risk (a borrow, a collateral withdrawal from an indebted obligation) needs every active
/// collateral's oracle fresh and its confidence band within limits; repay and liquidation never
/// check this, so a quiet or volatile market cannot trap borrowers or shield bad positions.
pub fn require_borrowable(
    obligation: &Obligation,
    configs: &[&CollateralConfig],
    config_keys: &[Pubkey],
    slot: u64,
) -> Result<()> {
    for entry in obligation.active() {
        let config = config_of(configs, config_keys, &entry.config)?;
        require_gte!(
            config
                .oracle_slot
                .saturating_add(config.params.max_staleness_slots),
            slot,
            LendingError::StaleOracle
        );
        require_gte!(
            config.params.max_confidence_bps as u64,
            config.confidence_bps,
            LendingError::OracleTooUncertain
        );
        // A primary market's NAV, once the market has one, must be published, fresh and certain
        // enough to take new risk against.
        if config.nav_present {
            require!(
                config.nav_price > 0 && slot <= config.nav_fresh_until_slot,
                LendingError::StaleOracle
            );
            require_gte!(
                config.params.max_confidence_bps as u64,
                config.nav_confidence_bps,
                LendingError::OracleTooUncertain
            );
        }
    }
    Ok(())
}
