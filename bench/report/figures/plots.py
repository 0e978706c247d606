"""Figures from a Leaderboard and the per-image records: bars, quality vs utility, distributions.

Every figure is written as PNG and PDF (``save`` returns both paths). Matplotlib runs on the Agg
backend: reports are built on headless machines. Visual comparison grids live in ``grids.py``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench.report.labels import (REFERENCE_MODELS, dataset_label, is_present, metric_label,  # noqa: E402
                                  model_label)
from bench.report.order import order_rows  # noqa: E402
from bench.report.tables.columns import arrow, metric_columns  # noqa: E402

DPI = 130


def save(fig, stem: str | Path) -> list[Path]:
    """Write ``<stem>.png`` and ``<stem>.pdf``; close the figure."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".pdf")]
    for p in paths:
        fig.savefig(p, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return paths


def _drop_capped(df: pd.DataFrame, lb, metric: str) -> pd.DataFrame:
    """Hide the ground-truth row where its value is only the measure's cap (PSNR of identical
    images is infinite, stored as the cap): it would flatten every other bar or point."""
    info = lb.columns[metric]
    hi = (getattr(info, "value_range", None) or (None, None))[1]
    if hi is None or float(hi) <= 1.0:
        return df
    return df[~((df["model"] == "clean") & (df[metric] >= float(hi)))]


def _row_label(row) -> str:
    return model_label(row["model"], row["variant"])


# --- bars ---------------------------------------------------------------------------------------

def bars(lb, metric: str, stem: str | Path) -> list[Path]:
    """Grouped bars: one group per dataset, one bar per model (rainy and clean drawn hatched)."""
    info = lb.columns[metric]
    df = order_rows(_drop_capped(lb.table[lb.table[metric].notna()], lb, metric))
    if df.empty:
        raise ValueError(f"no values for {metric!r} in the leaderboard")
    df = df.assign(_label=[_row_label(r) for _, r in df.iterrows()])
    datasets = list(dict.fromkeys(df["dataset"]))
    models = list(dict.fromkeys(df["_label"]))
    colors = plt.get_cmap("tab10" if len(models) <= 10 else "tab20")
    width = 0.8 / len(models)
    fig, ax = plt.subplots(figsize=(max(4.5, 1.2 + 1.1 * len(datasets) * max(1, len(models) / 3)), 3.4))
    for j, label in enumerate(models):
        xs, ys, hatch = [], [], None
        for i, d in enumerate(datasets):
            hit = df[(df["dataset"] == d) & (df["_label"] == label)]
            if len(hit):
                xs.append(i - 0.4 + width * (j + 0.5))
                ys.append(float(hit[metric].iloc[0]))
                hatch = "//" if hit["model"].iloc[0] in REFERENCE_MODELS else None
        ax.bar(xs, ys, width * 0.95, label=label, color=colors(j % colors.N), hatch=hatch,
               edgecolor="black", linewidth=0.4)
    ax.set_xticks(range(len(datasets)), [dataset_label(d) for d in datasets])
    ax.set_ylabel(f"{metric_label(metric)} {arrow(info)}")
    lo, hi = info.value_range if getattr(info, "value_range", None) else (None, None)
    if lo is not None and hi is not None and float(hi) <= 1.0:  # scores: the full scale, from 0 if all >= 0
        ax.set_ylim(0.0 if df[metric].min() >= 0 else float(lo), float(hi))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, ncols=min(4, len(models)), loc="upper center", bbox_to_anchor=(0.5, -0.12),
              frameon=False)
    ax.set_title(f"{metric_label(metric)} per dataset")
    return save(fig, stem)


def all_bars(lb, out_dir: str | Path) -> list[Path]:
    paths = []
    for m in metric_columns(lb):
        if lb.table[m].notna().any():
            paths += bars(lb, m, Path(out_dir) / f"bars_{m}")
    return paths


# --- restoration quality vs downstream utility --------------------------------------------------

