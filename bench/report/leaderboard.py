"""Store -> leaderboard: per-image means for measures, dataset-level scores for tasks.

Nothing here runs a model: task scores are recomputed from stored predictions and labels.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from bench.store import IMAGE_UNIT, Store

COST_COLUMNS = ("params", "gflops", "ms_per_image")


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    higher_is_better: bool
    value_range: tuple[float, float]
    protocol: str
    kind: str                         # "measure" | "task" | "cost"

    @property
    def arrow(self) -> str:
        return "↑" if self.higher_is_better else "↓"


@dataclass
class Leaderboard:
    table: pd.DataFrame
    columns: dict[str, ColumnInfo] = field(default_factory=dict)
    per_image: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def metric_columns(self) -> list[str]:
        return [c for c, info in self.columns.items() if info.kind != "cost"]


def build(store: Store) -> Leaderboard:
    from bench.measures import build_measure

    raw = store.per_image()
    values = raw[raw["error"].isna() & (raw["unit"] != IMAGE_UNIT)]
    columns: dict[str, ColumnInfo] = {}
    for unit, proto in values.groupby("unit")["protocol"].first().items():
        try:
            info = build_measure(unit).info
            columns[unit] = ColumnInfo(unit, info.higher_is_better, info.value_range, proto or "", "measure")
        except Exception:  # a measure no longer registered or importable: keep its values, say "unknown"
            columns[unit] = ColumnInfo(unit, True, (float("-inf"), float("inf")), proto or "unknown", "measure")
    means = values.pivot_table(index=["model_key", "dataset"], columns="unit", values="value", aggfunc="mean")

    rows = []
    models = {r.model_key: r for r in store.models().itertuples()}
    for model_key, model, variant, dataset in store.model_dataset_pairs():
        mine = raw[(raw["model_key"] == model_key) & (raw["dataset"] == dataset)]
        errors = mine[mine["error"].notna()]["image_id"].nunique()
        row = {"model": model, "variant": variant, "model_key": model_key, "dataset": dataset,
               "images": mine[mine["error"].isna()]["image_id"].nunique(), "errors": errors}
        if (model_key, dataset) in means.index:
            row.update({k: v for k, v in means.loc[(model_key, dataset)].items() if pd.notna(v)})
        for unit in store.task_units(model_key, dataset):
            row["images"] = max(row["images"], len(store.predictions(model_key, dataset, unit)))
            row.update(_task_scores(store, model_key, dataset, unit, columns))
        info = models[model_key].info if model_key in models else {}
        for c in COST_COLUMNS:
            if info.get(c) is not None:
                row[c] = info[c]
        rows.append(row)
    table = pd.DataFrame(rows)
    for c in COST_COLUMNS:
        if c in table:
            columns[c] = ColumnInfo(c, False, (0.0, float("inf")), _COST_PROTOCOL[c], "cost")
    if not table.empty:
        ordered = ["model", "variant", "model_key", "dataset", "images", "errors"]
        table = table[ordered + [c for c in columns if c in table]]
        table = table.sort_values(["dataset", "model"], kind="stable").reset_index(drop=True)
    return Leaderboard(table=table, columns=columns, per_image=raw)


_COST_PROTOCOL = {
    "params": "trainable + frozen parameters of the deraining network",
    "gflops": "GFLOPs of one forward pass at the size stated in the model card",
    "ms_per_image": "mean forward time per image in this run on its device (decode/encode excluded)",
}


def _task_scores(store: Store, model_key: str, dataset: str, unit: str, columns: dict) -> dict[str, float]:
    from bench.downstream.tasks import build_task

    name = unit.split("#", 1)[0]
    try:
        task = build_task(name)
    except Exception:  # task YAML removed since the run: its columns cannot be recomputed
        return {}
    preds = store.predictions(model_key, dataset, unit)
    labels = store.labels(dataset, unit) or None
    source = "none" if labels is None else _label_source(store, dataset, unit)
    if labels is not None:
        preds = {k: v for k, v in preds.items() if k in labels}
        labels = {k: labels[k] for k in preds}
    scores = task.score(preds, labels)
    for m in task.metrics:
        if m.name in scores and m.name not in columns:
            columns[m.name] = ColumnInfo(m.name, m.higher_is_better, m.value_range,
                                         task.protocol(source), "task")
    return {k: v for k, v in scores.items() if any(m.name == k for m in task.metrics)}


def _label_source(store: Store, dataset: str, unit: str) -> str:
    row = store.db.execute("SELECT source FROM labels WHERE dataset=? AND task=? LIMIT 1", (dataset, unit)).fetchone()
    return row[0] if row else "none"


def protocol_text(lb: Leaderboard, row: pd.Series) -> str:
    """One cell naming the protocol of every value in the row."""
    parts = []
    for c, info in lb.columns.items():
        if info.kind != "cost" and c in row and pd.notna(row[c]):
            parts.append(f"{c}: {info.protocol}")
    return " | ".join(parts)
