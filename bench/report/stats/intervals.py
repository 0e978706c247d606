"""Bootstrap intervals for the report, with scipy doing the statistics.

- Interval of a row's mean: ``scipy.stats.bootstrap`` over images (BCa, 95 %, seeded, 2,000
  resamples by default); dataset-level scores (mAP, mIoU) are bootstrapped by rescoring resampled
  image sets (bench/report/stats/scorers.py) through the same scipy call with ``vectorized=False``.
  Paired significance on top of these lives in comparisons.py.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

SEED = 0
N_RESAMPLES = 2000
CONFIDENCE = 0.95
ALPHA = 0.05
CI_METHOD = "BCa"


@dataclass(frozen=True)
class Settings:
    seed: int = SEED
    n_resamples: int = N_RESAMPLES
    confidence: float = CONFIDENCE
    alpha: float = ALPHA
    method: str = CI_METHOD

    def __post_init__(self):
        if self.n_resamples < 1000:
            raise ValueError(f"n_resamples must be >= 1000, got {self.n_resamples}")

    def text(self) -> str:
        return (f"{self.confidence:.0%} bootstrap interval over images (scipy.stats.bootstrap, {self.method}, "
                f"{self.n_resamples} resamples, seed {self.seed}); paired comparisons: paired bootstrap of the "
                f"mean difference + Wilcoxon signed-rank (scipy.stats.wilcoxon), Holm-corrected, α = {self.alpha}")


DEFAULT = Settings()


@dataclass(frozen=True)
class Interval:
    value: float
    lo: float
    hi: float
    n: int
    method: str

    @property
    def half(self) -> float:
        return (self.hi - self.lo) / 2


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def bootstrap(data, statistic, settings: Settings, **kw):
    """scipy.stats.bootstrap with the settings; BCa falls back to percentile where it is undefined."""
    import scipy.stats

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")       # DegenerateDataWarning: handled just below
        res = scipy.stats.bootstrap(data, statistic, n_resamples=settings.n_resamples,
                                    confidence_level=settings.confidence, method=settings.method,
                                    rng=_rng(settings.seed), **kw)
        lo, hi = np.asarray(res.confidence_interval.low), np.asarray(res.confidence_interval.high)
        if settings.method != "percentile" and not (np.isfinite(lo).all() and np.isfinite(hi).all()):
            dist = res.bootstrap_distribution
            a = (1 - settings.confidence) / 2
            lo = np.where(np.isfinite(lo), lo, np.nanpercentile(dist, 100 * a, axis=-1))
            hi = np.where(np.isfinite(hi), hi, np.nanpercentile(dist, 100 * (1 - a), axis=-1))
    return lo, hi, res.bootstrap_distribution


def _mean(x, axis=-1):
    return np.mean(x, axis=axis)


def mean_interval(values, settings: Settings = DEFAULT) -> Interval:
    """Bootstrap interval of the mean of per-image values (NaNs dropped)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return Interval(math.nan, math.nan, math.nan, 0, settings.method)
    m = float(np.mean(x))
    if len(x) < 2 or np.ptp(x) == 0:        # constant (e.g. the ground truth's PSNR cap): no spread
        return Interval(m, m, m, len(x), "constant")
    lo, hi, _ = bootstrap((x,), _mean, settings, vectorized=True)
    return Interval(m, float(lo), float(hi), len(x), settings.method)


def weights_of(idx: np.ndarray, n: int) -> np.ndarray:
    """Resampled indices [..., m] -> how often each of the n images was drawn [..., n]."""
    idx = np.asarray(idx)
    flat = idx.reshape(-1, idx.shape[-1])
    rows = flat.shape[0]
    counts = np.bincount((flat + n * np.arange(rows)[:, None]).ravel(), minlength=rows * n)
    return counts.reshape(*idx.shape[:-1], n).astype(float)


def batched(n: int, statistic: Callable[[np.ndarray], np.ndarray]):
    """A scipy-vectorized statistic on image indices from a statistic on weight batches [B, n]."""
    def f(idx, axis=-1):
        w = weights_of(np.moveaxis(idx, axis, -1), n)
        lead = w.shape[:-1]
        return np.asarray(statistic(w.reshape(-1, n)), dtype=float).reshape(lead)
    return f


def resampled_interval(n: int, statistic: Callable[[np.ndarray], np.ndarray],
                       settings: Settings = DEFAULT) -> Interval:
    """Bootstrap interval of a dataset-level statistic: ``statistic(W)`` scores, for each row of W
    [B, n], the image set in which image i appears W[b, i] times (bench/report/stats/scorers.py)."""
    full = float(statistic(np.ones((1, n)))[0])
    if n < 2 or not math.isfinite(full):
        return Interval(full, math.nan, math.nan, n, settings.method)
    lo, hi, dist = bootstrap((np.arange(n),), batched(n, statistic), settings, vectorized=True)
    finite = dist[np.isfinite(dist)]
    if finite.size and np.ptp(finite) == 0:        # every resample scores the same (e.g. AP 1 on every image)
        return Interval(full, full, full, n, "constant")
    return Interval(full, float(lo), float(hi), n, settings.method)
