//! Program addresses set at start-up reach every builder and PDA (its own process: the choice is
//! process-wide and made once).

use rwa_client::market::{trade_ix, MarketAddresses, TradeKind, TraderAccounts};
use rwa_client::solana_address::Address;
use rwa_client::{program_ids, use_program_ids, ProgramIds};

#[test]
fn chosen_program_ids_reach_instructions_and_pdas() {
    let (rwa_mint, quote_mint) = (Address::new_unique(), Address::new_unique());
    let compiled_market = Address::find_program_address(
        &[b"market", rwa_mint.as_ref()],
        &ProgramIds::COMPILED.rwa_market,
    )
    .0;
    let ids = ProgramIds {
        rwa_market: Address::new_unique(),
        rwa_lending: Address::new_unique(),
        rule_dao: Address::new_unique(),
    };
    use_program_ids(ids).unwrap();
    assert_eq!(program_ids(), ids);
    use_program_ids(ids).expect("the same choice again is fine");
    assert_eq!(
        use_program_ids(ProgramIds::COMPILED),
        Err(ids),
        "switching after the fact is refused"
    );
    let moved = MarketAddresses::derive(rwa_mint, quote_mint);
    assert_ne!(
        moved.market, compiled_market,
        "PDAs follow the program address"
    );
    assert_eq!(
        moved.market,
        Address::find_program_address(&[b"market", rwa_mint.as_ref()], &ids.rwa_market).0
    );
    let trader = TraderAccounts {
        trader: Address::new_unique(),
        rwa_account: Address::new_unique(),
        quote_account: Address::new_unique(),
    };
    let instruction = trade_ix(
        &moved,
        &trader,
        TradeKind::BuyExactOut {
            amount: 1,
            max_quote_in: u64::MAX,
        },
    );
    assert_eq!(instruction.program_id, ids.rwa_market);
    assert!(
        instruction
            .accounts
            .iter()
            .any(|meta| meta.pubkey == ids.rwa_market),
        "the event-CPI program account too"
    );
}
