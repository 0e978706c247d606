"""The CSV files of a leaderboard: one frame builder and one writer for every leaderboard.csv.

``bench run`` (outputs.py) and ``bench report`` (tables.py) both write through ``write_csv``, at
full precision, so the two commands leave the same file.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from bench.report.tables.leaderboard import Leaderboard, protocol_text
from bench.store import IMAGE_UNIT


def write_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Atomic write (a killed run never leaves half a file), every digit kept."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    df.to_csv(tmp, index=False)
    os.replace(tmp, path)
    return path


def leaderboard_frame(lb: Leaderboard, dataset: str | None = None) -> pd.DataFrame:
    """The leaderboard as stored values (no rounding), with the ``protocol`` of every row."""
    if lb.table.empty:
        return lb.table
    df = lb.table.copy()
    df["protocol"] = [protocol_text(lb, row) for _, row in df.iterrows()]
    return df if dataset is None else df[df["dataset"] == dataset]


def per_image_frame(lb: Leaderboard) -> pd.DataFrame:
    """One row per model × dataset × image: every value, the error, and why the image is left out
    of its row's means (``left_out``), if it is."""
    raw = lb.per_image
    if raw.empty:
        return raw
    keys = ["model", "variant", "model_key", "dataset", "image_id"]
    values = raw[raw["error"].isna() & (raw["unit"] != IMAGE_UNIT)]
    wide = values.pivot_table(index=keys, columns="unit", values="value", aggfunc="first",
                              dropna=False).reset_index()
    errs = (raw[raw["error"].notna()].groupby(["model_key", "dataset", "image_id"])["error"]
            .agg(lambda s: " | ".join(sorted(set(s)))).reset_index())
    out = raw[keys].drop_duplicates().merge(wide, how="left").merge(errs, how="left",
                                                                     on=["model_key", "dataset", "image_id"])
    if lb.left_out is not None and len(lb.left_out):
        why = lb.left_out[["model_key", "dataset", "image_id", "reason"]].rename(columns={"reason": "left_out"})
        out = out.merge(why, how="left", on=["model_key", "dataset", "image_id"])
    out.columns.name = None
    return out.sort_values(["dataset", "model", "image_id"], kind="stable").reset_index(drop=True)


def per_class_frame(lb: Leaderboard) -> pd.DataFrame:
    """``per_class.csv``: one row per model × dataset × task × class × value (ap50_95 and ap50 of
    the instance tasks, iou of the semantic ones), over the same images as the leaderboard row.
    Instance tasks list the classes with labels in those images (COCO's rule for the mean);
    semantic tasks the classes in the labels or the predictions (the mIoU's classes)."""
    df = lb.per_class
    if df.empty:
        return df
    return df.sort_values(["dataset", "task", "model", "variant", "class_id", "metric"],
                          kind="stable").reset_index(drop=True)
