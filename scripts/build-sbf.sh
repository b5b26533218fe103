#!/usr/bin/env bash
# Builds a Solana program crate to an SBF shared object (.so) with the registry-only toolchain
# (Debian rustc 1.96 + build-std + sbpf-linker on LLVM 23; see scripts/sbf-toolchain.sh, which
# this script runs first: it installs what is missing and otherwise only checks, in ~1 s).
#
# Usage: scripts/build-sbf.sh [--arch v3|v0] [--manifest-path PATH] [--out-dir DIR] [-- CARGO_ARGS...]
#   --arch v3       SBPF v3, target-cpu v3 (default)
#   --arch v0       refused, with the reason (see below)
#   --manifest-path program crate to build (default: programs/cinder/Cargo.toml of this repo)
#   --out-dir       where the .so is copied (default: <repo>/target/deploy for programs/cinder,
#                   else <crate dir>/target/deploy)
#   CARGO_ARGS      passed to cargo build, e.g. -- --features foo --locked
# Env: CINDER_CACHE (default ~/.cache/cinder): toolchain in $CINDER_CACHE/sbf, cargo target dir
#      $CINDER_CACHE/target-sbf (v3) / target-sbf-v0 (v0); SBF_TARGET_DIR overrides the latter.
# Works from any directory. Prints the .so path, size and sha256.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CINDER_CACHE=${CINDER_CACHE:-$HOME/.cache/cinder}
export CINDER_CACHE

say() { printf '[build-sbf] %s\n' "$*"; }
die() { printf '[build-sbf] error: %s\n' "$*" >&2; exit 1; }

arch=v3
manifest=
out_dir=
cargo_args=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --arch) arch=${2:?--arch needs v3 or v0}; shift 2 ;;
    --arch=*) arch=${1#*=}; shift ;;
    --manifest-path) manifest=${2:?--manifest-path needs a path}; shift 2 ;;
    --manifest-path=*) manifest=${1#*=}; shift ;;
    --out-dir) out_dir=${2:?--out-dir needs a path}; shift 2 ;;
    --out-dir=*) out_dir=${1#*=}; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; cargo_args=("$@"); break ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
done

case $arch in
  v3) sbpf_arch=v3; sbpf_cpu=v3 ;;   # NOT cpu v4: its byte-swap opcode (0xd7) is invalid on SBPF
  v0) die "SBPF v0 is not supported: LLVM 23 passes a call's 6th+ arguments on the stack in a way
only SBPF v3's dynamic stack frames allow (a v0 build faults with an access violation in its
first Anchor instruction). Clusters need SBPF v3 execution (Agave >= 3.1 with the feature on)." ;;
  *) die "--arch must be v3 or v0, got '$arch'" ;;
esac

if [[ -z $manifest ]]; then
  manifest=$REPO/programs/cinder/Cargo.toml
  out_dir=${out_dir:-$REPO/target/deploy}
fi
[[ -f $manifest ]] || die "manifest not found: $manifest"
manifest=$(cd "$(dirname "$manifest")" && pwd)/$(basename "$manifest")
crate_dir=$(dirname "$manifest")
out_dir=${out_dir:-$crate_dir/target/deploy}
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)

# ---- toolchain ------------------------------------------------------------------------------
t0=$SECONDS
"$REPO/scripts/sbf-toolchain.sh"
# shellcheck source=/dev/null
source "$CINDER_CACHE/sbf/env.sh"
for v in SBF_RUSTC SBF_CARGO SBF_LINKER; do [[ -x ${!v} ]] || die "$v=${!v} is not executable"; done
[[ -d $SBF_STD_SRC/std ]] || die "patched std sources missing at $SBF_STD_SRC"
[[ -f $SBF_TARGET_SPEC ]] || die "target spec missing at $SBF_TARGET_SPEC"

# ---- crate name (the .so is named after the lib target) -------------------------------------
lib_name=$(python3 - "$manifest" <<'EOF'
import sys, tomllib
m = tomllib.load(open(sys.argv[1], "rb"))
name = m.get("lib", {}).get("name") or m.get("package", {}).get("name")
if not name:
    sys.exit("no [package] name in " + sys.argv[1])
print(name.replace("-", "_"))
EOF
) || die "cannot read the crate name from $manifest"

