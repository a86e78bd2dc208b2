//! Lending in the test runtime: the instruction builders (from rwa-client) plus a Pyth writer.

pub use rwa_client::lending::*;

use anchor_lang::AccountSerialize;
use pyth_solana_receiver_sdk::price_update::{PriceFeedMessage, PriceUpdateV2, VerificationLevel};
use solana_address::Address;

use crate::TestEnv;

/// Writes a Pyth receiver `PriceUpdateV2` account (owned by the receiver program) at `address`.
#[allow(clippy::too_many_arguments)]
pub fn write_pyth_price(
    env: &mut TestEnv,
    address: Address,
    feed_id: [u8; 32],
    price: i64,
    conf: u64,
    exponent: i32,
    publish_time: i64,
    full: bool,
) {
    let update = PriceUpdateV2 {
        write_authority: Address::new_unique(),
        verification_level: if full {
            VerificationLevel::Full
        } else {
            VerificationLevel::Partial { num_signatures: 5 }
        },
        price_message: PriceFeedMessage {
            feed_id,
            price,
            conf,
            exponent,
            publish_time,
            prev_publish_time: publish_time - 1,
            ema_price: price,
            ema_conf: conf,
        },
        posted_slot: env.slot(),
    };
    let mut data = Vec::new();
    update
        .try_serialize(&mut data)
        .expect("serialize PriceUpdateV2");
    let lamports = env.svm.minimum_balance_for_rent_exemption(data.len());
    let account = solana_account::Account {
        lamports,
        data,
        owner: pyth_solana_receiver_sdk::ID,
        executable: false,
        rent_epoch: 0,
    };
    env.svm
        .set_account(address, account)
        .expect("write Pyth account");
}
