"""`bench figures [NAME ...] [--list]`: regenerate named figures of the seed papers.

Each figure is one flat YAML file in ``configs/figures/``: a ``kind`` registered in FIGURE_KINDS
(no code from configs), the runs it ``needs`` (models × datasets × measures/tasks) and the kind's
``params``. A figure whose runs are missing from the store says exactly which ones, and the
``bench run`` command that would produce them; it is still drawn from what exists.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from bench.registry import Registry
from bench.units import split_unit


FIGURE_KINDS = Registry("figure kind", {
    "paper_table": "bench.report.figures.kinds:paper_table",
    "quality_vs_utility": "bench.report.figures.kinds:quality_vs_utility",
    "visual_comparison": "bench.report.figures.kinds:visual_comparison",
    "bars": "bench.report.figures.kinds:bars",
    "correlation_scatter": "bench.report.figures.stats_kinds:correlation_kind",
    "recovery_share": "bench.report.figures.stats_kinds:recovery_kind",
    "critical_difference": "bench.report.figures.stats_kinds:critical_difference_kind",
})

_TOP_KEYS = {"name", "kind", "title", "description", "source", "needs", "params"}
_NEED_KEYS = {"models", "datasets", "measures", "tasks"}


@dataclass
class Needs:
    models: list[str] = field(default_factory=list)      # "name" or "name@variant"
    datasets: list[str] = field(default_factory=list)
    measures: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)       # task names (files in tasks/)


@dataclass
class FigureSpec:
    name: str
    kind: str
    path: Path
    title: str = ""
    description: str = ""
    source: str = ""
    needs: Needs = field(default_factory=Needs)
    params: dict[str, Any] = field(default_factory=dict)


class FigureConfigError(ValueError):
    """A figure YAML that cannot be used; the message names the file and the fix."""


def load_spec(path: Path) -> FigureSpec:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise FigureConfigError(f"{path}: not valid YAML ({e})") from e
    if not isinstance(data, dict):
        raise FigureConfigError(f"{path}: expected a mapping with keys {sorted(_TOP_KEYS)}")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise FigureConfigError(f"{path}: unknown key(s) {sorted(unknown)}; allowed: {sorted(_TOP_KEYS)}")
    if "kind" not in data:
        raise FigureConfigError(f"{path}: missing `kind:` (one of {', '.join(FIGURE_KINDS.names())})")
    try:
        FIGURE_KINDS.check(data["kind"])
    except KeyError as e:
        raise FigureConfigError(f"{path}: {e}") from None
    needs = data.get("needs") or {}
    if not isinstance(needs, dict) or set(needs) - _NEED_KEYS or \
            not all(isinstance(v, list) for v in needs.values()):
        raise FigureConfigError(f"{path}: `needs:` must map {sorted(_NEED_KEYS)} to lists of names")
    params = data.get("params") or {}
    if not isinstance(params, dict):
        raise FigureConfigError(f"{path}: `params:` must be a mapping")
    spec = FigureSpec(name=str(data.get("name") or path.stem), kind=data["kind"], path=path,
                      title=str(data.get("title", "")), description=str(data.get("description", "")),
                      source=str(data.get("source", "")), needs=Needs(**needs), params=params)
    task_choices(spec)          # a malformed preference list fails here, naming the file
    return spec


def load_specs(directory: Path | None = None) -> dict[str, FigureSpec]:
    """Every figure YAML: the packaged ones plus the user config folder's figures/ (or one folder)."""
    from bench.config import resource_files

    paths = sorted(Path(directory).glob("*.yaml")) if directory else list(resource_files("configs/figures").values())
    specs: dict[str, FigureSpec] = {}
    for path in paths:
        spec = load_spec(path)
        if spec.name in specs:
            raise FigureConfigError(f"{path}: figure name {spec.name!r} already used by {specs[spec.name].path}")
        specs[spec.name] = spec
    return specs


# --- what is missing ----------------------------------------------------------------------------

def split_model(spec: str) -> tuple[str, str | None]:
    name, _, variant = spec.partition("@")
    return name, (variant or None)


def rows_for(table: pd.DataFrame, model: str, dataset: str) -> pd.DataFrame:
    if table.empty:
        return table
    name, variant = split_model(model)
    hit = table[(table["model"] == name) & (table["dataset"] == dataset)]
    return hit[hit["variant"] == variant] if variant else hit


def has_task(store, model_key: str, dataset: str, task: str) -> bool:
    return store is not None and any(split_unit(u)[0] == task
                                     for u in store.task_units(model_key, dataset))


# --- which task draws a figure ------------------------------------------------------------------

def task_choices(spec: FigureSpec) -> list[str]:
    """The figure's tasks in order of preference: ``params.tasks`` (a list) or ``params.task`` (one
    name). The first with stored predictions draws the figure, e.g. [yolo_detect, fastestdet_coco]:
    the online YOLO where it ran, else the offline FastestDet."""
    if "task" in spec.params and "tasks" in spec.params:
        raise FigureConfigError(f"{spec.path}: give params.tasks (a preference list) or params.task, not both")
    value = spec.params.get("tasks", spec.params.get("task"))
    if value is None:
        return []
    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise FigureConfigError(f"{spec.path}: params.tasks must be a list of task names, the preferred first")
    return list(value)


