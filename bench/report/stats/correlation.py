"""Does restoration quality predict downstream utility? Rank correlations with bootstrap intervals.

Two levels, both on one dataset and the images every compared model finished:
- across models: each model's restoration score (mean PSNR-Y, SSIM-Y, NIQE, ...) against its
  downstream score (mAP / mIoU on the same images); Spearman's ρ and Kendall's τ
  (``scipy.stats.spearmanr`` / ``kendalltau``);
- per image: every (model, image) pair is a point, the image's restoration score against the
  downstream score of that image alone (for mAP: COCOeval on that one image; images without a
  label are left out).

Intervals: bootstrap over images (``scipy.stats.bootstrap`` on image indices, percentile method,
seeded); at the model level each resample rescores every model on the resampled images, at the
image level the points of an image stay together (cluster bootstrap). The models themselves are
fixed: with few models ρ takes few values, and the interval says how stable the ranking is
across image samples, not across choices of models.

Correlations are oriented: NIQE (lower is better) is negated, so +1 always means "the better
restored, the better detected". The ground truth is left out by default (its restoration score is
a cap, and under pseudo labels its downstream score is 1 by construction); the rainy input stays.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bench.report.stats import intervals


@dataclass
class Correlation:
    dataset: str
    x: str
    y: str
    level: str                  # "models" | "images"
    n_models: int
    n_images: int
    spearman: float
    spearman_lo: float
    spearman_hi: float
    kendall: float
    kendall_lo: float
    kendall_hi: float
    method: str
    points: pd.DataFrame = field(default_factory=pd.DataFrame)   # model_key, [image_id,] x, y

    def as_row(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "points"}


def kendall_tau_b(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Kendall's τ-b along the last axis, for batches: Σ sx·sy / √(Σ sx² · Σ sy²) over all pairs,
    sx = sign(x_i − x_j). Equals ``scipy.stats.kendalltau`` (tests/test_stats_correlation.py); used
    because kendalltau takes one pair of vectors per call and the bootstrap needs thousands."""
    x, y = np.atleast_2d(x), np.atleast_2d(y)
    out = np.empty(x.shape[0])
    m = x.shape[-1]
    step = max(1, int(2e7 // max(m * m, 1)))
    for a in range(0, x.shape[0], step):
        sx = np.sign(x[a:a + step, :, None] - x[a:a + step, None, :])
        sy = np.sign(y[a:a + step, :, None] - y[a:a + step, None, :])
        with np.errstate(invalid="ignore", divide="ignore"):
            out[a:a + step] = (sx * sy).sum((1, 2)) / np.sqrt((sx * sx).sum((1, 2)) * (sy * sy).sum((1, 2)))
    return out


def _rho_tau(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """[B, m] pairs of vectors -> [2, B]: Spearman ρ (scipy.stats.spearmanrho) and Kendall τ-b."""
    import scipy.stats

    x, y = np.atleast_2d(x), np.atleast_2d(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # a constant resample: ρ is NaN, left out of the interval
        rho = np.asarray(scipy.stats.spearmanrho(x, y, axis=-1).statistic, dtype=float).reshape(-1)
    return np.stack([rho, kendall_tau_b(x, y)])


def _interval(n: int, statistic, settings: intervals.Settings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Point value on all images and percentile bootstrap interval (NaN resamples left out);
    ``statistic(idx [B, n]) -> [outputs, B]``."""
    import scipy.stats

    full = np.asarray(statistic(np.arange(n)[None]), dtype=float)[..., 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # resamples where ρ is undefined (NaN) are left out just below
        res = scipy.stats.bootstrap((np.arange(n),), lambda idx, axis=-1: statistic(np.atleast_2d(idx)),
                                    n_resamples=settings.n_resamples, confidence_level=settings.confidence,
                                    method="percentile", vectorized=True, rng=np.random.default_rng(settings.seed))
    a = 100 * (1 - settings.confidence) / 2
    dist = np.asarray(res.bootstrap_distribution, dtype=float).reshape(len(full), -1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lo = np.array([np.nanpercentile(d, a) if np.isfinite(d).any() else math.nan for d in dist])
        hi = np.array([np.nanpercentile(d, 100 - a) if np.isfinite(d).any() else math.nan for d in dist])
    return full, lo, hi


def method_text(settings: intervals.Settings) -> str:
    return (f"Spearman ρ / Kendall τ-b, {settings.confidence:.0%} percentile bootstrap over images "
            f"(scipy.stats.bootstrap, {settings.n_resamples} resamples, seed {settings.seed})")


def default_keys(d, include_rainy: bool = True) -> list[str]:
    keys = d.eligible()
    rainy = d.key_of("rainy")
    return ([rainy] if include_rainy and rainy else []) + keys


def _keys_for(d, xs, ys, keys):
    return [k for k in (keys or default_keys(d)) if all(k in _source(d, m) for m in list(xs) + list(ys))]


def across_models(d, xs: list[str], ys: list[str], higher: dict[str, bool],
                  settings: intervals.Settings = intervals.DEFAULT, keys: list[str] | None = None) -> list[Correlation]:
    """Every (x, y) pair on one dataset, from one bootstrap (all models rescored per resample)."""
    keys = _keys_for(d, xs, ys, keys)
    if len(keys) < 3:
        return []
    ids = sorted(set.intersection(*(set(d.common_ids(m, keys)) for m in list(xs) + list(ys))))
    if len(ids) < 2:
        return []
    f = {m: [d.statistic(m, k, ids) for k in keys] for m in list(xs) + list(ys)}
    pairs = [(x, y) for y in ys for x in xs]

    def statistic(idx):
        w = intervals.weights_of(idx, len(ids))
        vals = {m: np.stack([g(w) for g in fs], axis=-1) for m, fs in f.items()}    # [B, k]
        return np.concatenate([_sign(x, y, higher) * _rho_tau(vals[x], vals[y]) for x, y in pairs])
    full, lo, hi = _interval(len(ids), statistic, settings)
    ones = np.ones((1, len(ids)))
    out = []
    for j, (x, y) in enumerate(pairs):
        pts = pd.DataFrame({"model_key": keys, "x": [float(g(ones)[0]) for g in f[x]],
                            "y": [float(g(ones)[0]) for g in f[y]]})
        out.append(Correlation(d.dataset, x, y, "models", len(keys), len(ids), full[2 * j], lo[2 * j], hi[2 * j],
                               full[2 * j + 1], lo[2 * j + 1], hi[2 * j + 1], method_text(settings), pts))
    return out


def per_image(d, xs: list[str], ys: list[str], higher: dict[str, bool],
              settings: intervals.Settings = intervals.DEFAULT, keys: list[str] | None = None) -> list[Correlation]:
    """Every (x, y) pair over (model, image) points; images with every value present."""
    keys = _keys_for(d, xs, ys, keys)
    if not keys:
        return []
    metrics = list(dict.fromkeys(list(xs) + list(ys)))
    table = {m: pd.DataFrame({k: d.per_image(m, k) for k in keys}) for m in metrics}
    ids = sorted(set.intersection(*(set(t.dropna(how="any").index) for t in table.values())))
    if len(ids) < 3:
        return []
    arr = {m: t.loc[ids, keys].to_numpy(dtype=float) for m, t in table.items()}      # [images, k]
    pairs = [(x, y) for y in ys for x in xs]

    def statistic(idx):
        return np.concatenate([_sign(x, y, higher) * _rho_tau(arr[x][idx].reshape(len(idx), -1),
                                                               arr[y][idx].reshape(len(idx), -1)) for x, y in pairs])
    full, lo, hi = _interval(len(ids), statistic, settings)
    out = []
    for j, (x, y) in enumerate(pairs):
        pts = pd.DataFrame({"image_id": np.repeat(ids, len(keys)), "model_key": keys * len(ids),
                            "x": arr[x].ravel(), "y": arr[y].ravel()})
        out.append(Correlation(d.dataset, x, y, "images", len(keys), len(ids), full[2 * j], lo[2 * j], hi[2 * j],
                               full[2 * j + 1], lo[2 * j + 1], hi[2 * j + 1],
                               method_text(settings) + ", resampling images with all their points", pts))
    return out


def _source(d, metric: str) -> dict:
    return d.measures.get(metric) or d.scorers.get(metric) or {}


def _sign(x: str, y: str, higher: dict[str, bool]) -> float:
    return (1.0 if higher.get(x, True) else -1.0) * (1.0 if higher.get(y, True) else -1.0)


RESTORATION = ("psnr_y", "ssim_y", "niqe", "psnr_rgb", "ssim_rgb", "psnr_y_uint8", "ssim_y_uint8")


PRIMARY = ("_map50_95", "_miou")


def all_correlations(data: dict, higher: dict[str, bool], settings: intervals.Settings = intervals.DEFAULT,
                     measures: tuple[str, ...] = RESTORATION) -> list[Correlation]:
    """Each restoration measure against each primary downstream score (mAP50-95, mIoU), per dataset,
    across models and per image."""
    out = []
    for d in data.values():
        xs = [m for m in measures if m in d.measures]
        ys = [m for m in d.scorers if m.endswith(PRIMARY)]
        if xs and ys:
            out += across_models(d, xs, ys, higher, settings) + per_image(d, xs, ys, higher, settings)
    return out


def frame(rows: list[Correlation]) -> pd.DataFrame:
    return pd.DataFrame([c.as_row() for c in rows])


def _verb(c: Correlation | None) -> str:
    """What the interval of ρ lets us say: above 0 (and how strongly), or not."""
    if c is None or not np.isfinite(c.spearman):
        return "cannot be said to predict"
    if np.isfinite(c.spearman_lo) and c.spearman_lo > 0:
        return "predicts well" if c.spearman >= 0.7 and c.spearman_lo >= 0.3 else "weakly predicts"
    return "does not reliably predict"


def sentence(models: Correlation | None, images: Correlation | None, labels) -> str:
    """One sentence answering "does restoration predict utility?" for a dataset
    (``labels``: the dataset and metric label functions)."""
    dataset_label, metric_label = labels
    c = models or images
    if c is None:
        return ""
    x, y = metric_label(c.x), metric_label(c.y)
    parts = []
    if models is not None:
        parts.append(f"across {models.n_models} models, {x} {_verb(models)} the ranking by {y} "
                     f"(Spearman ρ = {models.spearman:.2f} [{models.spearman_lo:.2f}, {models.spearman_hi:.2f}], "
                     f"Kendall τ = {models.kendall:.2f} [{models.kendall_lo:.2f}, {models.kendall_hi:.2f}])")
    if images is not None:
        parts.append(f"per image it {_verb(images)} {y} (ρ = {images.spearman:.2f} [{images.spearman_lo:.2f}, "
                     f"{images.spearman_hi:.2f}] over {images.n_images} images with labels × {images.n_models} models)")
    return f"{dataset_label(c.dataset)}: " + "; ".join(parts) + "."
