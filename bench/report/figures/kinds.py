"""The figure kinds `bench figures` can draw; each takes (FigureSpec, Context) and returns
(written paths, notes). Parameters come from the figure's YAML ``params:`` and are checked here."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.report.figures import grids, plots
from bench.report.figures.sources import dataset_fallback, oracle_models, output_path_for, sample_ids
from bench.report.figures.specs import drawing_task, has_task, task_choices, task_model
from bench.report.tables import layouts
from bench.report.tables.render import to_latex, to_markdown
from bench.report.labels import dataset_label, model_label
from bench.units import split_unit


def _param(spec, key: str, default: Any = None, kind: type | tuple = object) -> Any:
    value = spec.params.get(key, default)
    if value is not None and not isinstance(value, kind):
        raise ValueError(f"{spec.path}: params.{key} must be {getattr(kind, '__name__', kind)}, got {value!r}")
    return value


def _present_datasets(spec, lb) -> list[str]:
    have = set(lb.table["dataset"])
    sets = [d for d in spec.needs.datasets if d in have]
    if not sets:
        raise ValueError(f"none of the datasets {spec.needs.datasets} has records in the store")
    return sets


def paper_table(spec, ctx) -> tuple[list[Path], list[str]]:
    """Models as rows, datasets as column groups with metric sub-columns (Markdown + LaTeX)."""
    notes = []
    datasets = _present_datasets(spec, ctx.lb)
    if len(datasets) < len(spec.needs.datasets):
        notes.append(f"datasets without records left out: {sorted(set(spec.needs.datasets) - set(datasets))}")
    metrics = _param(spec, "metrics", spec.needs.measures or ["psnr_y", "ssim_y"], list)
    metrics = [m for m in metrics if m in ctx.lb.table.columns]
    if not metrics:
        raise ValueError(f"none of the metrics {_param(spec, 'metrics', spec.needs.measures, list)} is in the store")
    models = [m.partition("@")[0] for m in spec.needs.models] or None
    t = layouts.paper_table(ctx.lb, datasets=datasets, metrics=metrics, models=models,
                           variants=_param(spec, "variants", None, dict),
                           deltas=bool(_param(spec, "deltas", False)), title=spec.title or spec.name)
    if spec.source:
        t.notes.append(f"Layout of: {spec.source}")
    md, tex = ctx.figures_dir / f"{spec.name}.md", ctx.figures_dir / f"{spec.name}.tex"
    md.parent.mkdir(parents=True, exist_ok=True)
    md.write_text(to_markdown(t), encoding="utf-8")
    tex.write_text(to_latex(t), encoding="utf-8")
    print(to_markdown(t))
    return [md, tex], notes


def quality_vs_utility(spec, ctx) -> tuple[list[Path], list[str]]:
    """PSNR-Y (params.x) against each downstream metric in params.y, one labelled point per model."""
    x = _param(spec, "x", "psnr_y", str)
    ys = _param(spec, "y", ["det_map50_95"], list)
    datasets = _present_datasets(spec, ctx.lb)
    lb = _only_models(ctx.lb, spec.needs.models)
    paths, notes = [], []
    for y in ys:
        try:
            paths += plots.quality_vs_utility(lb, x, y, ctx.figures_dir / f"{spec.name}_{y}", datasets=datasets)
        except (KeyError, ValueError) as e:
            notes.append(f"{x} vs {y} not drawn: {e.args[0] if e.args else e}")
    if not paths:
        raise ValueError("; ".join(notes))
    return paths, notes


def bars(spec, ctx) -> tuple[list[Path], list[str]]:
    metric = _param(spec, "metric", "psnr_y", str)
    lb = _only_models(ctx.lb, spec.needs.models, spec.needs.datasets)
    return plots.bars(lb, metric, ctx.figures_dir / spec.name), []


def visual_comparison(spec, ctx) -> tuple[list[Path], list[str]]:
    """rainy | each model | clean on a few images, zoomed crops, the task's predictions drawn on."""
    dataset = _param(spec, "dataset", spec.needs.datasets[0] if spec.needs.datasets else None, str)
    if dataset is None or not (ctx.lb.table["dataset"] == dataset).any():
        raise ValueError(f"no records for dataset {dataset!r}")
    block = ctx.lb.table[ctx.lb.table["dataset"] == dataset]
    columns, notes = [], []
    for m in spec.needs.models:
        name, _, variant = m.partition("@")
        try:
            row = layouts.pick_row(block, name, dataset, variant or None)
        except ValueError as e:
            notes.append(str(e))
            row = None
        if row is None:
            notes.append(f"{m} has no records on {dataset}: its column is left out")
            continue
        label = model_label(name) if not variant else model_label(name, variant)
        columns.append(grids.GridColumn(label, row["model_key"]))
    if not columns:
        raise ValueError(f"none of the models {spec.needs.models} has records on {dataset}")
    images = _param(spec, "images", 2, (int, list))
    ids = [str(i) for i in images] if isinstance(images, list) else sample_ids(ctx.lb, dataset, images)
    choices = task_choices(spec)
    task = drawing_task(spec, ctx.store, dataset, [c.model_key for c in columns]) or (choices[0] if choices else None)
    title = spec.title or f"{dataset_label(dataset)}"
    if task:        # say which model drew the boxes or maps, and why when it is not the preferred one
        title += f"\n{task_model(ctx.store, task, dataset)} ({task})"
        if task != choices[0]:
            notes.append(f"drawn with {task} ({task_model(ctx.store, task, dataset)}): "
                         f"{', '.join(choices[:choices.index(task)])} has no stored predictions on {dataset}")
    with_task = {c.model_key for c in columns if task and has_task(ctx.store, c.model_key, dataset, task)}
    notes += [f"{c.label}: no stored {task} predictions on {dataset}" for c in columns
              if task and c.model_key not in with_task]
    prediction = _task_prediction(ctx.store, task, dataset) if with_task else None
    crops = _param(spec, "crops", None, list)
    paths, missing = grids.comparison_grid(
        [(dataset, i) for i in ids], columns, output_path_for(ctx.out), ctx.figures_dir / spec.name,
        fallback=dataset_fallback(ctx.data_root, oracle_models(block)), prediction=prediction,
        crops=[tuple(c) for c in crops] if crops else None, zoom=bool(_param(spec, "zoom", True)),
        title=title, min_score=float(_param(spec, "min_score", 0.25)))
    # per-image "no stored prediction" lines add nothing for a column that has none at all
    missing = [m for m in missing if not (m.endswith("no stored prediction") and m.split(" on ")[0] not in with_task)]
    return paths, notes + missing


def _task_prediction(store, task: str, dataset: str):
    units: dict[str, str | None] = {}
    loaded: dict[tuple[str, str], dict] = {}

    def prediction(model_key: str, ds: str, image_id: str):
        if model_key not in units:
            units[model_key] = next((u for u in store.task_units(model_key, ds)
                                     if split_unit(u)[0] == task), None)
        unit = units[model_key]
        if unit is None:
            return None
        if (model_key, unit) not in loaded:
            loaded[model_key, unit] = store.predictions(model_key, ds, unit)
        return loaded[model_key, unit].get(image_id)
    return prediction


def _only_models(lb, models: list[str], datasets: list[str] | None = None):
    """A copy of the leaderboard restricted to the figure's models (and datasets)."""
    from copy import copy

    t = lb.table
    if models:
        names = {m.partition("@")[0] for m in models}
        t = t[t["model"].isin(names)]
    if datasets:
        t = t[t["dataset"].isin(datasets)]
    out = copy(lb)
    out.table = t
    return out
