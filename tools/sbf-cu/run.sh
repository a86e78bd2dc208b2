#!/usr/bin/env bash
# sbf-cu: Solana compute units of crates/rwa-math compiled to real SBF bytecode (SBPF v3) with
# Debian's rustc-web 1.96 + LLVM 22 and sbpf-linker, without Solana's platform-tools, run on
# LiteSVM. See README.md.
#
# Usage: run.sh PROJECT_ROOT [--out FILE]
#   PROJECT_ROOT  repository holding crates/rwa-math (it is only read)
#   --out FILE    also write the markdown report to FILE
# Environment:
#   SBF_CU_CACHE  cache dir (default ~/.cache/rwa-sbf-cu): tools, build dirs, last run's artifacts
#   SBF_CU_NICE   nice increment for the whole run (default 19)
# Exit status: 0 all cases matched their native checksums and met their budgets; 1 a case failed
#              or a step broke; 2 usage; 3 rwa-math no longer builds no_std for bpfel-unknown-none;
#              4 a figure is over its budget (report.py).
set -euo pipefail

if [ -z "${SBF_CU_NICED:-}" ]; then
  export SBF_CU_NICED=1
  exec nice -n "${SBF_CU_NICE:-19}" bash "$0" "$@"
fi

usage() { echo "usage: $0 PROJECT_ROOT [--out FILE]" >&2; exit 2; }
PROJECT="" OUT_FILE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) [ $# -ge 2 ] || usage; OUT_FILE=$2; shift 2 ;;
    --out=*) OUT_FILE=${1#--out=}; shift ;;
    -h|--help|-*) usage ;;
    *) [ -z "$PROJECT" ] || usage; PROJECT=$1; shift ;;
  esac
