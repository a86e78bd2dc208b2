//! Runs host-compiled Anchor programs as native builtins inside the Agave program runtime.
//!
//! Anchor 1.2 programs (solana-v3 crates) make their host-side syscalls (sysvars, CPI, logs, return
//! data) through `solana_sysvar` 3.x `program_stubs`, which by default answer "unsupported" or do
//! nothing. This module installs stubs that answer from the runtime's current [`InvokeContext`]:
//! sysvars from its sysvar cache, CPI through `InvokeContext::process_instruction` (so SPL Token runs
//! as its real SBF binary and self-CPI events land in the transaction's inner instructions), logs and
//! return data into the transaction. Each program is registered as a builtin whose entry serialises
//! its accounts with the SBF ABI, runs the program's `entry`, and writes the results back.
//!
//! What native execution cannot give: compute-unit metering and SBF heap/stack limits. Programs keep
//! accounts zero-copy or boxed and per-instruction work bounded so their SBF builds stay in limits.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::sync::Once;

use solana_account_info::AccountInfo;
use solana_address::Address;
use solana_instruction::error::{InstructionError, UNSUPPORTED_SYSVAR};
use solana_instruction::Instruction;
use solana_program_entrypoint::{ProcessInstruction, ProgramResult, SUCCESS};
use solana_program_error::ProgramError;
use solana_program_runtime::invoke_context::InvokeContext;
use solana_program_runtime::serialization::serialize_parameters;
use solana_program_runtime::solana_sbpf::program::BuiltinFunctionDefinition;
use solana_program_runtime::solana_sbpf::vm::ContextObject;
use solana_program_runtime::stable_log;
use solana_svm_timings::ExecuteTimings;

thread_local! {
    /// The InvokeContext of the builtin currently executing on this thread (type-erased pointer).
    static INVOKE_CONTEXT: Cell<usize> = const { Cell::new(0) };
}

fn set_invoke_context(context: &mut InvokeContext) {
    INVOKE_CONTEXT.with(|cell| cell.set(context as *mut InvokeContext as usize));
}

/// The context set by the innermost running builtin. Only called from stubs, which only run while a
/// builtin on this thread is executing, so the pointer is live.
fn invoke_context<'a>() -> &'a mut InvokeContext<'static, 'static> {
    let pointer = INVOKE_CONTEXT.with(|cell| cell.get());
    assert!(
        pointer != 0,
        "a syscall stub ran outside a native program invocation"
    );
    // SAFETY: set on entry to the builtin from a live `&mut InvokeContext`; the runtime keeps it alive
    // and exclusively ours for the duration of the program call that reaches this stub.
    unsafe { &mut *(pointer as *mut InvokeContext<'static, 'static>) }
}

/// A program that can run natively: its `entry` with the lifetimes erased to fit `ProcessInstruction`.
pub trait NativeProgram: 'static {
    const ENTRY: ProcessInstruction;
}

/// Registers `P` with the runtime: `litesvm.add_builtin(id, NativeBuiltin::<P>::register)`.
pub struct NativeBuiltin<P: NativeProgram>(std::marker::PhantomData<P>);

impl<P: NativeProgram> BuiltinFunctionDefinition<InvokeContext<'_, '_>> for NativeBuiltin<P> {
    type Error = Box<dyn std::error::Error>;

    fn rust(
        invoke_context: &mut InvokeContext<'_, '_>,
        _: u64,
        _: u64,
        _: u64,
        _: u64,
        _: u64,
    ) -> Result<u64, Self::Error> {
        run_native(P::ENTRY, invoke_context)
    }
}

/// Turns an Anchor `entry` (which borrows everything for `'info`) into a `ProcessInstruction`.
#[macro_export]
macro_rules! native_program {
    ($name:ident, $entry:path) => {
        pub struct $name;
        impl $crate::bridge::NativeProgram for $name {
            const ENTRY: ::solana_program_entrypoint::ProcessInstruction = {
                fn entry(
                    program_id: &::solana_address::Address,
                    accounts: &[::solana_account_info::AccountInfo],
                    data: &[u8],
                ) -> ::solana_program_entrypoint::ProgramResult {
                    // SAFETY: Anchor ties all three borrows to one 'info only to keep its generated
                    // code simple; the borrows are all live for this whole call.
                    let accounts: &[::solana_account_info::AccountInfo] =
                        unsafe { ::std::mem::transmute(accounts) };
                    let program_id: &::solana_address::Address =
                        unsafe { ::std::mem::transmute(program_id) };
                    let data: &[u8] = unsafe { ::std::mem::transmute(data) };
                    $entry(program_id, accounts, data)
                }
                entry
            };
        }
    };
}

