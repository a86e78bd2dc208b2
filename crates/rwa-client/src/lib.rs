//! What a client of the RWA programs needs, without a runtime: account addresses (PDAs), one
//! builder per instruction (`market`, `lending`, `dao`), and the agents' view of a market and the
//! instructions for their intents (`agent`). The bots, the CLI and the tests build every
//! transaction with these; `tests/harness` re-exports them next to its runtime fixtures.

pub mod agent;
pub mod dao;
pub mod lending;
pub mod market;

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
