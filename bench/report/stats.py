"""Uncertainty and paired significance for the report, with scipy doing the statistics.

- Interval of a row's mean: ``scipy.stats.bootstrap`` over images (BCa, 95 %, seeded, 2,000
  resamples by default); dataset-level scores (mAP, mIoU) are bootstrapped by rescoring resampled
  image sets (bench/report/scorers.py) through the same scipy call with ``vectorized=False``.
- Paired comparison of two rows on their common images: paired bootstrap of the mean difference
  (``scipy.stats.bootstrap(..., paired=True)``), two-sided bootstrap p-value
  p = min(1, 2·min((#{Δ* ≤ 0} + 1) / (B + 1), (#{Δ* ≥ 0} + 1) / (B + 1))), and the Wilcoxon
  signed-rank test (``scipy.stats.wilcoxon``) as a second opinion (per-image measures only;
  a dataset-level score has no per-image values).
- Holm's step-down correction across the comparisons of one row (``holm``).
- Table marks (``significance_marks``): the leader is "best" only when it is significantly better
  than every other compared row (paired bootstrap and, where defined, Wilcoxon, both Holm-adjusted
  p < α = 0.05); otherwise the leader and every row not significantly worse are "tied". After a
  clear best, the runner-up is "second" only if it is significantly better than the rest in turn.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
import pandas as pd

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


@dataclass(frozen=True)
class Comparison:
    a: str
    b: str
    n: int
    diff: float                 # statistic(a) - statistic(b)
    lo: float
    hi: float
    p_boot: float
    p_wilcoxon: float           # NaN for dataset-level scores


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _bootstrap(data, statistic, settings: Settings, **kw):
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
    lo, hi, _ = _bootstrap((x,), _mean, settings, vectorized=True)
    return Interval(m, float(lo), float(hi), len(x), settings.method)


def weights_of(idx: np.ndarray, n: int) -> np.ndarray:
    """Resampled indices [..., m] -> how often each of the n images was drawn [..., n]."""
    idx = np.asarray(idx)
    flat = idx.reshape(-1, idx.shape[-1])
    rows = flat.shape[0]
    counts = np.bincount((flat + n * np.arange(rows)[:, None]).ravel(), minlength=rows * n)
    return counts.reshape(*idx.shape[:-1], n).astype(float)


def _batched(n: int, statistic: Callable[[np.ndarray], np.ndarray]):
    """A scipy-vectorized statistic on image indices from a statistic on weight batches [B, n]."""
    def f(idx, axis=-1):
        w = weights_of(np.moveaxis(idx, axis, -1), n)
        lead = w.shape[:-1]
        return np.asarray(statistic(w.reshape(-1, n)), dtype=float).reshape(lead)
    return f


def resampled_interval(n: int, statistic: Callable[[np.ndarray], np.ndarray],
                       settings: Settings = DEFAULT) -> Interval:
    """Bootstrap interval of a dataset-level statistic: ``statistic(W)`` scores, for each row of W
    [B, n], the image set in which image i appears W[b, i] times (bench/report/scorers.py)."""
    full = float(statistic(np.ones((1, n)))[0])
    if n < 2 or not math.isfinite(full):
        return Interval(full, math.nan, math.nan, n, settings.method)
    lo, hi, dist = _bootstrap((np.arange(n),), _batched(n, statistic), settings, vectorized=True)
    finite = dist[np.isfinite(dist)]
    if finite.size and np.ptp(finite) == 0:        # every resample scores the same (e.g. AP 1 on every image)
        return Interval(full, full, full, n, "constant")
    return Interval(full, float(lo), float(hi), n, settings.method)


def bootstrap_p(dist: np.ndarray) -> float:
    """Two-sided p-value of "difference = 0" from a bootstrap distribution of the difference."""
    d = np.asarray(dist, dtype=float)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return math.nan
    below, above = (np.sum(d <= 0) + 1) / (d.size + 1), (np.sum(d >= 0) + 1) / (d.size + 1)
    return float(min(1.0, 2 * min(below, above)))


def _mean_diff(a, b, axis=-1):
    return np.mean(a, axis=axis) - np.mean(b, axis=axis)


def wilcoxon_p(a, b) -> float:
    import scipy.stats

    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if d.size == 0 or np.all(d == 0):
        return 1.0
    return float(scipy.stats.wilcoxon(a, b).pvalue)


def paired_comparison(a, b, settings: Settings = DEFAULT, names: tuple[str, str] = ("a", "b")) -> Comparison:
    """Two aligned arrays of per-image values (same images, same order)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired values must align: {a.shape} vs {b.shape}")
    diff = float(np.mean(a) - np.mean(b))
    if len(a) < 2 or np.ptp(a - b) == 0:
        # every image differs by the same amount: the bootstrap distribution is that constant
        p = bootstrap_p(np.full(settings.n_resamples, diff)) if len(a) >= 2 else math.nan
        return Comparison(*names, len(a), diff, diff, diff, p, wilcoxon_p(a, b) if len(a) >= 2 else math.nan)
    lo, hi, dist = _bootstrap((a, b), _mean_diff, settings, paired=True, vectorized=True)
    return Comparison(*names, len(a), diff, float(lo), float(hi), bootstrap_p(dist), wilcoxon_p(a, b))


