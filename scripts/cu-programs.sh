#!/usr/bin/env bash
# Exact compute units per instruction of the SBF programs, over the end-to-end stories: the
# figures to publish. Needs Solana's platform-tools: run `anchor build` first (it writes
# target/deploy/{rwa_market,rule_dao,rwa_lending}.so). The embedded localnet then loads those
# builds instead of the host builds (RWA_SBF_PROGRAMS), every story requests only the units its
# simulation measured, and each landed transaction's per-instruction consumption (the runtime's
# "Program X consumed N of M compute units" lines) is aggregated into a table.
#
# Against a validator instead (e.g. `anchor test`'s surfpool, programs deployed from the same
# builds): ANCHOR_PROVIDER_URL=... ANCHOR_WALLET=... RWA_CU_LOG=target/cu/instructions.tsv \
#   cargo test -p rwa-e2e --test stories, then `scripts/cu-programs.sh --report`.
#
# Usage: scripts/cu-programs.sh [--report]   (--report: only aggregate an existing log)
set -euo pipefail
cd "$(dirname "$0")/.."
LOG=target/cu/instructions.tsv
if [ "${1:-}" != "--report" ]; then
    DEPLOY=${RWA_SBF_PROGRAMS:-target/deploy}
    for lib in rwa_market rule_dao rwa_lending; do
        if [ ! -f "$DEPLOY/$lib.so" ]; then
            echo "error: $DEPLOY/$lib.so not found: run \`anchor build\` first (needs Solana platform-tools)" >&2
            exit 1
        fi
    done
    mkdir -p target/cu
    : >"$LOG"
    RWA_SBF_PROGRAMS="$(cd "$DEPLOY" && pwd)" RWA_CU_LOG="$PWD/$LOG" \
        cargo test --locked -p rwa-e2e --test stories -- --test-threads=1
fi
[ -s "$LOG" ] || { echo "error: $LOG is empty: no transaction was logged" >&2; exit 1; }
# Program ids -> names from Anchor.toml's [programs.localnet].
names=$(awk '/^\[programs\.localnet\]/{on=1; next} /^\[/{on=0} on && /=/{gsub(/[" ]/, ""); split($0, kv, "="); print kv[2] "\t" kv[1]}' Anchor.toml)
echo "| program | instruction | count | min CU | mean CU | max CU |"
echo "|---|---|---:|---:|---:|---:|"
awk -F'\t' -v names="$names" '
BEGIN { n = split(names, lines, "\n"); for (i = 1; i <= n; i++) { split(lines[i], kv, "\t"); name[kv[1]] = kv[2] } }
{ key = ($1 in name ? name[$1] : $1) "\t" $2; c[key]++; s[key] += $3
  if (!(key in lo) || $3 < lo[key]) lo[key] = $3; if ($3 > hi[key]) hi[key] = $3 }
END { for (k in c) { split(k, p, "\t"); printf "| %s | %s | %d | %d | %d | %d |\n", p[1], p[2], c[k], lo[k], s[k] / c[k], hi[k] } }
' "$LOG" | sort
