#!/usr/bin/env bash
# Dependency advisory check that works offline: cargo-audit against a local snapshot of the
# RustSec advisory database. Idempotent: installs cargo-audit into $CINDER_CACHE/tools if it is
# missing (≈ 5 min once), turns the snapshot (plain data files) into a git repository in a
# temporary directory, and audits the lockfiles with no network access.
#
# Usage: scripts/audit.sh [LOCKFILE...]     (default: Cargo.lock and fuzz/Cargo.lock)
# Env: CINDER_CACHE (default ~/.cache/cinder): cargo-audit in $CINDER_CACHE/tools.
#      CINDER_ADVISORY_DB (default <repo>/../shared/advisory-db): the advisory snapshot.
# Accepted advisories, each with its reason, are in .cargo/audit.toml; any other advisory —
# vulnerability, unmaintained or unsound — fails the run (exit 1).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CINDER_CACHE=${CINDER_CACHE:-$HOME/.cache/cinder}
TOOLS=$CINDER_CACHE/tools
DB_SRC=${CINDER_ADVISORY_DB:-$REPO/../shared/advisory-db}
# 0.22.2 builds with Rust >= 1.88; without default features (binary scanning) it builds faster.
CARGO_AUDIT_VERSION=0.22.2

say() { printf '[audit] %s\n' "$*"; }
die() { printf '[audit] error: %s\n' "$*" >&2; exit 1; }

if [[ $# -gt 0 ]]; then
  lockfiles=("$@")
else
  lockfiles=("$REPO/Cargo.lock")
  [[ -f $REPO/fuzz/Cargo.lock ]] && lockfiles+=("$REPO/fuzz/Cargo.lock")
fi

[[ -d $DB_SRC/crates ]] || die "no advisory database at $DB_SRC (set CINDER_ADVISORY_DB)"

if [[ ! -x $TOOLS/bin/cargo-audit ]] ||
   [[ $("$TOOLS/bin/cargo-audit" --version 2>/dev/null) != "cargo-audit $CARGO_AUDIT_VERSION" ]]; then
  say "installing cargo-audit $CARGO_AUDIT_VERSION into $TOOLS (once, ≈ 5 min)"
  cargo install "cargo-audit@$CARGO_AUDIT_VERSION" --locked --no-default-features --root "$TOOLS"
fi

# cargo-audit opens the database as a git repository: commit a copy of the snapshot.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
db=$tmp/advisory-db
cp -R "$DB_SRC" "$db"
chmod -R u+w "$db"
snapshot=$(head -n 1 "$db/SNAPSHOT" 2>/dev/null || echo "unknown")
git -C "$db" init -q
git -C "$db" add -A
git -C "$db" -c user.name=cinder-audit -c user.email=audit@localhost \
  -c commit.gpgsign=false commit -q -m "advisory-db snapshot $snapshot"
say "advisory database: $DB_SRC (snapshot $snapshot)"

# From the repository root, so cargo-audit reads .cargo/audit.toml (the accepted advisories).
cd "$REPO"
status=0
for lock in "${lockfiles[@]}"; do
  [[ -f $lock ]] || die "no lockfile $lock"
  say "auditing ${lock#"$REPO"/}"
  if ! "$TOOLS/bin/cargo-audit" audit --db "$db" --no-fetch --no-yanked --deny warnings \
      --file "$lock"; then
    status=1
  fi
done
if [[ $status -ne 0 ]]; then
  die "advisories not accepted in .cargo/audit.toml (above): upgrade, or accept with a reason"
fi
accepted=$(grep -cE '^\s*"RUSTSEC-[0-9]{4}-[0-9]{4}",' .cargo/audit.toml || true)
say "no advisory outside the $accepted accepted in .cargo/audit.toml"
