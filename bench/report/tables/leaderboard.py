"""Store -> leaderboard: one row per (model, dataset version), every column over the same images.

Reads the store and nothing else: column metadata (direction, range, protocol) comes from the
units table written when the run was planned, task label sources and protocols from the
bindings table. Task scores (mAP, mIoU) are recomputed from stored predictions and labels by the
scoring code of the task *type* recorded in the units table, with the parameters recorded there.

Coverage rule. A row's values are means (or dataset-level scores) over the images on which every
unit of the row succeeded; the other images are left out of the whole row, each with its reason
(``Leaderboard.left_out``). Rows of one dataset whose covered image set differs from the set the
compared methods cover together are ``complete = False``: shown, marked incomplete, not ranked.
``common_subset=True`` instead restricts every row of a dataset to the images all its rows cover.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from bench.columns import ColumnInfo
from bench.report.labels import REFERENCE_MODELS
from bench.store import IMAGE_UNIT, Store
from bench.units import UnitInfo, split_unit

COST_COLUMNS = ("params", "gflops", "ms_per_image")
ROW_KEYS = ["model", "variant", "model_key", "dataset", "dataset_fp"]
PER_CLASS_KEYS = ["model", "variant", "dataset", "task", "class_id", "class_name", "metric", "value", "n_labels",
                  "images", "label_source", "protocol"]


@dataclass
class Leaderboard:
    table: pd.DataFrame
    columns: dict[str, ColumnInfo] = field(default_factory=dict)
    per_image: pd.DataFrame = field(default_factory=pd.DataFrame)
    left_out: pd.DataFrame = field(default_factory=pd.DataFrame)      # model_key, dataset, image_id, reason
    deviations: pd.DataFrame = field(default_factory=pd.DataFrame)
    warnings: list[str] = field(default_factory=list)
    common_subset: bool = False
    weights_notes: dict[str, str] = field(default_factory=dict)       # model_key -> own-trained / third-party
    per_class: pd.DataFrame = field(default_factory=pd.DataFrame)     # per-class AP / IoU, long (PER_CLASS_KEYS)

    @property
    def metric_columns(self) -> list[str]:
        return [c for c, info in self.columns.items() if info.kind != "cost"]


_COST_PROTOCOL = {
    "params": "trainable + frozen parameters of the deraining network",
    "gflops": "GFLOPs of one forward pass at the size stated in the model card",
    "ms_per_image": "mean forward time per image in this run on its device (decode/encode excluded)",
}


def build(store: Store, common_subset: bool = False) -> Leaderboard:
    units = store.units()
    bindings = store.bindings()
    cov = store.coverage()
    warnings: list[str] = []
    shown = _shown_versions(store, cov, warnings)
    cov = cov[[(d, f) in shown for d, f in zip(cov["dataset"], cov["dataset_fp"])]] if len(cov) else cov
    names = _column_names(cov, units, warnings)
    columns: dict[str, ColumnInfo] = {}
    rows, left, per_class = [], [], []
    scorers: dict[str, Any] = {}
    for key, grp in cov.groupby(["model_key", "dataset", "dataset_fp"], sort=False):
        model_key, dataset, fp = key
        covered, reasons, row_units = _coverage(store, grp, bindings, units, dataset, fp)
        first = grp.iloc[0]
        rows.append({"model": first["model"], "variant": first["variant"], "model_key": model_key,
                     "dataset": dataset, "dataset_fp": fp, "_covered": covered, "_seen": set(grp["image_id"]),
                     "_units": row_units, "_reasons": reasons,
                     "errors": grp.loc[grp["error"].notna(), "image_id"].nunique()})
    _apply_coverage_rule(rows, common_subset)
    models = {r.model_key: r for r in store.models().itertuples()}
    out_rows = []
    for r in rows:
        mk, ds, fp, covered = r["model_key"], r["dataset"], r["dataset_fp"], r["_covered"]
        grp = cov[(cov["model_key"] == mk) & (cov["dataset"] == ds) & (cov["dataset_fp"] == fp)]
        row = {k: r[k] for k in ROW_KEYS}
        row.update(images=len(covered), errors=r["errors"], left_out=len(r["_seen"] - covered),
                   complete=r["complete"], compared_images=r["compared_images"], coverage=_set_id(covered))
        protocols = []
        for unit in sorted(r["_units"], key=_unit_order(units)):
            info = units.get(unit)
            if split_unit(unit)[1] is None:                 # a measure: mean over the covered images
                vals = grp[(grp["unit"] == unit) & grp["image_id"].isin(covered) & grp["error"].isna()]["value"]
                col = names.get(unit, unit)
                columns.setdefault(col, _measure_column(unit, info, grp))
                row[col] = float(vals.mean()) if len(vals) else math.nan
                protocols.append(f"{col}: {columns[col].protocol_text()}")
            else:
                scores, proto, classes = _task_scores(store, unit, info, bindings.get((unit, ds, fp)), mk, ds, fp,
                                                      covered, scorers, warnings)
                per_class += [{"model": r["model"], "variant": r["variant"], "dataset": ds,
                               "task": _task_label(unit, names), **c,
                               "images": len(covered), "label_source": (bindings.get((unit, ds, fp)) or ("none",))[0],
                               "protocol": proto} for c in classes]
                for metric, value in scores.items():
                    col = names.get((unit, metric), metric)
                    c = next((c for c in (info.columns if info else []) if c.name == metric), None)
                    if c is None:
                        continue
                    columns.setdefault(col, ColumnInfo.from_dict({**c.to_dict(), "name": col, "protocol": proto,
                                                                  "kind": "task"}))
                    row[col] = value
                if scores:
                    protocols.append(f"{split_unit(unit)[0]}: {proto}")
        info = models[mk].info if mk in models else {}
        for c in COST_COLUMNS:
            if info.get(c) is not None:
                row[c] = info[c]
        row["protocol"] = " | ".join(protocols)
        out_rows.append(row)
        for image_id, why in sorted(r["_reasons"].items()):
            left.append({"model_key": mk, "model": row["model"], "variant": row["variant"], "dataset": ds,
                         "dataset_fp": fp, "image_id": image_id, "reason": why})
    table = pd.DataFrame(out_rows)
    for c in COST_COLUMNS:
        if c in table:
            columns[c] = ColumnInfo(c, reference="", higher_is_better=False, value_range=(0.0, math.inf),
                                    protocol=_COST_PROTOCOL[c], kind="cost")
    if not table.empty:
        ordered = ROW_KEYS + ["images", "errors", "left_out", "complete", "compared_images", "coverage"]
        table = table[ordered + [c for c in columns if c in table] + ["protocol"]]
        table = table.sort_values(["dataset", "model"], kind="stable").reset_index(drop=True)
    per_image = store.per_image()
    if len(per_image):
        per_image = per_image[[(d, f) in shown for d, f in zip(per_image["dataset"], per_image["dataset_fp"])]]
    devs = store.deviations()
    if len(devs):
        devs = devs[[(d, f) in shown for d, f in zip(devs["dataset"], devs["dataset_fp"])]]
    return Leaderboard(table=table, columns=columns, per_image=per_image,
                       left_out=pd.DataFrame(left, columns=["model_key", "model", "variant", "dataset", "dataset_fp",
                                                            "image_id", "reason"]),
                       deviations=devs, warnings=warnings, common_subset=common_subset,
                       weights_notes=weights_notes(models, set(table["model_key"]) if not table.empty else set()),
                       per_class=pd.DataFrame(per_class, columns=PER_CLASS_KEYS))


def weights_notes(models: dict, keys: set[str]) -> dict[str, str]:
    """model_key -> one sentence for weights a reader must know about: own-trained (with the
    training budget and data) or a copy of doubtful provenance. From the store's models table."""
    notes = {}
    for mk in sorted(keys):
        prov = (models[mk].info.get("weights_provenance") or {}) if mk in models else {}
        if prov.get("source") == "own-trained":
            text = (f"own-trained: {prov.get('budget', 'budget not recorded')}, on {prov.get('trained_on', '?')}"
                    + (f" ({prov['ablation']})" if prov.get("ablation") else "")
                    + (f"; provenance {prov['provenance']}" if prov.get("provenance") else ""))
        elif prov.get("source") == "user model":     # bench.plugins: registered outside the package
            text = (f"user model, defined in {prov.get('plugin', '?')} (sha256 {prov.get('plugin_sha256', '?')})"
                    + (f", {prov['entry_point']}" if prov.get("entry_point") else ""))
        elif prov.get("provenance"):
            text = str(prov["provenance"])
        else:
            continue
        notes[mk] = text
    return notes


