"""Which leaderboard columns a table or figure shows, and how their values print: direction
arrows, decimals, and the cost columns' labels and scales."""
from __future__ import annotations

import math
from typing import Iterable

from bench.report.labels import is_present

# Cost columns the leaderboard carries when known: (label, scale applied before printing, decimals, note)
COST_COLUMNS = {
    "params": ("Params (M)", 1e-6, 3, "Params: trainable parameters, millions"),
    "gflops": ("GFLOPs", 1.0, 2, "GFLOPs: multiply-adds ×2 per image, as stored in the models table"),
    "ms_per_image": ("ms/image", 1.0, 1, "ms/image: mean forward time per image, as stored in the models table"),
}


def metric_columns(lb, metrics: Iterable[str] | None = None) -> list[str]:
    """Metric columns present in the table: measures first, then task metrics, in ``lb.columns`` order."""
    present = [m for m, info in lb.columns.items()
               if m in lb.table.columns and getattr(info, "kind", "measure") != "cost"]
    if metrics is not None:
        missing = [m for m in metrics if m not in present]
        if missing:
            raise KeyError(f"leaderboard has no column(s) {missing}; it has {present}")
        return list(metrics)
    return sorted(present, key=lambda m: (getattr(lb.columns[m], "kind", "measure") != "measure",
                                          present.index(m)))


def cost_columns(lb) -> list[str]:
    return [c for c in COST_COLUMNS if c in lb.table.columns and lb.table[c].notna().any()]


def arrow(info) -> str:
    return "↑" if info.higher_is_better else "↓"


def cost_note(lb, column: str) -> str:
    """The store's own description of a cost column when it has one, else ours."""
    label, scale, _, fallback = COST_COLUMNS[column]
    info = lb.columns.get(column)
    if info is None or not is_present(getattr(info, "protocol", None)):
        return fallback
    return f"{label}: {info.protocol}" + (" (millions)" if scale == 1e-6 else "")


def decimals_for(value_range: tuple[float, float] | None) -> int:
    """Scores in [0, 1] (SSIM, mAP) print with 4 decimals, everything else (dB, NIQE) with 2."""
    if value_range is not None and value_range[1] is not None and float(value_range[1]) <= 1.0:
        return 4
    return 2


def fmt(value, decimals: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{float(value):.{decimals}f}"
