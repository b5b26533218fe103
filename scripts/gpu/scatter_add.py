#!/usr/bin/env python3
"""A GPU job whose outputs differ in their last bits between runs (verify mode `tolerance`).

`index_add_` of many float32 values into few bins runs on CUDA with atomic adds, whose order
depends on thread scheduling; float addition is not associative, so each run rounds
differently. Where PyTorch is not installed at all it runs on the CPU with numpy, adding the
values in chunks in an order drawn from os.urandom (as threads would race), with the same
effect on the last bits; where PyTorch is installed but sees no GPU it fails. Reads
`params.json` from $CINDER_INPUT_DIR when present:
  {"seed": 11, "values": 50000000, "bins": 1024, "rounds": 20}
Writes `bins.npy` (float32, shape [bins]) and `total.txt` to $CINDER_OUTPUT_DIR.
"""
import json
import os
import sys
import time

import numpy as np

try:
    import torch
except ImportError:
    torch = None


def params():
    p = {"seed": 11, "values": 50_000_000, "bins": 1024, "rounds": 20}
    path = os.path.join(os.environ.get("CINDER_INPUT_DIR", "."), "params.json")
    if os.path.exists(path):
        with open(path) as f:
            p.update(json.load(f))
    return p


def cpu(p):
    n, bins = min(int(p["values"]), 2_000_000), int(p["bins"])
    print(json.dumps({"device": "cpu (numpy; PyTorch is not installed)", "values": n}), flush=True)
    rng = np.random.default_rng(int(p["seed"]))
    idx = rng.integers(0, bins, n)
    vals = rng.standard_normal(n, dtype=np.float32)
    acc = np.zeros(bins, dtype=np.float32)
    chunks = np.array_split(np.arange(n), 64)
    order = np.random.default_rng(int.from_bytes(os.urandom(8), "little")).permutation(len(chunks))
    for _ in range(int(p["rounds"])):
        for c in order:
            part = np.zeros(bins, dtype=np.float32)
            np.add.at(part, idx[chunks[c]], vals[chunks[c]])
            acc += part
    return acc


def write(out, a):
    np.save(os.path.join(out, "bins.npy"), a)
    with open(os.path.join(out, "total.txt"), "w") as f:
        f.write("%.6e\n" % float(a.astype(np.float64).sum()))


def main():
    out = os.environ.get("CINDER_OUTPUT_DIR", ".")
    if torch is None:
        write(out, cpu(params()))
        return 0
    if not torch.cuda.is_available():
        print("no CUDA device visible (CUDA_VISIBLE_DEVICES=%r)" % os.environ.get("CUDA_VISIBLE_DEVICES"), file=sys.stderr)
        return 3
    p = params()
    dev = torch.device("cuda:0")
    props = torch.cuda.get_device_properties(dev)
    print(json.dumps({"device": props.name, "uuid": "GPU-" + str(props.uuid),
                      "visible": os.environ.get("CUDA_VISIBLE_DEVICES")}), flush=True)
    g = torch.Generator(device=dev).manual_seed(int(p["seed"]))
    n, bins = int(p["values"]), int(p["bins"])
    idx = torch.randint(0, bins, (n,), device=dev, generator=g)
    vals = torch.randn(n, device=dev, generator=g, dtype=torch.float32)
    acc = torch.zeros(bins, device=dev, dtype=torch.float32)
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(int(p["rounds"])):
        acc.index_add_(0, idx, vals)
    torch.cuda.synchronize()
    print(json.dumps({"seconds": round(time.perf_counter() - t, 3)}), flush=True)
    write(out, acc.cpu().numpy())
    return 0


if __name__ == "__main__":
    sys.exit(main())
