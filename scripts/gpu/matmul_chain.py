#!/usr/bin/env python3
"""A deterministic GPU job for Cinder (verify mode `exact`).

A chain of fp32 matrix products with fixed seeds, deterministic algorithms on, TF32 off and
cuBLAS's workspace pinned, so two runs on the same card, driver and library versions give
byte-identical outputs. Where PyTorch is not installed at all it runs the same chain on the
CPU with numpy (smaller: at most n = 512, 20 steps), so the job's path through Cinder can be
tried on a machine without a GPU; where PyTorch is installed but sees no GPU it fails (a GPU
job must not quietly run on the CPU). Reads `params.json` from $CINDER_INPUT_DIR when present:
  {"seed": 7, "n": 4096, "steps": 400}
Writes `activations.npy` (the final n x n matrix, float32) and `checksum.txt` to
$CINDER_OUTPUT_DIR. Prints what it ran on (device name and UUID, CUDA_VISIBLE_DEVICES) and
its timing to stdout; nothing time- or machine-dependent goes into the outputs.
"""
import json
import os
import sys
import time

# cuBLAS reads this when it creates its handle: set before torch touches the GPU.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

import numpy as np  # noqa: E402

try:
    import torch  # noqa: E402
except ImportError:
    torch = None


def params():
    p = {"seed": 7, "n": 4096, "steps": 400}
    path = os.path.join(os.environ.get("CINDER_INPUT_DIR", "."), "params.json")
    if os.path.exists(path):
        with open(path) as f:
            p.update(json.load(f))
    return p


def cpu(p, out):
    n, steps = min(int(p["n"]), 512), min(int(p["steps"]), 20)
    print(json.dumps({"device": "cpu (numpy; PyTorch is not installed)", "n": n, "steps": steps}), flush=True)
    rng = np.random.default_rng(int(p["seed"]))
    x = rng.standard_normal((n, n), dtype=np.float32)
    w = (rng.standard_normal((n, n), dtype=np.float32) / np.float32(n ** 0.5)).astype(np.float32)
    for _ in range(steps):
        x = np.tanh(x @ w)
    return x


def write(out, a):
    np.save(os.path.join(out, "activations.npy"), a)
    with open(os.path.join(out, "checksum.txt"), "w") as f:
        f.write("%.9e\n" % float(np.float64(a.astype(np.float64).sum())))


def main():
    out = os.environ.get("CINDER_OUTPUT_DIR", ".")
    if torch is None:
        write(out, cpu(params(), out))
        return 0
    if not torch.cuda.is_available():
        print("no CUDA device visible (CUDA_VISIBLE_DEVICES=%r)" % os.environ.get("CUDA_VISIBLE_DEVICES"), file=sys.stderr)
        return 3
    p = params()
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = torch.device("cuda:0")
    props = torch.cuda.get_device_properties(dev)
    print(json.dumps({
        "device": props.name,
        "uuid": "GPU-" + str(props.uuid),
        "visible": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "device_count": torch.cuda.device_count(),
        "torch": torch.__version__,
    }), flush=True)
    g = torch.Generator(device=dev).manual_seed(int(p["seed"]))
    n = int(p["n"])
    x = torch.randn(n, n, device=dev, generator=g, dtype=torch.float32)
    w = torch.randn(n, n, device=dev, generator=g, dtype=torch.float32) / (n ** 0.5)
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(int(p["steps"])):
        x = torch.tanh(x @ w)
    torch.cuda.synchronize()
    secs = time.perf_counter() - t
    flops = 2.0 * n * n * n * int(p["steps"])
    print(json.dumps({"seconds": round(secs, 3), "tflops": round(flops / secs / 1e12, 1)}), flush=True)
    write(out, x.cpu().numpy())
    return 0


if __name__ == "__main__":
    sys.exit(main())
