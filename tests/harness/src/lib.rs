//! Test harness: a fresh Solana runtime (LiteSVM on the Agave 4.2 program runtime) with the
//! project's Anchor programs compiled for the host and registered as native programs, next to the
//! real SPL Token and Associated Token programs (their SBF binaries, shipped with LiteSVM).
//!
//! Every test gets real account loading, real CPI into SPL Token, real rent/clock sysvars and real
//! transaction atomicity. Events emitted with `emit_cpi!` are read back from the transaction's inner
//! instructions, as clients do on a real cluster.
//!
//! ```no_run
//! let mut env = rwa_harness::TestEnv::new();
//! let mint = env.create_mint(6);
//! ```

pub mod agent;
pub mod bridge;
pub mod dao;
pub mod lending;
pub mod market;

use anchor_lang::{AccountDeserialize, AnchorDeserialize, Discriminator};
use anchor_spl::token::spl_token;
use litesvm::LiteSVM;
use solana_account::Account;
use solana_address::Address;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_program_pack::Pack;
use solana_signer::Signer;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;

pub use bridge::{NativeBuiltin, NativeProgram};
pub use litesvm;
pub use solana_account_info;
pub use solana_address;
pub use solana_instruction::{AccountMeta, Instruction as SolInstruction};
pub use solana_keypair;
pub use solana_program_entrypoint;
pub use solana_program_pack;
pub use solana_signer;
pub use {
    solana_account, solana_clock, solana_hash, solana_message, solana_transaction,
    solana_transaction_error,
};

/// System-program instruction builders with this crate's types.
pub mod solana_instruction_compat {
    pub use solana_system_interface::instruction::{
        create_account, create_account_with_seed, transfer,
    };
}

/// Instruction errors, for matching refusals.
pub mod solana_instruction_compat_error {
    pub use solana_instruction::error::InstructionError;
}

native_program!(RwaMarketProgram, rwa_market::entry);
native_program!(RuleDaoProgram, rule_dao::entry);
native_program!(RwaLendingProgram, rwa_lending::entry);

/// Lamports every new test environment gives its payer.
pub const PAYER_LAMPORTS: u64 = 1_000_000_000_000;

/// A successful transaction, with what clients read from it.
#[derive(Debug, Clone)]
pub struct TxSuccess {
    pub logs: Vec<String>,
    /// Data of every inner instruction invoked by `program`, flattened in execution order.
    pub inner: Vec<(Address, Vec<u8>)>,
}

impl TxSuccess {
    /// Events of type `E` emitted by `program` with `emit_cpi!`, in emission order.
    pub fn events<E: anchor_lang::Event + AnchorDeserialize + Discriminator>(
        &self,
        program: &Address,
    ) -> Vec<E> {
        decode_events(&self.inner, program)
    }
}

/// Decodes `emit_cpi!` events of type `E` from inner instructions (program id, data).
pub fn decode_events<E: AnchorDeserialize + Discriminator>(
    inner: &[(Address, Vec<u8>)],
    program: &Address,
) -> Vec<E> {
    let tag = anchor_lang::event::EVENT_IX_TAG_LE;
    inner
        .iter()
        .filter(|(id, _)| id == program)
        .filter_map(|(_, data)| data.strip_prefix(tag))
        .filter_map(|rest| rest.strip_prefix(E::DISCRIMINATOR))
        .filter_map(|mut payload| E::deserialize(&mut payload).ok())
        .collect()
}

/// A failed transaction: the runtime's error plus the logs up to the failure.
#[derive(Debug, Clone)]
pub struct TxFailure {
    pub error: TransactionError,
    pub logs: Vec<String>,
}

impl TxFailure {
    /// The custom program error code, when the failure is one (Anchor and program errors).
    pub fn custom_code(&self) -> Option<u32> {
        match &self.error {
            TransactionError::InstructionError(
                _,
                solana_instruction::error::InstructionError::Custom(code),
            ) => Some(*code),
            _ => None,
        }
    }
}

impl std::fmt::Display for TxFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "transaction failed: {:?}\n{}",
            self.error,
            self.logs.join("\n")
        )
    }
}

impl std::error::Error for TxFailure {}

/// Set to a directory holding `rwa_market.so`, `rule_dao.so` and `rwa_lending.so` (the output of
/// `anchor build`, `target/deploy`) to run every test, the localnet and the simulator on the real
/// SBF programs instead of the host builds.
pub const SBF_PROGRAMS_ENV: &str = "RWA_SBF_PROGRAMS";

