"""Recovery share: how much of the rain-induced drop a derainer wins back.

    share = (model − rainy) / (clean − rainy)

on the images that the model, the rainy input and the ground truth all have: 0 = no better than
the rainy input, 1 = as good as the clean image, < 0 = worse than doing nothing. For a
dataset-level score (mAP, mIoU) the three scores are recomputed on each bootstrap resample of
images (bench/report/stats/scorers.py); for a per-image measure they are means. Interval:
``scipy.stats.bootstrap`` over images (BCa, seeded; percentile where BCa is undefined).
Full-reference measures are left out by default: their clean value is the identity (PSNR cap),
not a drop to recover.

Does the derainer help at all? Each row is also compared with the rainy input on the same images
and resamples (``comparisons.paired_comparison_resampled``: paired bootstrap of model − rainy,
two-sided p), Holm-corrected across the models of one dataset and metric; ``verdict`` is "better"
or "worse" than the rainy input where the corrected p < α, else "no significant difference".
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bench.report.stats import comparisons, intervals

FULL_REFERENCE = ("psnr", "ssim", "lpips")


@dataclass
class Recovery:
    dataset: str
    model_key: str
    metric: str
    share: float
    lo: float
    hi: float
    n: int
    model_value: float
    rainy_value: float
    clean_value: float
    method: str
    diff: float = float("nan")          # model − rainy on the full image set
    p_boot: float = float("nan")        # paired bootstrap p of model − rainy = 0
    p_holm: float = float("nan")        # Holm-corrected across the models of (dataset, metric)
    verdict: str = ""                   # "better" | "worse" | "no significant difference" (vs rainy)


def share(model, rainy, clean):
    """(model − rainy) / (clean − rainy), elementwise; NaN where clean = rainy."""
    model, rainy, clean = (np.asarray(v, dtype=float) for v in (model, rainy, clean))
    gap = clean - rainy
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(gap != 0, (model - rainy) / np.where(gap != 0, gap, 1.0), np.nan)


def recovery(d, key: str, metric: str, settings: intervals.Settings = intervals.DEFAULT) -> Recovery | None:
    rainy, clean = d.key_of("rainy"), d.key_of("clean")
    source = d.measures.get(metric) or d.scorers.get(metric) or {}
    if rainy is None or clean is None or not {key, rainy, clean} <= set(source):
        return None
    ids = d.common_ids(metric, [key, rainy, clean])
    if len(ids) < 2:
        return None
    fm, fr, fc = (d.statistic(metric, k, ids) for k in (key, rainy, clean))
    iv = intervals.resampled_interval(len(ids), lambda w: share(fm(w), fr(w), fc(w)), settings)
    ones = np.ones((1, len(ids)))
    vs_rainy = comparisons.paired_comparison_resampled(len(ids), fm, fr, settings)
    return Recovery(d.dataset, key, metric, iv.value, iv.lo, iv.hi, len(ids),
                    float(fm(ones)[0]), float(fr(ones)[0]), float(fc(ones)[0]),
                    f"{settings.confidence:.0%} bootstrap over images (scipy.stats.bootstrap, {settings.method}, "
                    f"{settings.n_resamples} resamples, seed {settings.seed}); versus rainy: paired bootstrap "
                    f"p of model − rainy, Holm-corrected over the models of each dataset and metric, "
                    f"α = {settings.alpha}", diff=vs_rainy.diff, p_boot=vs_rainy.p_boot)


def judge(rows: list[Recovery], higher_is_better: bool, alpha: float) -> None:
    """Holm over one (dataset, metric) family, then the verdict of each row against the rainy input."""
    adjusted = comparisons.holm([r.p_boot for r in rows])
    for r, p in zip(rows, adjusted):
        r.p_holm = float(p)
        if not np.isfinite(p) or p >= alpha or r.diff == 0:
            r.verdict = "no significant difference"
        else:
            r.verdict = "better" if (r.diff > 0) == higher_is_better else "worse"


def default_metrics(d) -> list[str]:
    """The primary downstream scores (mAP50-95, mIoU) and the no-reference measures (NIQE)."""
    return ([m for m in d.scorers if m.endswith(("_map50_95", "_miou"))]
            + [m for m in d.measures if not any(m.startswith(p) for p in FULL_REFERENCE)])


def all_recoveries(data: dict, settings: intervals.Settings = intervals.DEFAULT,
                   metrics: list[str] | None = None, higher: dict[str, bool] | None = None) -> list[Recovery]:
    """``higher``: metric -> higher is better (default True), for the verdict's direction."""
    out = []
    for d in data.values():
        for metric in (metrics if metrics is not None else default_metrics(d)):
            family = [r for r in (recovery(d, key, metric, settings) for key in d.eligible()) if r is not None]
            judge(family, (higher or {}).get(metric, True), settings.alpha)
            out += family
    return out


def frame(rows: list[Recovery]) -> pd.DataFrame:
    return pd.DataFrame([r.__dict__ for r in rows])
