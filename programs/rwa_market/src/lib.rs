//! rwa_market: bonding-curve markets for tokenized real-world assets.
//!
//! Each market issues an RWA mint (mint authority = market PDA) priced by a linear, exponential or
//! sigmoid curve against any SPL quote mint. Buyers pay the ceiling of the exact curve integral,
//! sellers receive its floor, fees go to a separate vault, and the reserve always covers selling the
//! whole supply back down the curve. Every trade writes a price observation to the market's oracle
//! (TWAP and EWMA volatility, read by lending and the bots).

use anchor_lang::prelude::*;

pub mod constants;
pub mod errors;
pub mod events;
pub mod instructions;
pub mod state;

use events::TradeSide;
use instructions::*;

declare_id!("4UwNgceggL6JLSTdmZwpLMD6LJyVRXY23X2wWfLGASZc");

#[program]
pub mod rwa_market {
    use super::*;

    pub fn initialize_market(
        ctx: Context<InitializeMarket>,
        args: InitializeMarketArgs,
    ) -> Result<()> {
        instructions::initialize_market::handle_initialize_market(ctx, args)
    }

    pub fn buy_exact_out(ctx: Context<Trade>, amount: u64, max_quote_in: u64) -> Result<()> {
        instructions::buy_exact_out::handle_buy_exact_out(ctx, amount, max_quote_in)
    }

    pub fn buy_exact_in(ctx: Context<Trade>, quote_in: u64, min_amount_out: u64) -> Result<()> {
        instructions::buy_exact_in::handle_buy_exact_in(ctx, quote_in, min_amount_out)
    }

    pub fn sell_exact_in(ctx: Context<Trade>, amount: u64, min_quote_out: u64) -> Result<()> {
        instructions::sell_exact_in::handle_sell_exact_in(ctx, amount, min_quote_out)
    }

    pub fn sell_exact_out(ctx: Context<Trade>, quote_out: u64, max_amount_in: u64) -> Result<()> {
        instructions::sell_exact_out::handle_sell_exact_out(ctx, quote_out, max_amount_in)
    }

    pub fn update_oracle(ctx: Context<UpdateOracle>) -> Result<()> {
        instructions::update_oracle::handle_update_oracle(ctx)
    }

    pub fn set_market_params(
        ctx: Context<SetMarketParams>,
        update: MarketParamsUpdate,
    ) -> Result<()> {
        instructions::set_market_params::handle_set_market_params(ctx, update)
    }

    pub fn pause_market(ctx: Context<SetPaused>) -> Result<()> {
        instructions::pause_market::handle_pause_market(ctx)
    }

    pub fn unpause_market(ctx: Context<SetPaused>) -> Result<()> {
        instructions::unpause_market::handle_unpause_market(ctx)
    }

    pub fn guardian_pause_market(ctx: Context<GuardianPause>) -> Result<()> {
        instructions::guardian_pause::handle_guardian_pause(ctx)
    }

    pub fn withdraw_fees(ctx: Context<WithdrawFees>, amount: u64) -> Result<()> {
        instructions::withdraw_fees::handle_withdraw_fees(ctx, amount)
    }

    pub fn attach_rule_set(ctx: Context<AttachRuleSet>) -> Result<()> {
        instructions::attach_rule_set::handle_attach_rule_set(ctx)
    }

    pub fn open_maker(ctx: Context<OpenMaker>) -> Result<()> {
        instructions::open_maker::handle_open_maker(ctx)
    }

    pub fn deposit_inventory(
        ctx: Context<MakerInventory>,
        rwa_amount: u64,
        quote_amount: u64,
    ) -> Result<()> {
        instructions::deposit_inventory::handle_deposit_inventory(ctx, rwa_amount, quote_amount)
    }

    pub fn withdraw_inventory(
        ctx: Context<MakerInventory>,
        rwa_amount: u64,
        quote_amount: u64,
    ) -> Result<()> {
        instructions::withdraw_inventory::handle_withdraw_inventory(ctx, rwa_amount, quote_amount)
    }

    pub fn close_maker(ctx: Context<CloseMaker>) -> Result<()> {
        instructions::close_maker::handle_close_maker(ctx)
    }

    pub fn post_quote(ctx: Context<UpdateQuote>, quote: QuoteParams) -> Result<()> {
        instructions::post_quote::handle_post_quote(ctx, quote)
    }

    pub fn cancel_quote(ctx: Context<UpdateQuote>) -> Result<()> {
        instructions::cancel_quote::handle_cancel_quote(ctx)
    }

    pub fn swap_exact_in<'info>(
        ctx: Context<'info, Trade<'info>>,
        side: TradeSide,
        amount_in: u64,
        min_amount_out: u64,
    ) -> Result<()> {
        instructions::swap_exact_in::handle_swap_exact_in(ctx, side, amount_in, min_amount_out)
    }

    pub fn swap_exact_out<'info>(
        ctx: Context<'info, Trade<'info>>,
        side: TradeSide,
        amount_out: u64,
        max_amount_in: u64,
    ) -> Result<()> {
        instructions::swap_exact_out::handle_swap_exact_out(ctx, side, amount_out, max_amount_in)
    }

    pub fn init_primary_market(
        ctx: Context<InitPrimaryMarket>,
        args: PrimaryMarketArgs,
    ) -> Result<()> {
        instructions::init_primary_market::handle_init_primary_market(ctx, args)
    }

    pub fn publish_nav(ctx: Context<PublishNav>, nav: u128, confidence_bps: u16) -> Result<()> {
        instructions::publish_nav::handle_publish_nav(ctx, nav, confidence_bps)
    }

    pub fn add_participant(ctx: Context<AddParticipant>, wallet: Pubkey) -> Result<()> {
        instructions::add_participant::handle_add_participant(ctx, wallet)
    }

    pub fn remove_participant(ctx: Context<RemoveParticipant>) -> Result<()> {
        instructions::remove_participant::handle_remove_participant(ctx)
    }

    pub fn subscribe(ctx: Context<PrimaryTrade>, quote_in: u64, min_amount_out: u64) -> Result<()> {
        instructions::subscribe::handle_subscribe(ctx, quote_in, min_amount_out)
    }

    pub fn redeem(ctx: Context<PrimaryTrade>, amount: u64, min_quote_out: u64) -> Result<()> {
        instructions::redeem::handle_redeem(ctx, amount, min_quote_out)
    }

    pub fn withdraw_subscriptions(ctx: Context<WithdrawSubscriptions>, amount: u64) -> Result<()> {
        instructions::withdraw_subscriptions::handle_withdraw_subscriptions(ctx, amount)
    }
}
