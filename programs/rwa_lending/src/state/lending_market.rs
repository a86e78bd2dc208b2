use anchor_lang::prelude::*;

use crate::errors::LendingError;

/// A lending market with its single quote-asset reserve (isolated-market style): depositors
/// provide quote tokens for shares, borrowers draw them against RWA collateral.
#[account]
#[derive(InitSpace, Debug)]
pub struct LendingMarket {
    pub bump: u8,
    pub vault_bump: u8,
    pub share_mint_bump: u8,
    pub risk_bump: u8,
    pub id: u64,
    pub admin: Pubkey,
    pub quote_mint: Pubkey,
    pub quote_decimals: u8,
    pub liquidity_vault: Pubkey,
    pub share_mint: Pubkey,
    pub risk: Pubkey,
    /// Writes the correlation matrix unless a RuleSet names another covariance authority.
    pub risk_authority: Pubkey,
    /// The rule DAO's RuleSet (default: none).
    pub rule_set: Pubkey,
    /// Share of interest kept as protocol fees (bps).
    pub reserve_factor_bps: u16,
    /// Cap on an indebted obligation's portfolio volatility (annualised, 18-digit fixed point).
    pub sigma_p_cap: u128,
    pub slots_per_year: u64,
    /// Quote base units in the vault (unclaimed protocol fees included; see `total_value`).
    pub available: u64,
    /// Debt outstanding, interest included as realised by obligation refreshes.
    pub total_debt: u64,
    /// Deposit shares outstanding (mirrors the share mint's supply).
    pub total_shares: u64,
    /// Protocol fees accrued and not yet claimed (held in the vault, not lendable).
    pub protocol_fees: u64,
    /// Debt written off when liquidations exhausted an obligation's collateral. Never hidden.
    pub bad_debt: u64,
    pub collateral_count: u8,
    /// Paused: no borrows, collateral withdrawals, liquidity deposits or liquidations; repay,
    /// collateral deposits, liquidity withdrawals (share value does not depend on prices) and
    /// refreshes go on.
    pub paused: bool,
    /// Once a rule DAO is attached: its authority PDA, the only signer of parameter changes and
    /// of resuming after a pause (the admin keeps only protocol-fee claims).
    pub governance_authority: Pubkey,
    pub reserved: [u64; 4],
}

impl LendingMarket {
    /// What all deposit shares are worth: liquidity plus debt owed, less the protocol's fees.
    pub fn total_value(&self) -> Result<u64> {
        self.available
            .checked_add(self.total_debt)
            .and_then(|gross| gross.checked_sub(self.protocol_fees))
            .ok_or_else(|| error!(LendingError::MathOverflow))
    }

    pub fn is_governed(&self) -> bool {
        self.rule_set != Pubkey::default()
    }

    /// Who changes parameters and resumes the market: the admin, or the DAO once attached.
    pub fn governing_authority(&self) -> Pubkey {
        if self.is_governed() {
            self.governance_authority
        } else {
            self.admin
        }
    }

    pub fn require_active(&self) -> Result<()> {
        require!(!self.paused, LendingError::LendingPaused);
        Ok(())
    }

    pub fn rules(&self, passed: Option<&AccountInfo>) -> Result<Option<rwa_rules::RuleValues>> {
        rwa_rules::rules_for(&self.rule_set, passed)
    }
}
