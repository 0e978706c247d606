"""Stable rankings: Friedman test over models, average ranks and a critical-difference diagram.

Blocks are datasets (the issue's setting, ≥ 3 datasets) or, within one dataset, images.
``scipy.stats.friedmanchisquare`` gives the test; ranks are 1 = best (``scipy.stats.rankdata``,
ties share the average rank); the Nemenyi critical difference is
CD = q_α / √2 · √(k (k + 1) / (6 N)) with q_α the studentized-range quantile for k groups and
infinite degrees of freedom (``scipy.stats.studentized_range``), as in Demšar (JMLR 2006).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd


@dataclass
class Friedman:
    statistic: float
    p: float
    ranks: pd.Series            # model -> average rank (1 = best), sorted
    cd: float
    k: int
    n: int
    alpha: float
    blocks: str                 # "datasets" | "images of <dataset>"

    def text(self) -> str:
        return (f"Friedman χ² = {self.statistic:.2f}, p = {self.p:.3g} ({self.k} models, {self.n} {self.blocks}); "
                f"Nemenyi CD = {self.cd:.2f} at α = {self.alpha}")


def nemenyi_cd(k: int, n: int, alpha: float = 0.05) -> float:
    from scipy.stats import studentized_range

    q = studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2)
    return float(q * math.sqrt(k * (k + 1) / (6 * n)))


def friedman(matrix: pd.DataFrame, higher_is_better: bool, alpha: float = 0.05, blocks: str = "datasets") -> Friedman:
    """``matrix``: one row per block, one column per model, no missing values; ≥ 3 models, ≥ 2 blocks."""
    from scipy.stats import friedmanchisquare, rankdata

    m = matrix.dropna(axis=0, how="any")
    if m.shape[1] < 3 or m.shape[0] < 2:
        raise ValueError(f"Friedman needs ≥ 3 models and ≥ 2 complete {blocks}; have {m.shape[1]} × {m.shape[0]}")
    x = m.to_numpy(dtype=float)
    res = friedmanchisquare(*x.T)
    ranks = rankdata(-x if higher_is_better else x, axis=1).mean(axis=0)
    k, n = m.shape[1], m.shape[0]
    return Friedman(float(res.statistic), float(res.pvalue), pd.Series(ranks, index=m.columns).sort_values(),
                    nemenyi_cd(k, n, alpha), k, n, alpha, blocks)


def dataset_matrix(lb, metric: str, models: list[str] | None = None) -> pd.DataFrame:
    """datasets × model labels (rows of the leaderboard), reference rows left out."""
    from bench.report.labels import REFERENCE_MODELS, model_label

    t = lb.table[~lb.table["model"].isin(REFERENCE_MODELS)]
    if models:
        t = t[t["model"].isin(models)]
    t = t.assign(label=[model_label(m, v) for m, v in zip(t["model"], t["variant"])])
    return t.pivot_table(index="dataset", columns="label", values=metric, aggfunc="first")


def image_matrix(d, metric: str) -> pd.DataFrame:
    """images × model labels for one dataset's per-image measure (reference rows left out)."""
    from bench.report.labels import model_label

    cols = {model_label(*d.rows[k]): d.measures[metric][k] for k in d.eligible() if k in d.measures.get(metric, {})}
    return pd.DataFrame(cols)


def cd_diagram(result: Friedman, path: Path, title: str = "") -> list[Path]:
    """Average ranks on an axis (1 = best on the left); models closer than CD joined by a bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ranks = result.ranks
    k = len(ranks)
    half = (k + 1) // 2
    fig, ax = plt.subplots(figsize=(7, 1.3 + 0.3 * half))
    ax.set_xlim(0.3, k + 0.7)
    ax.set_ylim(-0.3 * half - 0.15, 0.55)
    ax.axis("off")
    ax.hlines(0, 1, k, color="k")
    for r in range(1, k + 1):
        ax.vlines(r, 0, 0.05, color="k")
        ax.text(r, 0.08, str(r), ha="center", va="bottom", fontsize=9)
    ax.hlines(0.38, 1, 1 + result.cd, color="C3", lw=2)
    ax.vlines([1, 1 + result.cd], 0.34, 0.42, color="C3", lw=1)
    ax.text(1 + result.cd + 0.05, 0.38, f"CD = {result.cd:.2f}", ha="left", va="center", fontsize=8, color="C3")
    for i, (name, r) in enumerate(ranks.items()):
        left = i < half
        y = -0.3 * ((i if left else k - 1 - i) + 1)
        xe = 0.9 if left else k + 0.1
        ax.plot([r, r, xe], [0, y, y], color="k", lw=0.8)
        ax.text(xe + (-0.03 if left else 0.03), y, f"{name} ({r:.2f})", ha="right" if left else "left",
                va="center", fontsize=8)
    # cliques: maximal runs of consecutive models whose rank span is below CD (no significant difference)
    vals, cliques = ranks.to_numpy(), []
    for i in range(k):
        j = i
        while j + 1 < k and vals[j + 1] - vals[i] < result.cd:
            j += 1
        if j > i and not any(a <= i and j <= b for a, b in cliques):
            cliques.append((i, j))
    for n, (i, j) in enumerate(cliques):
        y = -0.1 - 0.07 * n
        ax.hlines(y, vals[i] - 0.03, vals[j] + 0.03, color="C0", lw=3)
    ax.set_title((title + "\n" if title else "") + result.text(), fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = [path.with_suffix(".png"), path.with_suffix(".pdf")]
    for p in out:
        fig.savefig(p, dpi=150, bbox_inches="tight")
    plt.close(fig)
    return out
