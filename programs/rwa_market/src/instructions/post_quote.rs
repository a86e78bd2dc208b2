use anchor_lang::prelude::*;
use rwa_math::route::notional;
use rwa_math::{Decimal, Rounding};

use crate::constants::*;
use crate::errors::{MarketError, MathResultExt};
use crate::events::QuotePosted;
use crate::state::{Maker, Market};

/// Accounts for the owner's quote updates (`post_quote`, `cancel_quote`): small on purpose, so
/// makers can requote every few slots cheaply.
#[event_cpi]
#[derive(Accounts)]
pub struct UpdateQuote<'info> {
    pub owner: Signer<'info>,
    #[account(seeds = [MARKET_SEED, market.rwa_mint.as_ref()], bump = market.bump)]
    pub market: Box<Account<'info, Market>>,
    #[account(
        mut,
        seeds = [MAKER_SEED, market.key().as_ref(), maker.owner.as_ref()],
        bump = maker.bump,
        has_one = market @ MarketError::InvalidMakerAccount,
        has_one = owner @ MarketError::NotMakerOwner,
    )]
    pub maker: Box<Account<'info, Maker>>,
    /// The market's RuleSet, required once a rule DAO is attached (it bounds quote lifetimes).
    /// CHECK: owner, discriminator and address verified by `rwa_rules::load_rule_set`.
    pub rule_set: Option<UncheckedAccount<'info>>,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuoteParams {
    /// Quote tokens per whole RWA token, 18-digit fixed point.
    pub bid_price: u128,
    /// RWA base units the maker buys (0: no bid).
    pub bid_size: u64,
    pub ask_price: u128,
    /// RWA base units the maker sells (0: no ask).
    pub ask_size: u64,
    /// Last slot the quote may be filled in.
    pub expiry_slot: u64,
    /// Must exceed the last accepted sequence: an out-of-order or replayed update fails.
    pub sequence: u64,
}

impl UpdateQuote<'_> {
    pub fn validate_post(&self, quote: &QuoteParams, slot: u64) -> Result<()> {
        self.market.require_active()?;
        let maker = &self.maker;
        require_gt!(quote.sequence, maker.sequence, MarketError::InvalidSequence);
        require!(
            quote.bid_size > 0 || quote.ask_size > 0,
            MarketError::ZeroAmount
        );
        require!(
            quote.bid_size == 0 || quote.bid_price > 0,
            MarketError::InvalidQuotePrice
        );
        require!(
            quote.ask_size == 0 || quote.ask_price > 0,
            MarketError::InvalidQuotePrice
        );
        if quote.bid_size > 0 && quote.ask_size > 0 {
            require_gt!(quote.ask_price, quote.bid_price, MarketError::CrossedQuote);
        }
        require_gte!(quote.expiry_slot, slot, MarketError::QuoteExpiryInPast);
        let rules = rwa_rules::rules_for(
            &self.market.rule_set,
            self.rule_set.as_ref().map(|account| account.as_ref()),
        )?;
        // Both sides within the band around the curve's spot: a quote cannot be a price the
        // market never traded near (checked again at fill, against the spot then).
        let spot = self.market.spot_price()?;
        for (size, price) in [
            (quote.bid_size, quote.bid_price),
            (quote.ask_size, quote.ask_price),
        ] {
            require!(
                size == 0
                    || self.market.within_quote_band(
                        Decimal::from_raw(price),
                        spot,
                        rules.as_ref()
                    ),
                MarketError::QuoteOutsideBand
            );
        }
        let lifetime = match rules {
            Some(rules) if rules.max_quote_lifetime_slots > 0 => {
                rules.max_quote_lifetime_slots.min(MAX_QUOTE_LIFETIME_SLOTS)
            }
            _ => MAX_QUOTE_LIFETIME_SLOTS,
        };
        require_gte!(
            slot.saturating_add(lifetime),
            quote.expiry_slot,
            MarketError::QuoteExpiryTooFar
        );
        require_gte!(
            maker.rwa_inventory,
            quote.ask_size,
            MarketError::QuoteExceedsInventory
        );
        let bid_notional = notional(
            quote.bid_size,
            Decimal::from_raw(quote.bid_price),
            self.market.rwa_decimals,
            self.market.quote_decimals,
            Rounding::Up,
        )
        .or_market_err()?;
        require_gte!(
            maker.quote_inventory,
            bid_notional,
            MarketError::QuoteExceedsInventory
        );
        Ok(())
    }
}

/// Replaces the maker's quote.
pub fn handle_post_quote(ctx: Context<UpdateQuote>, quote: QuoteParams) -> Result<()> {
    let slot = Clock::get()?.slot;
    ctx.accounts.validate_post(&quote, slot)?;
    let maker = &mut ctx.accounts.maker;
    maker.bid_price = quote.bid_price;
    maker.bid_size = quote.bid_size;
    maker.ask_price = quote.ask_price;
    maker.ask_size = quote.ask_size;
    maker.expiry_slot = quote.expiry_slot;
    maker.posted_slot = slot;
    maker.sequence = quote.sequence;
    let event = QuotePosted {
        market: maker.market,
        maker: maker.key(),
        bid_price: quote.bid_price,
        bid_size: quote.bid_size,
        ask_price: quote.ask_price,
        ask_size: quote.ask_size,
        expiry_slot: quote.expiry_slot,
        sequence: quote.sequence,
        slot,
    };
    emit_cpi!(event);
    Ok(())
}
