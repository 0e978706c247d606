"""The README's model-zoo table from a results store: measured PSNR-Y / SSIM-Y on Rain100H and
Rain100L next to what the authors published for the same checkpoint (not a CI test).

    python -m bench run --models <all> --datasets rain100h,rain100l --measures psnr_y,ssim_y --tasks none [--limit N]
    python benchmarks/zoo_table.py --out results

Reads the store only (bench.report.tables.leaderboard.build), the published figures of the weights
registry (bench.report.tables.published.figures) and, to tell a model's default checkpoint from an
opt-in one, each model spec's ``pick_weights``. Δ = measured − published, PSNR-Y, only for Y-channel
figures; a mean over the first N images is not comparable with a 100-image figure, and the table
says over how many images each mean is.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.models import MODELS  # noqa: E402
from bench.report.tables.leaderboard import build  # noqa: E402
from bench.report.tables.published import figures  # noqa: E402
from bench.store import Store  # noqa: E402

DATASETS = ("rain100h", "rain100l")


def _default(model: str, dataset: str) -> str:
    """The checkpoint `bench run` picks for this set; "" for models without registered weights
    (the bounds, own-trained networks), whose variant names the row."""
    spec = MODELS.load(model)
    return spec.pick_weights(None, dataset) if getattr(spec, "weights", ()) else ""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="results")
    a = ap.parse_args()
    lb = build(Store(Path(a.out) / "store.sqlite"))
    pub = figures()
    t = lb.table
    rows = {}
    for r in t.itertuples():
        if r.dataset not in DATASETS:
            continue
        # One row per model with the checkpoint picked for each set by default; an opt-in
        # checkpoint (aidnet@location_TrainL_135) gets a row of its own.
        name = r.model if str(r.variant or "") in ("", _default(r.model, r.dataset)) else f"{r.model}@{r.variant}"
        kept = rows.setdefault(name, {}).get(r.dataset)
        # a store can hold a --limit run next to the full one: show the widest
        if kept is None or r.images > kept.images:
            rows[name][r.dataset] = r
    print("| model | " + " | ".join(f"{d}: weights | n | PSNR-Y | SSIM-Y | published | Δ PSNR" for d in DATASETS) + " |")
    print("|---|" + "---|---:|---:|---:|---|---:|" * len(DATASETS))
    order = ["rainy"] + sorted(m for m in rows if m != "rainy")
    for model in order:
        cells = []
        for d in DATASETS:
            r = rows[model].get(d)
            if r is None:
                cells += ["–"] * 6
                continue
            f = pub.get((r.model, str(r.variant or ""), d))
            shown = "–" if f is None else f"{f.psnr:.2f}/{f.ssim:g} ({f.channel})"
            delta = "–" if f is None or not f.comparable or f.psnr is None else f"{r.psnr_y - f.psnr:+.2f}"
            cells += [str(r.variant or "–"), str(int(r.images)), f"{r.psnr_y:.3f}", f"{r.ssim_y:.4f}", shown, delta]
        print(f"| {model} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
