#!/usr/bin/env bash
# Sets up and runs every test: unit and property tests of the math, the programs inside a real
# Solana runtime (native harness), the CLI, and the check that the committed IDLs match the code.
# Needs only a Rust toolchain (rustc >= 1.95); idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
    echo "error: cargo not found; install Rust 1.95 or newer (https://rustup.rs)" >&2
    exit 1
fi

start=$(date +%s)
echo "==> building the workspace (one shared target dir; the first build of the Agave crates takes a while)"
cargo build --workspace --all-targets --locked

echo "==> running all tests"
cargo test --workspace --locked

echo "==> checking that idl/*.json match the programs"
cargo run --locked -q -p xtask -- idl --check

echo "==> all tests passed in $(( $(date +%s) - start ))s"
