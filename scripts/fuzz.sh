#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo-fuzz / libFuzzer, nightly) of the program's instruction decoding
# and its math, and of the output comparator's parsers: the targets are in fuzz/fuzz_targets
# (see SECURITY.md). Idempotent: installs cargo-fuzz into $CINDER_CACHE/tools if missing.
#
# Usage: scripts/fuzz.sh [--smoke] [--secs N] [TARGET...]
#   --smoke   each target for 30 s (CI)
#   --secs N  each target for N seconds (default 600 = 10 min)
#   TARGET    instruction_data, math, compare_parsers (default: all of them)
# Env: CINDER_CACHE (default ~/.cache/cinder): cargo-fuzz in $CINDER_CACHE/tools, build output in
#      $CINDER_CACHE/target-fuzz, corpus and crash artifacts in $CINDER_CACHE/fuzz/<target>/.
#      FUZZ_TOOLCHAIN (default nightly): the rustup toolchain that builds the targets.
# A crash leaves its input under $CINDER_CACHE/fuzz/<target>/artifacts and fails the run;
# replay it with: cargo +nightly fuzz run --fuzz-dir fuzz <target> <artifact>
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CINDER_CACHE=${CINDER_CACHE:-$HOME/.cache/cinder}
TOOLS=$CINDER_CACHE/tools
TOOLCHAIN=${FUZZ_TOOLCHAIN:-nightly}
CARGO_FUZZ_VERSION=0.13.2
ALL_TARGETS=(instruction_data math compare_parsers)

say() { printf '[fuzz] %s\n' "$*"; }
die() { printf '[fuzz] error: %s\n' "$*" >&2; exit 1; }

secs=600
targets=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --smoke) secs=30; shift ;;
    --secs) secs=${2:?--secs needs a number}; shift 2 ;;
    --secs=*) secs=${1#*=}; shift ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option '$1' (try --help)" ;;
    *) targets+=("$1"); shift ;;
  esac
done
[[ ${#targets[@]} -gt 0 ]] || targets=("${ALL_TARGETS[@]}")
[[ $secs =~ ^[0-9]+$ ]] || die "--secs must be a whole number of seconds"

cargo "+$TOOLCHAIN" --version >/dev/null 2>&1 ||
  die "the rustup toolchain '$TOOLCHAIN' is missing (rustup toolchain install $TOOLCHAIN)"

if [[ ! -x $TOOLS/bin/cargo-fuzz ]] ||
   [[ $("$TOOLS/bin/cargo-fuzz" --version 2>/dev/null) != "cargo-fuzz $CARGO_FUZZ_VERSION" ]]; then
  say "installing cargo-fuzz $CARGO_FUZZ_VERSION into $TOOLS (once, ≈ 1 min)"
  cargo install "cargo-fuzz@$CARGO_FUZZ_VERSION" --locked --root "$TOOLS"
fi
export PATH=$TOOLS/bin:$PATH

cd "$REPO"
target_dir=$CINDER_CACHE/target-fuzz
say "building ${targets[*]} ($TOOLCHAIN, ASan) into $target_dir"
for t in "${targets[@]}"; do
  cargo "+$TOOLCHAIN" fuzz build --fuzz-dir fuzz --target-dir "$target_dir" "$t"
done

failed=()
for t in "${targets[@]}"; do
  dir=$CINDER_CACHE/fuzz/$t
  mkdir -p "$dir/corpus" "$dir/artifacts"
  say "$t: ${secs} s (corpus $dir/corpus)"
  # -close_fd_mask=1: the program logs every refused instruction (msg!), which on the host goes to
  # stdout; silencing it keeps libFuzzer's own report (stderr) readable and the loop fast.
  if ! cargo "+$TOOLCHAIN" fuzz run --fuzz-dir fuzz --target-dir "$target_dir" "$t" "$dir/corpus" -- \
      -max_total_time="$secs" -close_fd_mask=1 -print_final_stats=1 \
      -artifact_prefix="$dir/artifacts/" 2>"$dir/last.log"; then
    tail -n 40 "$dir/last.log" >&2
    failed+=("$t")
    continue
  fi
  grep -E '^stat::number_of_executed_units|^stat::new_units_added|^Done ' "$dir/last.log" |
    sed "s/^/[fuzz] $t: /" || true
done

if [[ ${#failed[@]} -gt 0 ]]; then
  die "crash or failure in: ${failed[*]} (inputs in $CINDER_CACHE/fuzz/<target>/artifacts)"
fi
say "all targets ran ${secs} s without a failure"