# --- which records count -------------------------------------------------------------------------

def _shown_versions(store: Store, cov: pd.DataFrame, warnings: list[str]) -> set[tuple[str, str]]:
    """One content version per dataset name: the newest; older ones are named, not merged."""
    shown = set()
    for dataset, grp in cov.groupby("dataset", sort=False):
        fps = list(dict.fromkeys(grp["dataset_fp"]))
        if len(fps) == 1:
            shown.add((dataset, fps[0]))
            continue
        created = {v["fingerprint"]: v["created"] for v in store.dataset_versions(dataset)}
        newest = max(fps, key=lambda f: created.get(f, -1.0))
        shown.add((dataset, newest))
        old = ", ".join(f[:12] or "unrecorded (schema 1)" for f in fps if f != newest)
        warnings.append(f"{dataset}: the store holds {len(fps)} content versions of this dataset; the tables show "
                        f"the newest ({newest[:12]}), records of the others ({old}) are kept apart, not merged")
    return shown


def _task_label(unit: str, names: dict) -> str:
    """The task's name; with its settings hash where the store holds several settings of it."""
    task, settings = split_unit(unit)
    return f"{task}#{settings}" if any(isinstance(k, tuple) and k[0] == unit for k in names) else task


def _column_names(cov: pd.DataFrame, units: dict[str, UnitInfo], warnings: list[str]) -> dict:
    """Column name per measure unit and per (task unit, metric). Two settings of one task in the
    tables get separate columns (metric#<settings hash>), never one merged column."""
    names: dict = {}
    task_units = [u for u in dict.fromkeys(cov["unit"]) if split_unit(u)[1] is not None]
    by_task: dict[str, list[str]] = {}
    for u in task_units:
        by_task.setdefault(split_unit(u)[0], []).append(u)
    for task, us in by_task.items():
        if len(us) > 1:
            warnings.append(f"task {task}: {len(us)} settings in this store ({', '.join(sorted(us))}); each has its "
                            "own columns, suffixed with its settings hash")
            for u in us:
                for c in (units[u].columns if u in units else []):
                    names[(u, c.name)] = f"{c.name}#{split_unit(u)[1]}"
    return names