/// Loads the project's three programs into `svm`: the host builds as native builtins, or the SBF
/// builds from [`SBF_PROGRAMS_ENV`] when it is set. Shared by [`TestEnv`] and the embedded
/// localnet, so both run exactly the same programs.
pub fn install_programs(svm: &mut LiteSVM) {
    match std::env::var_os(SBF_PROGRAMS_ENV) {
        // The real SBF builds (`anchor build` writes target/deploy/<lib>.so), metered by the
        // runtime exactly as on a cluster.
        Some(dir) => {
            let dir = std::path::PathBuf::from(dir);
            for (id, lib) in [
                (rwa_market::ID, "rwa_market"),
                (rule_dao::ID, "rule_dao"),
                (rwa_lending::ID, "rwa_lending"),
            ] {
                let path = dir.join(format!("{lib}.so"));
                if let Err(error) = svm.add_program_from_file(id, &path) {
                    panic!(
                        "{SBF_PROGRAMS_ENV}={}: cannot load {} ({error:?}); run `anchor build` first, or unset it to use the host builds",
                        dir.display(),
                        path.display()
                    );
                }
            }
        }
        None => {
            svm.add_builtin(rwa_market::ID, <NativeBuiltin<RwaMarketProgram> as solana_program_runtime::solana_sbpf::program::BuiltinFunctionDefinition<_>>::register);
            svm.add_builtin(rule_dao::ID, <NativeBuiltin<RuleDaoProgram> as solana_program_runtime::solana_sbpf::program::BuiltinFunctionDefinition<_>>::register);
            svm.add_builtin(rwa_lending::ID, <NativeBuiltin<RwaLendingProgram> as solana_program_runtime::solana_sbpf::program::BuiltinFunctionDefinition<_>>::register);
        }
    }
}

/// The address the rwa_market program is loaded at by [`install_programs`].
pub fn rwa_market_program_id() -> Address {
    rwa_market::ID
}

/// The runtime plus a funded payer.
pub struct TestEnv {
    pub svm: LiteSVM,
    pub payer: Keypair,
    /// Send transactions unsigned (placeholder signatures). Only for a runtime built without
    /// signature verification (the simulator's): programs see the same signer flags from the
    /// message header, and ed25519 signing, ~40% of a simulation's time, is skipped.
    pub unsigned: bool,
}

impl Default for TestEnv {
    fn default() -> Self {
        Self::new()
    }
}

impl TestEnv {
    /// A fresh runtime with SPL Token, Associated Token and the project's programs loaded.
    pub fn new() -> Self {
        Self::with_runtime(|svm| svm)
    }

    /// Like [`TestEnv::new`], with the runtime adjusted first (the simulator turns signature
    /// verification and transaction history off).
    pub fn with_runtime(configure: impl FnOnce(LiteSVM) -> LiteSVM) -> Self {
        let mut svm = configure(LiteSVM::new().with_sigverify(true));
        install_programs(&mut svm);
        let payer = Keypair::new();
        svm.airdrop(&payer.pubkey(), PAYER_LAMPORTS)
            .expect("airdrop to payer");
        TestEnv {
            svm,
            payer,
            unsigned: false,
        }
    }

