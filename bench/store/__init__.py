"""The results store: per-image records in SQLite, and the named operations that keep its rules.

During a run one writer thread (``bench.engine.threads.Writer``) owns the connection and commits
a batch's records in one transaction, so a run killed at any point loses at most the batch in
flight, and a rerun finds exactly what is finished. Reports read only from here: the ``units``
table says what produced each column (type, parameters, weights, protocol, direction, range,
code version), ``bindings`` which label source a task used on a dataset, ``datasets`` the content
fingerprint (and file manifest) of every dataset version, ``deviations`` per-image departures
from the plain computation (tiling, out-of-memory retries, crops).

Identity is by content: every record and label carries ``dataset_fp`` (bench.data.fingerprint),
and ``model_key`` names weights sha256, model code version and I/O policy (``model_key_for``).
Schema version 2; a version-1 store (no fingerprints, no units table) is migrated when opened
(``bench.store.migrate``). The rules both executors share are operations here: ``forget_pair``
(--fresh), ``forget_image_error`` / ``forget_deviations`` (a recomputed, finished image loses its old
error and deviations), ``merge_shard`` (a Ray shard's rows); the PNG cache layout is ``cache.OutputCache``.
"""
from __future__ import annotations

import hashlib
import json
import math
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from bench.store.cache import OutputCache
from bench.store.migrate import migrate
from bench.store.shards import merge_shard
from bench.units import UnitInfo

