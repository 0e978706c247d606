"""Calibrate the `light`/`heavy` rain presets against Rain100H (rainy vs clean PSNR-Y).

Usage (from the repo root): python tests/reference/synth/calibrate.py ../shared/data/rain100h [N]
Prints the real Rain100H rainy/clean PSNR-Y distribution, then each preset's distribution when
rendered (seed 0) on the same clean images. Rain100L's clean images are Rain100H's (REFERENCE.md),
so the light preset is compared with the published Rain100L input value, 26.90 dB.
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from bench.data.synth import PRESETS, add_rain, psnr_y  # noqa: E402
from bench.imageio import read_rgb  # noqa: E402


def summary(values):
    v = np.asarray(values)
    p5, p25, p50, p75, p95 = np.percentile(v, [5, 25, 50, 75, 95])
    return (f"n={len(v)} mean={v.mean():.2f} std={v.std():.2f} p5={p5:.2f} p25={p25:.2f} "
            f"median={p50:.2f} p75={p75:.2f} p95={p95:.2f}")


def main(root: Path, n: int | None):
    rainy = sorted((root / "rain").glob("norain-*.png"), key=lambda p: int(p.stem.split("-")[1]))[:n]
    real, synth = [], {k: [] for k in PRESETS}
    for r in rainy:
        clean = read_rgb(root / "norain" / r.name)
        real.append(psnr_y(read_rgb(r), clean))
        for name in PRESETS:
            synth[name].append(psnr_y(add_rain(clean, r.stem, name, seed=0)[0], clean))
    print("Rain100H rainy vs clean PSNR-Y:", summary(real))
    for name, v in synth.items():
        print(f"preset {name:5s} on Rain100H clean:  ", summary(v))


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else None)
