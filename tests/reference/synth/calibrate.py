"""Calibrate the synthetic-rain presets against Rain100H's real rain.

Renders each preset onto Rain100H's own clean images (norain/) and reports the rainy-vs-clean
PSNR-Y distribution (PReNet protocol, bench.measures.psnr_y) next to the real Rain100H pairs.
Usage (repo root): PYTHONPATH=. python tests/reference/synth/calibrate.py /work/shared/data/rain100h [N]
Writes calibration.json beside this script.
"""
import json
import sys
from pathlib import Path

import numpy as np

from bench.data.synth import PRESETS, render
from bench.imageio import read_rgb, to_tensor
from bench.measures.psnr import psnr_y


def stats(v):
    v = np.asarray(v)
    return {"n": int(v.size), "mean": round(float(v.mean()), 3), "std": round(float(v.std()), 3),
            "p10": round(float(np.percentile(v, 10)), 2), "p50": round(float(np.percentile(v, 50)), 2),
            "p90": round(float(np.percentile(v, 90)), 2)}


def main(root: str, n: int | None = None, presets=None) -> dict:
    root = Path(root)
    m = psnr_y()
    names = sorted(p.name for p in (root / "norain").glob("*.png"))[:n]
    real, synth = [], {k: [] for k in (presets or PRESETS)}
    for name in names:
        clean = read_rgb(root / "norain" / name)
        ct = to_tensor(clean)
        real.append(float(m(to_tensor(read_rgb(root / "rain" / name)), ct)[0]))
        for k in synth:
            synth[k].append(float(m(to_tensor(render(clean, PRESETS[k], 0, name)), ct)[0]))
    return {"reference_targets": {"rain100l_rainy_psnr_y": 26.90, "rain100h_rainy_psnr_y": 13.556},
            "rain100h_real": stats(real), **{f"synth_{k}_on_rain100h_clean": stats(v) for k, v in synth.items()}}


if __name__ == "__main__":
    out = main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else None)
    print(json.dumps(out, indent=1))
    if len(sys.argv) <= 2:
        (Path(__file__).parent / "calibration.json").write_text(json.dumps(out, indent=1) + "\n")
