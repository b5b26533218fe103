#!/usr/bin/env bash
# Where the hot path's compute units go (issue 20): builds the program with its `cu-trace`
# feature into target/deploy-cu-trace/ and the plain program into target/deploy/, runs post,
# claim, submit and settle on both (cinder-cu-trace, in Mollusk) and writes the breakdown into
# BENCHMARKS.md ("Where the compute units go"). A benchmark command, not a CI step: ≈ 2 min
# warm (two program builds of ≈ 30 s each, then the runs); the first run builds the SBF
# toolchain as scripts/build-sbf.sh does.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
say() { printf '[cu-trace] %s\n' "$*"; }
say "building the program with --features cu-trace (target/deploy-cu-trace/cinder.so)"
bash scripts/build-sbf.sh --out-dir "$REPO/target/deploy-cu-trace" -- --features cu-trace --locked
say "building the plain program (target/deploy/cinder.so)"
bash scripts/build-sbf.sh -- --locked
say "running the hot path on both"
cargo run -q --locked -p cinder-tests --bin cinder-cu-trace -- \
  --traced "$REPO/target/deploy-cu-trace/cinder.so" --plain "$REPO/target/deploy/cinder.so"