# ---- build ----------------------------------------------------------------------------------
target_name=$(basename "$SBF_TARGET_SPEC" .json)
if [[ $arch == v3 ]]; then target_dir=${SBF_TARGET_DIR:-$CINDER_CACHE/target-sbf}
else target_dir=${SBF_TARGET_DIR:-$CINDER_CACHE/target-sbf-v0}; fi

rustflags=(
  -C "linker=$SBF_LINKER"
  -C relocation-model=static
  -C "target-cpu=$sbpf_cpu"
  -C target-feature=+allows-misaligned-mem-access
  -C "link-arg=--arch=$sbpf_arch"
  -C link-arg=--llvm-args=--bpf-stack-size=4096
  -C link-arg=--llvm-args=--disable-ldsx
  -C link-arg=--llvm-args=--disable-movsx
  -C link-arg=--llvm-args=--disable-gotox
  # sbpf-linker would also write target/deploy/ relative to rustc's cwd; we copy cargo's output
  -C link-arg=--deploy=false
  # std programs: no unwinding, no atomics, and code that checks target_os = "solana"
  -Zunstable-options
  -C panic=immediate-abort
  -C passes=lower-atomic
  --cfg 'target_os="solana"'
  -A explicit-builtin-cfgs-in-flags
)
encoded=$(IFS=$'\x1f'; echo "${rustflags[*]}")

say "building $lib_name ($manifest) for SBPF $sbpf_arch (target-cpu $sbpf_cpu) into $target_dir"
say "(first build ≈ 2-5 min: std + all dependencies; after an edit ≈ 10-30 s, mostly the LTO link)"
t1=$SECONDS
(
  # a host RUSTFLAGS/wrapper must not leak into the SBF build
  unset RUSTFLAGS CARGO_BUILD_RUSTFLAGS CARGO_BUILD_TARGET RUSTC_WRAPPER CARGO_BUILD_RUSTC_WRAPPER \
        RUSTC_WORKSPACE_WRAPPER CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER CLIPPY_ARGS \
        RUSTUP_TOOLCHAIN RUSTDOC
  export RUSTC=$SBF_RUSTC
  export RUSTC_BOOTSTRAP=1
  export RUSTC_BOOTSTRAP_SYNTHETIC_TARGET=1
  export __CARGO_TESTS_ONLY_SRC_ROOT=$SBF_STD_SRC
  export CARGO_ENCODED_RUSTFLAGS=$encoded
  export CARGO_TARGET_DIR=$target_dir
  cd "$crate_dir"
  "$SBF_CARGO" build --release --manifest-path "$manifest" --target "$SBF_TARGET_SPEC" \
    -Zbuild-std=std,panic_abort -Zbuild-std-features=compiler-builtins-mem -Zjson-target-spec \
    "${cargo_args[@]}"
) || die "cargo build for SBF failed (see above)"

so=$target_dir/$target_name/release/$lib_name.so
[[ -f $so ]] || so=$target_dir/$target_name/release/lib$lib_name.so
[[ -f $so ]] || die "built, but no $lib_name.so in $target_dir/$target_name/release (is crate-type cdylib?)"
cp -f "$so" "$out_dir/$lib_name.so"
so=$out_dir/$lib_name.so

# ---- report ---------------------------------------------------------------------------------
elf=$(python3 - "$so" <<'EOF'
import struct, sys
b = open(sys.argv[1], "rb").read(64)
if b[:4] != b"\x7fELF" or b[4] != 2:
    sys.exit("not an ELF64 file")
machine, = struct.unpack_from("<H", b, 18)
flags, = struct.unpack_from("<I", b, 48)
print(f"e_machine={machine} e_flags={flags}")
EOF
) || die "$so is not an ELF64 shared object"
size=$(stat -c %s "$so")
sum=$(sha256sum "$so" | cut -d' ' -f1)
say "done in $((SECONDS - t0)) s (cargo $((SECONDS - t1)) s)"
say "so:     $so"
say "size:   $size bytes"
say "sha256: $sum"
say "elf:    $elf (SBPF $sbpf_arch)"