fn run_native(
    entry: ProcessInstruction,
    invoke_context: &mut InvokeContext,
) -> Result<u64, Box<dyn std::error::Error>> {
    install_syscall_stubs();
    set_invoke_context(invoke_context);

    // The runtime logs invoke/success/failure around builtins itself; a builtin must consume units.
    invoke_context.compute_meter.consume_checked(1)?;
    let account_count = invoke_context
        .transaction_context
        .get_current_instruction_context()?
        .get_number_of_instruction_accounts();

    let direct_pointers = invoke_context
        .get_feature_set()
        .direct_account_pointers_in_program_input;
    let transaction_context = &invoke_context.transaction_context;
    let instruction_context = transaction_context.get_current_instruction_context()?;
    let (mut parameters, _regions, _lengths, _data_offset) =
        serialize_parameters(&instruction_context, false, false, direct_pointers)?;
    // SAFETY: `parameters` holds a complete SBF-ABI input buffer and outlives the AccountInfos.
    let (program_key, account_infos, data) =
        unsafe { solana_program_entrypoint::deserialize(parameters.as_slice_mut().as_mut_ptr()) };

    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        entry(program_key, &account_infos, data)
    }));
    let invoke_context = self::invoke_context();
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(program_error)) => {
            return Err(Box::new(InstructionError::from(u64::from(program_error))))
        }
        Err(_) => return Err(Box::new(InstructionError::ProgramFailedToComplete)),
    }

    // Write the program's changes back into the transaction's accounts.
    let infos: HashMap<Address, &AccountInfo> =
        account_infos.iter().map(|info| (*info.key, info)).collect();
    let transaction_context = &invoke_context.transaction_context;
    let instruction_context = transaction_context.get_current_instruction_context()?;
    let unique: HashSet<u16> = (0..account_count).collect();
    for index in unique {
        let mut account = instruction_context.try_borrow_instruction_account(index)?;
        if !account.is_writable() {
            continue;
        }
        let Some(info) = infos.get(account.get_key()) else {
            continue;
        };
        if account.get_lamports() != info.lamports() {
            account.set_lamports(info.lamports())?;
        }
        let new_data = info.try_borrow_data()?;
        if account.get_data() != &new_data[..]
            && account.can_data_be_resized(new_data.len()).is_ok()
        {
            account.set_data_from_slice(&new_data)?;
        }
        if account.get_owner() != info.owner {
            account.set_owner(info.owner.as_ref())?;
        }
    }
    Ok(0)
}

fn install_syscall_stubs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        solana_sysvar::program_stubs::set_syscall_stubs(Box::new(RuntimeStubs));
    });
}

/// Answers the v3 syscall stubs from the live InvokeContext.
struct RuntimeStubs;

fn write_sysvar<T: Clone>(
    value: Result<std::sync::Arc<T>, InstructionError>,
    destination: *mut u8,
) -> u64 {
    match value {
        Ok(value) => {
            // SAFETY: the caller passes a pointer to a `T`-sized, `T`-aligned buffer (sysvar ABI).
            unsafe { std::ptr::write(destination as *mut T, T::clone(&value)) };
            SUCCESS
        }
        Err(_) => UNSUPPORTED_SYSVAR,
    }
}

impl solana_sysvar::program_stubs::SyscallStubs for RuntimeStubs {
    fn sol_log(&self, message: &str) {
        stable_log::program_log(&invoke_context().get_log_collector(), message);
    }

    fn sol_log_data(&self, fields: &[&[u8]]) {
        stable_log::program_data(&invoke_context().get_log_collector(), fields);
    }

    fn sol_remaining_compute_units(&self) -> u64 {
        invoke_context().get_remaining()
    }

    fn sol_invoke_signed(
        &self,
        instruction: &Instruction,
        account_infos: &[AccountInfo],
        signers_seeds: &[&[&[u8]]],
    ) -> ProgramResult {
        cross_program_invoke(instruction, account_infos, signers_seeds)
    }

    fn sol_get_clock_sysvar(&self, destination: *mut u8) -> u64 {
        write_sysvar(
            invoke_context()
                .environment_config
                .sysvar_cache()
                .get_clock(),
            destination,
        )
    }

    fn sol_get_epoch_schedule_sysvar(&self, destination: *mut u8) -> u64 {
        write_sysvar(
            invoke_context()
                .environment_config
                .sysvar_cache()
                .get_epoch_schedule(),
            destination,
        )
    }

    fn sol_get_epoch_rewards_sysvar(&self, destination: *mut u8) -> u64 {
        write_sysvar(
            invoke_context()
                .environment_config
                .sysvar_cache()
                .get_epoch_rewards(),
            destination,
        )
    }

    fn sol_get_rent_sysvar(&self, destination: *mut u8) -> u64 {
        write_sysvar(
            invoke_context()
                .environment_config
                .sysvar_cache()
                .get_rent(),
            destination,
        )
    }

    fn sol_get_last_restart_slot(&self, destination: *mut u8) -> u64 {
        write_sysvar(
            invoke_context()
                .environment_config
                .sysvar_cache()
                .get_last_restart_slot(),
            destination,
        )
    }

