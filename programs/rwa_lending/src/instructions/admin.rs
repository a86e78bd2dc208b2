//! Administration: correlations (risk authority), RuleSet attachment and protocol fees (admin).

use anchor_lang::prelude::*;
use anchor_spl::token::{self, Token, TokenAccount, Transfer};

use crate::constants::*;
use crate::errors::LendingError;
use crate::events::{CorrelationsUpdated, ProtocolFeesClaimed};
use crate::instructions::common::with_market_signer;
use crate::state::{correlations_valid, LendingMarket, RiskMatrix};

/// The risk authority writes the correlation matrix (symmetric, unit diagonal, entries in
/// [-1, 1]). Under a RuleSet the authority is the rule's `covariance_authority`.
#[event_cpi]
#[derive(Accounts)]
pub struct UpdateCorrelations<'info> {
    pub authority: Signer<'info>,
    pub lending_market: Box<Account<'info, LendingMarket>>,
    #[account(mut, address = lending_market.risk)]
    pub risk: Box<Account<'info, RiskMatrix>>,
    /// CHECK: verified by `rwa_rules::load_rule_set` when the market has a RuleSet.
    pub rule_set: Option<UncheckedAccount<'info>>,
}

pub fn handle_update_correlations(
    ctx: Context<UpdateCorrelations>,
    correlations_bps: [[i16; MAX_COLLATERALS]; MAX_COLLATERALS],
) -> Result<()> {
    let market = &ctx.accounts.lending_market;
    let authority = match market.rules(
        ctx.accounts
            .rule_set
            .as_ref()
            .map(|account| account.as_ref()),
    )? {
        Some(rules) => rules.covariance_authority,
        None => market.risk_authority,
    };
    require_keys_eq!(
        ctx.accounts.authority.key(),
        authority,
        LendingError::Unauthorized
    );
    require!(
        correlations_valid(&correlations_bps),
        LendingError::InvalidCorrelations
    );
    let slot = Clock::get()?.slot;
    let risk = &mut ctx.accounts.risk;
    risk.correlations_bps = correlations_bps;
    risk.updated_slot = slot;
    risk.updated_by = ctx.accounts.authority.key();
    let event = CorrelationsUpdated {
        lending_market: market.key(),
        authority,
        slot,
    };
    emit_cpi!(event);
    Ok(())
}

/// The admin puts the lending market under a rule DAO's RuleSet (one way).
#[derive(Accounts)]
pub struct AttachLendingRuleSet<'info> {
    pub admin: Signer<'info>,
    #[account(mut, has_one = admin @ LendingError::Unauthorized)]
    pub lending_market: Box<Account<'info, LendingMarket>>,
    /// CHECK: verified by `rwa_rules::load_rule_set`.
    pub rule_set: UncheckedAccount<'info>,
}

/// From then on the DAO's authority PDA is the only signer of parameter changes and of resuming
/// after a pause; the admin keeps protocol-fee claims only.
pub fn handle_attach_rule_set(ctx: Context<AttachLendingRuleSet>) -> Result<()> {
    require!(
        ctx.accounts.lending_market.rule_set == Pubkey::default(),
        LendingError::InvalidParams
    );
    let view = rwa_rules::load_rule_set(&ctx.accounts.rule_set, &ctx.accounts.rule_set.key())?;
    let market = &mut ctx.accounts.lending_market;
    market.rule_set = ctx.accounts.rule_set.key();
    market.governance_authority = rwa_rules::dao_authority(&view.dao);
    Ok(())
}

/// Pauses or resumes the lending market. Pausing: the governing authority (the admin, or the
/// DAO's authority PDA once attached) or the RuleSet's guardian; resuming: the governing
/// authority only (for a governed market, an executed `LendingPause` proposal).
#[event_cpi]
#[derive(Accounts)]
pub struct SetLendingPause<'info> {
    pub authority: Signer<'info>,
    #[account(mut)]
    pub lending_market: Box<Account<'info, LendingMarket>>,
    /// CHECK: verified by `rwa_rules::load_rule_set` when the market has a RuleSet.
    pub rule_set: Option<UncheckedAccount<'info>>,
}

