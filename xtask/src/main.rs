//! `cargo run -p xtask -- idl [--check]`: builds each program's IDL on the host through Anchor's
//! `idl-build` path (the same `__anchor_private_print_idl` test `anchor build` runs) and writes it
//! to `idl/<program>.json`; `--check` fails when a committed IDL differs from the code.
//! `cargo run -p xtask -- msrv`: see [`msrv`].

mod msrv;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};

const PROGRAMS: &[&str] = &["rwa_market", "rule_dao", "rwa_lending"];

pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn build_idl(root: &Path, program: &str) -> Result<String> {
    // The IDL build sets RUSTFLAGS; give it its own target dir so it never invalidates the main
    // build's artifacts. RUSTUP_TOOLCHAIN would make the builder pin a toolchain it cannot fetch here.
    std::env::set_var("CARGO_TARGET_DIR", root.join("target").join("idl-build"));
    std::env::remove_var("RUSTUP_TOOLCHAIN");
    let idl = anchor_lang_idl::build::IdlBuilder::new()
        .program_path(root.join("programs").join(program))
        .resolution(true)
        .skip_lint(false)
        .no_docs(false)
        .build()
        .with_context(|| format!("building the IDL of {program}"))?;
    Ok(serde_json::to_string_pretty(&idl)? + "\n")
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let check = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["idl"] => false,
        ["idl", "--check"] => true,
        ["msrv"] => return msrv::run(),
        _ => bail!("usage: cargo run -p xtask -- idl [--check] | msrv"),
    };
    let root = workspace_root();
    let mut stale = Vec::new();
    for program in PROGRAMS {
        let fresh = build_idl(&root, program)?;
        let path = root.join("idl").join(format!("{program}.json"));
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed == fresh {
            println!("idl/{program}.json is current");
        } else if check {
            stale.push(format!("idl/{program}.json"));
        } else {
            std::fs::write(&path, fresh).with_context(|| format!("writing {}", path.display()))?;
            println!("wrote idl/{program}.json");
        }
    }
    if !stale.is_empty() {
        bail!(
            "{} out of date with the program code; run `cargo run -p xtask -- idl` and commit",
            stale.join(", ")
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
