"""`bench perf measures`: PSNR-Y + SSIM-Y + NIQE per image, ours vs a NumPy/scikit-image reference.

Both sides see the same decoded Rain100H pairs in one run: the reference is scikit-image PSNR and
SSIM (configured as Wang 2004) on MATLAB Y plus a plain NumPy NIQE (reference_numpy.py); ours
is the torch code the harness runs. The first pair warms both up (imports, tables) and is not
timed. Prints per-image times, the speed ratio and the largest disagreement between the two.
"""
from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import numpy as np
import torch


def _pairs(root: Path, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from bench.imageio import read_rgb

    rain, clean = root / "rain100h" / "rain", root / "rain100h" / "norain"
    if not rain.is_dir() or not clean.is_dir():
        raise SystemExit(f"perf measures: Rain100H not found at {root / 'rain100h'} (expected rain/ and norain/ "
                         "with matching names); pass --data-root or set BENCH_DATA")
    names = sorted((p.name for p in rain.glob("*.png")), key=lambda s: int(re.sub(r"\D", "", s) or 0))[: n + 1]
    return [(read_rgb(rain / f), read_rgb(clean / f)) for f in names]


def main(argv: list[str] | None = None) -> int:
    from bench.config import settings

    env = settings()
    ap = argparse.ArgumentParser(prog="bench perf measures", description=__doc__.splitlines()[0])
    data = env.data_root or (env.shared / "data" if env.shared else None)
    ap.add_argument("--data-root", default=data, required=data is None,
                    help="folder holding rain100h/ (default: $BENCH_DATA, else $BENCH_SHARED/data)")
    ap.add_argument("--pairs", type=int, default=20, help="timed pairs (one more is used to warm up)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads outside the measures (they run their own work on one thread)")
    ap.add_argument("--rounds", type=int, default=3, help="timed rounds; the fastest of each side counts")
    ap.add_argument("--device", default="cpu", help="cpu or cuda for our side (the reference is CPU)")
    args = ap.parse_args(argv or [])

    from bench.imageio import to_tensor
    from bench.measures import reference_numpy as ref
    from bench.measures.niqe import NIQE, load_pristine, packaged_pristine
    from bench.measures.psnr import psnr_y
    from bench.measures.ssim import ssim_y

    torch.set_num_threads(args.threads)
    params = packaged_pristine()
    mu_p, cov_p = (t.numpy() for t in load_pristine(params))
    psnr, ssim, niqe = psnr_y(), ssim_y(), NIQE(params_path=params)
    pairs = _pairs(Path(args.data_root), args.pairs)
    dev = torch.device(args.device)

    def run_ref(o, c):
        return ref.psnr_y(o, c), ref.ssim_y(o, c), ref.niqe(o, mu_p, cov_p)

    def run_ours(x, y):
        vals = (psnr(x, y), ssim(x, y), niqe(x))
        return tuple(float(v[0]) for v in vals)

    # each side gets the decoded pairs in its native form (the runner holds tensors)
    tensors = [(to_tensor(o).to(dev), to_tensor(c).to(dev)) for o, c in pairs]
    run_ref(*pairs[0]), run_ours(*tensors[0])  # warm-up, untimed
    # Alternate the two sides image by image so that load from other processes hits both alike,
    # repeat, and keep each side's fastest round (the usual way to time on a shared machine).
    ref_rounds, our_rounds = [], []
    for _ in range(args.rounds):
        t_ref = t_ours = 0.0
        ref_vals, our_vals = [], []
        for (o, c), (x, y) in zip(pairs[1:], tensors[1:]):
            t0 = time.perf_counter()
            ref_vals.append(run_ref(o, c))
            t1 = time.perf_counter()
            our_vals.append(run_ours(x, y))
            if dev.type == "cuda":
                torch.cuda.synchronize()
            t2 = time.perf_counter()
            t_ref, t_ours = t_ref + t1 - t0, t_ours + t2 - t1
        ref_rounds.append(t_ref)
        our_rounds.append(t_ours)
    timed = pairs[1:]
    t_ref, t_ours = min(ref_rounds), min(our_rounds)

    r, o = np.array(ref_vals), np.array(our_vals)
    n = len(timed)
    print(f"Rain100H, {n} pairs (rainy vs clean), PSNR-Y + SSIM-Y + NIQE per image; "
          f"ours on {args.device} with {args.threads} thread(s)")
    print(f"  reference (scikit-image + NumPy NIQE): {1000 * t_ref / n:8.1f} ms/image")
    print(f"  derain-bench (torch):                  {1000 * t_ours / n:8.1f} ms/image")
    print(f"  speed ratio: {t_ref / t_ours:.2f}x faster (best of {args.rounds} rounds each)")
    print(f"  max |diff|: PSNR-Y {np.abs(r[:, 0] - o[:, 0]).max():.2e} dB, SSIM-Y {np.abs(r[:, 1] - o[:, 1]).max():.2e}, "
          f"NIQE {np.abs(r[:, 2] / o[:, 2] - 1).max() * 100:.3f}% (flat-area rounding noise: the reference filters in 2-D like Octave; ours follows MATLAB, see tests/reference/measures/README.md)")
    print(f"  means: PSNR-Y {o[:, 0].mean():.4f} dB, SSIM-Y {o[:, 1].mean():.4f}, NIQE {o[:, 2].mean():.4f}")
    return 0
