//! `cargo run -p xtask -- msrv`: the on-chain crates must build with the rustc that Anchor's
//! `cargo build-sbf --tools-version v1.52` ships (1.89), and must not pull host-only crates.
//!
//! From `cargo metadata` it walks each program's dependency closure as an SBF build sees it
//! (normal dependencies whose `cfg(...)` holds for `target_os = "solana"`, `target_arch = "sbf"`;
//! proc-macros and build scripts run on the host and are not descended into) and fails when a
//! crate declares a newer `rust-version`, links a native library, or is a known host-only crate.
//! `scripts/test.sh` pairs it with clippy's `incompatible_msrv` lint, which checks the std API
//! the on-chain crates use against their declared rust-version.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// rustc of platform-tools v1.52, which `anchor build` (Anchor 1.x) requests.
pub const SBF_RUSTC: (u64, u64) = (1, 89);
pub const PROGRAMS: &[&str] = &["rwa-market", "rwa-lending", "rule-dao"];
pub const ON_CHAIN_CRATES: &[&str] = &[
    "rwa-market",
    "rwa-lending",
    "rule-dao",
    "rwa-math",
    "rwa-rules",
];
/// Crates that only make sense on a host (runtimes, networking, async, test validators).
const HOST_ONLY: &[&str] = &[
    "tokio",
    "mio",
    "socket2",
    "hyper",
    "reqwest",
    "axum",
    "litesvm",
    "solana-program-runtime",
    "solana-rpc-client",
    "solana-rpc-client-api",
    "solana-pubsub-client",
    "solana-svm",
    "solana-bpf-loader-program",
    "solana-sbpf",
    "rwa-localnet",
    "rwa-harness",
    "rwa-agent-core",
    "rwa-agents",
    "rwa-sim",
    "tracing-subscriber",
    "clap",
    "openssl",
    "openssl-sys",
];

/// `cfg(...)` as an SBF build evaluates it.
fn sbf_cfg_holds(expression: &str) -> Result<bool> {
    let tokens = tokenize(expression);
    let mut position = 0;
    let value = parse(&tokens, &mut position)?;
    if position != tokens.len() {
        bail!("trailing tokens in {expression}");
    }
    Ok(value)
}

fn tokenize(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if matches!(c, '(' | ')' | ',' | '=') {
            tokens.push(c.to_string());
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut literal = String::from("\"");
            for c in chars.by_ref() {
                if c == '"' {
                    break;
                }
                literal.push(c);
            }
            tokens.push(literal);
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_alphanumeric() || c == '_' || c == '-' {
                    word.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
            if word.is_empty() {
                chars.next();
            } else {
                tokens.push(word);
            }
        }
    }
    tokens
}

fn expect(tokens: &[String], position: &mut usize, wanted: &str) -> Result<()> {
    if tokens.get(*position).map(String::as_str) != Some(wanted) {
        bail!("expected `{wanted}` at token {position}");
    }
    *position += 1;
    Ok(())
}

fn parse_list(tokens: &[String], position: &mut usize) -> Result<Vec<bool>> {
    expect(tokens, position, "(")?;
    let mut values = Vec::new();
    while tokens.get(*position).map(String::as_str) != Some(")") {
        values.push(parse(tokens, position)?);
        if tokens.get(*position).map(String::as_str) == Some(",") {
            *position += 1;
        }
    }
    expect(tokens, position, ")")?;
    Ok(values)
}

fn parse(tokens: &[String], position: &mut usize) -> Result<bool> {
    let word = tokens
        .get(*position)
        .context("unexpected end of cfg expression")?
        .clone();
    *position += 1;
    match word.as_str() {
        "cfg" => {
            expect(tokens, position, "(")?;
            let value = parse(tokens, position)?;
            expect(tokens, position, ")")?;
            Ok(value)
        }
        "all" => Ok(parse_list(tokens, position)?.into_iter().all(|v| v)),
        "any" => Ok(parse_list(tokens, position)?.into_iter().any(|v| v)),
        "not" => {
            let values = parse_list(tokens, position)?;
            if values.len() != 1 {
                bail!("not() takes one predicate");
            }
            Ok(!values[0])
        }
        key => {
            if tokens.get(*position).map(String::as_str) == Some("=") {
                *position += 1;
                let literal = tokens.get(*position).context("missing cfg value")?;
                *position += 1;
                let value = literal.trim_start_matches('"');
                Ok(match key {
                    "target_os" => value == "solana",
                    "target_arch" => value == "sbf" || value == "bpf",
                    "target_vendor" => value == "solana",
                    "target_endian" => value == "little",
                    "target_pointer_width" => value == "64",
                    "target_env" => value.is_empty(),
                    // target_family, target_feature, custom cfgs (backends): unset on SBF.
                    _ => false,
                })
            } else {
                // Bare names (unix, windows, debug_assertions, ...): unset on SBF.
                Ok(false)
            }
        }
    }
}

