"""A hand-made results store with known per-image values and HOG-style predictions, for the
statistics tests (test-only helper)."""
from __future__ import annotations

import numpy as np

from bench.store import Store
from store_fixtures import put_hog_unit, put_measure_units

UNIT = "hog_people#0123abcd"
GT = [100.0, 50.0, 140.0, 130.0]          # one 40×80 person per image
# horizontal shift of the predicted box per model: IoU (40-dx)/(40+dx) = 1, 0.818, 0.667 -> matched
# at 10, 7 and 4 of COCO's 10 IoU thresholds: per-image AP 1.0, 0.7, 0.4; rainy detects nothing
SHIFT = {"clean": 0.0, "c": 0.0, "b": 4.0, "a": 8.0}
QUALITY = {"rainy": 0, "a": 1, "b": 2, "c": 3, "clean": 4}


def record(dx: float | None) -> dict:
    if dx is None:
        return {"height": 256, "width": 512, "boxes": [], "classes": [], "scores": [], "names": {}}
    return {"height": 256, "width": 512, "boxes": [[GT[0] + dx, GT[1], GT[2] + dx, GT[3]]], "classes": [0],
            "scores": [0.9], "names": {"0": "person"}}


def build(path, n: int = 12, dataset: str = "ds", seed: int = 0, psnr_noise: float = 0.0,
          leads: dict[str, float] | None = None) -> Store:
    """Models rainy < a < b < c < clean on ``dataset``: psnr_y = 15 + 5·quality (+ noise),
    niqe = 8 - quality (clean 4), and HOG boxes whose AP rises with quality (pseudo-labels = the
    clean image's box). ``leads`` adds a per-model offset to psnr_y."""
    rng = np.random.default_rng(seed)
    store = Store(path)
    leads = leads or {}
    for model, q in QUALITY.items():
        key = model if model in ("rainy", "clean") else f"{model}#{'0' * 12}"
        for i in range(n):
            image_id = f"img{i:02d}"
            psnr = 100.0 if model == "clean" else 15 + 5 * q + leads.get(model, 0.0) + psnr_noise * rng.normal()
            for unit, v in (("psnr_y", psnr), ("niqe", 8.0 - q)):
                store.put(model_key=key, model=model, variant=None, dataset=dataset, image_id=image_id,
                          unit=unit, value=float(v), protocol="hand-made")
            store.put(model_key=key, model=model, variant=None, dataset=dataset, image_id=image_id, unit=UNIT,
                      payload=record(SHIFT.get(model)))
    for i in range(n):
        store.put_label(dataset, UNIT, f"img{i:02d}", "pseudo", {k: v for k, v in record(0.0).items() if k != "scores"})
    put_measure_units(store, ("psnr_y", "niqe"), "hand-made")      # what `bench run` records when it plans
    put_hog_unit(store, UNIT, dataset, "pseudo")
    return store
