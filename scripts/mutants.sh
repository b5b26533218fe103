#!/usr/bin/env bash
# Mutation testing of the program's math and state (not run in CI: one rebuild per mutant).
# Installs cargo-mutants from crates.io when missing (≈ 3-5 min, once), then mutates
# programs/cinder/src/math and programs/cinder/src/state and runs against each mutant:
#   default              the program's own unit tests (`cargo test -p cinder`): ≈ 5 s per
#                        mutant, ≈ 15 min for all ≈ 150 mutants on a 2-core machine
#   --with-integration   also the host-build integration tests (cinder-tests, the `native` half
#                        of each on_both! test; the SBF half would need cinder.so rebuilt per
#                        mutant): ≈ 2-3 min per mutant, hours in all; use it on the survivors
#                        of the default run, e.g. with --file programs/cinder/src/state/job.rs
# Results in mutants.out/ (caught.txt, missed.txt, ...); TESTING.md records the last score.
# Usage: scripts/mutants.sh [--with-integration] [more cargo-mutants arguments]
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
export CINDER_CACHE=${CINDER_CACHE:-$HOME/.cache/cinder}
export RUST_LOG=${RUST_LOG:-error}
if ! command -v cargo-mutants >/dev/null; then
  echo "[mutants] installing cargo-mutants from crates.io (≈ 3-5 min, once)"
  cargo install --locked cargo-mutants
fi
packages=(--test-package cinder)
test_args=()
if [[ ${1:-} == --with-integration ]]; then
  shift
  packages+=(--test-package cinder-tests)
  # After `--`: cargo test's arguments, then after a second `--` the test binaries': skip the
  # SBF half of each on_both! test and the SBF-only properties (they run the unmutated .so).
  test_args=(-- -- --skip ::sbf --skip every_token_is_accounted_for --skip rewards_never_exceed
    --skip the_observed_rate)
fi
# A target dir of its own: cargo-mutants builds a copy of the tree.
export CARGO_TARGET_DIR=$CINDER_CACHE/target-mutants
exec cargo mutants --no-shuffle \
  --file 'programs/cinder/src/math/**' --file 'programs/cinder/src/state/**' \
  --exclude 'programs/cinder/src/math/tests.rs' --exclude 'programs/cinder/src/state/tests.rs' \
  "${packages[@]}" "$@" "${test_args[@]}"
