"""Where the panels of a comparison grid come from, for `bench report` and `bench figures` alike:
the runner's cached outputs, the dataset (rainy input and ground truth, which the runner does not
cache), the store's predictions, and which images and columns to show."""
from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd

from bench.report.figures.grids import GridColumn
from bench.report.labels import REFERENCE_MODELS, model_label
from bench.report.order import order_rows


def oracle_models(table: pd.DataFrame) -> dict[str, str]:
    """model_key -> "rainy" | "clean" for the reference rows of ``table``."""
    return {r["model_key"]: r["model"] for _, r in table.iterrows() if r["model"] in REFERENCE_MODELS}


def dataset_fallback(data_root: Path | None, oracles: dict[str, str]):
    """Rainy input / ground truth for the grids, read from the dataset (the runner caches only
    derained outputs). ``oracles``: model_key -> "rainy" | "clean"."""
    from bench.data import DATASETS
    from bench.imageio import read_rgb

    @functools.lru_cache(maxsize=None)
    def samples(dataset: str) -> dict:
        try:
            from bench.config import RunContext

            return {s.id: s for s in DATASETS.load(dataset).find(RunContext(data_root=data_root)).samples()}
        except Exception:  # not registered or not on disk: the grid panel says "missing"
            return {}

    def fallback(model_key: str, dataset: str, image_id: str):
        which = oracles.get(model_key)
        sample = samples(dataset).get(image_id) if which else None
        path = None if sample is None else (sample.rainy if which == "rainy" else sample.clean)
        return read_rgb(path) if path else None
    return fallback


def grid_columns(block: pd.DataFrame) -> list[GridColumn]:
    """rainy, each derainer (by label), clean."""
    return [GridColumn(model_label(r["model"], r["variant"]), r["model_key"]) for _, r in order_rows(block).iterrows()]


def sample_ids(lb, dataset: str, n: int) -> list[str]:
    """The first ``n`` image ids (sorted) that every model on this dataset finished without error."""
    raw = lb.per_image
    raw = raw[raw["dataset"] == dataset]
    ok = raw[raw["error"].isna()].groupby("image_id")["model_key"].nunique()
    bad = set(raw.loc[raw["error"].notna(), "image_id"])
    full = sorted(i for i, k in ok.items() if k == ok.max() and i not in bad)
    return full[:n]


def stored_prediction(store, unit: str):
    cache: dict[tuple[str, str], dict] = {}

    def prediction(model_key: str, dataset: str, image_id: str):
        if (model_key, dataset) not in cache:
            cache[model_key, dataset] = store.predictions(model_key, dataset, unit)
        return cache[model_key, dataset].get(image_id)
    return prediction


def output_path_for(out: Path):
    """(model_key, dataset, image_id) -> the runner's cached PNG (``OutputCache.newest``): the
    newest dataset version that has one, else the schema-1 path."""
    from bench.store.cache import OutputCache

    return OutputCache(out).newest
