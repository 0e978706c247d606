"""The downstream tables of README.md and results/downstream/README.md, from a report's CSVs.

    python tools/downstream_table.py results/downstream            # README block (one table)
    python tools/downstream_table.py results/downstream --full     # one table per dataset

Reads only what `bench report --ci` wrote: leaderboard_ci.csv (values and 95 % intervals, the
protocol column), recovery.csv (recovery share, the Holm-corrected test against the rainy input)
and correlations.csv (Spearman of PSNR-Y against each downstream score across models).
tests/test_docs.py checks that README.md holds exactly what this prints.
"""
from __future__ import annotations

import argparse
import math
import re
from pathlib import Path

import pandas as pd

# (dataset, metric) columns of the README table, in order; a dataset or metric the run lacks is left out
README_COLUMNS = [("coco-val128-rain-heavy", "fdet_map50_95"), ("coco-val128-rain-light", "fdet_map50_95"),
                  ("raincityscapes", "fdet_map50_95"), ("raincityscapes", "cseg_miou")]
DATASETS = {"coco-val128-rain-heavy": "COCO heavy rain", "coco-val128-rain-light": "COCO light rain",
            "raincityscapes": "RainCityscapes"}
METRICS = {"fdet_map50_95": "FastestDet mAP50-95", "fdet_map50": "FastestDet mAP50", "cseg_miou": "ESPNet mIoU",
           "cseg_pixel_acc": "ESPNet pixel acc.", "hog_map50_95": "HOG person mAP50-95", "psnr_y": "PSNR-Y",
           "ssim_y": "SSIM-Y", "niqe": "NIQE"}
MARK = {"better": " ▲", "worse": " ▼"}
TASK_OF = {"fdet": "fastestdet_coco", "cseg": "espnet_cityscapes", "hog": "hog_people"}


def label(row) -> str:
    variant = row["variant"]
    return row["model"] if not isinstance(variant, str) or not variant else f"{row['model']}@{variant}"


def fmt(value, digits: int = 3) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def cell(lb_row, rec: dict, metric: str, with_ci: bool = True) -> str:
    v = lb_row.get(metric, math.nan)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    digits = 2 if metric in ("psnr_y", "niqe") else 3
    text = fmt(v, digits)
    lo, hi = lb_row.get(f"{metric}_lo", math.nan), lb_row.get(f"{metric}_hi", math.nan)
    if with_ci and not (math.isnan(lo) or math.isnan(hi)) and lo != hi:
        text += f" [{fmt(lo, digits - 1)}, {fmt(hi, digits - 1)}]"
    r = rec.get((lb_row["dataset"], lb_row["model_key"], metric))
    return text + (MARK.get(r.get("verdict"), "") if r is not None else "")


def share(rec: dict, lb_row, metric: str) -> str:
    r = rec.get((lb_row["dataset"], lb_row["model_key"], metric))
    return "–" if r is None or math.isnan(r["share"]) else f"{r['share']:+.0%}"


def label_source(lb: pd.DataFrame, dataset: str, metric: str) -> str:
    task = TASK_OF.get(metric.split("_", 1)[0])
    texts = lb.loc[lb["dataset"] == dataset, "protocol"].dropna()
    for text in texts:
        for part in str(text).split(" | "):
            if part.startswith(f"{task}:"):
                m = re.search(r"label source (\w+)", part)
                if m:
                    return m.group(1)
    return "?"


def order(lb: pd.DataFrame, metric: str) -> list[str]:
    """rainy first, clean last, derainers by the metric (best first)."""
    keys = lb.sort_values(metric, ascending=False, na_position="last")
    mid = [k for k, m in zip(keys["model_key"], keys["model"]) if m not in ("rainy", "clean")]
    first = list(lb.loc[lb["model"] == "rainy", "model_key"])
    last = list(lb.loc[lb["model"] == "clean", "model_key"])
    return first + mid + last


