"""Store + leaderboard -> intervals for every cell and significance-aware marks.

``analyse(store, lb)`` gathers, per dataset, the per-image values of every measure (through
``Store.per_image``) and a reweightable scorer for every downstream score (through
``Store.predictions`` / ``Store.labels``, bench/report/stats/scorers.py), then asks bench/report/stats/ (intervals.py, comparisons.py)
for a bootstrap interval per row and for the marks of each column. Nothing here runs a model.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bench.report.stats import comparisons, intervals
from bench.report.labels import REFERENCE_MODELS
from bench.store import IMAGE_UNIT


@dataclass
class DatasetData:
    dataset: str
    rows: dict[str, tuple[str, str]] = field(default_factory=dict)            # model_key -> (model, variant)
    measures: dict[str, dict[str, pd.Series]] = field(default_factory=dict)   # unit -> key -> image_id-indexed
    scorers: dict[str, dict[str, object]] = field(default_factory=dict)       # metric -> key -> scorer
    incomplete: set[str] = field(default_factory=set)   # rows covering other images (coverage rule): unranked

    def eligible(self) -> list[str]:
        return [k for k, (m, _) in self.rows.items() if m not in REFERENCE_MODELS and k not in self.incomplete]

    def key_of(self, model: str) -> str | None:
        keys = [k for k, (m, _) in self.rows.items() if m == model]
        return keys[0] if len(keys) == 1 else None

    def metric_names(self) -> list[str]:
        return list(self.measures) + list(self.scorers)

    def common_ids(self, metric: str, keys: list[str]) -> list[str]:
        if metric in self.measures:
            sets = [set(self.measures[metric][k].dropna().index) for k in keys if k in self.measures[metric]]
        else:
            sets = [set(self.scorers[metric][k].ids) for k in keys if k in self.scorers[metric]]
        return sorted(set.intersection(*sets)) if sets and len(sets) == len(keys) else []

    def statistic(self, metric: str, key: str, ids: list[str]):
        """weights [B, len(ids)] over ``ids`` -> the row's score on each reweighted image set [B]."""
        if metric in self.measures:
            v = self.measures[metric][key].loc[ids].to_numpy(dtype=float)

            def mean(w):
                w = np.atleast_2d(w)
                with np.errstate(invalid="ignore", divide="ignore"):
                    return w @ v / w.sum(axis=1)
            return mean
        scorer = self.scorers[metric][key]
        pos = {i: j for j, i in enumerate(scorer.ids)}
        where = np.array([pos[i] for i in ids], dtype=int)

        def score(w):
            w = np.atleast_2d(w)
            full = np.zeros((w.shape[0], scorer.n))
            full[:, where] = w
            return scorer.values(full)[metric]
        return score

    def per_image(self, metric: str, key: str) -> pd.Series:
        """Per-image values; for a dataset-level score, the score of each image alone (NaN where the
        image has no label)."""
        if metric in self.measures:
            return self.measures[metric][key]
        scorer = self.scorers[metric][key]
        return pd.Series(scorer.values(np.eye(scorer.n))[metric], index=scorer.ids, dtype=float)


@dataclass
class Analysis:
    settings: intervals.Settings
    data: dict[str, DatasetData]
    intervals: pd.DataFrame            # dataset, model_key, metric, value, lo, hi, n, method
    marks: dict[tuple[str, str], dict[str, str]]
    comparisons: pd.DataFrame
    higher: dict[str, bool]

    def interval(self, dataset: str, model_key: str, metric: str) -> intervals.Interval | None:
        return self._index.get((dataset, model_key, metric))

    def table_marks(self, dataset: str, keys: list[str], metric: str, fallback: list) -> list:
        """Cell marks for the rows ``keys`` of a table column ("best" | "second" | "tied" | None);
        ``fallback`` where this column was not compared (fewer than two compared rows)."""
        marks = self.marks.get((dataset, metric))
        if marks is None:
            return fallback
        return [marks.get(k) or None for k in keys]

    def pm(self, dataset: str, key: str, metric: str, decimals: int) -> str:
        """" ± half-width" of the row's interval, or "" when there is none."""
        iv = self.interval(dataset, key, metric)
        if iv is None or not (np.isfinite(iv.lo) and np.isfinite(iv.hi)):
            return ""
        return f" ± {iv.half:.{decimals}f}"

    def notes(self) -> list[str]:
        return [comparisons.MARK_RULE, "Intervals: " + self.settings.text() + "; dataset-level scores (mAP, mIoU) "
                "are rescored on each resampled image set from the per-image COCOeval matches / confusion "
                "matrices computed once; ± is half the interval width (leaderboard_ci.csv has both ends)."]

    def __post_init__(self):
        self._index = {(r.dataset, r.model_key, r.metric): intervals.Interval(r.value, r.lo, r.hi, r.n, r.method)
                       for r in self.intervals.itertuples()}


