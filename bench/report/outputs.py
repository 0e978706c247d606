"""The files every run leaves behind: leaderboard.csv, per_image.csv and a first figure."""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from bench.report.leaderboard import Leaderboard, protocol_text
from bench.store import IMAGE_UNIT


def _atomic_csv(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    df.to_csv(tmp, index=False, float_format="%.6g")
    os.replace(tmp, path)


def leaderboard_frame(lb: Leaderboard) -> pd.DataFrame:
    if lb.table.empty:
        return lb.table
    df = lb.table.copy()
    df["protocol"] = [protocol_text(lb, row) for _, row in df.iterrows()]
    return df


def per_image_frame(lb: Leaderboard) -> pd.DataFrame:
    raw = lb.per_image
    if raw.empty:
        return raw
    values = raw[raw["error"].isna() & (raw["unit"] != IMAGE_UNIT)]
    wide = values.pivot_table(index=["model", "variant", "model_key", "dataset", "image_id"], columns="unit",
                              values="value", aggfunc="first", dropna=False).reset_index()
    errs = (raw[raw["error"].notna()].groupby(["model_key", "dataset", "image_id"])["error"]
            .agg(lambda s: " | ".join(sorted(set(s)))).reset_index())
    keys = raw[["model", "variant", "model_key", "dataset", "image_id"]].drop_duplicates()
    out = keys.merge(wide, how="left").merge(errs, how="left", on=["model_key", "dataset", "image_id"])
    out.columns.name = None
    return out.sort_values(["dataset", "model", "image_id"], kind="stable").reset_index(drop=True)


def write_run_outputs(lb: Leaderboard, out: Path) -> list[Path]:
    out = Path(out)
    written = [out / "leaderboard.csv", out / "per_image.csv"]
    _atomic_csv(leaderboard_frame(lb), written[0])
    _atomic_csv(per_image_frame(lb), written[1])
    fig = quality_vs_detection(lb, out / "figures" / "psnr_vs_detection.png")
    if fig:
        written.append(fig)
    return written


def quality_vs_detection(lb: Leaderboard, path: Path, x: str = "psnr_y") -> Path | None:
    """The run's first figure: PSNR-Y against the first detection mAP column, one point per model."""
    from bench.report.plots import quality_vs_utility, utility_pairs

    pairs = [p for p in utility_pairs(lb, x) if "map50_95" in p[1]]
    if not pairs:
        return None
    try:
        return quality_vs_utility(lb, *pairs[0], path.with_suffix(""))[0]
    except (KeyError, ValueError):  # no dataset has both columns yet
        return None
