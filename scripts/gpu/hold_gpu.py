#!/usr/bin/env python3
"""A GPU job that takes GPU memory, keeps the GPU busy and never ends on its own: the runner's
time-limit test kills it and then checks that no process of it is left on the GPU."""
import os
import sys
import time

import torch

if not torch.cuda.is_available():
    print("no CUDA device visible", file=sys.stderr)
    sys.exit(3)
x = torch.randn(8192, 8192, device="cuda:0")  # 256 MiB
print("holding %s pid %d" % (os.environ.get("CUDA_VISIBLE_DEVICES"), os.getpid()), flush=True)
while True:
    x = torch.tanh(x @ x.T / 8192.0)
    torch.cuda.synchronize()
    time.sleep(0.01)