def quality_vs_utility(lb, x: str, y: str, stem: str | Path, datasets: Iterable[str] | None = None) -> list[Path]:
    """One panel per dataset holding both columns; one labelled point per model."""
    for c in (x, y):
        if c not in lb.table.columns:
            raise KeyError(f"leaderboard has no column {c!r} (has {list(lb.columns)})")
    df = _drop_capped(_drop_capped(lb.table[lb.table[x].notna() & lb.table[y].notna()], lb, x), lb, y)
    datasets = [d for d in (datasets or dict.fromkeys(lb.table["dataset"])) if (df["dataset"] == d).any()]
    if not datasets:
        raise ValueError(f"no dataset has both {x!r} and {y!r}")
    fig, axes = plt.subplots(1, len(datasets), figsize=(4.4 * len(datasets), 3.6), squeeze=False)
    for ax, d in zip(axes[0], datasets):
        block = order_rows(df[df["dataset"] == d])
        for k, (_, r) in enumerate(block.iterrows()):
            ref = r["model"] in REFERENCE_MODELS
            ax.scatter(r[x], r[y], s=40, marker="s" if ref else "o", color="gray" if ref else f"C{k % 10}",
                       edgecolor="black", linewidth=0.5, zorder=3)
            ax.annotate(_row_label(r), (r[x], r[y]), xytext=(4, 4), textcoords="offset points", fontsize=7)
        ax.set_xlabel(f"{metric_label(x)} {arrow(lb.columns[x])}")
        ax.set_ylabel(f"{metric_label(y)} {arrow(lb.columns[y])}")
        ax.set_title(dataset_label(d))
        ax.grid(alpha=0.3)
        ax.margins(0.15)
    fig.suptitle("Restoration quality vs downstream utility", fontsize=10)
    fig.tight_layout()
    return save(fig, stem)


def utility_pairs(lb, quality: str = "psnr_y") -> list[tuple[str, str]]:
    """(quality, task metric) pairs worth a scatter: each task column next to PSNR-Y."""
    if quality not in lb.table.columns:
        return []
    tasks = [m for m in metric_columns(lb) if getattr(lb.columns[m], "kind", "") == "task"]
    return [(quality, t) for t in tasks if (lb.table[quality].notna() & lb.table[t].notna()).any()]


# --- per-image distributions --------------------------------------------------------------------

def wide_per_image(per_image: pd.DataFrame) -> pd.DataFrame:
    """Accept the store's long records (unit, value) or an already wide per-image table."""
    if "unit" not in per_image.columns:
        return per_image
    ok = per_image[per_image["error"].isna()] if "error" in per_image.columns else per_image
    ok = ok.assign(variant=ok["variant"].fillna(""))
    wide = ok.pivot_table(index=["model_key", "model", "variant", "dataset", "image_id"],
                          columns="unit", values="value", aggfunc="first").reset_index()
    wide.columns.name = None
    return wide


def distributions(per_image: pd.DataFrame, metric: str, stem: str | Path, kind: str = "box",
                  info=None) -> list[Path]:
    """Per-image values of one measure: one panel per dataset, one box (or violin) per model."""
    df = wide_per_image(per_image)
    if metric not in df.columns or df[metric].notna().sum() == 0:
        raise ValueError(f"no per-image values for {metric!r}")
    df = df[df[metric].notna()]
    hi = (getattr(info, "value_range", None) or (None, None))[1] if info is not None else None
    if hi is not None and float(hi) > 1.0:  # ground truth at the PSNR cap: see _drop_capped
        df = df[~((df["model"] == "clean") & (df[metric] >= float(hi)))]
    datasets = list(dict.fromkeys(df["dataset"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(max(4.0, 0.9 * df["model_key"].nunique() + 1.5)
                                                        * len(datasets), 3.6), squeeze=False)
    for ax, d in zip(axes[0], datasets):
        block = order_rows(df[df["dataset"] == d].assign(variant=lambda x: x["variant"].where(
            x["variant"].map(is_present), None)))
        keys = list(dict.fromkeys(block["model_key"]))
        data = [block.loc[block["model_key"] == k, metric].to_numpy(float) for k in keys]
        labels = [_row_label(block[block["model_key"] == k].iloc[0]) for k in keys]
        if kind == "violin":
            ax.violinplot(data, showmedians=True)
        else:
            ax.boxplot(data, showmeans=True, flierprops={"markersize": 2})
        ax.set_xticks(range(1, len(keys) + 1), labels, rotation=30, ha="right", fontsize=7)
        ax.set_title(f"{dataset_label(d)} (n per model: {min(map(len, data))}–{max(map(len, data))})",
                     fontsize=9)
        suffix = f" {arrow(info)}" if info is not None else ""
        ax.set_ylabel(metric_label(metric) + suffix)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return save(fig, stem)


def all_distributions(per_image: pd.DataFrame, lb, out_dir: str | Path, kind: str = "box") -> list[Path]:
    wide = wide_per_image(per_image)
    paths = []
    for m in metric_columns(lb):
        if getattr(lb.columns[m], "kind", "measure") == "measure" and m in wide.columns \
                and wide[m].notna().any():
            paths += distributions(wide, m, Path(out_dir) / f"dist_{m}", kind=kind, info=lb.columns[m])
    return paths


def image_std(path: str | Path) -> float:
    """Pixel standard deviation of a PNG: ~0 for a blank image (used by tests and `bench report`)."""
    img = plt.imread(str(path))
    return float(np.asarray(img)[..., :3].std())
