#!/usr/bin/env bash
# Tests the dApp (app/web), installing what is missing first (idempotent):
#   1. Debian's chromium (apt) and the npm packages (npm ci, from app/web/package-lock.json)
#   2. test vectors from the Rust builders and program types
#      (cargo run -p cinder-client --example vectors) and the generated client tables
#   3. typecheck, then the unit and component tests (vitest run)
#   4. the dApp build (vite) and what the browser tests run: target/deploy/cinder.so
#      (scripts/build-sbf.sh) and the `cinder` binary (cargo build -p cinder-worker)
#   5. the browser tests (playwright-core driving headless Chromium) against `cinder localnet`,
#      the real local chain with the SBF program; screenshots in app/web/test-results/screenshots
# Exits non-zero on any failure. First run on a fresh 2-core machine: ≈ 3 min for chromium and
# npm, plus the Rust builds of steps 2 and 4 when nothing is built yet (the local validator is
# the long one, ≈ 20 min; scripts/test.sh builds the same crates, so after it they are warm).
# A warm run takes ≈ 2-3 min, most of it the browser tests.
# Env: CARGO_TARGET_DIR (as for cargo); CINDER_BIN=path (use this `cinder`, do not build it);
# CINDER_WEB_SKIP_SBF_BUILD=1 (use the target/deploy/cinder.so there is); CINDER_WEB_SKIP_E2E=1
# (steps 1-3 only). Under CI (CI=true or CI=1) those three are refused
# (scripts/ci/refuse-switches.sh), the generated client tables are checked instead of rewritten
# (gen-client.mjs --check), and step 2 fails when the regenerated vectors or tables differ from
# what git has.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WEB="$REPO/app/web"
cd "$REPO"
t0=$SECONDS
say() { printf '[test-web] %s\n' "$*"; }
step() { printf '\n[test-web] == %s (%s s so far)\n' "$*" "$((SECONDS - t0))"; }
die() { printf '[test-web] error: %s\n' "$*" >&2; exit 1; }
in_ci() { [[ ${CI:-} =~ ^(true|TRUE|True|1)$ ]]; }

# Switches that skip or swap tests are refused under CI. scripts/test.sh checks its caller's
# environment itself and marks it with its PID before it starts this script with its own
# CINDER_BIN; started any other way, this script checks its own environment.
if [[ ${CINDER_SWITCHES_CHECKED:-} == "$PPID" ]]; then
  if in_ci; then say "test switches: checked by scripts/test.sh"; fi
else
  bash "$REPO/scripts/ci/refuse-switches.sh"
fi
# The closing line CI reads ("N passed, N failed"), from vitest's JSON reports.
summary() {
  (cd "$WEB" && node -e '
    let p = 0, f = 0;
    for (const file of process.argv.slice(1)) {
      const r = JSON.parse(require("fs").readFileSync(file, "utf8"));
      p += r.numPassedTests; f += r.numFailedTests;
    }
    console.log(`web: ${p} passed, ${f} failed`);' "$@")
}
as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root (or sudo) to run: $*"; fi
}

step "1/5 chromium and npm packages"
if [[ -x /usr/bin/chromium ]]; then
  say "chromium: $(/usr/bin/chromium --version 2>/dev/null | head -1)"
else
  say "apt: installing chromium (≈ 1-2 min)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
command -v node >/dev/null 2>&1 || die "no node on PATH: the dApp needs Node ≥ 20.19 with npm"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || die "Node $(node --version) is too old: the dApp needs ≥ 20.19"
stamp="$WEB/node_modules/.package-lock.json"
if [[ ! -f $stamp || "$WEB/package-lock.json" -nt $stamp ]]; then
  say "npm ci in app/web (≈ 30 s)"
  (cd "$WEB" && npm ci --no-audit --no-fund --loglevel=error)
else
  say "npm: app/web/node_modules up to date"
fi

