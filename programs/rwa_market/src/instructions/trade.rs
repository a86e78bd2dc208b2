//! Accounts and settlement shared by the four curve trade instructions (buy/sell, exact in/out).
//! Each instruction file only decides amounts and slippage; settlement lives here once.

use anchor_lang::prelude::*;
use anchor_spl::token::{self, Burn, Mint, MintTo, Token, TokenAccount, Transfer};

use crate::constants::MARKET_SEED;
use crate::errors::{MarketError, MathResultExt};
use crate::events::{CircuitBreakerTripped, TradeExecuted, TradeSide};
use crate::state::{Market, PriceOracle};

#[event_cpi]
#[derive(Accounts)]
pub struct Trade<'info> {
    pub trader: Signer<'info>,
    #[account(
        mut,
        seeds = [MARKET_SEED, rwa_mint.key().as_ref()],
        bump = market.bump,
        has_one = rwa_mint @ MarketError::InvalidMint,
        has_one = quote_mint @ MarketError::InvalidMint,
        has_one = reserve_vault @ MarketError::InvalidReserveVault,
        has_one = fee_vault @ MarketError::InvalidFeeVault,
        has_one = oracle @ MarketError::InvalidOracle,
    )]
    pub market: Box<Account<'info, Market>>,
    #[account(mut)]
    pub rwa_mint: Box<Account<'info, Mint>>,
    pub quote_mint: Box<Account<'info, Mint>>,
    #[account(mut, token::mint = rwa_mint, token::authority = trader)]
    pub trader_rwa_account: Box<Account<'info, TokenAccount>>,
    #[account(mut, token::mint = quote_mint, token::authority = trader)]
    pub trader_quote_account: Box<Account<'info, TokenAccount>>,
    #[account(mut)]
    pub reserve_vault: Box<Account<'info, TokenAccount>>,
    #[account(mut)]
    pub fee_vault: Box<Account<'info, TokenAccount>>,
    #[account(mut)]
    pub oracle: AccountLoader<'info, PriceOracle>,
    pub token_program: Program<'info, Token>,
    /// The market's RuleSet, required once a rule DAO is attached.
    /// CHECK: owner, discriminator and address verified by `rwa_rules::load_rule_set`.
    pub rule_set: Option<UncheckedAccount<'info>>,
    /// A referrer's quote account: it receives `referrer_share_bps` of the fee (affiliate reward
    /// for bringing the trade). Not the trader's own.
    #[account(mut, token::mint = quote_mint)]
    pub referrer_quote_account: Option<Box<Account<'info, TokenAccount>>>,
}

/// What a settled trade reports: the slot, the spot it left, and the circuit breaker if this
/// trade tripped it.
pub struct Settlement {
    pub slot: u64,
    /// The curve's spot after the trade.
    pub spot_after: rwa_math::Decimal,
    pub tripped: Option<CircuitBreakerTripped>,
}

impl<'info> Trade<'info> {
    /// Checks shared by every trade: market live, not halted by the circuit breaker, and a
    /// non-zero amount requested.
    pub fn validate_trade(&self, requested: u64) -> Result<()> {
        self.market.require_active()?;
        require!(requested > 0, MarketError::ZeroAmount);
        if let Some(rules) = self.rules()? {
            require_gte!(
                Clock::get()?.slot,
                self.market.halted_until(&rules),
                MarketError::CircuitBreakerActive
            );
        }
        Ok(())
    }

    /// The RuleSet in force, if the market is governed (and the right account was passed).
    pub fn rules(&self) -> Result<Option<rwa_rules::RuleValues>> {
        rwa_rules::rules_for(
            &self.market.rule_set,
            self.rule_set.as_ref().map(|account| account.as_ref()),
        )
    }

