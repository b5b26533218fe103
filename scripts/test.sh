#!/usr/bin/env bash
# Runs every test of the repository, installing what is missing first (idempotent):
#   1. host dependencies (apt, rustup components)               scripts/install-deps.sh
#   2. the SBF toolchain and target/deploy/cinder.so             scripts/build-sbf.sh
#   3. Podman and the test image (real containers)               scripts/podman-setup.sh
#   4. formatting and lints (cargo fmt --check; clippy -D warnings on every target, while the
#      tests are built; a check of each feature set the tests do not build)
#   5. cargo test --workspace: program math and property tests, the i128 shim, the integration
#      tests on the host build (solana-program-test) and on cinder.so (Mollusk), the runner
#      (real processes and Podman containers), the bootstrap run twice against a real local
#      validator, and the worker end to end and under faults (kill -9, flaky RPC) against it;
#      the fault and operations suites run beside the rest
#   6. every instruction's compute-unit budget on cinder.so (tests/cu-budgets.txt) and
#      BENCHMARKS.md against a fresh run; the cheating simulation  (cinder-bench/cinder-sim --check)
#   7. the README's first command: `cinder demo --check` (the whole lifecycle on a local chain,
#      its outcome checked from the chain: every job settled, fees swept, tokens burned)
#   8. a fuzzing smoke run of instruction decoding and the math   scripts/fuzz.sh --smoke
#   9. the dependency advisory check                               scripts/audit.sh
#  10. the dApp: unit tests (Vitest) and the browser tests (Playwright + Chromium) against the
#      local chain                                                scripts/test-web.sh
# First run on a fresh 2-core machine: 41 min measured (README, "CI", has the steps);
# afterwards ≈ 17 min (most of it the tests themselves). Build output and tools live in ${CINDER_CACHE:-~/.cache/cinder}.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
# Under CI, refuse any switch that would skip tests or swap what is tested (the run would
# still say "all passed"); sub-scripts see this marker and do not check again.
bash scripts/ci/refuse-switches.sh
export CINDER_SWITCHES_CHECKED=$$
t0=$SECONDS
export CINDER_CACHE=${CINDER_CACHE:-$HOME/.cache/cinder}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$CINDER_CACHE/target}
# Mollusk, program-test and the validator log every instruction at debug level otherwise.
export RUST_LOG=${RUST_LOG:-error}
step() { printf '\n[test] == %s (%s s so far)\n' "$*" "$((SECONDS - t0))"; }

step "1/10 host dependencies"
bash scripts/install-deps.sh

step "2/10 SBF toolchain and target/deploy/cinder.so"
bash scripts/build-sbf.sh

step "3/10 Podman and the container test image"
bash scripts/podman-setup.sh

step "4/10 cargo fmt --check; clippy -D warnings on every target while building the tests"
cargo fmt --all --check
# Clippy lints the workspace's own crates as they are compiled for the tests: clippy-driver as
# the workspace wrapper, exactly what `cargo clippy --workspace --all-targets -- -D warnings`
# does, but on the full build the tests need, so the dependencies compile once instead of
# twice (a check build for clippy, a full one for the tests): ≈ 20 min less on a cold 2-core
# machine. Any clippy warning fails this step, with clippy's usual message.
clippy_driver=$(command -v clippy-driver) || {
  echo "[test] clippy-driver not found: rustup component add clippy" >&2
  exit 1
}
export RUSTC_WORKSPACE_WRAPPER=$clippy_driver
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
cargo test --workspace --all-targets --locked --no-run
# Feature sets no other step compiles must still build and lint clean: the program with its
# profiling, debug, CPI and IDL features, and the provider build of the worker (no local
# validator). Check builds, so the tests' artifacts above are not disturbed.
cargo check --locked -p cinder --lib --features cu-trace,anchor-debug,cpi
cargo check --locked -p cinder --lib --features idl-build
cargo check --locked -p cinder-worker --lib --bins --no-default-features
# The committed IDL (idl/cinder.json) must be the one the program builds (Anchor's builder:
# the program compiled with `idl-build`; ≈ 1 min warm).
cargo run -q --locked -p cinder-tests --bin cinder-idl -- --check

step "5/10 cargo test --workspace (program on host and SBF, runner, bootstrap, worker on a local chain)"
# Two lanes side by side: the worker's fault and operations suites (≈ 9 min, mostly waiting on
# their own local validators through outages, kills and restarts) and every other test target
# of the workspace (≈ 9 min with them beside it). Each suite that shares a validator still runs
# its tests one at a time; the validators pick their own ports. Both lanes select with
# --workspace, so features resolve as in step 4 and nothing is rebuilt. A test target added
# later lands in the second lane by itself.
beside="faults ops"
others=$(cargo metadata --no-deps --format-version 1 --locked | BESIDE="$beside" python3 -c '
import json, os, sys
m = json.load(sys.stdin)
names = {t["name"] for p in m["packages"] for t in p["targets"] if "test" in t["kind"]}
print(" ".join("--test " + n for n in sorted(names - set(os.environ["BESIDE"].split()))))')
faults_log=$(mktemp)
# A process group of its own, so that a failure of the other lane stops the whole suite
# (cargo, the test binary and the workers it started), not just cargo.
# shellcheck disable=SC2046 # one word per flag
setsid cargo test --workspace --locked $(printf -- '--test %s ' $beside) >"$faults_log" 2>&1 &
faults_pid=$!
trap 'kill -- -"$faults_pid" 2>/dev/null || true' EXIT
trap 'exit 1' INT TERM
# shellcheck disable=SC2086 # one word per flag
cargo test --workspace --locked --lib --bins $others
cargo test --workspace --locked --doc
echo "[test] waiting for the worker's fault and operations suites (started beside the others)"
faults_ok=0
wait "$faults_pid" || faults_ok=$?
trap - EXIT INT TERM
cat "$faults_log"
rm -f "$faults_log"
if [ "$faults_ok" -ne 0 ]; then
  echo "[test] the worker's fault or operations suite failed (its output is above)" >&2
  exit 1
fi

step "6/10 compute-unit budgets of cinder.so; BENCHMARKS.md against a fresh run"
cargo run -q --locked -p cinder-tests --bin cinder-bench -- --check | awk '/^## Hot path/{on=1; next} /^## /{on=0} on && NF'
cargo run -q --locked -p cinder-tests --bin cinder-sim -- --check | awk '/^\|/'
# The fuzz workspace and the SBF build are not linted by this wrapper.
unset RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS

step "7/10 the main command: cinder demo --check (the lifecycle, checked from the chain)"
# The README's first command (scripts/demo.sh runs the same binary after the same builds).
"$CARGO_TARGET_DIR/debug/cinder" demo --check --dir "$CINDER_CACHE/demo-check"

step "8/10 fuzzing smoke run"
bash scripts/fuzz.sh --smoke

step "9/10 dependency advisories"
bash scripts/audit.sh

step "10/10 the dApp: unit and browser tests"
CINDER_BIN="$CARGO_TARGET_DIR/debug/cinder" bash scripts/test-web.sh

printf '\n[test] all passed in %s s\n' "$((SECONDS - t0))"