    /// Sends `instructions` in one transaction paid by the payer and signed by `signers` too.
    pub fn send(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<TxSuccess, TxFailure> {
        let mut all_signers: Vec<&Keypair> = vec![&self.payer];
        for signer in signers {
            if signer.pubkey() != self.payer.pubkey() {
                all_signers.push(signer);
            }
        }
        let transaction = if self.unsigned {
            let message = solana_message::Message::new_with_blockhash(
                instructions,
                Some(&self.payer.pubkey()),
                &self.svm.latest_blockhash(),
            );
            let mut transaction = Transaction::new_unsigned(message);
            transaction.signatures = vec![
                Default::default();
                transaction.message.header.num_required_signatures
                    as usize
            ];
            transaction
        } else {
            Transaction::new_signed_with_payer(
                instructions,
                Some(&self.payer.pubkey()),
                &all_signers,
                self.svm.latest_blockhash(),
            )
        };
        let account_keys = transaction.message.account_keys.clone();
        let outcome = self.svm.send_transaction(transaction);
        // A new blockhash per transaction, so identical transactions are never deduplicated.
        self.svm.expire_blockhash();
        match outcome {
            Ok(meta) => {
                let inner = meta
                    .inner_instructions
                    .iter()
                    .flatten()
                    .map(|ix| {
                        (
                            account_keys[ix.instruction.program_id_index as usize],
                            ix.instruction.data.clone(),
                        )
                    })
                    .collect();
                Ok(TxSuccess {
                    logs: meta.logs,
                    inner,
                })
            }
            Err(failed) => Err(TxFailure {
                error: failed.err,
                logs: failed.meta.logs,
            }),
        }
    }

    pub fn new_funded_keypair(&mut self, lamports: u64) -> Keypair {
        let keypair = Keypair::new();
        self.svm
            .airdrop(&keypair.pubkey(), lamports)
            .expect("airdrop");
        keypair
    }

    pub fn account(&self, address: &Address) -> Option<Account> {
        self.svm.get_account(address)
    }

    /// Deserializes an Anchor account (discriminator checked).
    pub fn anchor_account<T: AccountDeserialize>(&self, address: &Address) -> T {
        let account = self
            .account(address)
            .unwrap_or_else(|| panic!("account {address} missing"));
        T::try_deserialize(&mut account.data.as_slice()).expect("anchor account deserializes")
    }

    /// Reads a zero-copy Anchor account (discriminator checked).
    pub fn zero_copy_account<T: anchor_lang::ZeroCopy + Discriminator>(
        &self,
        address: &Address,
    ) -> T {
        let account = self
            .account(address)
            .unwrap_or_else(|| panic!("account {address} missing"));
        let data = account.data;
        assert_eq!(
            &data[..8],
            T::DISCRIMINATOR,
            "discriminator mismatch for {address}"
        );
        let size = std::mem::size_of::<T>();
        assert!(data.len() >= 8 + size, "account {address} too small");
        // SAFETY: T is Pod (zero_copy); read_unaligned copes with any alignment of the Vec buffer.
        unsafe { std::ptr::read_unaligned(data[8..8 + size].as_ptr() as *const T) }
    }

    pub fn slot(&self) -> u64 {
        self.svm.get_sysvar::<solana_clock::Clock>().slot
    }

    /// Moves the clock forward by `slots` (unix timestamp ~400 ms per slot).
    pub fn advance_slots(&mut self, slots: u64) {
        let mut clock = self.svm.get_sysvar::<solana_clock::Clock>();
        clock.slot += slots;
        clock.unix_timestamp += (slots as i64 * 2) / 5;
        self.svm.set_sysvar(&clock);
    }

    /// Creates an SPL Token mint whose mint authority is the payer.
    pub fn create_mint(&mut self, decimals: u8) -> Address {
        let mint = Keypair::new();
        let authority = self.payer.pubkey();
        self.create_mint_with(&mint, &authority, decimals);
        mint.pubkey()
    }

    pub fn create_mint_with(&mut self, mint: &Keypair, authority: &Address, decimals: u8) {
        let rent = self
            .svm
            .minimum_balance_for_rent_exemption(spl_token::state::Mint::LEN);
        let instructions = [
            solana_system_interface::instruction::create_account(
                &self.payer.pubkey(),
                &mint.pubkey(),
                rent,
                spl_token::state::Mint::LEN as u64,
                &spl_token::ID,
            ),
            spl_token::instruction::initialize_mint2(
                &spl_token::ID,
                &mint.pubkey(),
                authority,
                None,
                decimals,
            )
            .expect("mint ix"),
        ];
        self.send(&instructions, &[mint]).expect("create mint");
    }

    /// Creates a token account for `mint` owned by `owner` (a fresh keypair address).
    pub fn create_token_account(&mut self, mint: &Address, owner: &Address) -> Address {
        let account = Keypair::new();
        let rent = self
            .svm
            .minimum_balance_for_rent_exemption(spl_token::state::Account::LEN);
        let instructions = [
            solana_system_interface::instruction::create_account(
                &self.payer.pubkey(),
                &account.pubkey(),
                rent,
                spl_token::state::Account::LEN as u64,
                &spl_token::ID,
            ),
            spl_token::instruction::initialize_account3(
                &spl_token::ID,
                &account.pubkey(),
                mint,
                owner,
            )
            .expect("account ix"),
        ];
        self.send(&instructions, &[&account])
            .expect("create token account");
        account.pubkey()
    }

    /// Mints `amount` of a payer-controlled mint to `destination`.
    pub fn mint_to(&mut self, mint: &Address, destination: &Address, amount: u64) {
        let payer = self.payer.pubkey();
        let instruction =
            spl_token::instruction::mint_to(&spl_token::ID, mint, destination, &payer, &[], amount)
                .expect("mint_to ix");
        self.send(&[instruction], &[]).expect("mint_to");
    }

    pub fn token_balance(&self, account: &Address) -> u64 {
        let data = self.account(account).expect("token account exists").data;
        spl_token::state::Account::unpack(&data)
            .expect("token account")
            .amount
    }

    pub fn mint_supply(&self, mint: &Address) -> u64 {
        let data = self.account(mint).expect("mint exists").data;
        spl_token::state::Mint::unpack(&data).expect("mint").supply
    }
}
