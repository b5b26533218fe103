#!/usr/bin/env bash
# Benchmarks (not tests), written into BENCHMARKS.md:
#   1. compute units of every instruction of cinder.so (Mollusk); fails if post_job, claim_job or
#      settle_job is not below the reference program's figure   (cinder-bench)
#   2. does cheating pay? detection rate and a cheater's profit   (cinder-sim)
#   3. the worker's overhead per job and its claim latency on a local chain (cinder-worker-bench)
# Usage: scripts/bench.sh [--check]   (--check prints step 1 instead of writing, and stops there)
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CINDER_CACHE=${CINDER_CACHE:-$HOME/.cache/cinder}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$CINDER_CACHE/target}
export RUST_LOG=${RUST_LOG:-error}
bash "$REPO/scripts/build-sbf.sh"
cd "$REPO"
cargo run -q --locked -p cinder-tests --bin cinder-bench -- "$@"
[[ "${1:-}" == --check ]] && exit 0
cargo run -q --locked -p cinder-tests --bin cinder-sim -- --write > /dev/null
cargo run -q --locked -p cinder-worker --bin cinder-worker-bench -- --write
