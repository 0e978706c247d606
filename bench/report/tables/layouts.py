"""Leaderboard tables: Markdown, LaTeX, HTML and CSV from a ``Leaderboard``.

Reads only ``lb.table`` (pandas: model, variant, model_key, dataset, images, errors, one column per
metric, cost columns params/gflops/ms_per_image when known) and ``lb.columns`` ({metric: ColumnInfo
with name, higher_is_better, value_range, protocol, kind}).

Marking rule (stated in every table's notes): per dataset and column, among the compared methods
(the reference rows ``rainy`` and ``clean`` are shown but never ranked) that cover the same image
set (``complete`` rows, see bench/report/tables/leaderboard.py), values are compared at the printed
precision; every row equal to the best value is bold, every row equal to the next distinct value
is underlined (dense ranking, so a tie for best still leaves an underlined second). Incomplete rows
are marked † and never ranked. ``column_marks`` is the one place that decides the marks.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

from bench.report.labels import BASELINE_MODEL, REFERENCE_MODELS, dataset_label, is_present, metric_label, model_label
from bench.report.order import order_rows
from bench.report.tables.columns import (COST_COLUMNS, arrow, cost_columns, cost_note, decimals_for, fmt,
                                         metric_columns)
from bench.report.tables.notes import coverage_notes, is_complete, weights_notes
from bench.report.tables.render import Cell, Table, to_latex, to_markdown

MARK_RULE = ("Bold: best, underlined: second best per dataset among the compared methods that cover "
             "the same images (the rainy input and the ground truth are references, not ranked); values "
             "equal at the printed precision share a mark.")
COVERAGE_RULE = ("Every value of a row is over the same images: those on which every measure and task of "
                 "the row succeeded. † incomplete: the row covers other images than the compared methods "
                 "together; not ranked.")
COMMON_SUBSET_RULE = ("--common-subset: every row of a dataset is restricted to the images all its rows "
                      "cover.")
DELTA_RULE = "(±x): difference to the rainy input on the same dataset, from unrounded means."


# --- notes -------------------------------------------------------------------------------------

def protocol_notes(lb, metrics: Iterable[str]) -> list[str]:
    notes = []
    for m in metrics:
        info = lb.columns[m]
        protocol = str(info.protocol) if is_present(getattr(info, "protocol", None)) else "protocol not recorded"
        notes.append(f"{metric_label(m)} {arrow(info)}: {protocol}")
    return notes


# --- ranking ------------------------------------------------------------------------------------

def rank_marks(values: list[float | None], higher_is_better: bool, decimals: int,
               eligible: list[bool]) -> list[str | None]:
    """Dense ranking at the printed precision: all rows at the best value get "best", all rows at
    the next distinct value get "second"; ineligible rows and missing values get None."""
    rounded = [round(float(v), decimals) if eligible[i] and v is not None and pd.notna(v) else None
               for i, v in enumerate(values)]
    distinct = sorted({r for r in rounded if r is not None}, reverse=higher_is_better)
    marks: list[str | None] = []
    for r in rounded:
        if r is None:
            marks.append(None)
        elif r == distinct[0]:
            marks.append("best")
        elif len(distinct) > 1 and r == distinct[1]:
            marks.append("second")
        else:
            marks.append(None)
    return marks


def column_marks(lb, block: pd.DataFrame, column: str, decimals: int | None = None, *, stats=None,
                 dataset: str | None = None) -> list[str | None]:
    """Best/second marks of one column over the rows of one dataset (``block``, in display order).

    Ranked: compared methods (not ``REFERENCE_MODELS``) whose row is complete (covers the same image
    set as the others, ``block["complete"]``; rows without that column count as complete). Plain
    rule: dense ranking at the printed precision. With ``stats`` (bench.report.stats.analysis.Analysis)
    its significance-aware marks replace it; rows that are not ranked never get a mark either way."""
    info = lb.columns[column]
    dec = decimals if decimals is not None else decimals_for(getattr(info, "value_range", None))
    complete = block["complete"] if "complete" in block.columns else pd.Series(True, index=block.index)
    eligible = [m not in REFERENCE_MODELS and bool(c) if pd.notna(c) else False
                for m, c in zip(block["model"], complete)]
    vals = [None if v is None or pd.isna(v) else float(v) for v in block[column]]
    marks = rank_marks(vals, info.higher_is_better, dec, eligible)
    if stats is not None and "model_key" in block.columns:
        keys = [None if k is None or (isinstance(k, float) and pd.isna(k)) else k for k in block["model_key"]]
        marks = stats.table_marks(dataset, keys, column, marks)
    return [mk if ok else None for mk, ok in zip(marks, eligible)]


def _datasets(lb, datasets: Iterable[str] | None) -> list[str]:
    have = list(dict.fromkeys(lb.table["dataset"]))
    if datasets is None:
        return have
    missing = [d for d in datasets if d not in have]
    if missing:
        raise KeyError(f"leaderboard has no rows for dataset(s) {missing}; it has {have}")
    return list(datasets)


def _delta_text(value, base, decimals: int) -> str | None:
    if value is None or base is None or pd.isna(value) or pd.isna(base):
        return None
    return f"{float(value) - float(base):+.{decimals}f}"


def _cost_cell(column: str, value) -> Cell:
    _, scale, decimals, _ = COST_COLUMNS[column]
    return Cell(fmt(None if pd.isna(value) else float(value) * scale, decimals))


# --- the two layouts ----------------------------------------------------------------------------

def leaderboard_table(lb, *, datasets: Iterable[str] | None = None, metrics: Iterable[str] | None = None,
                      deltas: bool = True, costs: bool = True, title: str = "Leaderboard",
                      stats=None, ci: bool = False) -> Table:
    """One row per model × dataset, grouped by dataset; images, metrics, then cost columns.
    ``stats``: a bench.report.stats.analysis.Analysis; its significance marks replace the plain ranking and
    ``ci`` adds "± half-width" to each value."""
    from bench.report.tables.published import ReportColumns

    metrics = metric_columns(lb, metrics)
    costs_cols = cost_columns(lb) if costs else []
    pub = ReportColumns(lb.table) if "psnr_y" in metrics else None   # published figures, when any
    show_errors = "errors" in lb.table.columns and (lb.table["errors"].fillna(0) > 0).any()
    headers = ["Dataset", "Model", "Images"] + (["Errors"] if show_errors else [])
    headers += [f"{metric_label(m)} {arrow(lb.columns[m])}" for m in metrics]
    headers += pub.headers if pub else []
    headers += [f"{COST_COLUMNS[c][0]} ↓" for c in costs_cols]
    numeric = [False, False] + [True] * (len(headers) - 2)
    rows, sections = [], []
    shown = _datasets(lb, datasets)
    for dataset in shown:
        block = order_rows(lb.table[lb.table["dataset"] == dataset])
        base = block[block["model"] == BASELINE_MODEL]
        cols: list[list[Cell]] = []
        for m in metrics:
            dec = decimals_for(getattr(lb.columns[m], "value_range", None))
            vals = [None if pd.isna(v) else float(v) for v in block[m]]
            marks = column_marks(lb, block, m, dec, stats=stats, dataset=dataset)
            b = base[m].iloc[0] if len(base) else None
            pm = [stats.pm(dataset, k, m, dec) if stats is not None and ci and v is not None else ""
                  for k, v in zip(block["model_key"], vals)]
            cols.append([Cell(fmt(v, dec) + e, mk, _delta_text(v, b, dec) if deltas and model != BASELINE_MODEL else None)
                         for v, mk, model, e in zip(vals, marks, block["model"], pm)])
        sections.append(len(rows))
        for i, (idx, r) in enumerate(block.iterrows()):
            row = [Cell(dataset_label(dataset)), Cell(model_label(r["model"], r["variant"])), _images_cell(r)]
            if show_errors:
                row.append(Cell(str(int(r["errors"])) if pd.notna(r["errors"]) else "0"))
            row += [c[i] for c in cols] + [Cell(x) for x in (pub.texts(idx) if pub else [])]
            row += [_cost_cell(c, r[c]) for c in costs_cols]
            rows.append(row)
    rule = " ".join(stats.notes()) if stats is not None else MARK_RULE
    notes = ["↑ higher is better, ↓ lower is better. " + rule + (" " + DELTA_RULE if deltas else "")]
    notes += [COVERAGE_RULE + (" " + COMMON_SUBSET_RULE if getattr(lb, "common_subset", False) else "")]
    notes += protocol_notes(lb, metrics) + [cost_note(lb, c) for c in costs_cols] + (pub.notes() if pub else [])
    notes += coverage_notes(lb, shown) + weights_notes(lb, shown)
    return Table(title, headers, rows, numeric, notes=notes, sections=sections)


def _images_cell(r) -> Cell:
    if pd.isna(r["images"]):
        return Cell("–")
    n = str(int(r["images"]))
    if not is_complete(r):
        total = r.get("compared_images")
        if total is None or pd.isna(total):
            total = int(r["images"]) + int(r.get("left_out", 0) or 0)
        return Cell(f"{n} of {int(total)}†", "incomplete")
    return Cell(n)


def pick_row(block: pd.DataFrame, model: str, dataset: str, variant: str | None) -> pd.Series | None:
    cand = block[block["model"] == model]
    if variant is not None:
        cand = cand[cand["variant"] == variant]
    if len(cand) > 1:  # several checkpoints: the one trained on this dataset, as the papers report
        same = cand[cand["variant"].map(lambda v: is_present(v) and str(v).lower() == dataset.lower())]
        if len(same) != 1:
            raise ValueError(f"{len(cand)} variants of {model!r} on {dataset!r} "
                             f"({sorted(map(str, cand['variant']))}): name one in `variants:`")
        cand = same
    return cand.iloc[0] if len(cand) else None


def paper_table(lb, *, datasets: Iterable[str], metrics: Iterable[str] = ("psnr_y", "ssim_y"),
                models: Iterable[str] | None = None, variants: Mapping[str, Any] | None = None,
                deltas: bool = False, title: str = "Comparison", stats=None) -> Table:
    """The seed papers' layout: models as rows, one column group per dataset with metric sub-columns.

    A row is a model name; where several checkpoints exist the one named in ``variants`` is used
    ({model: variant} or {model: {dataset: variant}}), else the one named after the dataset."""
    datasets, metrics = _datasets(lb, datasets), metric_columns(lb, metrics)
    variants = dict(variants or {})
    if models is None:
        models = list(dict.fromkeys(order_rows(lb.table[lb.table["dataset"].isin(datasets)])["model"]))
    models = list(models)
    picked = {}  # (model, dataset) -> row or None
    used = []
    for d in datasets:
        block = lb.table[lb.table["dataset"] == d]
        for m in models:
            v = variants.get(m)
            v = v.get(d) if isinstance(v, Mapping) else v
            picked[m, d] = row = pick_row(block, m, d, v)
            if row is not None and is_present(row["variant"]):
                used.append(f"{model_label(m)} {row['variant']} on {dataset_label(d)}")
    columns: list[list[Cell]] = []
    for d in datasets:
        base = picked.get((BASELINE_MODEL, d))
        block = pd.DataFrame([{"model": x, "complete": True if picked[x, d] is None else is_complete(picked[x, d]),
                               "model_key": None if picked[x, d] is None else picked[x, d]["model_key"],
                               **{m: (None if picked[x, d] is None else picked[x, d][m]) for m in metrics}}
                              for x in models])
        for m in metrics:
            dec = decimals_for(getattr(lb.columns[m], "value_range", None))
            vals = [None if picked[x, d] is None or pd.isna(picked[x, d][m]) else float(picked[x, d][m])
                    for x in models]
            marks = column_marks(lb, block, m, dec, stats=stats, dataset=d)
            b = None if base is None else base[m]
            columns.append([Cell(fmt(v, dec), mk, _delta_text(v, b, dec) if deltas and x != BASELINE_MODEL else None)
                            for v, mk, x in zip(vals, marks, models)])
    partial = {m for (m, d), r in picked.items() if r is not None and not is_complete(r)}
    rows = [[Cell(model_label(m) + ("†" if m in partial else ""))] + [c[i] for c in columns]
            for i, m in enumerate(models)]
    headers = ["Model"] + [f"{metric_label(m)} {arrow(lb.columns[m])}" for _ in datasets for m in metrics]
    groups = [("", 1)] + [(dataset_label(d), len(metrics)) for d in datasets]
    rule = " ".join(stats.notes()) if stats is not None else MARK_RULE
    notes = ["↑ higher is better, ↓ lower is better. " + rule + (" " + DELTA_RULE if deltas else "")]
    notes += [COVERAGE_RULE] + protocol_notes(lb, metrics) + coverage_notes(lb, datasets) + weights_notes(lb, datasets)
    if used:
        notes.append("Checkpoints: " + "; ".join(used) + ".")
    return Table(title, headers, rows, [False] + [True] * (len(headers) - 1), groups=groups, notes=notes)


# --- renderers ----------------------------------------------------------------------------------

def csv_frame(lb, dataset: str | None = None) -> pd.DataFrame:
    """The leaderboard as stored values (no rounding) with its ``protocol`` column: the same frame
    ``bench run`` writes (bench/report/tables/frames.py)."""
    from bench.report.tables.frames import leaderboard_frame
    from bench.report.tables.published import add_to_frame

    df = leaderboard_frame(lb)
    # per-dataset CSVs also carry the published figures and Δ (bench/report/tables/published.py)
    return df if dataset is None else add_to_frame(df[df["dataset"] == dataset])


def write_csvs(lb, out_dir: str | Path) -> list[Path]:
    """``leaderboard.csv`` (every row) and ``leaderboard_<dataset>.csv`` (one per dataset)."""
    from bench.report.tables.frames import write_csv

    out_dir = Path(out_dir)
    paths = [write_csv(csv_frame(lb), out_dir / "leaderboard.csv")]
    for d in dict.fromkeys(lb.table["dataset"]):
        p = out_dir / f"leaderboard_{re.sub(r'[^A-Za-z0-9._-]', '_', str(d))}.csv"
        paths.append(write_csv(csv_frame(lb, d), p))
    return paths


def write_tables(lb, out_dir: str | Path, stats=None, ci: bool = False) -> list[Path]:
    """``leaderboard.md`` and ``leaderboard.tex`` (all datasets, deltas and cost columns)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    t = leaderboard_table(lb, stats=stats, ci=ci)
    md, tex = out_dir / "leaderboard.md", out_dir / "leaderboard.tex"
    md.write_text(to_markdown(t), encoding="utf-8")
    tex.write_text(to_latex(t), encoding="utf-8")
    return [md, tex]