impl SetLendingPause<'_> {
    pub fn validate(&self, paused: bool) -> Result<()> {
        let market = &self.lending_market;
        require!(market.paused != paused, LendingError::PauseStateUnchanged);
        let signer = self.authority.key();
        if signer == market.governing_authority() {
            return Ok(());
        }
        let rules = market.rules(self.rule_set.as_ref().map(|account| account.as_ref()))?;
        let guardian = rules.is_some_and(|rules| rules.is_guardian(&signer));
        require!(paused && guardian, LendingError::Unauthorized);
        Ok(())
    }
}

pub fn handle_set_lending_pause(ctx: Context<SetLendingPause>, paused: bool) -> Result<()> {
    ctx.accounts.validate(paused)?;
    let market = &mut ctx.accounts.lending_market;
    market.paused = paused;
    let event = crate::events::LendingPauseChanged {
        lending_market: market.key(),
        paused,
        by: ctx.accounts.authority.key(),
        slot: Clock::get()?.slot,
    };
    emit_cpi!(event);
    Ok(())
}

/// The admin takes protocol fees out of the vault (never depositors' liquidity).
#[event_cpi]
#[derive(Accounts)]
pub struct ClaimProtocolFees<'info> {
    pub admin: Signer<'info>,
    #[account(mut, has_one = admin @ LendingError::Unauthorized, has_one = liquidity_vault)]
    pub lending_market: Box<Account<'info, LendingMarket>>,
    #[account(mut)]
    pub liquidity_vault: Box<Account<'info, TokenAccount>>,
    #[account(mut, token::mint = lending_market.quote_mint)]
    pub destination: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

pub fn handle_claim_protocol_fees(ctx: Context<ClaimProtocolFees>, amount: u64) -> Result<()> {
    require!(amount > 0, LendingError::ZeroAmount);
    let market = &ctx.accounts.lending_market;
    require_gte!(
        market.protocol_fees,
        amount,
        LendingError::InsufficientLiquidity
    );
    require_gte!(
        market.available,
        amount,
        LendingError::InsufficientLiquidity
    );
    with_market_signer(market, |signer| {
        token::transfer(
            CpiContext::new_with_signer(
                ctx.accounts.token_program.key(),
                Transfer {
                    from: ctx.accounts.liquidity_vault.to_account_info(),
                    to: ctx.accounts.destination.to_account_info(),
                    authority: market.to_account_info(),
                },
                signer,
            ),
            amount,
        )
    })?;
    let market = &mut ctx.accounts.lending_market;
    market.available -= amount;
    market.protocol_fees -= amount;
    let event = ProtocolFeesClaimed {
        lending_market: market.key(),
        amount,
    };
    emit_cpi!(event);
    Ok(())
}

/// The governing authority (the admin; once a rule DAO is attached, only the DAO's authority
/// PDA, i.e. an executed `LendingParams` proposal) tunes the market-wide parameters, within
/// bounds (the collateral curve parameters stay per config).
#[event_cpi]
#[derive(Accounts)]
pub struct UpdateLendingParams<'info> {
    pub authority: Signer<'info>,
    #[account(mut)]
    pub lending_market: Box<Account<'info, LendingMarket>>,
}

pub fn handle_update_lending_params(
    ctx: Context<UpdateLendingParams>,
    params: crate::instructions::LendingMarketParams,
) -> Result<()> {
    require_keys_eq!(
        ctx.accounts.authority.key(),
        ctx.accounts.lending_market.governing_authority(),
        LendingError::Unauthorized
    );
    params.validate()?;
    let market = &mut ctx.accounts.lending_market;
    market.reserve_factor_bps = params.reserve_factor_bps;
    market.sigma_p_cap = params.sigma_p_cap;
    market.slots_per_year = params.slots_per_year;
    market.risk_authority = params.risk_authority;
    let event = crate::events::LendingParamsUpdated {
        lending_market: market.key(),
        params,
    };
    emit_cpi!(event);
    Ok(())
}