def paired_comparison_resampled(n: int, stat_a: Callable, stat_b: Callable, settings: Settings = DEFAULT,
                                names: tuple[str, str] = ("a", "b")) -> Comparison:
    """Dataset-level scores of two rows on the same n images, both rescored on the same resamples
    (``stat_x(W)`` as in ``resampled_interval``)."""
    def diff(w):
        return np.asarray(stat_a(w), dtype=float) - np.asarray(stat_b(w), dtype=float)
    full = float(diff(np.ones((1, n)))[0])
    if n < 2 or not math.isfinite(full):
        return Comparison(*names, n, full, math.nan, math.nan, math.nan, math.nan)
    lo, hi, dist = _bootstrap((np.arange(n),), _batched(n, diff), settings, vectorized=True)
    return Comparison(*names, n, full, float(lo), float(hi), bootstrap_p(dist), math.nan)


def holm(pvalues) -> np.ndarray:
    """Holm's step-down adjusted p-values (NaNs stay NaN and do not count in the family)."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    idx = np.flatnonzero(np.isfinite(p))
    running = 0.0
    for rank, i in enumerate(idx[np.argsort(p[idx], kind="stable")]):
        running = max(running, min(1.0, (len(idx) - rank) * p[i]))
        out[i] = running
    return out


# --- table marks ------------------------------------------------------------------------------

def _beats(leader: str, others: list[str], compare: Callable[[str, str], Comparison], sign: float,
           alpha: float) -> tuple[list[bool], list[Comparison]]:
    """Is ``leader`` significantly better than each of ``others`` (Holm over this family)?"""
    comps = [compare(leader, o) for o in others]
    pb = holm([c.p_boot for c in comps])
    pw = holm([c.p_wilcoxon for c in comps])
    sig = [bool(sign * c.diff > 0 and pb[i] < alpha and (not np.isfinite(pw[i]) or pw[i] < alpha))
           for i, c in enumerate(comps)]
    return sig, comps


def rank_marks_from(point: Mapping[str, float], compare: Callable[[str, str], Comparison],
                    higher_is_better: bool, alpha: float = ALPHA) -> tuple[dict[str, str], list[Comparison]]:
    """Marks for the rows of ``point`` (row -> statistic), given a paired ``compare(a, b)``."""
    sign = 1.0 if higher_is_better else -1.0
    order = sorted((r for r, v in point.items() if v is not None and np.isfinite(v)),
                   key=lambda r: -sign * point[r])
    marks = {r: "" for r in point}
    if not order:
        return marks, []
    if len(order) == 1:
        marks[order[0]] = "best"
        return marks, []
    sig, comps = _beats(order[0], order[1:], compare, sign, alpha)
    tied = [r for r, s in zip(order[1:], sig) if not s]
    if tied:
        for r in [order[0]] + tied:
            marks[r] = "tied"
        return marks, comps
    marks[order[0]] = "best"
    rest = order[1:]
    if len(rest) == 1:
        marks[rest[0]] = "second"
    else:
        sig2, comps2 = _beats(rest[0], rest[1:], compare, sign, alpha)
        comps += comps2
        if all(sig2):
            marks[rest[0]] = "second"
    return marks, comps


def align(values_by_row: Mapping[str, "np.ndarray | pd.Series"]) -> dict[str, np.ndarray]:
    """Series indexed by image id are aligned on their common images; arrays must already align."""
    vals = dict(values_by_row)
    if vals and all(isinstance(v, pd.Series) for v in vals.values()):
        common = sorted(set.intersection(*(set(v.dropna().index) for v in vals.values())))
        return {r: v.loc[common].to_numpy(dtype=float) for r, v in vals.items()}
    return {r: np.asarray(v, dtype=float) for r, v in vals.items()}


def significance_marks(values_by_row: Mapping[str, "np.ndarray | pd.Series"], higher_is_better: bool,
                       settings: Settings = DEFAULT, comparisons: list | None = None) -> dict[str, str]:
    """row -> "best" | "second" | "tied" | "" from per-image values on the common images."""
    vals = align(values_by_row)
    point = {r: float(np.mean(v)) if len(v) else math.nan for r, v in vals.items()}
    marks, comps = rank_marks_from(
        point, lambda a, b: paired_comparison(vals[a], vals[b], settings, (a, b)), higher_is_better, settings.alpha)
    if comparisons is not None:
        comparisons += comps
    return marks


def significance_marks_resampled(n: int, statistic_by_row: Mapping[str, Callable], higher_is_better: bool,
                                 settings: Settings = DEFAULT, comparisons: list | None = None) -> dict[str, str]:
    """The same for dataset-level scores: ``statistic_by_row[row](weights)`` over the same n images."""
    point = {r: float(np.asarray(f(np.ones((1, n))))[0]) for r, f in statistic_by_row.items()}
    marks, comps = rank_marks_from(
        point, lambda a, b: paired_comparison_resampled(n, statistic_by_row[a], statistic_by_row[b], settings, (a, b)),
        higher_is_better, settings.alpha)
    if comparisons is not None:
        comparisons += comps
    return marks


MARK_RULE = ("Bold: best, significantly better than every other compared method on the common images "
             "(paired bootstrap of the mean difference and Wilcoxon signed-rank, Holm-corrected, α = 0.05; "
             "bootstrap only for dataset-level scores); italic: tied for best (not significantly different "
             "from the leader); underlined: second, significantly better than the rest. The rainy input "
             "and the ground truth are references, not ranked.")
