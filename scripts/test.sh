#!/usr/bin/env bash
# Sets up and runs every test: unit and property tests of the math, the programs inside a real
# Solana runtime (native harness), the end-to-end stories over JSON-RPC against the embedded
# localnet, the standard Anchor TypeScript client against our IDLs, the CLI, and the check that
# the committed IDLs match the code. Needs a Rust toolchain (rustc >= 1.95) and Node.js >= 18
# (installed from Debian's packages when missing and running as root); idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
    echo "error: cargo not found; install Rust 1.95 or newer (https://rustup.rs)" >&2
    exit 1
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "==> installing Node.js (Debian packages)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
    else
        echo "error: node and npm not found; install Node.js 18 or newer" >&2
        exit 1
    fi
fi

start=$(date +%s)
echo "==> installing the TypeScript packages (Anchor client check, migrate script) from package-lock.json"
npm ci --no-audit --no-fund --loglevel=error

echo "==> building the workspace (one shared target dir)"
cargo build --workspace --all-targets --locked

echo "==> running all tests"
cargo test --workspace --locked

echo "==> checking the on-chain crates against the SBF toolchain (rustc 1.89, no host-only crates)"
if ! cargo clippy --version >/dev/null 2>&1 && command -v rustup >/dev/null 2>&1; then
    rustup component add clippy
fi
cargo run --locked -q -p xtask -- msrv
# clippy's incompatible_msrv: no std API newer than each crate's declared rust-version.
cargo clippy --locked -q -p rwa-math -p rwa-rules -p rwa-market -p rwa-lending -p rule-dao --no-deps -- \
    -A clippy::all -D clippy::incompatible_msrv

echo "==> lint: cargo fmt --check and clippy with warnings as errors"
if ! cargo fmt --version >/dev/null 2>&1 && command -v rustup >/dev/null 2>&1; then
    rustup component add rustfmt
fi
cargo fmt --all --check
# Index loops are the clearest form for the numeric code; `!(x > y)` is how NaN is refused.
cargo clippy --locked -q --workspace --all-targets -- -D warnings \
    -A clippy::needless_range_loop -A clippy::neg_cmp_op_on_partial_ord

echo "==> checking that idl/*.json match the programs"
cargo run --locked -q -p xtask -- idl --check

echo "==> all tests passed in $(( $(date +%s) - start ))s"