def _coverage(store: Store, grp: pd.DataFrame, bindings: dict, units: dict, dataset: str, fp: str):
    """(images on which every unit of the row succeeded, {left-out image: reason}, the row's units)."""
    row_units = sorted(u for u in set(grp["unit"]) if u != IMAGE_UNIT)
    images = list(dict.fromkeys(grp["image_id"]))
    failed = grp[(grp["unit"] == IMAGE_UNIT) & grp["error"].notna()].drop_duplicates("image_id")
    failed = dict(zip(failed["image_id"], failed["error"]))
    recs = grp[grp["unit"] != IMAGE_UNIT]
    is_task = recs["unit"].map(lambda u: split_unit(u)[1] is not None)
    ok = pd.Series((recs["error"].isna() & (is_task | recs["value"].notna())).to_numpy(),
                   index=pd.MultiIndex.from_arrays([recs["image_id"], recs["unit"]]))
    ok = ok[~ok.index.duplicated()]
    good = ok.unstack(fill_value=False).reindex(index=images, columns=row_units, fill_value=False).all(axis=1)
    good &= ~good.index.isin(list(failed))
    labels = {}
    for u in row_units:
        if split_unit(u)[1] is not None:
            source = (bindings.get((u, dataset, fp)) or ("none", ""))[0]
            if source != "none":
                have = store.labels(dataset, u, fp, source)
                labels[u] = (have, store.label_errors(dataset, u, fp))
                good &= good.index.map(lambda i, have=have: have.get(i) is not None).to_numpy(bool)
    covered = set(good[good].index)
    reasons = {}
    detail = recs.set_index(["image_id", "unit"])
    for image_id in good[~good].index:
        if image_id in failed:
            reasons[image_id] = str(failed[image_id])           # the failure says it all
            continue
        why = []
        mine = detail.xs(image_id, level=0) if image_id in detail.index.get_level_values(0) else detail.iloc[:0]
        for u in row_units:
            if u not in mine.index:
                why.append(f"{u} not computed")
                continue
            rec = mine.loc[u] if not isinstance(mine.loc[u], pd.DataFrame) else mine.loc[u].iloc[0]
            if pd.notna(rec["error"]):
                why.append(f"{u}: {rec['error']}")
            elif split_unit(u)[1] is None and pd.isna(rec["value"]):
                why.append(f"{u} undefined (NaN)")
            elif u in labels:
                have, errs = labels[u]
                if image_id in errs:
                    why.append(f"{u} labels: {errs[image_id]}")
                elif have.get(image_id) is None:
                    why.append(f"{u}: no labels for this image")
        reasons[image_id] = "; ".join(dict.fromkeys(why)) or "not covered"
    return covered, reasons, row_units