done
[ -n "$PROJECT" ] || usage
case "$OUT_FILE" in ""|/*) ;; *) OUT_FILE=$PWD/$OUT_FILE ;; esac
PROJECT=$(cd "$PROJECT" && pwd)
CRATE=$PROJECT/crates/rwa-math
TOOL=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${SBF_CU_CACHE:-$HOME/.cache/rwa-sbf-cu}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
LOGS=$CACHE/logs
mkdir -p "$LOGS" "$CACHE/bin"

T0=$(date +%s)
say() { local s=$(( $(date +%s) - T0 )); printf '[sbf-cu %dm%02ds] %s\n' $((s / 60)) $((s % 60)) "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
# step NAME CMD...: runs CMD (a function or program) with set -e, output in $LOGS/NAME.log;
# on failure shows the log's tail (and $STEP_HINT) and exits 1.
STEP_HINT=""
step() {
  local name=$1 rc
  shift
  set +e
  ( set -e; "$@" ) >"$LOGS/$name.log" 2>&1
  rc=$?
  set -e
  if [ $rc -ne 0 ]; then
    tail -n 40 "$LOGS/$name.log" >&2
    say "FAILED: $name (exit $rc), full log: $LOGS/$name.log"
    [ -z "$STEP_HINT" ] || say "$STEP_HINT"
    exit 1
  fi
  STEP_HINT=""
}

[ -f "$CRATE/Cargo.toml" ] && [ -f "$CRATE/src/lib.rs" ] ||
  { echo "sbf-cu: $CRATE/Cargo.toml or src/lib.rs not found (PROJECT_ROOT must hold crates/rwa-math)" >&2; exit 2; }

# One run at a time per cache.
exec 9>"$CACHE/.lock"
flock -n 9 || { say "another run holds $CACHE/.lock, waiting"; flock 9; }

# ---------------------------------------------------------------------------------------------
# 1. Debian packages (Debian 12 bookworm; rustc-web 1.96 and llvm-22 come from bookworm-security)
APT_PKGS=(rustc-web cargo-web rust-web-src llvm-22 llvm-22-dev python3 gcc libc6-dev patch ca-certificates)
missing=()
for p in "${APT_PKGS[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing Debian packages: ${missing[*]} (run as root, or apt-get install them)"
  say "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # a broken third-party source must not stop us; a missing package will, at install time
  apt-get update >"$LOGS/apt-update.log" 2>&1 || say "apt-get update reported errors (see $LOGS/apt-update.log); trying the install anyway"
  step apt-install apt-get install -y --no-install-recommends "${missing[@]}"
fi

# Debian's toolchain only: no rustup proxies, no inherited flags or wrappers.
export PATH=/usr/bin:/bin:$PATH
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS CARGO_BUILD_TARGET CARGO_TARGET_DIR \
  CARGO_BUILD_TARGET_DIR RUSTC_WRAPPER CARGO_BUILD_RUSTC_WRAPPER RUSTC_WORKSPACE_WRAPPER \
  RUSTUP_TOOLCHAIN CARGO_PROFILE_RELEASE_LTO CARGO_INCREMENTAL
RUSTC=/usr/bin/rustc
CARGO=/usr/bin/cargo
PY=/usr/bin/python3
LLVM=/usr/lib/llvm-22
export RUSTC CARGO
[ -x "$RUSTC" ] && [ -x "$CARGO" ] || die "$RUSTC or $CARGO missing (package rustc-web / cargo-web)"
RUSTC_VV=$("$RUSTC" -vV)
RUSTC_LLVM=$(sed -n 's/^LLVM version: //p' <<<"$RUSTC_VV")
RUSTC_REL=$(sed -n 's/^release: //p' <<<"$RUSTC_VV")
HOST=$(sed -n 's/^host: //p' <<<"$RUSTC_VV")
case "$RUSTC_LLVM" in 22.*) ;; *) die "$RUSTC is $RUSTC_REL on LLVM $RUSTC_LLVM; this tool needs rustc-web on LLVM 22 (rustc-web 1.96 from bookworm-security)" ;; esac
[ "$RUSTC_REL" = 1.96.0 ] || say "note: rustc $RUSTC_REL (the reference numbers were taken with 1.96.0)"
[ -f "$("$RUSTC" --print sysroot)/lib/rustlib/src/rust/library/core/Cargo.toml" ] ||
  die "Rust library sources missing under $("$RUSTC" --print sysroot)/lib/rustlib/src (package rust-web-src)"
"$RUSTC" --print target-list | grep -x bpfel-unknown-none >/dev/null || die "$RUSTC has no bpfel-unknown-none target"
for t in opt llvm-link llvm-dis llvm-ar llvm-config; do
  [ -x "$LLVM/bin/$t" ] || die "$LLVM/bin/$t missing (package llvm-22)"
done
[ -e "$LLVM/lib/libLLVM.so" ] || die "$LLVM/lib/libLLVM.so missing (package llvm-22-dev)"
say "toolchain: rustc $RUSTC_REL (LLVM $RUSTC_LLVM), LLVM tools $("$LLVM/bin/llvm-config" --version); cache $CACHE"

# copy_crate SRC DST: Cargo.toml, Cargo.lock (if any) and src/ only (never a stray target dir)
copy_crate() {
  rm -rf "$2"
  mkdir -p "$2"
  cp "$1/Cargo.toml" "$2/"
  if [ -f "$1/Cargo.lock" ]; then cp "$1/Cargo.lock" "$2/"; fi
  cp -r "$1/src" "$2/"
}

# ---------------------------------------------------------------------------------------------
# 2. sbpf-linker 0.2.6 from crates.io, patched to link Debian's LLVM 22 (cached)
LINKER_VERSION=0.2.6
LINKER_SHA256=fb77b853725e5cc2455815109cadb110ecb62965dac9e91511a0531c9ea61f22
LINKER=$CACHE/bin/sbpf-linker
LINKER_KEY=$( { cat "$TOOL/sbpf-linker.patch"; echo "$LINKER_VERSION $("$LLVM/bin/llvm-config" --version)"; } | sha256sum | cut -c1-16)
build_linker() {
  local d=$CACHE/sbpf-linker crate="" c
  rm -rf "$d/fetch" "$d/src"
  mkdir -p "$d/fetch/src" "$d/src"
  # cargo downloads (and checksums) the published crate through a throwaway manifest
  cat >"$d/fetch/Cargo.toml" <<EOF
[package]
name = "sbf-cu-fetch-sbpf-linker"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
sbpf-linker = { version = "=$LINKER_VERSION", default-features = false }

[workspace]
EOF
  : >"$d/fetch/src/lib.rs"
  (cd "$d/fetch" && "$CARGO" fetch --target "$HOST")
  for c in "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/sbpf-linker-$LINKER_VERSION.crate; do
    if [ -f "$c" ] && [ "$(sha256sum <"$c" | cut -c1-64)" = "$LINKER_SHA256" ]; then crate=$c; fi
  done
  [ -n "$crate" ] || { echo "sbpf-linker-$LINKER_VERSION.crate with sha256 $LINKER_SHA256 not found in the cargo registry cache"; exit 1; }
  tar -xzf "$crate" -C "$d/src" --strip-components=1
  rm -f "$d/src/rust-toolchain.toml" # pins a nightly; Debian's rustc builds it fine
  (cd "$d/src" && patch -p1 --forward --batch <"$TOOL/sbpf-linker.patch")
  (cd "$d/src" && LLVM_PREFIX=$LLVM LLVM_SYS_221_PREFIX=$LLVM CARGO_TARGET_DIR="$d/target" \
    "$CARGO" build --release --locked --no-default-features --features sys-llvm22)
  install -m 755 "$d/target/release/sbpf-linker" "$LINKER.new"
  "$LINKER.new" --version
  "$LINKER.new" --version | grep 'LLVM 22' >/dev/null || { echo "sbpf-linker is not linked to LLVM 22"; exit 1; }
  mv "$LINKER.new" "$LINKER"
  echo "$LINKER_KEY" >"$LINKER.key"
}
if [ -x "$LINKER" ] && [ "$(cat "$LINKER.key" 2>/dev/null)" = "$LINKER_KEY" ]; then
  say "sbpf-linker $LINKER_VERSION (LLVM 22): cached"
else
  say "building sbpf-linker $LINKER_VERSION against LLVM 22 (first run only; ~9-15 min on 2 cores), log: $LOGS/sbpf-linker.log"
  step sbpf-linker build_linker
fi

# ---------------------------------------------------------------------------------------------
# 3. LiteSVM runner (cached; Cargo.lock pins litesvm 0.16 and the Solana crates)
RUNNER=$CACHE/bin/sbf-cu-runner
RUNNER_KEY=$(cat "$TOOL/runner/Cargo.toml" "$TOOL/runner/Cargo.lock" "$TOOL/runner/src/"*.rs | sha256sum | cut -c1-16)
build_runner() {
  copy_crate "$TOOL/runner" "$CACHE/runner/src"
  (cd "$CACHE/runner/src" && CARGO_TARGET_DIR="$CACHE/runner/target" "$CARGO" build --locked)
  install -m 755 "$CACHE/runner/target/debug/sbf-cu-runner" "$RUNNER"
  echo "$RUNNER_KEY" >"$RUNNER.key"
}
if [ -x "$RUNNER" ] && [ "$(cat "$RUNNER.key" 2>/dev/null)" = "$RUNNER_KEY" ]; then
  say "LiteSVM runner: cached"
else
  say "building the LiteSVM 0.16 runner (first run only; ~8-12 min on 2 cores), log: $LOGS/runner-build.log"
  step runner-build build_runner
fi

# ---------------------------------------------------------------------------------------------
# 4. Scratch copy of rwa-math as it is (it is no_std without its `std` feature), with a standalone
#    manifest (the workspace's inherited keys resolved), next to the probe and cases crates
W=$CACHE/work
RUN=$CACHE/run
rm -rf "$W" "$RUN"
mkdir -p "$W" "$RUN"
copy_crate "$CRATE" "$W/rwa-math"
rm -f "$W/rwa-math/Cargo.lock"
EDITION=$(sed -n 's/^edition = "\(.*\)"/\1/p' "$PROJECT/Cargo.toml" | head -n 1)
"$PY" - "$W/rwa-math/Cargo.toml" "${EDITION:-2021}" <<'PYEOF'
import re, sys
path, edition = sys.argv[1], sys.argv[2]
text = open(path).read()
inherited = {'version': 'version = "0.0.0"\n', 'edition': f'edition = "{edition}"\n'}
text = re.sub(r'^([\w-]+)\.workspace = true\n', lambda m: inherited.get(m.group(1), ''), text, flags=re.M)
text = re.sub(r'^\[dev-dependencies\]\n(?:[^\[\n].*\n|\n)*', '', text, flags=re.M)
if 'workspace = true' in text:
    sys.exit(f'{path}: a workspace-inherited key is left that the standalone manifest cannot resolve')
open(path, 'w').write(text + '\n[workspace]\n')
PYEOF
copy_crate "$TOOL/probe" "$W/probe"
copy_crate "$TOOL/cases" "$W/cases"

# ---------------------------------------------------------------------------------------------
# 5. Host build of the same probe code: instruction data + expected checksums (real u128 math)
say "host build of the cases (native checksums), log: $LOGS/cases.log"
run_cases() {
  cd "$W/cases"
  CARGO_TARGET_DIR="$CACHE/target-host" "$CARGO" build --release
  "$CACHE/target-host/release/cu-cases" >"$RUN/cases.txt"
}
STEP_HINT="if the errors are in probe/src/lib.rs or cases/src/main.rs, rwa-math's API changed: update those two files in $TOOL (README: adding a case)"
step cases run_cases

# ---------------------------------------------------------------------------------------------
# 6. SBF build: rustc -> bitcode (build-std core/alloc) -> llvm-link/opt -> i128 rewrite -> opt ->
#    sbpf-linker -> SBPF v3 .so
install -m 755 "$TOOL/record-linker.sh" "$CACHE/bin/record-linker.sh"
LR=$RUN/linkrec
sbf_rustc() {
  cd "$W/probe"
  SBF_CU_LINKREC=$LR RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$CACHE/target-sbf" \
    CARGO_ENCODED_RUSTFLAGS=$(printf '%s\037%s\037%s\037%s' -C "linker=$CACHE/bin/record-linker.sh" -C target-cpu=v3) \
    "$CARGO" build --release --target bpfel-unknown-none -Zbuild-std=core,alloc \
    -Zbuild-std-features=compiler-builtins-mem --lib
}
if [ -d "$CACHE/target-sbf/bpfel-unknown-none/release/deps" ]; then
  say "rustc -> SBF bitcode, log: $LOGS/sbf-rustc.log"
else
  say "rustc -> SBF bitcode, building core/alloc for bpfel-unknown-none too (first run only; ~1-4 min), log: $LOGS/sbf-rustc.log"
fi
set +e
( set -e; sbf_rustc ) >"$LOGS/sbf-rustc.log" 2>&1
rc=$?
set -e
if [ $rc -ne 0 ]; then
  grep -E -A12 '^error' "$LOGS/sbf-rustc.log" | head -n 80 >&2 || tail -n 40 "$LOGS/sbf-rustc.log" >&2
  if grep -q 'Compiling rwa-math' "$LOGS/sbf-rustc.log" && ! grep -q 'Compiling rwa-cu-probe' "$LOGS/sbf-rustc.log"; then
    say "rwa-math does not build no_std for bpfel-unknown-none (errors above): on-chain code must not use std"
    exit 3
  fi
  die "SBF build failed (errors above; full log $LOGS/sbf-rustc.log)"
fi
if ! ls "$LR"/rwa_cu_probe.*.rcgu.o >/dev/null 2>&1; then
  # cargo considered the probe fresh and did not call the linker: force a relink
  touch "$W/probe/src/lib.rs"
  step sbf-rustc-relink sbf_rustc
  ls "$LR"/rwa_cu_probe.*.rcgu.o >/dev/null 2>&1 || die "rustc did not hand any bitcode to record-linker.sh"
fi

say "LLVM stage + i128 rewrite + sbpf-linker, log: $LOGS/sbf-llvm.log"
llvm_stage() {
  cd "$LR"
  mkdir -p ex
  local r n
  for r in *.rlib; do
    n=$(basename "$r" .rlib)
    mkdir -p "ex/$n"
    (cd "ex/$n" && "$LLVM/bin/llvm-ar" x "../../$r")
  done
  "$LLVM/bin/llvm-link" -o linked.bc rwa_cu_probe.*.rcgu.o ex/*/*.rcgu.o
  local keep=entrypoint,memcpy,memmove,memset,memcmp,bcmp
  local helpers=__rwa_umulo64,__rwa_mul128,__rwa_umulo128,__rwa_udivrem128,__rwa_shl128,__rwa_lshr128,__rwa_ashr128
  # O2, not O3: O3's argpromotion turns u128 pointer arguments into i128 values (> 5 registers)
  "$LLVM/bin/opt" -mtriple=bpfel -mcpu=v3 -passes='internalize,globaldce,default<O2>' \
    -internalize-public-api-list=$keep,$helpers linked.bc -o opt1.bc
  "$LLVM/bin/llvm-dis" opt1.bc -o opt1.ll
  "$PY" "$TOOL/rewrite_i128.py" opt1.ll rw1.ll
  "$LLVM/bin/opt" -mtriple=bpfel -mcpu=v3 -passes='internalize,always-inline,globaldce,default<O2>' \
    -internalize-public-api-list=$keep,$helpers rw1.ll -o opt2.bc
  "$LLVM/bin/llvm-dis" opt2.bc -o opt2.ll
  # second round in case optimisation re-formed any
  "$PY" "$TOOL/rewrite_i128.py" opt2.ll rw2.ll
  "$LLVM/bin/opt" -mtriple=bpfel -mcpu=v3 -passes='internalize,always-inline,globaldce,default<O2>' \
    -internalize-public-api-list=$keep rw2.ll -o final.bc
  "$LLVM/bin/llvm-dis" final.bc -o final.ll
  local left
  left=$(grep -cE "= (mul|udiv|urem|sdiv|srem)( nuw| nsw| exact)* i128|umul.with.overflow.i128|= (shl|lshr|ashr)( nuw| nsw| exact)* i128 [^,]+, %" final.ll || true)
  echo "i128 ops left that upstream BPF cannot lower: $left"
  [ "$left" = 0 ] || { echo "rewrite_i128.py missed $left i128 operations (see $LR/final.ll)"; exit 1; }
  cd "$RUN"
  "$LINKER" --cpu v3 --export entrypoint -O2 --llvm-args=-bpf-stack-size=4096 --disable-math-builtins \
    --deploy=false -o "$RUN/rwa_cu_probe.o" "$LR/final.bc" 2>&1 | tee "$RUN/sbpf-linker.txt"
  if grep -iE '(^|[^a-z])error' "$RUN/sbpf-linker.txt"; then echo "sbpf-linker reported errors"; exit 1; fi
  [ -s "$RUN/rwa_cu_probe.so" ] || { echo "sbpf-linker produced no rwa_cu_probe.so"; exit 1; }
  ls -l "$RUN/rwa_cu_probe.so"
}
step sbf-llvm llvm_stage
grep -E '^rewrote' "$LOGS/sbf-llvm.log" | head -n 1 | sed -e 's/^/  /' -e 's/: \[.*//' >&2 || true