def drawing_task(spec: FigureSpec, store, dataset: str, model_keys) -> str | None:
    """The first task choice with stored predictions of any of these models on the dataset."""
    keys = list(model_keys)
    return next((t for t in task_choices(spec) if any(has_task(store, k, dataset, t) for k in keys)), None)


def task_model(store, task: str, dataset: str) -> str:
    """The model behind a task's stored predictions, short, from the protocol the store recorded
    ("FastestDet coco_352", "Ultralytics YOLO yolo11n.pt"); the task name if none is recorded."""
    for (unit, ds, _), (_, protocol) in (store.bindings() if store is not None else {}).items():
        if ds == dataset and split_unit(unit)[0] == task and protocol.startswith(f"{task}: "):
            text, depth = protocol[len(task) + 2:].split(" sha256 ")[0], 0
            for i, ch in enumerate(text):       # up to the first ',' or ';' outside parentheses
                depth += (ch == "(") - (ch == ")")
                if ch in ",;" and depth == 0:
                    return text[:i].strip()
            return text.strip()
    return task


def figure_model_keys(spec: FigureSpec, table: pd.DataFrame, dataset: str) -> list[str]:
    return [k for m in spec.needs.models for k in rows_for(table, m, dataset).get("model_key", [])]


def _needed_tasks(spec: FigureSpec, store, table: pd.DataFrame, dataset: str) -> list[str]:
    """needs.tasks, with a task of the preference list replaced by the one that draws (or would)."""
    choices = task_choices(spec)
    chosen = drawing_task(spec, store, dataset, figure_model_keys(spec, table, dataset)) or \
        (choices[0] if choices else None)
    return list(dict.fromkeys(chosen if t in choices else t for t in spec.needs.tasks))


def missing_runs(spec: FigureSpec, lb, store) -> list[tuple[str, str, str]]:
    """(model, dataset, what) for every needed piece the store lacks; what = "no records" or a
    measure/task name. A needed task of the preference list is met by the choice that draws."""
    table = lb.table if lb is not None else pd.DataFrame()
    missing = []
    for dataset in spec.needs.datasets:
        tasks = _needed_tasks(spec, store, table, dataset)
        for model in spec.needs.models:
            rows = rows_for(table, model, dataset)
            if rows.empty:
                missing.append((model, dataset, "no records"))
                continue
            for m in spec.needs.measures:
                if m not in rows.columns or rows[m].isna().all():
                    missing.append((model, dataset, m))
            for t in tasks:
                if not any(has_task(store, k, dataset, t) for k in rows["model_key"]):
                    missing.append((model, dataset, t))
    return missing


def resolved_tasks(spec: FigureSpec, lb, store) -> list[str]:
    """needs.tasks as the figure will draw them against this store (the preference list resolved)."""
    table = lb.table if lb is not None else pd.DataFrame()
    return list(dict.fromkeys(t for d in spec.needs.datasets for t in _needed_tasks(spec, store, table, d)))


def run_command(spec: FigureSpec, missing: list[tuple[str, str, str]], out: Path,
                tasks: list[str] | None = None) -> str:
    """The `bench run` line for the missing pieces; ``tasks`` = resolved_tasks (default: the
    preferred task of a preference list)."""
    models = list(dict.fromkeys(m for m, _, _ in missing))
    datasets = list(dict.fromkeys(d for _, d, _ in missing))
    cmd = ["bench run", "--models", ",".join(models), "--datasets", ",".join(datasets)]
    if spec.needs.measures:
        cmd += ["--measures", ",".join(spec.needs.measures)]
    if tasks is None:
        choices = task_choices(spec)
        tasks = list(dict.fromkeys(choices[0] if t in choices else t for t in spec.needs.tasks))
    cmd += ["--tasks", ",".join(tasks) if tasks else "none"]
    if Path(out) != Path("results"):
        cmd += ["--out", str(out)]
    return " ".join(cmd)


def describe_missing(spec: FigureSpec, missing: list[tuple[str, str, str]], out: Path,
                     tasks: list[str] | None = None) -> str:
    by_pair: dict[tuple[str, str], list[str]] = {}
    for model, dataset, what in missing:
        by_pair.setdefault((model, dataset), []).append(what)
    lines = [f"figure {spec.name}: {len(by_pair)} of "
             f"{len(spec.needs.models) * len(spec.needs.datasets)} needed model × dataset runs incomplete:"]
    choices = task_choices(spec)

    def named(what: str) -> str:
        others = [t for t in choices if t != what]
        return f"{what} (or {', '.join(others)})" if what in choices and others else what
    lines += [f"  - {m} on {d}: " + ("no records" if w == ["no records"] else f"missing {', '.join(map(named, w))}")
              for (m, d), w in by_pair.items()]
    lines.append(f"  produce them with: {run_command(spec, missing, out, tasks)}")
    return "\n".join(lines)