    /// Quote tokens from the trader (who signs) to `to`.
    pub fn transfer_from_trader(&self, to: AccountInfo<'info>, amount: u64) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        let accounts = Transfer {
            from: self.trader_quote_account.to_account_info(),
            to,
            authority: self.trader.to_account_info(),
        };
        token::transfer(CpiContext::new(self.token_program.key(), accounts), amount)
    }

    /// RWA tokens from the trader (who signs) to `to`.
    pub fn transfer_rwa_from_trader(&self, to: AccountInfo<'info>, amount: u64) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        let accounts = Transfer {
            from: self.trader_rwa_account.to_account_info(),
            to,
            authority: self.trader.to_account_info(),
        };
        token::transfer(CpiContext::new(self.token_program.key(), accounts), amount)
    }

    fn transfer_from_reserve(&self, to: AccountInfo<'info>, amount: u64) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        let rwa_mint = self.rwa_mint.key();
        let seeds: &[&[u8]] = &[MARKET_SEED, rwa_mint.as_ref(), &[self.market.bump]];
        let accounts = Transfer {
            from: self.reserve_vault.to_account_info(),
            to,
            authority: self.market.to_account_info(),
        };
        token::transfer(
            CpiContext::new_with_signer(self.token_program.key(), accounts, &[seeds]),
            amount,
        )
    }

    /// Curve leg of a buy: the trader pays `cost` into the reserve and receives `amount` newly minted.
    pub fn curve_buy_leg(&mut self, amount: u64, cost: u64) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        self.transfer_from_trader(self.reserve_vault.to_account_info(), cost)?;
        let rwa_mint = self.rwa_mint.key();
        let seeds: &[&[u8]] = &[MARKET_SEED, rwa_mint.as_ref(), &[self.market.bump]];
        let accounts = MintTo {
            mint: self.rwa_mint.to_account_info(),
            to: self.trader_rwa_account.to_account_info(),
            authority: self.market.to_account_info(),
        };
        token::mint_to(
            CpiContext::new_with_signer(self.token_program.key(), accounts, &[seeds]),
            amount,
        )?;
        let market = &mut self.market;
        market.supply = market
            .supply
            .checked_add(amount)
            .ok_or(MarketError::MathOverflow)?;
        require_gte!(
            market.max_supply,
            market.supply,
            MarketError::MaxSupplyExceeded
        );
        market.reserve = market
            .reserve
            .checked_add(cost)
            .ok_or(MarketError::MathOverflow)?;
        market.buy_volume = market
            .buy_volume
            .checked_add(cost as u128)
            .ok_or(MarketError::MathOverflow)?;
        Ok(())
    }

    /// Curve leg of a sale: `amount` is burned from the trader and `proceeds` paid from the reserve.
    pub fn curve_sell_leg(&mut self, amount: u64, proceeds: u64) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        let accounts = Burn {
            mint: self.rwa_mint.to_account_info(),
            from: self.trader_rwa_account.to_account_info(),
            authority: self.trader.to_account_info(),
        };
        token::burn(CpiContext::new(self.token_program.key(), accounts), amount)?;
        self.transfer_from_reserve(self.trader_quote_account.to_account_info(), proceeds)?;
        let market = &mut self.market;
        market.supply = market
            .supply
            .checked_sub(amount)
            .ok_or(MarketError::InsufficientSupply)?;
        market.reserve = market
            .reserve
            .checked_sub(proceeds)
            .ok_or(MarketError::ReserveInvariantViolated)?;
        market.sell_volume = market
            .sell_volume
            .checked_add(proceeds as u128)
            .ok_or(MarketError::MathOverflow)?;
        Ok(())
    }

    /// The trader pays the fee from their quote account: the referrer's share (rounded down, so
    /// the fee vault keeps any remainder) to the referrer it named, the rest into the fee vault.
    /// Returns (referrer, its share).
    pub fn pay_fee(&self, fee: u64) -> Result<(Pubkey, u64)> {
        let Some(referrer) = self.referrer_quote_account.as_ref() else {
            self.transfer_from_trader(self.fee_vault.to_account_info(), fee)?;
            return Ok((Pubkey::default(), 0));
        };
        require_keys_neq!(
            referrer.owner,
            self.trader.key(),
            MarketError::InvalidReferrer
        );
        let share = rwa_math::wide::mul_div(
            fee as u128,
            self.market.referrer_share_bps as u128,
            10_000,
            rwa_math::Rounding::Down,
        )
        .or_market_err()? as u64;
        self.transfer_from_trader(referrer.to_account_info(), share)?;
        self.transfer_from_trader(self.fee_vault.to_account_info(), fee - share)?;
        Ok((referrer.owner, share))
    }

    /// Buy of `amount` RWA base units from the curve for `cost` plus `fee` quote base units.
    pub fn settle_buy(
        &mut self,
        amount: u64,
        cost: u64,
        fee: u64,
    ) -> Result<(TradeExecuted, Option<CircuitBreakerTripped>)> {
        require!(amount > 0, MarketError::TradeTooSmall);
        let price_before = self.market.spot_price()?;
        self.curve_buy_leg(amount, cost)?;
        let referral = self.pay_fee(fee)?;
        let Settlement {
            slot,
            spot_after,
            tripped,
        } = self.finish(fee, amount, cost, price_before)?;
        Ok((
            self.trade_event(
                TradeSide::Buy,
                amount,
                cost,
                fee,
                referral,
                price_before.raw(),
                spot_after.raw(),
                slot,
            ),
            tripped,
        ))
    }

    /// Sale of `amount` RWA base units to the curve for `proceeds`, of which `fee` goes to the fee vault.
    pub fn settle_sell(
        &mut self,
        amount: u64,
        proceeds: u64,
        fee: u64,
    ) -> Result<(TradeExecuted, Option<CircuitBreakerTripped>)> {
        require!(amount > 0, MarketError::TradeTooSmall);
        let price_before = self.market.spot_price()?;
        self.curve_sell_leg(amount, proceeds)?;
        let referral = self.pay_fee(fee)?;
        let Settlement {
            slot,
            spot_after,
            tripped,
        } = self.finish(fee, amount, proceeds, price_before)?;
        Ok((
            self.trade_event(
                TradeSide::Sell,
                amount,
                proceeds,
                fee,
                referral,
                price_before.raw(),
                spot_after.raw(),
                slot,
            ),
            tripped,
        ))
    }

    /// Book-keeping after any trade of `amount` RWA base units for `notional` quote base units:
    /// the RuleSet's per-slot size limit and circuit breaker, fees, counters, solvency, and the
    /// oracle observation. The oracle records the curve's spot after settlement, never a maker's
    /// fill price (a maker can fill itself at any price it quotes for a few base units); when the
    /// breaker trips it records the breaker's reference instead, so a halt never freezes a pumped
    /// price into the TWAP. Oracle writes cannot fail.
    pub fn finish(
        &mut self,
        fee: u64,
        amount: u64,
        notional: u64,
        spot_before: rwa_math::Decimal,
    ) -> Result<Settlement> {
        let slot = Clock::get()?.slot;
        let rules = self.rules()?;
        let market_key = self.market.key();
        let spot_after = self.market.spot_price()?;
        let mut oracle = self.oracle.load_mut()?;
        let market = &mut self.market;
        market.count_volume(slot, amount, notional);
        let mut observed = spot_after;
        let mut tripped = None;
        if let Some(rules) = rules {
            if rules.max_trade_amount > 0 {
                require_gte!(
                    rules.max_trade_amount,
                    market.volume_amount,
                    MarketError::MaxTradeSizeExceeded
                );
            }
            if rules.circuit_breaker_bps > 0 {
                let reference = oracle
                    .twap_over(slot, rules.circuit_breaker_window_slots)
                    .unwrap_or(spot_after);
                if let Some(move_bps) =
                    market.apply_circuit_breaker(&rules, slot, reference, spot_before, spot_after)
                {
                    observed = reference;
                    tripped = Some(CircuitBreakerTripped {
                        market: market_key,
                        reference_price: reference.raw(),
                        price: spot_after.raw(),
                        move_bps,
                        halted_until_slot: market.halted_until_slot,
                    });
                }
            }
        }
        market.total_fees = market
            .total_fees
            .checked_add(fee)
            .ok_or(MarketError::MathOverflow)?;
        market.trade_count = market.trade_count.saturating_add(1);
        market.last_trade_slot = slot;
        market.check_solvency(spot_after)?;
        match &tripped {
            Some(_) => oracle.hold(slot, observed, spot_after, market.halted_until_slot),
            None => oracle.record(slot, observed),
        }
        Ok(Settlement {
            slot,
            spot_after,
            tripped,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn trade_event(
        &self,
        side: TradeSide,
        amount: u64,
        quote_amount: u64,
        fee: u64,
        (referrer, referrer_fee): (Pubkey, u64),
        price_before: u128,
        price_after: u128,
        slot: u64,
    ) -> TradeExecuted {
        TradeExecuted {
            market: self.market.key(),
            trader: self.trader.key(),
            side,
            amount,
            quote_amount,
            fee,
            referrer,
            referrer_fee,
            price_before,
            price_after,
            supply: self.market.supply,
            reserve: self.market.reserve,
            slot,
        }
    }

    pub fn curve(&self) -> Result<rwa_math::CurveMarket> {
        self.market.curve_market()
    }
}

/// Curve math result to Anchor error, for the instruction files.
pub fn math<T>(result: core::result::Result<T, rwa_math::MathError>) -> Result<T> {
    result.or_market_err()
}