# ---------------------------------------------------------------------------------------------
# 7. Run every case on LiteSVM, then the report
say "running $(wc -l <"$RUN/cases.txt") cases on LiteSVM ($(stat -c %s "$RUN/rwa_cu_probe.so") byte program)"
set +e
"$RUNNER" "$RUN/rwa_cu_probe.so" <"$RUN/cases.txt" >"$RUN/runner.txt" 2>"$LOGS/runner.log"
rc=$?
set -e
[ $rc -eq 0 ] || say "runner exited with $rc (log: $LOGS/runner.log); reporting what it printed"
say "done in $(( ($(date +%s) - T0) / 60 ))m$(printf '%02d' $(( ($(date +%s) - T0) % 60 )))s; artifacts in $RUN (runner.txt has the raw output and program logs)"
set +e
if [ -n "$OUT_FILE" ]; then
  "$PY" "$TOOL/report.py" "$RUN/cases.txt" "$RUN/runner.txt" --out "$OUT_FILE"
else
  "$PY" "$TOOL/report.py" "$RUN/cases.txt" "$RUN/runner.txt"
fi
rc=$?
set -e
[ -s "$RUN/runner.txt" ] || exit 1
# report.py: 0 all matched and within budget, 1 a case failed, 4 over budget
exit $rc
