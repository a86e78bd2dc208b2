use anchor_lang::prelude::*;

use crate::errors::MarketError;
use crate::events::InventoryChanged;
use crate::instructions::maker_inventory::MakerInventory;

/// The maker takes escrow back, never below what its live quote commits (ask size in RWA, bid
/// notional in quote tokens); an expired or cancelled quote commits nothing.
pub fn validate_withdraw_inventory(
    ctx: &Context<MakerInventory>,
    rwa_amount: u64,
    quote_amount: u64,
) -> Result<()> {
    require!(rwa_amount > 0 || quote_amount > 0, MarketError::ZeroAmount);
    let maker = &ctx.accounts.maker;
    let market = &ctx.accounts.market;
    let slot = Clock::get()?.slot;
    let rwa_left = maker
        .rwa_inventory
        .checked_sub(rwa_amount)
        .ok_or(MarketError::InsufficientInventory)?;
    let quote_left = maker
        .quote_inventory
        .checked_sub(quote_amount)
        .ok_or(MarketError::InsufficientInventory)?;
    require_gte!(
        rwa_left,
        maker.committed_rwa(slot),
        MarketError::InventoryCommitted
    );
    require_gte!(
        quote_left,
        maker.committed_quote(slot, market.rwa_decimals, market.quote_decimals)?,
        MarketError::InventoryCommitted
    );
    Ok(())
}

pub fn handle_withdraw_inventory(
    ctx: Context<MakerInventory>,
    rwa_amount: u64,
    quote_amount: u64,
) -> Result<()> {
    validate_withdraw_inventory(&ctx, rwa_amount, quote_amount)?;
    let accounts = &ctx.accounts;
    accounts.vault_to_owner(
        accounts.rwa_vault.to_account_info(),
        accounts.owner_rwa_account.to_account_info(),
        rwa_amount,
    )?;
    accounts.vault_to_owner(
        accounts.quote_vault.to_account_info(),
        accounts.owner_quote_account.to_account_info(),
        quote_amount,
    )?;
    let maker = &mut ctx.accounts.maker;
    maker.rwa_inventory -= rwa_amount;
    maker.quote_inventory -= quote_amount;
    let event = InventoryChanged {
        market: maker.market,
        maker: maker.key(),
        deposit: false,
        rwa_amount,
        quote_amount,
        rwa_inventory: maker.rwa_inventory,
        quote_inventory: maker.quote_inventory,
    };
    emit_cpi!(event);
    Ok(())
}
