#!/usr/bin/env bash
# Dependency advisory check: cargo-audit against the RustSec advisory database. Idempotent:
# installs cargo-audit into $CINDER_CACHE/tools if it is missing (≈ 5 min once). The database
# is, in this order:
#   1. a local snapshot (the plain files of the RustSec advisory-db: crates/, and SNAPSHOT if
#      any), offline: $CINDER_ADVISORY_DB, or else a snapshot the machine keeps beside the clone;
#      the script copies it into a temporary git repository and audits with no network access;
#   2. otherwise cargo-audit's own database, fetched online (into ~/.cargo/advisory-db) the way
#      a plain `cargo audit` does. CINDER_ADVISORY_DB= (set, empty) chooses this one.
# The run says which database it used.
#
# Usage: scripts/audit.sh [LOCKFILE...]     (default: Cargo.lock and fuzz/Cargo.lock)
# Env: CINDER_CACHE (default ~/.cache/cinder): cargo-audit in $CINDER_CACHE/tools.
#      CINDER_ADVISORY_DB: the local advisory snapshot to use (see above).
# Accepted advisories, each with its reason, are in .cargo/audit.toml (read in both modes); any
# other advisory — vulnerability, unmaintained or unsound — fails the run (exit 1).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CINDER_CACHE=${CINDER_CACHE:-$HOME/.cache/cinder}
TOOLS=$CINDER_CACHE/tools
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

# The local snapshot, if any: a folder with the database's crates/ tree.
is_snapshot() { [[ -n $1 && -d $1/crates ]]; }
DB_SRC=
if [[ -v CINDER_ADVISORY_DB ]]; then
  if is_snapshot "$CINDER_ADVISORY_DB"; then
    DB_SRC=$CINDER_ADVISORY_DB
  elif [[ -n $CINDER_ADVISORY_DB ]]; then
    say "CINDER_ADVISORY_DB=$CINDER_ADVISORY_DB is not an advisory database snapshot (no crates/ folder in it): using cargo-audit's online database instead"
  fi
else
  # Machines without network access keep a snapshot here, next to the clone.
  beside=$(cd "$REPO/.." && pwd)/shared/advisory-db
  if is_snapshot "$beside"; then DB_SRC=$beside; fi
fi

if [[ ! -x $TOOLS/bin/cargo-audit ]] ||
   [[ $("$TOOLS/bin/cargo-audit" --version 2>/dev/null) != "cargo-audit $CARGO_AUDIT_VERSION" ]]; then
  say "installing cargo-audit $CARGO_AUDIT_VERSION into $TOOLS (once, ≈ 5 min)"
  cargo install "cargo-audit@$CARGO_AUDIT_VERSION" --locked --no-default-features --root "$TOOLS"
fi

if [[ -n $DB_SRC ]]; then
  # cargo-audit opens the database as a git repository: commit a copy of the snapshot. No fetch
  # (.cargo/audit.toml's fetch = false stands with --no-fetch), and a snapshot may be old.
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
  db_args=(--db "$db" --no-fetch --stale)
  used="local snapshot $DB_SRC (snapshot $snapshot), offline"
else
  # cargo-audit's default database and location; the first audit fetches it, the others reuse it.
  db_args=()
  used="cargo-audit's default RustSec advisory-db, fetched online into ${CARGO_HOME:-$HOME/.cargo}/advisory-db"
fi
say "advisory database: $used"

# From the repository root, so cargo-audit reads .cargo/audit.toml (the accepted advisories).
cd "$REPO"
status=0
for lock in "${lockfiles[@]}"; do
  [[ -f $lock ]] || die "no lockfile $lock"
  say "auditing ${lock#"$REPO"/}"
  rc=0
  "$TOOLS/bin/cargo-audit" audit "${db_args[@]}" --no-yanked --deny warnings --file "$lock" \
    || rc=$?
  case $rc in
    0) ;;
    1) status=1 ;; # advisories found (listed above)
    *) die "cargo-audit could not audit ${lock#"$REPO"/} (exit $rc, above); database: $used" ;;
  esac
  if [[ -z $DB_SRC ]]; then db_args=(--no-fetch); fi
done
if [[ $status -ne 0 ]]; then
  die "advisories not accepted in .cargo/audit.toml (above): upgrade, or accept with a reason"
fi
if [[ -z $DB_SRC ]]; then
  at=$(git -C "${CARGO_HOME:-$HOME/.cargo}/advisory-db" log -1 --format='%h, %cs' 2>/dev/null || true)
  if [[ -n $at ]]; then used="$used (at commit $at)"; fi
fi
accepted=$(grep -cE '^\s*"RUSTSEC-[0-9]{4}-[0-9]{4}",' .cargo/audit.toml || true)
say "no advisory outside the $accepted accepted in .cargo/audit.toml (database: $used)"