def _apply_coverage_rule(rows: list[dict], common_subset: bool) -> None:
    by_ds: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        by_ds.setdefault((r["dataset"], r["dataset_fp"]), []).append(r)
    for block in by_ds.values():
        compared = [r for r in block if r["model"] not in REFERENCE_MODELS] or block
        if common_subset:
            common = set.intersection(*(r["_covered"] for r in block))
            for r in block:
                for i in r["_covered"] - common:
                    r["_reasons"][i] = "not covered by every row of this dataset (common subset)"
                r["_covered"] = common
                r["complete"] = True
                r["compared_images"] = len(common)
            continue
        full = set.union(*(r["_covered"] for r in compared))
        for r in block:
            r["complete"] = r["_covered"] == full
            r["compared_images"] = len(full)


def _set_id(ids: set[str]) -> str:
    return hashlib.sha1("\n".join(sorted(ids)).encode()).hexdigest()[:12]


def _unit_order(units: dict[str, UnitInfo]):
    def key(u: str):
        return (split_unit(u)[1] is not None, u)
    return key


# --- columns ---------------------------------------------------------------------------------------

def _measure_column(unit: str, info: UnitInfo | None, grp: pd.DataFrame) -> ColumnInfo:
    if info is not None and info.columns:
        return ColumnInfo.from_dict({**info.columns[0].to_dict(), "name": unit, "kind": "measure"})
    recorded = grp.loc[(grp["unit"] == unit) & grp["protocol"].notna(), "protocol"]
    text = recorded.iloc[0] if len(recorded) else "protocol not recorded"
    return ColumnInfo(unit, reference="", higher_is_better=True, value_range=(-math.inf, math.inf),
                      protocol=f"{text} (no units-table entry: direction assumed ↑)", kind="measure")


def _task_scores(store: Store, unit: str, info: UnitInfo | None, binding, model_key: str, dataset: str, fp: str,
                 covered: set[str], scorers: dict, warnings: list[str]) -> tuple[dict[str, float], str, list]:
    """(the row's task columns, protocol, per-class rows) over the covered images."""
    source, proto = binding if binding else ("none", "")
    if info is None or not info.type:
        msg = (f"task unit {unit}: its type and parameters are not recorded in the store; its scores cannot "
               "be recomputed (rerun the task to record them)")
        if msg not in warnings:
            warnings.append(msg)
        return {}, proto, []
    scorer = scorers.get(unit)
    if scorer is None:
        try:
            scorer = scorers[unit] = task_from_units(info, source)
        except Exception as e:
            warnings.append(f"task unit {unit}: scoring code of type {info.type!r} unavailable ({e})")
            scorers[unit] = False
            return {}, proto, []
    if scorer is False:
        return {}, proto, []
    preds = {k: v for k, v in store.predictions(model_key, dataset, unit, fp).items() if k in covered}
    labels = None
    if source != "none":
        have = store.labels(dataset, unit, fp, source)
        labels = {k: have[k] for k in preds if k in have}
    detailed = getattr(scorer, "score_per_class", None)
    scores, classes = ((detailed(preds, labels) if detailed else (scorer.score(preds, labels), []))
                       if preds else ({}, []))
    wanted = {c.name for c in info.columns}
    return {k: float(v) for k, v in scores.items() if k in wanted}, proto, classes


def task_from_units(info: UnitInfo, label_source: str):
    """The task type's scoring code with the parameters recorded in the units table."""
    from bench.downstream import TASK_TYPES
    from bench.downstream.base import TaskConfig

    config = TaskConfig(name=info.name, type=info.type, label_source=label_source, params=dict(info.params),
                        description=info.protocol)
    return TASK_TYPES.load(info.type)(config)


def protocol_text(lb: Leaderboard, row: pd.Series) -> str:
    """One cell naming the protocol of every value in the row (as recorded in the store)."""
    if "protocol" in row and isinstance(row["protocol"], str) and row["protocol"]:
        return row["protocol"]
    parts = []
    for c, info in lb.columns.items():
        if info.kind != "cost" and c in row and pd.notna(row[c]):
            parts.append(f"{c}: {info.protocol_text()}")
    return " | ".join(parts)

