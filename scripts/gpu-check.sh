#!/usr/bin/env bash
# Cinder's GPU path on a real NVIDIA GPU (issue #19). Runs on a GPU host with the NVIDIA
# driver, python3 with PyTorch, and the binaries built beforehand on a build machine by
# `scripts/gpu-check.sh --prepare` (they go to .gpu/, which git ignores):
#   .gpu/cinder.xz            the cinder binary (worker, CLI, in-process local validator)
#   .gpu/runner-gpu.xz        the runner's GPU test binary (crates/cinder-runner/tests/gpu_host.rs)
#   .gpu/cinder.so            the program
# Stages (all by default; --stages a,b to pick):
#   env     what the host is: OS, glibc, driver, nvidia-smi's view, where libcuda/libnvidia-ml are
#   jobs    the two PyTorch jobs of scripts/gpu/ run 3 times each exactly as the process runtime
#           runs them (cleared environment, CUDA_VISIBLE_DEVICES = the GPU's UUID): output
#           hashes and the largest differences between runs; GPU utilisation sampled meanwhile
#   hash    sha256 throughput of a multi-GB output (sha256sum, and the runner's own hashing)
#   runner  the runner on the GPU: NVML inventory = nvidia-smi, one lease at a time, the job
#           sees exactly its UUID, a job over its time limit is killed and leaves the GPU free
#   demo    `cinder demo --gpu`: local chain, an H200-class market, two workers sharing the
#           GPU, deterministic / nondeterministic / tampered PyTorch jobs, verification
# Writes a log and result files to $OUT (or ./gpu-out). Usage:
#   scripts/gpu-check.sh --prepare           (build machine: build and pack the binaries)
#   scripts/gpu-check.sh [--stages env,jobs] (GPU host)
set -uo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

if [[ ${1:-} == --prepare ]]; then
  set -e
  export CINDER_CACHE=${CINDER_CACHE:-$HOME/.cache/cinder}
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$CINDER_CACHE/target}
  # The SBF build takes no workspace wrapper (scripts/test.sh may have exported clippy's).
  env -u RUSTC_WORKSPACE_WRAPPER -u CLIPPY_ARGS bash scripts/build-sbf.sh
  cargo build --locked -p cinder-worker --bin cinder
  runner=$(cargo test --locked -p cinder-runner --test gpu_host --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "gpu_host":
        print(m["executable"])' | tail -1)
  mkdir -p .gpu
  cp target/deploy/cinder.so .gpu/cinder.so
  for pair in "cinder:$CARGO_TARGET_DIR/debug/cinder" "runner-gpu:$runner"; do
    name=${pair%%:*} bin=${pair#*:}
    strip -o ".gpu/$name" "$bin"
    xz -T2 -6 -f ".gpu/$name"
    echo "[gpu-check] .gpu/$name.xz: $(du -h ".gpu/$name.xz" | cut -f1) (from $(du -h "$bin" | cut -f1) unstripped)"
  done
  du -sh .gpu
  exit 0
fi

STAGES=env,jobs,hash,runner,demo
if [[ ${1:-} == --stages ]]; then STAGES=$2; fi
OUT=${OUT:-$REPO/gpu-out}
mkdir -p "$OUT"
LOG=$OUT/gpu-check.log
exec > >(tee -a "$LOG") 2>&1
t0=$SECONDS
stage() { [[ ",$STAGES," == *",$1,"* ]]; }
say() { printf '[gpu-check %4ss] %s\n' "$((SECONDS - t0))" "$*"; }
PY=${CINDER_GPU_PYTHON:-$(command -v python3)}
# Not resolved through links: a venv's python finds its packages only by the path it was started as.
WORK=$(mktemp -d /tmp/cinder-gpu.XXXX)
unpack() { # .gpu/NAME.xz -> $WORK/NAME
  [[ -f .gpu/$1.xz ]] || return 1
  if command -v xz >/dev/null; then xz -dc ".gpu/$1.xz" >"$WORK/$1"; else
    "$PY" -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],"wb"))' ".gpu/$1.xz" "$WORK/$1"; fi
  chmod +x "$WORK/$1"
}

UUID=$(nvidia-smi --query-gpu=uuid --format=csv,noheader | head -1)
say "python $PY; first GPU $UUID; stages $STAGES"

if stage env; then
  say "== env"
  uname -a; grep PRETTY /etc/os-release; ldd --version | head -1; nproc; free -g | head -2
  nvidia-smi --query-gpu=index,uuid,name,memory.total,mig.mode.current,driver_version,pci.device_id --format=csv
  nvidia-smi -q | grep -iE 'product name|product architecture|MIG Mode|Current +:|Persistence|Compute Mode' | head -20
  say "loader: libcuda / libnvidia-ml"
  ldconfig -p | grep -E 'libcuda\.so|libnvidia-ml' || echo "(not in the loader cache)"
  env | grep -E '^(LD_|CUDA|NVIDIA|PATH=)' || true
  "$PY" -c 'import torch,numpy; print("torch", torch.__version__, "cuda", torch.version.cuda, "numpy", numpy.__version__)'
  command -v xz zstd bwrap unshare podman docker || true
fi