step "2/5 test vectors (Rust builders and program types) and generated client tables"
# Both are committed: CI checks them against the sources; a local run rewrites them.
generated=(app/web/tests/vectors/vectors.json app/web/src/client/generated)
regen="cargo run -q --locked -p cinder-client --example vectors -- app/web/tests/vectors/vectors.json && node app/web/scripts/gen-client.mjs"
if in_ci; then
  (cd "$WEB" && node scripts/gen-client.mjs --check) \
    || die "the generated client tables are out of date with idl/cinder.json (above): regenerate them with \`node app/web/scripts/gen-client.mjs\` and commit them"
fi
cargo run -q --locked -p cinder-client --example vectors -- "$WEB/tests/vectors/vectors.json"
in_ci || (cd "$WEB" && node scripts/gen-client.mjs)
if in_ci; then
  git rev-parse --is-inside-work-tree >/dev/null 2>&1 \
    || die "not a git checkout: cannot check that the generated files are committed up to date"
  if ! git diff --exit-code --stat -- "${generated[@]}"; then
    stale=$(git diff --name-only -- "${generated[@]}" | tr '\n' ' ')
    die "generated files differ from the commit after regenerating them: ${stale% }. Regenerate with \`$regen\` (from the repository root) and commit them"
  fi
  say "generated files match the commit: ${generated[*]}"
elif git rev-parse --is-inside-work-tree >/dev/null 2>&1 && ! git diff --quiet -- "${generated[@]}"; then
  stale=$(git diff --name-only -- "${generated[@]}" | tr '\n' ' ')
  say "note: regenerated files differ from git's index (commit them; CI fails on this): ${stale% }"
fi

step "3/5 typecheck, unit and component tests"
mkdir -p "$WEB/test-results"
(cd "$WEB" && npx tsc --noEmit && npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/unit.json)

if [[ ${CINDER_WEB_SKIP_E2E:-0} == 1 ]]; then
  say "CINDER_WEB_SKIP_E2E=1: browser tests skipped"
  printf '\n[test-web] unit tests passed in %s s (browser tests skipped)\n' "$((SECONDS - t0))"
  summary test-results/unit.json
  exit 0
fi

step "4/5 dApp build, cinder.so and the cinder binary"
(cd "$WEB" && npx vite build --logLevel warn)
if [[ ${CINDER_WEB_SKIP_SBF_BUILD:-0} == 1 ]]; then
  [[ -f target/deploy/cinder.so ]] || die "CINDER_WEB_SKIP_SBF_BUILD=1 but target/deploy/cinder.so is missing"
  say "cinder.so: target/deploy/cinder.so (not rebuilt)"
else
  bash scripts/build-sbf.sh
fi
if [[ -n ${CINDER_BIN:-} ]]; then
  [[ -x $CINDER_BIN ]] || die "CINDER_BIN=$CINDER_BIN is not an executable"
  say "cinder binary: $CINDER_BIN (given)"
else
  say "cargo build -p cinder-worker --bin cinder (the local validator: ≈ 20 min when cold)"
  cargo build -q --locked -p cinder-worker --bin cinder
  target_dir=$(cargo metadata --locked --format-version 1 --no-deps \
    | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')
  export CINDER_BIN="$target_dir/debug/cinder"
  say "cinder binary: $CINDER_BIN"
fi

step "5/5 browser tests against cinder localnet (Chromium headless)"
rm -rf "$WEB/test-results/screenshots"
(cd "$WEB" && npx vitest run --config vitest.e2e.config.ts --reporter=default --reporter=json --outputFile.json=test-results/e2e.json)
shots=$(find "$WEB/test-results/screenshots" -name '*.png' 2>/dev/null | wc -l)
say "$shots screenshots in app/web/test-results/screenshots"

printf '\n[test-web] all passed in %s s\n' "$((SECONDS - t0))"
summary test-results/unit.json test-results/e2e.json
