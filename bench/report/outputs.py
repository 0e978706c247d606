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


def quality_vs_detection(lb: Leaderboard, path: Path, x: str = "psnr_y", y: str = "det_map50_95") -> Path | None:
    """PSNR-Y against detection mAP, one labelled point per model, one panel per dataset."""
    t = lb.table
    if t.empty or x not in t or y not in t or t[[x, y]].dropna().empty:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = t.dropna(subset=[x, y])
    sets = list(dict.fromkeys(data["dataset"]))
    fig, axes = plt.subplots(1, len(sets), figsize=(4.2 * len(sets), 3.6), squeeze=False)
    for ax, ds in zip(axes[0], sets):
        d = data[data["dataset"] == ds]
        ax.scatter(d[x], d[y], s=36)
        for _, r in d.iterrows():
            label = f"{r['model']}@{r['variant']}" if r["variant"] else r["model"]
            ax.annotate(label, (r[x], r[y]), textcoords="offset points", xytext=(4, 4), fontsize=8)
        ax.set_title(ds)
        ax.set_xlabel(f"{x} (dB) {lb.columns[x].arrow}")
        ax.set_ylabel(f"{y} {lb.columns[y].arrow}")
        ax.grid(alpha=0.3)
    fig.suptitle("Restoration quality vs detection utility", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    fig.savefig(path.with_suffix(".pdf"))
    plt.close(fig)
    return path
