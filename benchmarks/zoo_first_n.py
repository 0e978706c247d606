"""PSNR-Y / SSIM-Y (prenet protocol) of models on the first N Rain100H and Rain100L pairs, each with
the checkpoint trained for that set, outputs quantised per the I/O policy (not a CI test).

    PYTHONPATH=. python benchmarks/zoo_first_n.py 10 dfn aidnet nledn prenet   # BENCH_SHARED or ../shared
"""
import os
import sys
import time

import torch
torch.set_num_threads(1)
SHARED = os.environ.get("BENCH_SHARED", "../shared")
from bench.config import RunContext
from bench.models import MODELS
from bench.models.base import Batch
from bench.imageio import read_rgb, to_tensor, to_uint8
from bench.measures import build_measure
ctx = RunContext(device="cpu", offline=True, weights_dir=SHARED + "/weights")
psnr, ssim = build_measure("psnr_y"), build_measure("ssim_y")
N = int(sys.argv[1])
for m in sys.argv[2:]:
    for ds in ("rain100h", "rain100l"):
        d = MODELS.load(m).build(None, ctx, dataset=ds)
        ps, ss, pr = [], [], []
        t0 = time.time()
        for i in range(1, N + 1):
            r = to_tensor(read_rgb(SHARED + f"/data/{ds}/rain/norain-{i}.png"))
            c = to_tensor(read_rgb(SHARED + f"/data/{ds}/norain/norain-{i}.png"))
            out = to_tensor(to_uint8(d.derain(Batch.of(r, c)), d.io.quantise)[0])
            ps.append(float(psnr(out, c).mean())); ss.append(float(ssim(out, c).mean())); pr.append(float(psnr(r, c).mean()))
        print(f"{m}@{d.variant} {ds} first {N}: PSNR-Y {sum(ps)/N:.3f} SSIM-Y {sum(ss)/N:.4f} (rainy {sum(pr)/N:.3f}) [{time.time()-t0:.0f}s]", flush=True)
