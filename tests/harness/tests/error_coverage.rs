//! Every error code a program can return is asserted by some test, or is listed below as
//! unreachable with the reason. The error lists come from the committed IDLs (checked against
//! the code in CI); a test "asserts" a code when it names `Enum::Variant` (the tests compare
//! refusals with the code of the variant they name).

use std::path::{Path, PathBuf};

/// Codes no transaction can produce, and why each is kept.
const UNREACHABLE: &[(&str, &str)] = &[
    (
        "MarketError::ReserveInvariantViolated",
        "the reserve covers the whole supply's sell-back by the pool-favouring rounding of every \
         integral (property tests in rwa-math and the market/fuzz invariants check it); the \
         on-chain check is defence in depth",
    ),
    (
        "MarketError::RuleSetAlreadyAttached",
        "after attaching, the market authority is the DAO's PDA and no proposal kind calls \
         attach_rule_set, so `has_one = authority` refuses every other signer first",
    ),
    (
        "DaoError::NotPositionOwner",
        "positions are PDAs seeded by their owner, so a position of another owner fails the \
         seeds constraint before this check",
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path
                .file_name()
                .is_some_and(|n| n == "target" || n == "node_modules")
            {
                continue;
            }
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_reachable_error_code_is_asserted_by_a_test() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for dir in ["tests", "bots", "crates"] {
        rust_files(&root.join(dir), &mut files);
    }
    // test code only: files under a tests/ directory, minus this one
    let sources: String = files
        .iter()
        .filter(|p| p.components().any(|c| c.as_os_str() == "tests"))
        .filter(|p| !p.ends_with("error_coverage.rs"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let mut missing = Vec::new();
    let mut asserted = 0;
    for (idl, enum_name) in [
        ("rwa_market", "MarketError"),
        ("rwa_lending", "LendingError"),
        ("rule_dao", "DaoError"),
    ] {
        let text = std::fs::read_to_string(root.join(format!("idl/{idl}.json"))).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        for error in json["errors"].as_array().unwrap() {
            let name = error["name"].as_str().unwrap();
            let variant = format!("{}{}", name[..1].to_uppercase(), &name[1..]);
            let path = format!("{enum_name}::{variant}");
            let named = sources.match_indices(&path).any(|(at, _)| {
                !sources[at + path.len()..].starts_with(|c: char| c.is_alphanumeric())
            });
            let excused = UNREACHABLE.iter().any(|(p, _)| *p == path);
            assert!(
                !(named && excused),
                "{path} is asserted by a test: drop it from UNREACHABLE"
            );
            if named {
                asserted += 1;
            } else if !excused {
                missing.push(format!("{path} ({})", error["code"]));
            }
        }
    }
    println!(
        "{asserted} error codes asserted by tests, {} listed unreachable",
        UNREACHABLE.len()
    );
    assert!(
        missing.is_empty(),
        "error codes no test asserts: {missing:?}"
    );
}
