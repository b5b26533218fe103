#!/usr/bin/env python3
"""Compares the outputs of two runs of one job: per file, byte-identical or not, and for .npy
files the largest absolute and relative element difference. Prints one JSON line per file.
Usage: compare.py DIR_A DIR_B"""
import hashlib
import json
import os
import sys

import numpy as np


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main(a, b):
    for name in sorted(os.listdir(a)):
        pa, pb = os.path.join(a, name), os.path.join(b, name)
        row = {"file": name, "identical": os.path.exists(pb) and sha(pa) == sha(pb)}
        if name.endswith(".npy") and os.path.exists(pb):
            x, y = np.load(pa).astype(np.float64), np.load(pb).astype(np.float64)
            d = np.abs(x - y)
            row["max_abs"] = float(d.max())
            row["max_rel"] = float((d / np.maximum(np.abs(x), 1e-30)).max())
            row["differing"] = int((d > 0).sum())
            row["elements"] = int(d.size)
        print(json.dumps(row))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