SCHEMA_VERSION = 2

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS records (
    model_key TEXT NOT NULL, model TEXT NOT NULL, variant TEXT, dataset TEXT NOT NULL,
    dataset_fp TEXT NOT NULL DEFAULT '', image_id TEXT NOT NULL, unit TEXT NOT NULL, value REAL,
    payload TEXT, protocol TEXT, error TEXT, run_id TEXT, created REAL,
    PRIMARY KEY (model_key, dataset, dataset_fp, image_id, unit)
);
CREATE TABLE IF NOT EXISTS labels (
    dataset TEXT NOT NULL, dataset_fp TEXT NOT NULL DEFAULT '', task TEXT NOT NULL, image_id TEXT NOT NULL,
    source TEXT, payload TEXT, error TEXT,
    PRIMARY KEY (dataset, dataset_fp, task, image_id)
);
CREATE TABLE IF NOT EXISTS models (
    model_key TEXT PRIMARY KEY, model TEXT, variant TEXT, weights_sha256 TEXT, info TEXT
);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, started REAL, finished REAL, record TEXT
);
CREATE TABLE IF NOT EXISTS units (
    unit TEXT PRIMARY KEY, name TEXT, kind TEXT, type TEXT, params TEXT, weights_sha256 TEXT,
    protocol TEXT, columns TEXT, code_version TEXT
);
CREATE TABLE IF NOT EXISTS bindings (
    unit TEXT NOT NULL, dataset TEXT NOT NULL, dataset_fp TEXT NOT NULL DEFAULT '', label_source TEXT,
    protocol TEXT, PRIMARY KEY (unit, dataset, dataset_fp)
);
CREATE TABLE IF NOT EXISTS datasets (
    dataset TEXT NOT NULL, fingerprint TEXT NOT NULL, root TEXT, files INTEGER, manifest TEXT, created REAL,
    PRIMARY KEY (dataset, fingerprint)
);
CREATE TABLE IF NOT EXISTS deviations (
    model_key TEXT NOT NULL, dataset TEXT NOT NULL, dataset_fp TEXT NOT NULL DEFAULT '', image_id TEXT NOT NULL,
    kind TEXT NOT NULL, detail TEXT, run_id TEXT,
    PRIMARY KEY (model_key, dataset, dataset_fp, image_id, kind)
);
"""

# `unit` for a failure that concerns the whole image (unreadable file, failed forward pass)
IMAGE_UNIT = "_image"


def model_key_for(derainer) -> str:
    """A derainer's identity in the store: its key (name, variant, weights sha256) plus a hash of
    its code version and I/O policy, so changed model code never reuses old outputs."""
    blob = json.dumps({"code": str(getattr(derainer, "code_version", "")), "io": derainer.io.as_dict()},
                      sort_keys=True, default=str)
    return f"{derainer.key}~{hashlib.sha1(blob.encode()).hexdigest()[:8]}"


def weights_hash(model_key: str) -> str | None:
    """The weights sha256 prefix in a model key (``name@variant#<12 hex>~<8 hex>``), if any."""
    key = model_key.split("~", 1)[0]
    return key.rsplit("#", 1)[1] if "#" in key else None


def _json(payload: Any) -> str | None:
    return None if payload is None else json.dumps(payload, separators=(",", ":"))


class Store:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.outputs = OutputCache(self.path.parent)     # derained PNGs live beside the store
        self.migrated_from: int | None = None
        old = self._version()
        if old is not None and old < SCHEMA_VERSION:
            migrate(self.db, old)
            self.migrated_from = old
        self.db.executescript(SCHEMA)
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    def _version(self) -> int | None:
        """None for a new file; 1 for a store written before schema versions existed."""
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "records" not in tables:
            return None
        if "meta" not in tables:
            return 1
        row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(row[0]) if row else 1

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0])

    def close(self) -> None:
        """Fold the write-ahead log into the file, so ``store.sqlite`` alone is the whole store
        (copied to another machine, it reports the same)."""
        try:
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error:
            pass
        self.db.close()

    @contextmanager
    def transaction(self):
        """One transaction around the block (joins the caller's, if one is open)."""
        if self.db.in_transaction:
            yield
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def snapshot(self) -> bytes:
        """The whole store as one file's bytes (the write-ahead log folded in first)."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return self.path.read_bytes()

    # --- writing -----------------------------------------------------------------------------
    def put(self, *, model_key: str, model: str, variant: str | None, dataset: str, image_id: str,
            unit: str, value: float | None = None, payload: Any = None, protocol: str | None = None,
            error: str | None = None, run_id: str | None = None, dataset_fp: str = "") -> None:
        if value is not None and not math.isfinite(value):
            value = None if math.isnan(value) else value
        self.db.execute(
            "INSERT OR REPLACE INTO records VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (model_key, model, variant or "", dataset, dataset_fp, image_id, unit, value, _json(payload),
             protocol, error, run_id, time.time()))


    def put_label(self, dataset: str, task: str, image_id: str, source: str, payload: Any,
                  error: str | None = None, dataset_fp: str = "") -> None:
        self.db.execute("INSERT OR REPLACE INTO labels VALUES (?,?,?,?,?,?,?)",
                        (dataset, dataset_fp, task, image_id, source, _json(payload), error))

    def put_model(self, model_key: str, model: str, variant: str | None, weights_sha256: str | None,
                  info: dict[str, Any]) -> None:
        old = self.model_info(model_key)
        merged = {**old, **{k: v for k, v in info.items() if v is not None}}
        self.db.execute("INSERT OR REPLACE INTO models VALUES (?,?,?,?,?)",
                        (model_key, model, variant or "", weights_sha256, json.dumps(merged)))

    def put_run(self, run_id: str, started: float, finished: float | None, record: dict) -> None:
        self.db.execute("INSERT OR REPLACE INTO runs VALUES (?,?,?,?)",
                        (run_id, started, finished, json.dumps(record)))

    def put_unit(self, unit: UnitInfo) -> None:
        self.db.execute("INSERT OR REPLACE INTO units VALUES (?,?,?,?,?,?,?,?,?)", unit.row())

    def put_binding(self, unit: str, dataset: str, label_source: str, protocol: str, dataset_fp: str = "") -> None:
        self.db.execute("INSERT OR REPLACE INTO bindings VALUES (?,?,?,?,?)",
                        (unit, dataset, dataset_fp, label_source, protocol))

    def put_dataset(self, dataset: str, fingerprint: str, root: str, manifest: dict) -> None:
        self.db.execute("INSERT OR IGNORE INTO datasets VALUES (?,?,?,?,?,?)",
                        (dataset, fingerprint, root, len(manifest), json.dumps(manifest), time.time()))

    def put_deviation(self, model_key: str, dataset: str, image_id: str, kind: str, detail: Any,
                      run_id: str | None = None, dataset_fp: str = "") -> None:
        self.db.execute("INSERT OR REPLACE INTO deviations VALUES (?,?,?,?,?,?,?)",
                        (model_key, dataset, dataset_fp, image_id, kind, _json(detail), run_id))

    # --- the rules, one operation each -----------------------------------------------------------
    def forget_pair(self, model_key: str, dataset: str) -> None:
        """--fresh: every record, deviation and cached output of a (model, dataset) pair goes, all
        dataset versions."""
        for table in ("records", "deviations"):
            self.db.execute(f"DELETE FROM {table} WHERE model_key=? AND dataset=?", (model_key, dataset))
        self.outputs.forget_pair(model_key, dataset)

    def forget_labels(self, dataset: str, units: Iterable[str]) -> None:
        """--fresh, once per dataset: the labels of these task units go (they are recomputed)."""
        for u in units:
            self.db.execute("DELETE FROM labels WHERE dataset=? AND task=?", (dataset, u))

    def forget_image_error(self, model_key: str, dataset: str, image_id: str, dataset_fp: str = "") -> None:
        """A finished image (every unit succeeded now) loses its earlier failure record."""
        self.db.execute("DELETE FROM records WHERE model_key=? AND dataset=? AND dataset_fp=? AND image_id=? "
                        "AND unit=?", (model_key, dataset, dataset_fp, image_id, IMAGE_UNIT))

    def forget_deviations(self, model_key: str, dataset: str, image_id: str, dataset_fp: str = "") -> None:
        """A recomputed output loses the tiling / out-of-memory deviations of the old one (a crop
        belongs to the scoring, not the output, and stays)."""
        self.db.execute("DELETE FROM deviations WHERE model_key=? AND dataset=? AND dataset_fp=? AND "
                        "image_id=? AND kind != 'crop'", (model_key, dataset, dataset_fp, image_id))

    def merge_shard(self, shard_path: str | Path) -> int:
        """A Ray shard's rows (``shards.write_delta``), with the serial run's rules: an image the
        shard finished loses its old error and deviations first. Returns the rows merged."""
        return merge_shard(self, Path(shard_path))

    # --- reading -----------------------------------------------------------------------------
    def done_units(self, model_key: str, dataset: str, dataset_fp: str = "",
                   protocols: dict[str, str] | None = None) -> dict[str, set[str]]:
        """image_id -> units finished without error; with ``protocols`` (unit -> today's protocol
        text), a record computed under another protocol does not count as done."""
        out: dict[str, set[str]] = {}
        for image_id, unit, proto in self.db.execute(
                "SELECT image_id, unit, protocol FROM records WHERE model_key=? AND dataset=? AND dataset_fp=? "
                "AND error IS NULL", (model_key, dataset, dataset_fp)):
            if protocols is not None and unit in protocols and (proto or "") != protocols[unit]:
                continue
            out.setdefault(image_id, set()).add(unit)
        return out

    def labels(self, dataset: str, task: str, dataset_fp: str | None = None,
               source: str | None = None) -> dict[str, Any]:
        q = "SELECT image_id, payload FROM labels WHERE dataset=? AND task=? AND error IS NULL"
        args: list[Any] = [dataset, task]
        if dataset_fp is not None:
            q, args = q + " AND dataset_fp=?", args + [dataset_fp]
        if source is not None:
            q, args = q + " AND source=?", args + [source]
        return {i: (json.loads(p) if p is not None else None) for i, p in self.db.execute(q, args)}

    def label_errors(self, dataset: str, task: str, dataset_fp: str | None = None) -> dict[str, str]:
        q = "SELECT image_id, error FROM labels WHERE dataset=? AND task=? AND error IS NOT NULL"
        args: list[Any] = [dataset, task]
        if dataset_fp is not None:
            q, args = q + " AND dataset_fp=?", args + [dataset_fp]
        return dict(self.db.execute(q, args))

    def predictions(self, model_key: str, dataset: str, task: str, dataset_fp: str | None = None) -> dict[str, Any]:
        q = ("SELECT image_id, payload FROM records WHERE model_key=? AND dataset=? AND unit=? "
             "AND error IS NULL AND payload IS NOT NULL")
        args: list[Any] = [model_key, dataset, task]
        if dataset_fp is not None:
            q, args = q + " AND dataset_fp=?", args + [dataset_fp]
        return {i: json.loads(p) for i, p in self.db.execute(q, args)}

    def model_info(self, model_key: str) -> dict[str, Any]:
        row = self.db.execute("SELECT info FROM models WHERE model_key=?", (model_key,)).fetchone()
        return json.loads(row[0]) if row and row[0] else {}

    def per_image(self, units: Iterable[str] | None = None) -> pd.DataFrame:
        """Long per-image values and errors (task predictions stay in the store: ``coverage``)."""
        q = ("SELECT model_key, model, variant, dataset, dataset_fp, image_id, unit, value, protocol, error "
             "FROM records WHERE payload IS NULL OR error IS NOT NULL")
        df = pd.read_sql_query(q, self.db)
        if units is not None:
            df = df[df["unit"].isin(list(units)) | df["error"].notna()]
        return df

    def coverage(self) -> pd.DataFrame:
        """Every record without its payload: which (model, dataset version, image, unit) succeeded."""
        return pd.read_sql_query(
            "SELECT model_key, model, variant, dataset, dataset_fp, image_id, unit, value, protocol, error, "
            "payload IS NOT NULL AS has_payload FROM records", self.db)

    def errors(self) -> pd.DataFrame:
        return pd.read_sql_query(
            "SELECT model_key, model, dataset, image_id, unit, error FROM records WHERE error IS NOT NULL "
            "ORDER BY model_key, dataset, image_id", self.db)

    def models(self) -> pd.DataFrame:
        df = pd.read_sql_query("SELECT * FROM models", self.db)
        df["info"] = df["info"].map(lambda s: json.loads(s) if s else {})
        return df

    def units(self) -> dict[str, UnitInfo]:
        return {r[0]: UnitInfo.from_row(r) for r in self.db.execute(
            "SELECT unit, name, kind, type, params, weights_sha256, protocol, columns, code_version FROM units")}

    def bindings(self) -> dict[tuple[str, str, str], tuple[str, str]]:
        """(unit, dataset, dataset_fp) -> (label source, protocol)."""
        return {(u, d, f): (s, p) for u, d, f, s, p in self.db.execute("SELECT * FROM bindings")}

    def dataset_versions(self, dataset: str) -> list[dict[str, Any]]:
        """Fingerprints seen for a dataset name, oldest first."""
        return [{"fingerprint": fp, "root": root, "files": n, "manifest": json.loads(m or "{}"), "created": c}
                for fp, root, n, m, c in self.db.execute(
                    "SELECT fingerprint, root, files, manifest, created FROM datasets WHERE dataset=? "
                    "ORDER BY created", (dataset,))]

    def deviations(self) -> pd.DataFrame:
        df = pd.read_sql_query("SELECT * FROM deviations ORDER BY dataset, model_key, image_id", self.db)
        df["detail"] = df["detail"].map(lambda s: json.loads(s) if s else None)
        return df

    def model_dataset_pairs(self) -> list[tuple[str, str, str, str]]:
        """(model_key, model, variant, dataset) pairs with records (any dataset version)."""
        return list(self.db.execute(
            "SELECT DISTINCT model_key, model, variant, dataset FROM records ORDER BY dataset, model"))

    def rows(self) -> list[tuple[str, str, str, str, str]]:
        """(model_key, model, variant, dataset, dataset_fp): one leaderboard row each."""
        return list(self.db.execute(
            "SELECT DISTINCT model_key, model, variant, dataset, dataset_fp FROM records ORDER BY dataset, model"))

    def task_units(self, model_key: str, dataset: str, dataset_fp: str | None = None) -> list[str]:
        q = "SELECT DISTINCT unit FROM records WHERE model_key=? AND dataset=? AND payload IS NOT NULL"
        args: list[Any] = [model_key, dataset]
        if dataset_fp is not None:
            q, args = q + " AND dataset_fp=?", args + [dataset_fp]
        return [u for (u,) in self.db.execute(q, args)]
