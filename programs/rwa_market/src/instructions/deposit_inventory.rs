use anchor_lang::prelude::*;

use crate::errors::MarketError;
use crate::events::InventoryChanged;
use crate::instructions::maker_inventory::MakerInventory;

/// The maker escrows RWA and/or quote tokens that its quotes can then commit.
pub fn validate_deposit_inventory(rwa_amount: u64, quote_amount: u64) -> Result<()> {
    require!(rwa_amount > 0 || quote_amount > 0, MarketError::ZeroAmount);
    Ok(())
}

pub fn handle_deposit_inventory(
    ctx: Context<MakerInventory>,
    rwa_amount: u64,
    quote_amount: u64,
) -> Result<()> {
    validate_deposit_inventory(rwa_amount, quote_amount)?;
    let accounts = &ctx.accounts;
    accounts.owner_to_vault(
        accounts.owner_rwa_account.to_account_info(),
        accounts.rwa_vault.to_account_info(),
        rwa_amount,
    )?;
    accounts.owner_to_vault(
        accounts.owner_quote_account.to_account_info(),
        accounts.quote_vault.to_account_info(),
        quote_amount,
    )?;
    let maker = &mut ctx.accounts.maker;
    maker.rwa_inventory = maker
        .rwa_inventory
        .checked_add(rwa_amount)
        .ok_or(MarketError::MathOverflow)?;
    maker.quote_inventory = maker
        .quote_inventory
        .checked_add(quote_amount)
        .ok_or(MarketError::MathOverflow)?;
    let event = InventoryChanged {
        market: maker.market,
        maker: maker.key(),
        deposit: true,
        rwa_amount,
        quote_amount,
        rwa_inventory: maker.rwa_inventory,
        quote_inventory: maker.quote_inventory,
    };
    emit_cpi!(event);
    Ok(())
}
