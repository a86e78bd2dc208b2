#!/usr/bin/env bash
# Compute-unit ESTIMATES of rwa-math on real SBF bytecode, with the budgets beside each figure.
#
# Compiles crates/rwa-math (as it is: no_std without its `std` feature) and a probe program to
# SBPF v3 with Debian's rustc-web 1.96 + LLVM 22 and sbpf-linker (Solana's platform-tools cannot be
# downloaded everywhere), runs every case on LiteSVM 0.16 and prints the tables. Figures are the
# math only (no Anchor, no accounts, no CPI) and are estimates, about +-30% against platform-tools
# builds: see tools/sbf-cu/README.md for the method and its limits. Exact per-instruction figures
# need platform-tools: `anchor build` then `scripts/cu-programs.sh` (README, "Performance").
#
# Usage: scripts/cu.sh [--out FILE]      (Debian 12; as root it apt-installs what is missing)
# Exit status: 0 every case matched its native checksum and met its budget; 1 a case or a step
# failed; 3 rwa-math no longer builds no_std; 4 a figure is over budget.
set -euo pipefail
cd "$(dirname "$0")/.."
export SBF_CU_CACHE=${SBF_CU_CACHE:-$HOME/.cache/rwa-sbf-cu}
exec bash tools/sbf-cu/run.sh "$PWD" "$@"
