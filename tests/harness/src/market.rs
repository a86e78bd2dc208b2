//! Markets in the test runtime: the instruction builders (from rwa-client) plus fixtures.

pub use rwa_client::market::*;
pub use rwa_client::primary::*;

use crate::{TestEnv, TxFailure, TxSuccess};
use rwa_market::instructions::InitializeMarketArgs;
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

/// A created market plus the keypair that controls it.
pub struct MarketFixture {
    pub addresses: MarketAddresses,
    pub authority: Keypair,
}

impl TestEnv {
    /// Creates a quote mint (if `quote_mint` is None) and a market on it; returns the fixture.
    pub fn create_market(
        &mut self,
        quote_mint: Option<Address>,
        args: InitializeMarketArgs,
    ) -> Result<(MarketFixture, TxSuccess), TxFailure> {
        let quote_mint = quote_mint.unwrap_or_else(|| self.create_mint(6));
        let rwa_mint = Keypair::new();
        let authority = Keypair::new();
        let addresses = MarketAddresses::derive(rwa_mint.pubkey(), quote_mint);
        let instruction =
            initialize_market_ix(&self.payer.pubkey(), &authority.pubkey(), &addresses, args);
        let success = self.send(&[instruction], &[&rwa_mint, &authority])?;
        Ok((
            MarketFixture {
                addresses,
                authority,
            },
            success,
        ))
    }

    /// A trader keypair with token accounts for both mints and `quote_amount` quote tokens
    /// (the quote mint must be payer-controlled).
    pub fn create_trader(
        &mut self,
        addresses: &MarketAddresses,
        quote_amount: u64,
    ) -> (Keypair, TraderAccounts) {
        let trader = self.new_funded_keypair(10_000_000_000);
        let rwa_account = self.create_token_account(&addresses.rwa_mint, &trader.pubkey());
        let quote_account = self.create_token_account(&addresses.quote_mint, &trader.pubkey());
        if quote_amount > 0 {
            self.mint_to(&addresses.quote_mint, &quote_account, quote_amount);
        }
        (
            trader.insecure_clone(),
            TraderAccounts {
                trader: trader.pubkey(),
                rwa_account,
                quote_account,
            },
        )
    }

    pub fn market_state(&self, addresses: &MarketAddresses) -> rwa_market::state::Market {
        self.anchor_account(&addresses.market)
    }

    pub fn oracle_state(&self, addresses: &MarketAddresses) -> rwa_market::state::PriceOracle {
        self.zero_copy_account(&addresses.oracle)
    }
}

impl TestEnv {
    /// Opens a maker for a fresh funded owner with `rwa` and `quote` escrowed (the RWA bought on the
    /// curve by the owner first). Returns the owner, its token accounts and the maker addresses.
    pub fn create_maker(
        &mut self,
        market: &MarketAddresses,
        rwa: u64,
        quote: u64,
    ) -> Result<(Keypair, TraderAccounts, MakerAddresses), TxFailure> {
        let (owner, accounts) =
            self.create_trader(market, quote.saturating_mul(4).max(1) + 1_000_000_000_000);
        if rwa > 0 {
            self.send(
                &[trade_ix(
                    market,
                    &accounts,
                    TradeKind::BuyExactOut {
                        amount: rwa,
                        max_quote_in: u64::MAX,
                    },
                )],
                &[&owner],
            )?;
        }
        let maker = MakerAddresses::derive(&market.market, &owner.pubkey());
        let mut instructions = vec![open_maker_ix(market, &maker)];
        if rwa > 0 || quote > 0 {
            instructions.push(maker_inventory_ix(
                market, &maker, &accounts, true, rwa, quote,
            ));
        }
        self.send(&instructions, &[&owner])?;
        Ok((owner, accounts, maker))
    }

    pub fn maker_state(&self, maker: &MakerAddresses) -> rwa_market::state::Maker {
        self.anchor_account(&maker.maker)
    }
}
