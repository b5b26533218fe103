#!/usr/bin/env bash
# Installs the registry-only SBF (Solana BPF) toolchain used by scripts/build-sbf.sh.
#
# Nothing here downloads from GitHub; every piece comes from a package registry:
#   Debian apt   rustc-web/cargo-web 1.96 + rust-web-src (rustc, cargo and std sources for build-std)
#   PyPI         mlc-llvm-static(-extra-targets) 23.1.1: LLVM 23 static libraries with the BPF backend
#   crates.io    sbpf-linker 0.2.6, built here against that LLVM 23 (bitcode link + BPF codegen + SBPF)
# plus the project's toolchain/std-bpf.patch (applied to a copy of the std sources) and
# toolchain/bpfel-zkvm-solana.json (the target spec).
#
# Everything goes under ${CINDER_CACHE:-$HOME/.cache/cinder}/sbf, outside the clone. Each step is
# skipped when already done; a step whose pin (version, patch, rustc) changed is redone. Safe to
# run again at any time. When done it writes <cache>/sbf/env.sh, which build scripts source:
#   SBF_HOME SBF_RUSTC SBF_CARGO SBF_LINKER SBF_STD_SRC SBF_TARGET_SPEC SBF_LLVM_PREFIX
#
# Usage: scripts/sbf-toolchain.sh            install (or check) everything
#        scripts/sbf-toolchain.sh --print-env print the env.sh path after installing
set -euo pipefail

# ---- pins (changing any of these makes the next run redo the affected step) ----------------
SBF_APT_PACKAGES=(rustc-web cargo-web rust-web-src libstd-rust-web-dev-bpf g++ patch python3-pip)
SBF_LLVM_PYPI_VERSION=23.1.1.post0
SBF_LLVM_PYPI_PACKAGES=(mlc-llvm-static mlc-llvm-static-extra-targets)
SBF_LINKER_VERSION=0.2.6
SBF_LINKER_FEATURES=bpf-linker/llvm-23,bpf-linker/llvm-link-static
SBF_RUSTC_PATH=/usr/bin/rustc     # Debian rustc-web (1.96); host builds keep using rustup's cargo
SBF_CARGO_PATH=/usr/bin/cargo
SBF_RUSTC_WANT="rustc 1.96."      # prefix of `/usr/bin/rustc --version` the patch was made for

_sbf_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CINDER_CACHE=${CINDER_CACHE:-$HOME/.cache/cinder}
SBF_HOME=$CINDER_CACHE/sbf

say()  { printf '[sbf-toolchain] %s\n' "$*"; }
die()  { printf '[sbf-toolchain] error: %s\n' "$*" >&2; exit 1; }
# step <n> <text>: one line per step
step() { _sbf_t0=$SECONDS; printf '[sbf-toolchain] [%s/5] %s\n' "$1" "$2"; }
done_in() { say "      done in $((SECONDS - _sbf_t0)) s"; }
stamp_ok() { [[ -f $1 ]] && [[ "$(cat "$1")" == "$2" ]]; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root (or sudo) to run: $*"; fi
}

host_cargo() {
  # The linker is a host tool: build it with rustup's stable cargo if present, else any cargo.
  if [[ -x $HOME/.cargo/bin/cargo ]]; then echo "$HOME/.cargo/bin/cargo"
  elif command -v cargo >/dev/null 2>&1; then command -v cargo
  else die "no host cargo found (install rustup stable)"; fi
}

python_cmd() {
  if command -v python3 >/dev/null 2>&1; then echo python3; else die "python3 not found"; fi
}

# ---- 1. apt packages ------------------------------------------------------------------------
step_apt() {
  local missing=() p
  for p in "${SBF_APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    step 1 "apt packages: all present (${SBF_APT_PACKAGES[*]})"
  else
    command -v apt-get >/dev/null 2>&1 || die "missing packages ${missing[*]} and no apt-get (Debian 12 with bookworm-security expected)"
    step 1 "apt packages: installing ${missing[*]} (first run ≈ 1-3 min)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
      || die "apt-get install ${missing[*]} failed (rustc-web comes from bookworm-security)"
    done_in
  fi
  [[ -x $SBF_RUSTC_PATH && -x $SBF_CARGO_PATH ]] || die "$SBF_RUSTC_PATH / $SBF_CARGO_PATH missing after apt install"
  local v; v=$("$SBF_RUSTC_PATH" --version)
  [[ $v == "$SBF_RUSTC_WANT"* ]] || say "warning: $SBF_RUSTC_PATH is '$v', toolchain/std-bpf.patch was made for '${SBF_RUSTC_WANT}x'"
  [[ -d /usr/lib/rustlib/src/rust/library/std ]] || die "/usr/lib/rustlib/src/rust/library missing (apt package rust-web-src)"
}

