"""The one row order of every table, figure and grid: the rainy input first, the compared
methods by display label, the ground truth last."""
from __future__ import annotations

import pandas as pd

from bench.report.labels import model_label

_RANK = {"rainy": 0, "clean": 2}   # everything else: 1


def order_rows(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` (columns ``model`` and ``variant``) reordered: rainy, the others sorted by
    ``model_label`` (stable: equal labels keep their order), clean. The index travels with the rows."""
    rank = [_RANK.get(m, 1) for m in df["model"]]
    labels = [model_label(m, v) for m, v in zip(df["model"], df["variant"])]
    return df.assign(_r=rank, _l=labels).sort_values(["_r", "_l"], kind="stable").drop(columns=["_r", "_l"])
