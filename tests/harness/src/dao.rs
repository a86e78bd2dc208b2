//! The rule DAO in the test runtime: the instruction builders (from rwa-client) plus fixtures.

pub use rwa_client::dao::*;

use crate::{TestEnv, TxFailure};
use rule_dao::state::DaoConfig;
use rwa_rules::RuleValues;
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

/// A DAO over a payer-controlled stake mint, with a veto authority keypair.
pub struct DaoFixture {
    pub addresses: DaoAddresses,
    pub veto: Keypair,
}

impl TestEnv {
    pub fn create_dao(
        &mut self,
        stake_mint: Address,
        id: u64,
        config: DaoConfig,
        rules: RuleValues,
    ) -> Result<DaoFixture, TxFailure> {
        let addresses = DaoAddresses::derive(stake_mint, id);
        let veto = Keypair::new();
        let payer = self.payer.pubkey();
        self.send(
            &[create_dao_ix(
                &payer,
                &addresses,
                id,
                config,
                rules,
                veto.pubkey(),
            )],
            &[],
        )?;
        Ok(DaoFixture { addresses, veto })
    }

    /// A voter holding `amount` stake tokens (not yet staked): keypair and token account.
    pub fn create_voter(&mut self, stake_mint: &Address, amount: u64) -> (Keypair, Address) {
        let voter = self.new_funded_keypair(10_000_000_000);
        let account = self.create_token_account(stake_mint, &voter.pubkey());
        if amount > 0 {
            self.mint_to(stake_mint, &account, amount);
        }
        (voter, account)
    }
}
