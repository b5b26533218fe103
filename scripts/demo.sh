#!/usr/bin/env bash
# The README's "run the main job": the whole Cinder lifecycle on a real local chain, with
# progress. Installs what is missing first (idempotent, each step says what it does):
#   1. host dependencies (apt, rustup components)             scripts/install-deps.sh
#   2. the SBF toolchain and target/deploy/cinder.so           scripts/build-sbf.sh
#   3. Podman with the demo's container image (if possible)    scripts/podman-setup.sh
#   4. the `cinder` binary (worker, CLI, in-process validator) cargo build
#   5. `cinder demo`: local chain → bootstrap → two workers → jobs posted → claim → run →
#      attest → sample → verify → settle → buyback-and-burn → summary table
# First run on a fresh 2-core machine: ≈ 35-45 min (the Solana validator crates and RocksDB
# are compiled once); afterwards ≈ 1 min. Build output and caches live in
# ${CINDER_CACHE:-~/.cache/cinder}, shared with scripts/test.sh.
# Usage: scripts/demo.sh [--jobs N]
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
export CINDER_CACHE=${CINDER_CACHE:-$HOME/.cache/cinder}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$CINDER_CACHE/target}
export RUST_LOG=${RUST_LOG:-error}
t0=$SECONDS
step() { printf '\n[demo.sh] == %s (%s s so far)\n' "$*" "$((SECONDS - t0))"; }

step "1/5 host dependencies"
bash scripts/install-deps.sh

step "2/5 SBF toolchain and target/deploy/cinder.so"
bash scripts/build-sbf.sh

step "3/5 container runtime (Podman) and the demo image"
if ! bash scripts/podman-setup.sh; then
  echo "[demo.sh] Podman is not usable here: the demo runs its jobs as allow-listed processes"
fi

step "4/5 the cinder binary (first build ≈ 30 min: the validator crates; later seconds)"
cargo build --workspace --locked --bin cinder

step "5/5 cinder demo"
"$CARGO_TARGET_DIR/debug/cinder" demo "$@"