    fn sol_get_sysvar(
        &self,
        sysvar_id: *const u8,
        destination: *mut u8,
        offset: u64,
        length: u64,
    ) -> u64 {
        // SAFETY: the ABI passes a pointer to a 32-byte sysvar id.
        let id = Address::new_from_array(unsafe { *(sysvar_id as *const [u8; 32]) });
        let cache = invoke_context().environment_config.sysvar_cache();
        let Some(bytes) = cache.sysvar_id_to_buffer(&id) else {
            return UNSUPPORTED_SYSVAR;
        };
        let end = offset.saturating_add(length);
        if end > bytes.len() as u64 {
            return UNSUPPORTED_SYSVAR;
        }
        // SAFETY: the caller provides `length` writable bytes at `destination`.
        unsafe {
            std::ptr::copy_nonoverlapping(
                bytes[offset as usize..].as_ptr(),
                destination,
                length as usize,
            )
        };
        SUCCESS
    }

    fn sol_get_return_data(&self) -> Option<(Address, Vec<u8>)> {
        let (program_id, data) = invoke_context().transaction_context.get_return_data();
        Some((*program_id, data.to_vec()))
    }

    fn sol_set_return_data(&self, data: &[u8]) {
        let context = invoke_context();
        let Ok(instruction_context) = context
            .transaction_context
            .get_current_instruction_context()
        else {
            return;
        };
        let Ok(program_id) = instruction_context.get_program_key().copied() else {
            return;
        };
        let _ = context
            .transaction_context
            .set_return_data(program_id, data.to_vec());
    }

    fn sol_get_stack_height(&self) -> u64 {
        invoke_context().get_stack_height() as u64
    }
}

/// CPI from a native program: sync the caller's AccountInfos into the transaction, run the callee
/// through the runtime (real SBF programs and other builtins alike), and sync the results back.
fn cross_program_invoke(
    instruction: &Instruction,
    account_infos: &[AccountInfo],
    signers_seeds: &[&[&[u8]]],
) -> ProgramResult {
    let context = invoke_context();
    let caller = context
        .transaction_context
        .get_current_instruction_context()
        .and_then(|ix| ix.get_program_key().copied())
        .map_err(program_error)?;

    let mut signers = Vec::with_capacity(signers_seeds.len());
    for seeds in signers_seeds {
        signers.push(
            Address::create_program_address(seeds, &caller)
                .map_err(|_| ProgramError::InvalidSeeds)?,
        );
    }
    context
        .prepare_next_cpi_instruction(instruction.clone(), &signers)
        .map_err(program_error)?;

    let mut writable: Vec<(u16, usize)> = Vec::new();
    {
        let transaction_context = &context.transaction_context;
        let caller_context = transaction_context
            .get_current_instruction_context()
            .map_err(program_error)?;
        let callee_context = transaction_context
            .get_next_instruction_context()
            .map_err(program_error)?;
        for callee_account in callee_context.instruction_accounts().iter() {
            let key = transaction_context
                .get_key_of_account_at_index(callee_account.index_in_transaction)
                .map_err(program_error)?;
            let info_index = account_infos
                .iter()
                .position(|info| info.key == key)
                .ok_or(ProgramError::NotEnoughAccountKeys)?;
            let info = &account_infos[info_index];
            let index_in_caller = caller_context
                .get_index_of_account_in_instruction(callee_account.index_in_transaction)
                .map_err(program_error)?;
            let mut account = caller_context
                .try_borrow_instruction_account(index_in_caller)
                .map_err(program_error)?;
            if account.get_lamports() != info.lamports() {
                account
                    .set_lamports(info.lamports())
                    .map_err(program_error)?;
            }
            let data = info.try_borrow_data()?;
            if account.get_data() != &data[..] {
                account.set_data_from_slice(&data).map_err(program_error)?;
            }
            if account.get_owner() != info.owner {
                account
                    .set_owner(info.owner.as_ref())
                    .map_err(program_error)?;
            }
            if callee_account.is_writable() {
                writable.push((callee_account.index_in_transaction, info_index));
            }
        }
    }

    let mut units = 0;
    context
        .process_instruction(&mut units, &mut ExecuteTimings::default())
        .map_err(program_error)?;

    let transaction_context = &context.transaction_context;
    let caller_context = transaction_context
        .get_current_instruction_context()
        .map_err(program_error)?;
    for (index_in_transaction, info_index) in writable {
        let index_in_caller = caller_context
            .get_index_of_account_in_instruction(index_in_transaction)
            .map_err(program_error)?;
        let account = caller_context
            .try_borrow_instruction_account(index_in_caller)
            .map_err(program_error)?;
        let info = &account_infos[info_index];
        **info.try_borrow_mut_lamports()? = account.get_lamports();
        if info.owner != account.get_owner() {
            // SAFETY: the runtime (System Program `assign`) changed the owner; mirror it into the
            // caller's view exactly as the SBF runtime does when it copies accounts back after CPI.
            #[allow(invalid_reference_casting)]
            unsafe {
                std::ptr::write(
                    info.owner as *const Address as *mut Address,
                    *account.get_owner(),
                );
            }
        }
        let new_data = account.get_data();
        if info.data_len() != new_data.len() {
            info.resize(new_data.len())?;
        }
        info.try_borrow_mut_data()?.copy_from_slice(new_data);
    }
    Ok(())
}

fn program_error(error: InstructionError) -> ProgramError {
    ProgramError::try_from(error).unwrap_or(ProgramError::Custom(u32::MAX))
}
