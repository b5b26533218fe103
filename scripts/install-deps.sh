#!/usr/bin/env bash
# Installs what the host build and the tests need, skipping whatever is already there:
#   apt:    pkg-config libssl-dev libudev-dev (C libraries some Solana crates link);
#           clang libclang-dev cmake protobuf-compiler (the local validator: RocksDB is built
#           from C++ with bindgen, its RPC types from protobuf);
#           podman runc busybox-static (the worker's container runtime, and the test image);
#           bubblewrap (the sandbox of process jobs)
#   rustup: rustfmt, clippy
# The SBF toolchain is installed by scripts/sbf-toolchain.sh (run by scripts/build-sbf.sh).
set -euo pipefail
say() { printf '[deps] %s\n' "$*"; }
die() { printf '[deps] error: %s\n' "$*" >&2; exit 1; }
as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root (or sudo) to run: $*"; fi
}

APT_PACKAGES=(pkg-config libssl-dev libudev-dev clang libclang-dev cmake protobuf-compiler
  podman runc busybox-static bubblewrap)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  say "apt: installing ${missing[*]} (≈ 1-2 min)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  say "apt: ${APT_PACKAGES[*]} present"
fi

command -v cargo >/dev/null 2>&1 || die "no cargo on PATH: install Rust stable with rustup first"
if command -v rustup >/dev/null 2>&1; then
  for c in rustfmt clippy; do
    if ! rustup component list --installed 2>/dev/null | grep -q "^$c"; then
      say "rustup: adding $c"
      rustup component add "$c"
    fi
  done
fi
say "rust: $(rustc --version)"
