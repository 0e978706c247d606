"""The results store: per-image records in SQLite, written as they are produced.

Every record is committed on its own, so a run killed at any point loses at most the unit in
flight, and a rerun finds exactly what is finished. Reports read only from here.
"""
from __future__ import annotations

import json
import math
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    model_key TEXT NOT NULL, model TEXT NOT NULL, variant TEXT, dataset TEXT NOT NULL,
    image_id TEXT NOT NULL, unit TEXT NOT NULL, value REAL, payload TEXT, protocol TEXT,
    error TEXT, run_id TEXT, created REAL,
    PRIMARY KEY (model_key, dataset, image_id, unit)
);
CREATE TABLE IF NOT EXISTS labels (
    dataset TEXT NOT NULL, task TEXT NOT NULL, image_id TEXT NOT NULL, source TEXT,
    payload TEXT, error TEXT,
    PRIMARY KEY (dataset, task, image_id)
);
CREATE TABLE IF NOT EXISTS models (
    model_key TEXT PRIMARY KEY, model TEXT, variant TEXT, weights_sha256 TEXT, info TEXT
);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, started REAL, finished REAL, record TEXT
);
"""

# `unit` for a failure that concerns the whole image (unreadable file, failed forward pass)
IMAGE_UNIT = "_image"


class Store:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    # --- writing -----------------------------------------------------------------------------
    def put(self, *, model_key: str, model: str, variant: str | None, dataset: str, image_id: str,
            unit: str, value: float | None = None, payload: Any = None, protocol: str | None = None,
            error: str | None = None, run_id: str | None = None) -> None:
        if value is not None and not math.isfinite(value):
            value = None if math.isnan(value) else value
        self.db.execute(
            "INSERT OR REPLACE INTO records VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (model_key, model, variant or "", dataset, image_id, unit, value,
             None if payload is None else json.dumps(payload, separators=(",", ":")),
             protocol, error, run_id, time.time()),
        )

    def put_label(self, dataset: str, task: str, image_id: str, source: str, payload: Any,
                  error: str | None = None) -> None:
        self.db.execute("INSERT OR REPLACE INTO labels VALUES (?,?,?,?,?,?)",
                        (dataset, task, image_id, source,
                         None if payload is None else json.dumps(payload, separators=(",", ":")), error))

    def put_model(self, model_key: str, model: str, variant: str | None, weights_sha256: str | None,
                  info: dict[str, Any]) -> None:
        old = self.model_info(model_key)
        merged = {**old, **{k: v for k, v in info.items() if v is not None}}
        self.db.execute("INSERT OR REPLACE INTO models VALUES (?,?,?,?,?)",
                        (model_key, model, variant or "", weights_sha256, json.dumps(merged)))

    def put_run(self, run_id: str, started: float, finished: float | None, record: dict) -> None:
        self.db.execute("INSERT OR REPLACE INTO runs VALUES (?,?,?,?)",
                        (run_id, started, finished, json.dumps(record)))

    def clear(self, model_key: str, dataset: str) -> None:
        self.db.execute("DELETE FROM records WHERE model_key=? AND dataset=?", (model_key, dataset))

    # --- reading -----------------------------------------------------------------------------
    def done_units(self, model_key: str, dataset: str) -> dict[str, set[str]]:
        """image_id -> units finished without error."""
        out: dict[str, set[str]] = {}
        for image_id, unit in self.db.execute(
                "SELECT image_id, unit FROM records WHERE model_key=? AND dataset=? AND error IS NULL",
                (model_key, dataset)):
            out.setdefault(image_id, set()).add(unit)
        return out

    def labels(self, dataset: str, task: str) -> dict[str, Any]:
        return {i: (json.loads(p) if p is not None else None) for i, p in self.db.execute(
            "SELECT image_id, payload FROM labels WHERE dataset=? AND task=? AND error IS NULL",
            (dataset, task))}

    def predictions(self, model_key: str, dataset: str, task: str) -> dict[str, Any]:
        return {i: json.loads(p) for i, p in self.db.execute(
            "SELECT image_id, payload FROM records WHERE model_key=? AND dataset=? AND unit=? "
            "AND error IS NULL AND payload IS NOT NULL", (model_key, dataset, task))}

    def model_info(self, model_key: str) -> dict[str, Any]:
        row = self.db.execute("SELECT info FROM models WHERE model_key=?", (model_key,)).fetchone()
        return json.loads(row[0]) if row and row[0] else {}

    def per_image(self, units: Iterable[str] | None = None) -> pd.DataFrame:
        q = ("SELECT model_key, model, variant, dataset, image_id, unit, value, protocol, error "
             "FROM records WHERE payload IS NULL OR error IS NOT NULL")
        df = pd.read_sql_query(q, self.db)
        if units is not None:
            df = df[df["unit"].isin(list(units)) | df["error"].notna()]
        return df

    def errors(self) -> pd.DataFrame:
        return pd.read_sql_query(
            "SELECT model_key, model, dataset, image_id, unit, error FROM records WHERE error IS NOT NULL "
            "ORDER BY model_key, dataset, image_id", self.db)

    def models(self) -> pd.DataFrame:
        df = pd.read_sql_query("SELECT * FROM models", self.db)
        df["info"] = df["info"].map(lambda s: json.loads(s) if s else {})
        return df

    def model_dataset_pairs(self) -> list[tuple[str, str, str, str | None]]:
        return list(self.db.execute(
            "SELECT DISTINCT model_key, model, variant, dataset FROM records ORDER BY dataset, model"))

    def task_units(self, model_key: str, dataset: str) -> list[str]:
        return [u for (u,) in self.db.execute(
            "SELECT DISTINCT unit FROM records WHERE model_key=? AND dataset=? AND payload IS NOT NULL",
            (model_key, dataset))]
