#!/usr/bin/env bash
# Builds the SBF program and writes its compute units per instruction into BENCHMARKS.md.
# Fails if post_job, claim_job or settle_job is not below the reference program's figure.
# Usage: scripts/bench.sh [--check]   (--check prints instead of writing BENCHMARKS.md)
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$REPO/scripts/build-sbf.sh"
cd "$REPO"
cargo run -q -p cinder-tests --bin cinder-bench -- "$@"
# The attestation economics table (detection rate, a cheater's expected profit).
[[ "${1:-}" == --check ]] || cargo run -q -p cinder-tests --bin cinder-sim -- --write > /dev/null
