"""Paired significance for the report, with scipy doing the statistics.

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
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from bench.report.stats.intervals import ALPHA, DEFAULT, Settings, batched, bootstrap


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
    lo, hi, dist = bootstrap((a, b), _mean_diff, settings, paired=True, vectorized=True)
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
    lo, hi, dist = bootstrap((np.arange(n),), batched(n, diff), settings, vectorized=True)
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