def collect(store, lb) -> dict[str, DatasetData]:
    """Per-image values and task scorers of every leaderboard row, over the images the row covers
    (the coverage rule, bench/report/tables/leaderboard.py); tasks rebuilt from the store's units table."""
    from bench.report.tables.leaderboard import task_from_units
    from bench.report.stats.scorers import task_scorer

    raw = lb.per_image if lb.per_image is not None and not lb.per_image.empty else store.per_image()
    values = raw[raw["error"].isna() & (raw["unit"] != IMAGE_UNIT) & raw["value"].notna()]
    left = getattr(lb, "left_out", None)
    if left is not None and len(left):
        out_ids = set(zip(left["model_key"], left["dataset"], left["image_id"]))
        values = values[[k not in out_ids for k in zip(values["model_key"], values["dataset"], values["image_id"])]]
    else:
        out_ids = set()
    out: dict[str, DatasetData] = {}
    fps: dict[tuple[str, str], str | None] = {}
    rows = lb.table.itertuples() if not lb.table.empty else []
    for r in rows:
        d = out.setdefault(r.dataset, DatasetData(r.dataset))
        d.rows[r.model_key] = (r.model, r.variant)
        if not bool(getattr(r, "complete", True)):
            d.incomplete.add(r.model_key)
        fps[r.model_key, r.dataset] = getattr(r, "dataset_fp", None)
    measure_cols = {c for c, info in lb.columns.items() if info.kind == "measure"}
    for (dataset, unit, key), g in values.groupby(["dataset", "unit", "model_key"]):
        if unit in measure_cols and dataset in out:
            out[dataset].measures.setdefault(unit, {})[key] = g.set_index("image_id")["value"].astype(float).sort_index()   # store order is thread order: sort, so intervals repeat
    task_cols = {c for c, info in lb.columns.items() if info.kind == "task"}
    units, bindings = store.units(), store.bindings()
    for dataset, d in out.items():
        for key in d.rows:
            fp = fps.get((key, dataset))
            for unit in store.task_units(key, dataset, fp):
                source = (bindings.get((unit, dataset, fp or "")) or ("none", ""))[0]
                info = units.get(unit)
                if info is None or not info.type or source == "none":
                    continue      # settings not recorded, or proxies only: nothing to resample
                try:
                    task = task_from_units(info, source)
                except Exception:
                    continue
                have = store.labels(dataset, unit, fp, source)
                preds = {k: v for k, v in store.predictions(key, dataset, unit, fp).items()
                         if k in have and (key, dataset, k) not in out_ids}
                scorer = task_scorer(task, preds, {k: have[k] for k in preds})
                if scorer is None:
                    continue
                for metric in scorer.values(np.ones((1, scorer.n))):
                    if metric in task_cols:
                        d.scorers.setdefault(metric, {})[key] = scorer
    return out


def analyse(store, lb, settings: intervals.Settings = intervals.DEFAULT) -> Analysis:
    data = collect(store, lb)
    higher = {m: info.higher_is_better for m, info in lb.columns.items()}
    rows, comps, marks = [], [], {}
    for dataset, d in data.items():
        for metric in d.metric_names():
            source = d.measures.get(metric) or d.scorers.get(metric)
            for key in source:
                if metric in d.measures:
                    iv = intervals.mean_interval(d.measures[metric][key].to_numpy(), settings)
                else:
                    sc = d.scorers[metric][key]
                    iv = intervals.resampled_interval(sc.n, lambda w, sc=sc: sc.values(w)[metric], settings)
                rows.append({"dataset": dataset, "model_key": key, "model": d.rows[key][0],
                             "variant": d.rows[key][1], "metric": metric, "value": iv.value, "lo": iv.lo,
                             "hi": iv.hi, "n": iv.n, "method": iv.method})
            keys = [k for k in d.eligible() if k in source]
            if len(keys) < 2:
                continue
            ids = d.common_ids(metric, keys)
            found: list[comparisons.Comparison] = []
            if metric in d.measures:
                marks[dataset, metric] = comparisons.significance_marks(
                    {k: d.measures[metric][k].loc[ids] for k in keys}, higher.get(metric, True), settings, found)
            else:
                marks[dataset, metric] = comparisons.significance_marks_resampled(
                    len(ids), {k: d.statistic(metric, k, ids) for k in keys}, higher.get(metric, True),
                    settings, found)
            comps += [{"dataset": dataset, "metric": metric, "a": c.a, "b": c.b, "n": c.n, "diff": c.diff,
                       "lo": c.lo, "hi": c.hi, "p_boot": c.p_boot, "p_wilcoxon": c.p_wilcoxon} for c in found]
    return Analysis(settings, data, pd.DataFrame(rows), marks, pd.DataFrame(comps), higher)


def interval_frame(lb, analysis: Analysis) -> pd.DataFrame:
    """The leaderboard with ``<metric>_lo`` / ``<metric>_hi`` after each metric and the method."""
    df = lb.table.copy()
    for m in [c for c, info in lb.columns.items() if info.kind != "cost" and c in df.columns]:
        lo, hi = [], []
        for _, r in df.iterrows():
            iv = analysis.interval(r["dataset"], r["model_key"], m)
            lo.append(iv.lo if iv else math.nan)
            hi.append(iv.hi if iv else math.nan)
        at = df.columns.get_loc(m) + 1
        df.insert(at, f"{m}_lo", lo)
        df.insert(at + 1, f"{m}_hi", hi)
    df["interval_method"] = analysis.settings.text()
    return df