# ---- 2. LLVM 23 static libraries from PyPI --------------------------------------------------
step_llvm() {
  local dir=$SBF_HOME/llvm want
  want="${SBF_LLVM_PYPI_PACKAGES[*]} ==$SBF_LLVM_PYPI_VERSION"
  if stamp_ok "$dir/.stamp" "$want" && [[ -x $dir/mlc_llvm_static/static/bin/llvm-config ]]; then
    step 2 "LLVM $SBF_LLVM_PYPI_VERSION static libs (PyPI): cached in $dir"
    return
  fi
  step 2 "LLVM $SBF_LLVM_PYPI_VERSION static libs: pip download + unzip into $dir (first run ≈ 1-2 min, ≈ 1 GB)"
  local py tmp; py=$(python_cmd); tmp=$SBF_HOME/llvm.tmp
  rm -rf "$tmp" "$dir" && mkdir -p "$tmp/whl" "$tmp/out"
  local specs=() p
  for p in "${SBF_LLVM_PYPI_PACKAGES[@]}"; do specs+=("$p==$SBF_LLVM_PYPI_VERSION"); done
  "$py" -m pip download -q --no-deps --disable-pip-version-check -d "$tmp/whl" "${specs[@]}" \
    || die "pip download ${specs[*]} failed (needs PyPI access)"
  "$py" - "$tmp/whl" "$tmp/out" <<'EOF'
import glob, sys, zipfile
wheels = glob.glob(sys.argv[1] + "/*.whl")
if len(wheels) != 2:
    sys.exit(f"expected 2 wheels, found {wheels}")
for w in wheels:
    zipfile.ZipFile(w).extractall(sys.argv[2])
EOF
  local llvm=$tmp/out/mlc_llvm_static/static
  [[ -d $llvm/lib ]] || die "unexpected wheel layout: $llvm/lib missing"
  chmod +x "$llvm"/bin/* 2>/dev/null || true
  [[ -x $llvm/bin/llvm-config ]] || die "llvm-config not found in the wheel ($llvm/bin)"
  rm -rf "$tmp/whl"
  mv "$tmp/out" "$dir" && rm -rf "$tmp"
  printf '%s' "$want" > "$dir/.stamp"
  done_in
}

# ---- 3. sbpf-linker built against that LLVM -------------------------------------------------
step_linker() {
  local root=$SBF_HOME/tools llvm=$SBF_HOME/llvm/mlc_llvm_static/static want
  want="sbpf-linker $SBF_LINKER_VERSION features=$SBF_LINKER_FEATURES llvm=$SBF_LLVM_PYPI_VERSION"
  if stamp_ok "$root/.stamp" "$want" && [[ -x $root/bin/sbpf-linker ]]; then
    step 3 "sbpf-linker $SBF_LINKER_VERSION: cached in $root/bin"
    return
  fi
  step 3 "sbpf-linker $SBF_LINKER_VERSION: cargo install against LLVM 23 (first run ≈ 4-8 min on 2 cores)"
  local cargo; cargo=$(host_cargo)
  rm -f "$root/.stamp"
  LLVM_PREFIX=$llvm ZLIB_PATH=$llvm/lib LIBZSTD_PATH=$llvm/lib \
    "$cargo" install "sbpf-linker@$SBF_LINKER_VERSION" --locked --force --no-default-features \
      --features "$SBF_LINKER_FEATURES" --root "$root" \
    || die "cargo install sbpf-linker@$SBF_LINKER_VERSION failed (see output above)"
  "$root/bin/sbpf-linker" --version >/dev/null || die "$root/bin/sbpf-linker does not run"
  printf '%s' "$want" > "$root/.stamp"
  done_in
}

# ---- 4. patched std sources -----------------------------------------------------------------
step_std_src() {
  local dst=$SBF_HOME/rust-src patch=$_sbf_repo/toolchain/std-bpf.patch want
  [[ -f $patch ]] || die "$patch not found"
  want="$("$SBF_RUSTC_PATH" --version) patch=$(sha "$patch")"
  if stamp_ok "$dst/.stamp" "$want" && [[ -d $dst/library/std ]]; then
    step 4 "std sources + toolchain/std-bpf.patch: cached in $dst/library"
    return
  fi
  step 4 "std sources: copy /usr/lib/rustlib/src/rust/library and apply toolchain/std-bpf.patch (≈ 5 s)"
  rm -rf "$dst" "$dst.tmp" && mkdir -p "$dst.tmp"
  cp -a /usr/lib/rustlib/src/rust/library "$dst.tmp/"
  (cd "$dst.tmp/library" && patch -p1 --quiet --forward < "$patch") \
    || die "toolchain/std-bpf.patch does not apply to $("$SBF_RUSTC_PATH" --version)'s std sources"
  mv "$dst.tmp" "$dst"
  printf '%s' "$want" > "$dst/.stamp"
  done_in
}

# ---- 5. target spec -------------------------------------------------------------------------
step_target() {
  local spec=$_sbf_repo/toolchain/bpfel-zkvm-solana.json
  [[ -f $spec ]] || die "$spec not found"
  # The spec is committed (deterministic builds). Check that rustc accepts it and that it still
  # matches what this rustc derives from bpfel-unknown-none (+ os=zkvm, atomic-cas, atomics 8-64).
  local py; py=$(python_cmd)
  local fresh; fresh=$(RUSTC_BOOTSTRAP=1 "$SBF_RUSTC_PATH" -Zunstable-options --print target-spec-json \
      --target bpfel-unknown-none | "$py" -c '
import json, sys
j = json.load(sys.stdin); j.pop("metadata", None)
j.update({"os": "zkvm", "atomic-cas": True, "min-atomic-width": 8, "max-atomic-width": 64})
print(json.dumps(j, indent=2, sort_keys=True))') || die "cannot derive target spec from $SBF_RUSTC_PATH"
  if [[ $fresh == "$(cat "$spec")" ]]; then
    step 5 "target spec toolchain/bpfel-zkvm-solana.json: matches $("$SBF_RUSTC_PATH" --version | cut -d' ' -f1-2)"
  else
    # A spec this rustc would not derive builds a program with another ABI or data layout
    # than the one tested and measured: stop rather than warn.
    diff <(printf '%s\n' "$fresh") "$spec" >&2 || true
    die "toolchain/bpfel-zkvm-solana.json differs from what $("$SBF_RUSTC_PATH" --version | cut -d' ' -f1-2) derives (diff above: < derived, > committed). If the Debian rustc was upgraded on purpose, review the diff, write the derived spec into the file and rerun the tests; otherwise install the rustc this repository pins (README, \"Toolchain policy\")."
  fi
}

write_env() {
  local f=$SBF_HOME/env.sh
  cat > "$f.tmp" <<EOF
# generated by scripts/sbf-toolchain.sh; source it to get the SBF toolchain paths
export SBF_HOME='$SBF_HOME'
export SBF_RUSTC='$SBF_RUSTC_PATH'
export SBF_CARGO='$SBF_CARGO_PATH'
export SBF_LINKER='$SBF_HOME/tools/bin/sbpf-linker'
export SBF_STD_SRC='$SBF_HOME/rust-src/library'
export SBF_TARGET_SPEC='$_sbf_repo/toolchain/bpfel-zkvm-solana.json'
export SBF_LLVM_PREFIX='$SBF_HOME/llvm/mlc_llvm_static/static'
EOF
  mv "$f.tmp" "$f"
}

sbf_toolchain_install() {
  mkdir -p "$SBF_HOME"
  # one installer at a time (build-sbf.sh may be started twice)
  exec 9>"$SBF_HOME/.lock"
  if command -v flock >/dev/null 2>&1; then
    flock -n 9 || { say "another install is running; waiting for it"; flock 9; }
  fi
  step_apt
  step_llvm
  step_linker
  step_std_src
  step_target
  write_env
  exec 9>&-
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  case "${1:-}" in
    "") sbf_toolchain_install ;;
    --print-env) sbf_toolchain_install >&2; echo "$SBF_HOME/env.sh" ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
fi