run_job() { # script run_dir -> runs as the process runtime does
  local script=$1 dir=$2
  mkdir -p "$dir/in" "$dir/out" "$dir/work"
  (cd "$dir/work" && env -i CINDER_JOB=gpu-check CINDER_INPUT_DIR="$dir/in" CINDER_OUTPUT_DIR="$dir/out" \
    CUDA_VISIBLE_DEVICES="$UUID" "$PY" "$REPO/scripts/gpu/$script" >"$dir/stdout.log" 2>"$dir/stderr.log")
}

if stage jobs; then
  say "== jobs: each PyTorch job 3 times, environment cleared as the process runtime clears it"
  nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used,power.draw,clocks.sm --format=csv,noheader,nounits -lms 200 >"$OUT/gpu-util.csv" &
  sampler=$!
  for job in matmul_chain scatter_add; do
    for r in 1 2 3; do
      d=$WORK/$job-$r
      s=$SECONDS
      if run_job "$job.py" "$d"; then
        say "$job run $r: ok in $((SECONDS - s)) s; $(tr '\n' ' ' <"$d/stdout.log")"
        (cd "$d/out" && sha256sum * | sed "s/^/    /")
      else
        say "$job run $r: FAILED; stderr:"; tail -20 "$d/stderr.log"
        say "$job run $r: retry with the host's LD_LIBRARY_PATH passed (${LD_LIBRARY_PATH:-unset})"
        rm -rf "$d"; mkdir -p "$d/in" "$d/out" "$d/work"
        (cd "$d/work" && env -i LD_LIBRARY_PATH="${LD_LIBRARY_PATH:-}" CINDER_INPUT_DIR="$d/in" CINDER_OUTPUT_DIR="$d/out" \
          CUDA_VISIBLE_DEVICES="$UUID" "$PY" "$REPO/scripts/gpu/$job.py" >"$d/stdout.log" 2>"$d/stderr.log") &&
          say "  with LD_LIBRARY_PATH: ok" || { say "  still failing"; tail -5 "$d/stderr.log"; }
      fi
    done
    for r in 2 3; do
      say "$job run 1 vs run $r:"; "$PY" scripts/gpu/compare.py "$WORK/$job-1/out" "$WORK/$job-$r/out" | sed 's/^/    /'
    done
  done
  kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null
  say "GPU utilisation samples: $(wc -l <"$OUT/gpu-util.csv") (every 200 ms, in gpu-util.csv); busiest:"
  sort -t, -k2 -n -r "$OUT/gpu-util.csv" | head -3 | sed 's/^/    /'
fi

if stage hash; then
  say "== hash: sha256 of a 4 GiB output"
  f=$WORK/big.bin
  "$PY" -c 'import os,sys; b=os.urandom(1<<26); f=open(sys.argv[1],"wb"); [f.write(b) for _ in range(64)]' "$f"
  s=$(date +%s.%N); sha256sum "$f" >/dev/null; e=$(date +%s.%N)
  say "sha256sum: 4096 MiB in $(echo "$e - $s" | bc 2>/dev/null || "$PY" -c "print($e-$s)") s"
  if unpack runner-gpu; then
    CINDER_HASH_FILE=$f "$WORK/runner-gpu" --ignored --exact gpu_hash_throughput --nocapture --test-threads=1 2>&1 | grep -E 'hash|test result|panicked'
  else say "runner test binary not carried: runner hashing skipped"; fi
  rm -f "$f"
fi

if stage runner; then
  say "== runner on the GPU"
  if unpack runner-gpu; then
    CINDER_GPU_PYTHON=$PY CINDER_GPU_SCRIPTS=$REPO/scripts/gpu RUST_BACKTRACE=1 \
      "$WORK/runner-gpu" --ignored --skip gpu_hash_throughput --nocapture --test-threads=1 2>&1 | tee "$OUT/runner.log" | grep -vE '^\s*$'
  else say "runner test binary not carried (.gpu/runner-gpu.xz): run --prepare on the build machine"; fi
fi

if stage demo; then
  say "== cinder demo --gpu"
  if unpack cinder && [[ -f .gpu/cinder.so ]]; then
    s=$SECONDS
    nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used,power.draw,clocks.sm --format=csv,noheader,nounits -lms 500 >"$OUT/demo-util.csv" &
    sampler=$!
    RUST_LOG=${RUST_LOG:-error} "$WORK/cinder" demo --gpu --gpu-python "$PY" --gpu-scripts "$REPO/scripts/gpu" \
      --program .gpu/cinder.so --dir "$WORK/demo" 2>&1 | tee "$OUT/demo.log"
    rc=${PIPESTATUS[0]}
    kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null
    say "demo exit $rc in $((SECONDS - s)) s; GPU busy (utilisation > 0) in $(awk -F, '$2+0 > 0' "$OUT/demo-util.csv" | wc -l) of $(wc -l <"$OUT/demo-util.csv") samples (every 500 ms, demo-util.csv)"
    cp "$WORK/demo/workers.log" "$OUT/workers.log" 2>/dev/null && xz -f "$OUT/workers.log" 2>/dev/null || true
  else say "cinder binary not carried (.gpu/cinder.xz): run --prepare on the build machine"; fi
fi
say "done"
