"""Rain100H PSNR-Y / SSIM-Y and CPU ms/image for the official checkpoints (not a CI test).

    BENCH_SHARED=../shared python benchmarks/models_rain100h.py prenet sapnet [--threads 2] [--limit N]

Protocol = PReNet's statistic scripts: outputs quantised as the official test script saves them
(io.quantise), MATLAB rgb2ycbcr on doubles (Y unrounded), PSNR on Y/255 with peak 1, SSIM =
Wang's ssim_index on Y*255 (11×11 Gaussian σ 1.5, K 0.01/0.03, L 255, 'valid'; skimage with
gaussian_weights=True, use_sample_covariance=False reproduces it), per-image mean. Timing is the
wall time of ``derain`` only (no decoding, no metrics), with the network already loaded.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from skimage.metrics import structural_similarity

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.data import DATASETS  # noqa: E402
from bench.imageio import read_rgb, to_tensor, to_uint8  # noqa: E402
from bench.models import MODELS  # noqa: E402
from bench.config import RunContext, environment  # noqa: E402


def y_channel(rgb_u8: np.ndarray) -> np.ndarray:
    a = rgb_u8.astype(np.float64) / 255.0
    return 16.0 + 65.481 * a[..., 0] + 128.553 * a[..., 1] + 24.966 * a[..., 2]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="+")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--skip", type=int, default=0, help="start after the first N images (to split a run)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    shared = environment().shared or Path("../shared")
    ctx = RunContext(device="cpu", offline=True, data_root=shared / "data", weights_dir=shared / "weights")
    dataset = DATASETS.load("rain100h").find(ctx)
    samples = list(dataset.samples())[a.skip:][: a.limit]
    for name in a.models:
        derainer = MODELS.load(name).build(None, ctx, dataset="rain100h")
        derainer.restore(to_tensor(read_rgb(samples[0].rainy).copy()))  # warm-up
        psnr, ssim, secs = [], [], []
        for s in samples:
            rainy = to_tensor(read_rgb(s.rainy).copy())
            t0 = time.perf_counter()
            out = derainer.restore(rainy)
            secs.append(time.perf_counter() - t0)
            yo, yg = y_channel(to_uint8(out, derainer.io.quantise)[0]), y_channel(read_rgb(s.clean))
            psnr.append(10 * math.log10(1.0 / np.mean((yo / 255 - yg / 255) ** 2)))
            ssim.append(structural_similarity(yo, yg, gaussian_weights=True, sigma=1.5,
                                              use_sample_covariance=False, data_range=255))
            if len(psnr) % 20 == 0:
                print(f"  {name} {len(psnr)}: PSNR-Y {np.mean(psnr):.4f} SSIM-Y {np.mean(ssim):.4f} "
                      f"{1000 * np.mean(secs):.0f} ms/image", flush=True)
        print(f"{derainer.key}: {len(samples)} images  PSNR-Y {np.mean(psnr):.4f}  SSIM-Y {np.mean(ssim):.4f}  "
              f"{1000 * np.mean(secs):.0f} ms/image (median {1000 * np.median(secs):.0f}, {a.threads} threads)",
              flush=True)


if __name__ == "__main__":
    main()
