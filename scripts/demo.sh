#!/usr/bin/env bash
# Sets up and runs the demo: the RWA market program inside an in-process Solana runtime, one market
# per bonding-curve kind, a few trades with prices, TWAP and reserves. Needs only Rust >= 1.95.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
    echo "error: cargo not found; install Rust 1.95 or newer (https://rustup.rs)" >&2
    exit 1
fi

cargo run --locked -q -p rwa-agents -- demo "$@"
