use anchor_lang::prelude::*;

use crate::instructions::pause_market::SetPaused;

/// Resumes trading on a paused market.
pub fn handle_unpause_market(ctx: Context<SetPaused>) -> Result<()> {
    let event = ctx.accounts.apply(false)?;
    emit_cpi!(event);
    Ok(())
}
