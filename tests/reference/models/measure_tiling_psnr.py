"""Measure the PSNR effect of tiled inference (not run in CI; results in TILING.md).

Usage:
    git -C /work/.mirror/csdwren+PReNet/repo archive HEAD | tar -x -C /tmp/official-prenet
    python tests/reference/models/measure_tiling_psnr.py --prenet-code /tmp/official-prenet \
        --weights ../shared/weights/prenet/Rain100H/PReNet6.pth --data ../shared/data/rain100h --n 4 --crop 192x256

The network is the official PReNet class (run outside the repo) with its official Rain100H
checkpoint, or our registered `prenet` when --prenet-code is omitted. Every image is derained whole
and with bench.models.tiling.tiled_forward at several tile/overlap settings; outputs are truncated
to uint8 as PReNet's test script does, and scored by Y-PSNR (MATLAB rgb2ycbcr Y, unrounded, peak 1
on Y/255, as PReNet's MATLAB scripts) against the ground truth and against the whole-image output.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from bench.imageio import read_rgb, to_tensor  # noqa: E402
from bench.models.tiling import tiled_forward  # noqa: E402

SETTINGS = ((96, 32), (128, 32), (128, 64))


def y_channel(rgb_uint8: np.ndarray) -> np.ndarray:
    x = rgb_uint8.astype(np.float64) / 255.0
    return 16.0 + 65.481 * x[..., 0] + 128.553 * x[..., 1] + 24.966 * x[..., 2]


def psnr_y(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((y_channel(a) / 255.0 - y_channel(b) / 255.0) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)


def load_net(args):
    if args.prenet_code:
        sys.path.insert(0, args.prenet_code)
        from networks import PReNet  # official class
        net = PReNet(recurrent_iter=6, use_GPU=False)
        net.load_state_dict(torch.load(args.weights, map_location="cpu", weights_only=True))
        return lambda x: net.eval()(x)[0], "official PReNet (csdwren/PReNet networks.py)"
    from bench.models import MODELS
    from bench.models.weights import WeightsResolver
    d = MODELS.load("prenet").build(args.weights, WeightsResolver(offline=True))
    return d.net, "bench prenet"


def to_uint8_trunc(y: torch.Tensor) -> np.ndarray:
    return (255 * y.clamp(0, 1)[0].permute(1, 2, 0).numpy()).astype(np.uint8)


@torch.no_grad()
def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--prenet-code")
    p.add_argument("--weights", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--n", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--crop", default=None, help="HxW centre crop of every pair (CPU budget), e.g. 192x256")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    net, what = load_net(args)
    files = sorted((Path(args.data) / "rain").glob("*.png"), key=lambda f: int(f.stem.split("-")[-1]))[: args.n]
    rows = {"whole": []}
    rows.update({f"tile {t} / overlap {o}": [] for t, o in SETTINGS})
    vs_whole = {k: [] for k in rows if k != "whole"}
    t0 = time.time()
    for f in files:
        rgb, gt = read_rgb(f), read_rgb(Path(args.data) / "norain" / f.name)
        if args.crop:
            ch, cw = (int(v) for v in args.crop.split("x"))
            top, left = (rgb.shape[0] - ch) // 2, (rgb.shape[1] - cw) // 2
            rgb, gt = rgb[top: top + ch, left: left + cw], gt[top: top + ch, left: left + cw]
        x = to_tensor(rgb)
        whole = to_uint8_trunc(net(x))
        rows["whole"].append(psnr_y(whole, gt))
        for t, o in SETTINGS:
            out = to_uint8_trunc(tiled_forward(net, x, t, o))
            key = f"tile {t} / overlap {o}"
            rows[key].append(psnr_y(out, gt))
            vs_whole[key].append(psnr_y(out, whole))
        print(f"{f.name}: whole {rows['whole'][-1]:.3f} dB; "
              + "; ".join(f"{k}: {rows[k][-1]:.3f} dB ({vs_whole[k][-1]:.2f} dB vs whole)" for k in vs_whole)
              + f" ({time.time() - t0:.0f} s)", flush=True)
    print(f"\n{what}, {len(files)} Rain100H images" + (f" (centre crops {args.crop})" if args.crop else "") + f" ({', '.join(f.name for f in files)}), Y-PSNR, uint8 trunc")
    print(f"{'setting':<24} {'PSNR-Y vs GT':>13} {'Δ vs whole':>11} {'PSNR-Y vs whole':>16}")
    base = np.mean(rows["whole"])
    for k, v in rows.items():
        extra = "" if k == "whole" else f"{np.mean(v) - base:+11.4f} {np.mean(np.minimum(vs_whole[k], 99)):16.2f}"
        print(f"{k:<24} {np.mean(v):13.4f} {extra}")


if __name__ == "__main__":
    main()