def load(folder: Path):
    lb = pd.read_csv(folder / "leaderboard_ci.csv")
    rec_df = pd.read_csv(folder / "recovery.csv") if (folder / "recovery.csv").is_file() else pd.DataFrame()
    rec = {(r["dataset"], r["model_key"], r["metric"]): r for r in rec_df.to_dict("records")}
    cor = pd.read_csv(folder / "correlations.csv") if (folder / "correlations.csv").is_file() else pd.DataFrame()
    return lb, rec, cor


def spearman_lines(lb, cor, columns) -> list[str]:
    out = []
    for dataset, metric in columns:
        if cor.empty:
            break
        hit = cor[(cor["dataset"] == dataset) & (cor["x"] == "psnr_y") & (cor["y"] == metric) & (cor["level"] == "models")]
        if len(hit):
            c = hit.iloc[0]
            out.append(f"- {DATASETS.get(dataset, dataset)}, {METRICS.get(metric, metric)}: Spearman ρ(PSNR-Y, score) "
                       f"across {c['n_models']} models = {c['spearman']:.2f} [{c['spearman_lo']:.2f}, {c['spearman_hi']:.2f}]"
                       f" ({c['n_images']} images)")
    return out


def readme_table(folder: Path) -> str:
    lb, rec, cor = load(folder)
    columns = [(d, m) for d, m in README_COLUMNS if m in lb.columns and lb.loc[lb["dataset"] == d, m].notna().any()]
    if not columns:
        raise SystemExit(f"{folder}: none of {README_COLUMNS} has values in leaderboard_ci.csv")
    rows = {}
    for dataset, metric in columns:
        for r in lb[lb["dataset"] == dataset].to_dict("records"):
            rows.setdefault(label(r), {})[(dataset, metric)] = r
    first_ds, first_m = columns[0]
    names = [label(r) for k in order(lb[lb["dataset"] == first_ds], first_m)
             for r in lb[(lb["dataset"] == first_ds) & (lb["model_key"] == k)].to_dict("records")]
    names += [n for n in rows if n not in names]
    head = ["model (weights)"]
    for d, m in columns:
        n = int(lb.loc[lb["dataset"] == d, "images"].max())
        head += [f"{DATASETS.get(d, d)} ({n} img, {label_source(lb, d, m)} labels): {METRICS.get(m, m)} [95% CI]",
                 "recovery"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for name in names:
        cells = [name]
        for col in columns:
            r = rows[name].get(col)
            cells += ["–", "–"] if r is None else [cell(r, rec, col[1]), share(rec, r, col[1])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines + [""] + spearman_lines(lb, cor, columns))


def full_tables(folder: Path) -> str:
    lb, rec, cor = load(folder)
    blocks = []
    for dataset in dict.fromkeys(lb["dataset"]):
        part = lb[lb["dataset"] == dataset]
        metrics = [m for m in METRICS if m in part.columns and part[m].notna().any()]
        primary = next((m for m in ("fdet_map50_95", "cseg_miou", "hog_map50_95") if m in metrics), metrics[0])
        blocks.append(f"### {DATASETS.get(dataset, dataset)} ({int(part['images'].max())} images)\n")
        head = ["model (weights)"] + [METRICS[m] for m in metrics] + [f"recovery ({METRICS[primary]})"]
        lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
        for key in order(part, primary):
            r = part[part["model_key"] == key].iloc[0].to_dict()
            lines.append("| " + " | ".join([label(r)] + [cell(r, rec, m) for m in metrics] + [share(rec, r, primary)]) + " |")
        sources = ", ".join(f"{METRICS[m]}: {label_source(lb, dataset, m)}" for m in metrics if m.split("_")[0] in TASK_OF)
        blocks.append("\n".join(lines) + f"\n\nLabels: {sources}.\n")
        blocks += [line + "\n" for line in spearman_lines(lb, cor, [(dataset, m) for m in metrics if m.split("_")[0] in TASK_OF])]
    return "\n".join(blocks)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder", type=Path, help="a `bench report --ci` output folder")
    p.add_argument("--full", action="store_true", help="one table per dataset with every downstream score")
    a = p.parse_args(argv)
    print(full_tables(a.folder) if a.full else readme_table(a.folder))


if __name__ == "__main__":
    main()
