#!/usr/bin/env bash
# Under CI (CI=true or CI=1), refuses to start a test run when the environment holds a switch
# that would skip tests or swap what they test while the run still ends in "all passed".
# Outside CI it does nothing (the switches are there for local runs). scripts/test.sh runs it
# first, before it exports anything itself, so only the caller's environment is looked at;
# scripts/test-web.sh runs it too when it is started on its own.
#
# Refused (set at all, whatever the value):
#   CINDER_SKIP_*            e.g. CINDER_SKIP_CONTAINER_TESTS: the runner's and the worker's
#                            Podman container tests return early
#   CINDER_WEB_SKIP_*        CINDER_WEB_SKIP_E2E: no browser tests; CINDER_WEB_SKIP_SBF_BUILD:
#                            the browser tests run whatever target/deploy/cinder.so is there
#   CINDER_SO                the Mollusk tests and cinder-bench load this .so instead of the
#                            fresh target/deploy/cinder.so
#   CINDER_PROGRAM_SO        the worker tests' local chain and `cinder localnet` (browser
#                            tests) deploy this .so instead
#   CINDER_BIN               scripts/test-web.sh drives this `cinder` binary instead of building
#                            it (scripts/test.sh sets it itself for test-web.sh, after this check)
# Refused when they lower a case count:
#   CINDER_PROPTEST_CASES    below 10000: fewer cases of the conservation property test (and of
#                            the staking property, which runs min(it, 1000))
#   CINDER_NATIVE_CASES      below 256: fewer cases of the host-build conservation test
#   PROPTEST_CASES           below 256 (proptest's default): fewer cases of every proptest! block
#                            that keeps the default count
# Not refused, because the tests still run in full against a real engine or browser and fail
# when it is missing: CINDER_PODMAN_SOCKET (another Podman API socket), CINDER_CHROMIUM
# (another Chromium), CINDER_IMAGE (podman-setup.sh's image name), CINDER_CACHE and
# CARGO_TARGET_DIR (where build output lives).
#
# Exit 1 with one line per switch found, else 0 with one line.
set -euo pipefail

case ${CI:-} in
  true | TRUE | True | 1) ;;
  *) exit 0 ;;
esac

found=()
add() { found+=("$(printf '  %s=%q: %s' "$1" "${!1}" "$2")"); }

for name in $(compgen -e | LC_ALL=C sort); do
  case $name in
    CINDER_WEB_SKIP_E2E)
      add "$name" "scripts/test-web.sh skips the browser tests" ;;
    CINDER_WEB_SKIP_SBF_BUILD)
      add "$name" "scripts/test-web.sh does not rebuild target/deploy/cinder.so for the browser tests" ;;
    CINDER_WEB_SKIP_*)
      add "$name" "a scripts/test-web.sh skip switch" ;;
    CINDER_SKIP_CONTAINER_TESTS)
      add "$name" "the Podman container tests of cinder-runner and the worker are skipped" ;;
    CINDER_SKIP_*)
      add "$name" "a test skip switch" ;;
    CINDER_SO)
      add "$name" "the Mollusk tests and cinder-bench load this .so, not target/deploy/cinder.so" ;;
    CINDER_PROGRAM_SO)
      add "$name" "the worker tests and \`cinder localnet\` deploy this .so, not target/deploy/cinder.so" ;;
    CINDER_BIN)
      add "$name" "scripts/test-web.sh runs the browser tests with this binary instead of building \`cinder\`" ;;
    CINDER_PROPTEST_CASES)
      v=${!name}
      if ! [[ $v =~ ^[0-9]+$ ]] || ((10#$v < 10000)); then
        add "$name" "sets the case count of the conservation property test (below 10000, or not a number)"
      fi ;;
    CINDER_NATIVE_CASES)
      v=${!name}
      if ! [[ $v =~ ^[0-9]+$ ]] || ((10#$v < 256)); then
        add "$name" "sets the case count of the host-build conservation test (below 256, or not a number)"
      fi ;;
    PROPTEST_CASES)
      v=${!name}
      if ! [[ $v =~ ^[0-9]+$ ]] || ((10#$v < 256)); then
        add "$name" "sets the case count of the proptest! blocks that keep the default (below 256, or not a number)"
      fi ;;
  esac
done

if ((${#found[@]} == 0)); then
  echo "[ci] no test skip or swap switch is set"
  exit 0
fi
{
  echo "[ci] CI=$CI: refusing to run with test switches set (a skipped or swapped test would still report 'all passed'):"
  printf '%s\n' "${found[@]}"
  echo "[ci] unset them (or run outside CI)"
} >&2
exit 1
