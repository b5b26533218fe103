#!/usr/bin/env bash
# Runs every test of the repository, installing what is missing first (idempotent):
#   1. host dependencies (apt, rustup components)          scripts/install-deps.sh
#   2. the SBF toolchain and target/deploy/cinder.so        scripts/build-sbf.sh
#   3. formatting and lints (cargo fmt --check, clippy -D warnings)
#   4. cargo test --workspace: math unit + property tests, the i128 shim's tests, and the
#      integration tests, each on the host build (solana-program-test) and on cinder.so (Mollusk)
#   5. the compute-unit budget of the hot path on cinder.so (cinder-bench --check)
# First run on a fresh 2-core machine: ≈ 12 min measured (+ ≈ 2-3 min for apt packages on a bare
# machine); afterwards ≈ 2-3 min. Set CARGO_TARGET_DIR to keep build output outside the clone (CI does).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
t0=$SECONDS
# Mollusk and program-test log every instruction at debug level unless told otherwise.
export RUST_LOG=${RUST_LOG:-error}
step() { printf '\n[test] == %s (%s s so far)\n' "$*" "$((SECONDS - t0))"; }

step "1/5 host dependencies"
bash scripts/install-deps.sh

step "2/5 SBF toolchain and target/deploy/cinder.so"
bash scripts/build-sbf.sh

step "3/5 cargo fmt --check, cargo clippy -D warnings"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings

step "4/5 cargo test --workspace (host build and SBF build)"
cargo test --workspace --locked

step "5/5 compute-unit budget of post/claim/settle on cinder.so"
cargo run -q --locked -p cinder-tests --bin cinder-bench -- --check | awk '/^## Hot path/{on=1; next} /^## /{on=0} on && NF' 

printf '\n[test] all passed in %s s\n' "$((SECONDS - t0))"
