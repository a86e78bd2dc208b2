//! What a client of the RWA programs needs, without a runtime: account addresses (PDAs), one
//! builder per instruction (`market`, `lending`, `dao`), and the agents' view of a market and the
//! instructions for their intents (`agent`). The bots, the CLI and the tests build every
//! transaction with these; `tests/harness` re-exports them next to its runtime fixtures.

use std::sync::OnceLock;

use solana_address::Address;

pub mod agent;
pub mod dao;
pub mod lending;
pub mod market;
pub mod primary;

pub use solana_address;
pub use solana_instruction::{AccountMeta, Instruction as SolInstruction};
pub use solana_keypair;
pub use solana_program_pack;
pub use solana_signer;
pub use solana_transaction;

/// System-program instruction builders with this crate's types.
pub mod solana_instruction_compat {
    pub use solana_system_interface::instruction::{
        create_account, create_account_with_seed, transfer,
    };
}

/// The deployed addresses of the three programs. The compiled ones (`declare_id!`) unless a
/// client says otherwise at start-up ([`use_program_ids`]): after `anchor keys sync` and a deploy
/// under new addresses, the bots read them from their config instead of needing a rebuild.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProgramIds {
    pub rwa_market: Address,
    pub rwa_lending: Address,
    pub rule_dao: Address,
}

impl ProgramIds {
    /// The addresses the programs were compiled with.
    pub const COMPILED: ProgramIds = ProgramIds {
        rwa_market: rwa_market::ID,
        rwa_lending: rwa_lending::ID,
        rule_dao: rule_dao::ID,
    };
}

impl Default for ProgramIds {
    fn default() -> Self {
        Self::COMPILED
    }
}

static PROGRAM_IDS: OnceLock<ProgramIds> = OnceLock::new();

/// Sets the program addresses every builder, PDA and account check of this process uses. Once
/// per process, before the first instruction is built: a second call with other addresses is
/// refused (instructions already built would address the old programs).
pub fn use_program_ids(ids: ProgramIds) -> Result<(), ProgramIds> {
    let current = *PROGRAM_IDS.get_or_init(|| ids);
    if current == ids {
        Ok(())
    } else {
        Err(current)
    }
}

/// The program addresses in use (see [`use_program_ids`]).
pub fn program_ids() -> ProgramIds {
    *PROGRAM_IDS.get_or_init(ProgramIds::default)
}

/// The rwa_market program in use.
pub fn rwa_market_id() -> Address {
    program_ids().rwa_market
}

/// The rwa_lending program in use.
pub fn rwa_lending_id() -> Address {
    program_ids().rwa_lending
}

/// The rule_dao program in use.
pub fn rule_dao_id() -> Address {
    program_ids().rule_dao
}
