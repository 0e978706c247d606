"""What `bench report` builds: every table, figure and the HTML page, from the results store alone.

Never runs a model: values, predictions and cost numbers come from ``<out>/store.sqlite``; the
comparison grids read the derained PNGs the runner cached (and the dataset, for the rainy input
and ground truth, which the runner does not cache).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from bench.report.figures import grids, plots
from bench.report.figures.sources import (dataset_fallback, grid_columns, oracle_models, output_path_for,
                                          sample_ids, stored_prediction)
from bench.report.html import Page, generated_line, load_runs, runs_html
from bench.report.labels import dataset_label, metric_label
from bench.report.tables import layouts
from bench.report.tables.columns import metric_columns
from bench.report.tables.frames import per_class_frame, write_csv
from bench.report.tables.render import to_html
from bench.units import split_unit


@dataclass
class Report:
    files: list[Path] = field(default_factory=list)
    figures: list[tuple[str, Path]] = field(default_factory=list)     # (caption, PNG) for the page
    warnings: list[str] = field(default_factory=list)


def open_store(out: Path, store_path: Path | None = None):
    """The store, or SystemExit with the command that makes one (Store() would create an empty file)."""
    from bench.store import Store

    path = Path(store_path) if store_path else Path(out) / "store.sqlite"
    if not path.is_file():
        raise SystemExit(f"bench report: no results store at {path}. Produce one first, e.g.\n"
                         f"  bench run --all --out {out}")
    return Store(path)


def task_units(store, block: pd.DataFrame) -> list[str]:
    units = []
    for key in block["model_key"]:
        units += [u for u in store.task_units(key, block["dataset"].iloc[0]) if u not in units]
    return units


def build_grids(store, lb, out: Path, data_root: Path | None, n: int, report: Report) -> None:
    fallback, output_path = dataset_fallback(data_root, oracle_models(lb.table)), output_path_for(out)
    for dataset in dict.fromkeys(lb.table["dataset"]):
        block = lb.table[lb.table["dataset"] == dataset]
        ids = sample_ids(lb, dataset, n)
        if not ids:
            continue
        cols = grid_columns(block)
        for unit in [None] + task_units(store, block):
            name = f"grid_{dataset}" + (f"_{split_unit(unit)[0]}" if unit else "")
            try:
                paths, missing = grids.comparison_grid(
                    [(dataset, i) for i in ids], cols, output_path, out / "figures" / name, fallback=fallback,
                    prediction=stored_prediction(store, unit) if unit else None,
                    title=f"{dataset_label(dataset)}" + (f" — {split_unit(unit)[0]}" if unit else ""))
            except FileNotFoundError as e:
                report.warnings.append(f"{name}: {e}")
                continue
            report.files += paths
            report.figures.append((f"Visual comparison on {dataset_label(dataset)}"
                                   + (f" with {split_unit(unit)[0]} predictions" if unit else ""), paths[0]))
            report.warnings += [f"{name}: {m}" for m in missing]


def build_report(store, lb, out: Path, data_root: Path | None = None, samples: int = 2,
                 stats_settings=None, ci: bool = False) -> Report:
    from bench.report import stats_report

    out = Path(out)
    report = Report()
    analysis = stats_report.compute(store, lb, stats_settings)
    report.files += layouts.write_csvs(lb, out) + layouts.write_tables(lb, out, stats=analysis, ci=ci)
    if not lb.per_class.empty:
        report.files.append(write_csv(per_class_frame(lb), out / "per_class.csv"))
    main_table = layouts.leaderboard_table(lb, stats=analysis, ci=analysis is not None)
    paper = None
    if {"psnr_y", "ssim_y"} <= set(lb.table.columns):
        try:
            paper = layouts.paper_table(lb, datasets=list(dict.fromkeys(lb.table["dataset"])),
                                       title="PSNR-Y / SSIM-Y (papers' layout)", stats=analysis)
        except ValueError as e:  # several unnamed checkpoints of one model on a dataset
            report.warnings.append(f"papers' layout skipped: {e}")
    figs = out / "figures"
    for m in metric_columns(lb):
        if lb.table[m].notna().any():
            paths = plots.bars(lb, m, figs / f"bars_{m}")
            report.files += paths
            report.figures.append((f"{metric_label(m)} per dataset and model", paths[0]))
    for x, y in plots.utility_pairs(lb):
        paths = plots.quality_vs_utility(lb, x, y, figs / f"quality_vs_{y}")
        report.files += paths
        report.figures.append((f"{metric_label(x)} vs {metric_label(y)}: restoration quality vs downstream utility",
                               paths[0]))
    if not lb.per_image.empty:
        for p in plots.all_distributions(lb.per_image, lb, figs):
            report.files.append(p)
            if p.suffix == ".png":
                report.figures.append((f"Per-image distribution of {metric_label(p.stem[5:])}", p))
    build_grids(store, lb, out, data_root, samples, report)
    report.warnings = list(lb.warnings) + report.warnings

    page = Page(subtitle=generated_line(store.path))
    page.add_html("Leaderboard", to_html(main_table, "leaderboard"))
    if paper is not None:
        page.add_html("Comparison in the papers' layout", to_html(paper, "paper"))
    errors = store.errors()
    if not errors.empty:
        page.add_text("Errors", [f"{r.model_key} / {r.dataset} / {r.image_id} / {r.unit}: {r.error}"
                                 for r in errors.head(50).itertuples()], "missing")
    stats_report.add_to_report(analysis, lb, out, report, page)
    page.add_figures("Figures", [(c, p) for c, p in report.figures if "grid_" not in p.name])
    page.add_figures("Visual comparisons", [(c, p) for c, p in report.figures if "grid_" in p.name])
    if report.warnings:
        page.add_text("Report notes", report.warnings[:100], "missing")
    page.add_html("Runs", runs_html(load_runs(out)))
    report.files.append(page.write(out / "report.html"))
    return report