fn parse_version(text: &str) -> Option<(u64, u64)> {
    let mut parts = text.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

fn is_proc_macro(package: &Value) -> bool {
    package["targets"].as_array().is_some_and(|targets| {
        targets.iter().any(|t| {
            t["kind"]
                .as_array()
                .is_some_and(|kinds| kinds.iter().any(|k| k == "proc-macro"))
        })
    })
}

pub fn run() -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(crate::workspace_root())
        .output()
        .context("running cargo metadata")?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metadata: Value = serde_json::from_slice(&output.stdout)?;
    let packages: BTreeMap<&str, &Value> = metadata["packages"]
        .as_array()
        .context("metadata without packages")?
        .iter()
        .filter_map(|p| Some((p["id"].as_str()?, p)))
        .collect();
    let nodes: BTreeMap<&str, &Value> = metadata["resolve"]["nodes"]
        .as_array()
        .context("metadata without a resolve graph")?
        .iter()
        .filter_map(|n| Some((n["id"].as_str()?, n)))
        .collect();
    let mut problems = Vec::new();
    for crate_name in ON_CHAIN_CRATES {
        let package = packages
            .values()
            .find(|p| p["name"] == *crate_name)
            .with_context(|| format!("{crate_name} is not in the workspace"))?;
        match package["rust_version"].as_str().and_then(parse_version) {
            Some(version) if version <= SBF_RUSTC => {}
            other => problems.push(format!(
                "{crate_name} must declare rust-version <= {}.{} (declares {other:?})",
                SBF_RUSTC.0, SBF_RUSTC.1
            )),
        }
    }
    for program in PROGRAMS {
        let root = packages
            .iter()
            .find(|(_, p)| p["name"] == *program)
            .map(|(id, _)| *id)
            .with_context(|| format!("{program} is not in the workspace"))?;
        let mut seen = BTreeSet::new();
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            let node = nodes
                .get(id)
                .with_context(|| format!("{id} missing from resolve"))?;
            for dependency in node["deps"].as_array().into_iter().flatten() {
                let mut on_sbf = false;
                for kind in dependency["dep_kinds"].as_array().into_iter().flatten() {
                    if !kind["kind"].is_null() {
                        continue; // dev and build dependencies do not reach the SBF binary
                    }
                    on_sbf |= match kind["target"].as_str() {
                        None => true,
                        Some(target) if target.starts_with("cfg(") => sbf_cfg_holds(target)?,
                        Some(triple) => triple.starts_with("sbf") || triple.starts_with("bpf"),
                    };
                }
                let Some(pkg) = dependency["pkg"].as_str() else {
                    continue;
                };
                if on_sbf && !is_proc_macro(packages[pkg]) {
                    stack.push(pkg);
                }
            }
        }
        let mut newest = (0, 0);
        let problems_before = problems.len();
        for id in &seen {
            let package = packages[id];
            let name = package["name"].as_str().unwrap_or("?");
            let version = package["version"].as_str().unwrap_or("?");
            if let Some(declared) = package["rust_version"].as_str().and_then(parse_version) {
                newest = newest.max(declared);
                if declared > SBF_RUSTC {
                    problems.push(format!(
                        "{program}: {name} {version} declares rust-version {}.{} > {}.{}",
                        declared.0, declared.1, SBF_RUSTC.0, SBF_RUSTC.1
                    ));
                }
            }
            if HOST_ONLY.contains(&name) {
                problems.push(format!(
                    "{program}: pulls the host-only crate {name} {version}"
                ));
            }
            if let Some(links) = package["links"].as_str() {
                problems.push(format!(
                    "{program}: {name} {version} links the native library `{links}`"
                ));
            }
        }
        println!(
            "{program}: {} crates in the SBF dependency closure, newest declared rust-version {}.{} (limit {}.{}), {}",
            seen.len(),
            newest.0,
            newest.1,
            SBF_RUSTC.0,
            SBF_RUSTC.1,
            match problems.len() - problems_before {
                0 => "no host-only crate".to_string(),
                n => format!("{n} problem(s)"),
            }
        );
    }
    if !problems.is_empty() {
        bail!("{}", problems.join("\n"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::sbf_cfg_holds;

    #[test]
    fn cfg_expressions_evaluate_as_on_sbf() {
        assert!(sbf_cfg_holds(r#"cfg(target_os = "solana")"#).unwrap());
        assert!(!sbf_cfg_holds(r#"cfg(not(target_os = "solana"))"#).unwrap());
        assert!(sbf_cfg_holds(r#"cfg(any(target_os = "solana", target_arch = "bpf"))"#).unwrap());
        assert!(
            !sbf_cfg_holds(r#"cfg(not(any(target_os = "solana", target_arch = "bpf")))"#).unwrap()
        );
        assert!(!sbf_cfg_holds("cfg(unix)").unwrap());
        assert!(!sbf_cfg_holds("cfg(any())").unwrap());
        assert!(sbf_cfg_holds("cfg(all())").unwrap());
        assert!(sbf_cfg_holds(r#"cfg(not(target_pointer_width = "32"))"#).unwrap());
        assert!(!sbf_cfg_holds(
            r#"cfg(all(any(target_os = "linux", target_os = "android"), not(getrandom_backend = "custom")))"#
        )
        .unwrap());
    }
}
