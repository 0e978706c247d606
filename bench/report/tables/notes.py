"""Table footnotes from the store's coverage and deviation records: which images a row leaves
out and why, and which images were computed differently (tiled, retried after out-of-memory,
cropped by a model's size policy)."""
from __future__ import annotations

from typing import Iterable

import pandas as pd

from bench.report.labels import dataset_label, model_label


def is_complete(r) -> bool:
    return bool(r["complete"]) if "complete" in r and pd.notna(r["complete"]) else True


def coverage_notes(lb, datasets: Iterable[str] | None = None, limit: int = 5) -> list[str]:
    """One line per row with images left out (how many, which, why), and per-image deviations."""
    notes = []
    t = lb.table
    left = getattr(lb, "left_out", None)
    if left is not None and len(left):
        for (key, ds), grp in left.groupby(["model_key", "dataset"], sort=False):
            if datasets is not None and ds not in datasets:
                continue
            row = t[(t["model_key"] == key) & (t["dataset"] == ds)]
            if row.empty:
                continue
            r = row.iloc[0]
            total = int(r["images"]) + len(grp)
            shown = "; ".join(f"{i}: {w}" for i, w in list(zip(grp["image_id"], grp["reason"]))[:limit])
            more = f"; … {len(grp) - limit} more in per_image.csv" if len(grp) > limit else ""
            mark = "" if is_complete(r) else "† "
            notes.append(f"{mark}{model_label(r['model'], r['variant'])} on {dataset_label(ds)}: {len(grp)} of {total} "
                         f"images left out of the row ({shown}{more}).")
    notes += deviation_notes(lb, datasets, limit)
    return notes


def deviation_notes(lb, datasets: Iterable[str] | None = None, limit: int = 5) -> list[str]:
    devs = getattr(lb, "deviations", None)
    if devs is None or not len(devs):
        return []
    t, notes = lb.table, []
    for (key, ds, kind), grp in devs.groupby(["model_key", "dataset", "kind"], sort=False):
        if datasets is not None and ds not in datasets:
            continue
        row = t[(t["model_key"] == key) & (t["dataset"] == ds)]
        who = model_label(row.iloc[0]["model"], row.iloc[0]["variant"]) if len(row) else key
        d = grp["detail"].iloc[0] or {}
        how = ", ".join(f"{k} {v}" for k, v in d.items() if k not in ("box",)) if isinstance(d, dict) else str(d)
        ids = ", ".join(map(str, list(grp["image_id"])[:limit])) + (" …" if len(grp) > limit else "")
        notes.append(f"Deviation: {who} on {dataset_label(ds)}: {len(grp)} image(s) {kind} ({how}; {ids}).")
    return notes


def weights_notes(lb, datasets: Iterable[str] | None = None) -> list[str]:
    """One line per model whose weights need saying (own-trained budget, third-party copy)."""
    from bench.report.labels import model_label

    notes = getattr(lb, "weights_notes", {}) or {}
    t = lb.table
    out = []
    for key, text in notes.items():
        rows = t[t["model_key"] == key]
        if datasets is not None:
            rows = rows[rows["dataset"].isin(list(datasets))]
        if rows.empty:
            continue
        r = rows.iloc[0]
        out.append(f"Weights of {model_label(r['model'], r['variant'])}: {text}.")
    return out
