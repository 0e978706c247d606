"""Store schema migrations, run once when ``Store`` opens an older file.

Each migration creates the tables of the version it migrates *to* from a frozen copy of that
version's schema (``SCHEMA_V1``, ``SCHEMA_V2`` below, never edited), not from today's ``SCHEMA``:
a version-1 file first becomes exactly a version-2 file, then a later migration takes it on.

Version 1 (no ``meta`` table): records and labels without ``dataset_fp``, no units table. The
migration keeps every record (``dataset_fp`` = '' : "content not recorded"), and writes the units
table from what version-1 stores hold: the protocol text stored with each record, label sources
from the labels table, and for task units the type and parameters of today's task YAML **only
where its settings hash equals the one in the unit key** (so the parameters are exactly those the
predictions were made with); otherwise the unit is recorded with type "" and its scores cannot be
recomputed (the report says so). Measure columns take direction and range from the measure
registry when the name is still registered.
"""
from __future__ import annotations

import sqlite3

from bench.units import UnitInfo, split_unit, task_unit_key

# Schema 1, as written before schema versions existed (no ``meta`` table). Frozen.
SCHEMA_V1 = """
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

# Schema 2: content fingerprints, units, bindings, datasets, deviations. Frozen.
SCHEMA_V2 = """
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


def migrate(db: sqlite3.Connection, old: int) -> None:
    """Take a store of version ``old`` to the newest version, one step at a time."""
    if old < 2:
        _v1_to_v2(db)


def _v1_to_v2(db: sqlite3.Connection) -> None:
    db.execute("BEGIN")
    try:
        db.execute("ALTER TABLE records RENAME TO records_v1")
        db.execute("ALTER TABLE labels RENAME TO labels_v1")
        for stmt in SCHEMA_V2.split(";"):
            if stmt.strip():
                db.execute(stmt)
        db.execute("INSERT INTO records SELECT model_key, model, variant, dataset, '', image_id, unit, value, "
                   "payload, protocol, error, run_id, created FROM records_v1")
        db.execute("INSERT INTO labels SELECT dataset, '', task, image_id, source, payload, error FROM labels_v1")
        db.execute("DROP TABLE records_v1")
        db.execute("DROP TABLE labels_v1")
        for unit in _units(db):
            db.execute("INSERT OR REPLACE INTO units VALUES (?,?,?,?,?,?,?,?,?)", unit.row())
        for unit, dataset, proto in db.execute(
                "SELECT unit, dataset, MIN(protocol) FROM records WHERE payload IS NOT NULL GROUP BY unit, dataset"
        ).fetchall():
            src = db.execute("SELECT source FROM labels WHERE dataset=? AND task=? LIMIT 1", (dataset, unit)).fetchone()
            db.execute("INSERT OR REPLACE INTO bindings VALUES (?,?,?,?,?)",
                       (unit, dataset, "", src[0] if src else "none", proto or ""))
        db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', '2')")
        db.execute("INSERT OR REPLACE INTO meta VALUES ('migrated_from', '1')")
        db.execute("COMMIT")
    except Exception:
        db.execute("ROLLBACK")
        raise


def _units(db: sqlite3.Connection) -> list[UnitInfo]:
    out = []
    rows = db.execute("SELECT unit, MIN(protocol), MAX(payload IS NOT NULL) FROM records "
                      "WHERE error IS NULL AND unit != '_image' GROUP BY unit").fetchall()
    for unit, proto, is_task in rows:
        out.append(_task_unit(unit) if is_task else _measure_unit(unit, proto or ""))
    return out


def _measure_unit(name: str, proto: str) -> UnitInfo:
    from bench.columns import ColumnInfo

    try:
        from bench.measures import build_measure

        info = build_measure(name).info
        col = ColumnInfo.from_dict({**info.to_dict(), "name": name, "protocol": proto or info.protocol_text()})
        type_ = name
    except Exception:   # no longer registered: keep the values, direction unknown (assumed ↑)
        col = ColumnInfo(name, reference="", higher_is_better=True, value_range=(float("-inf"), float("inf")),
                         protocol=proto or "unknown (recorded before units were stored)")
        type_ = ""
    return UnitInfo(unit=name, kind="measure", type=type_, protocol=proto, columns=[col],
                    code_version="unknown (schema 1)")


def _task_unit(unit: str) -> UnitInfo:
    name, digest = split_unit(unit)
    try:
        from bench.downstream import TASK_TYPES
        from bench.downstream.tasks import load_task_configs

        cfg = load_task_configs().get(name)
        if cfg is not None and task_unit_key(cfg.name, cfg.type, cfg.params) == unit:
            task = TASK_TYPES.load(cfg.type)(cfg)
            return UnitInfo(unit=unit, kind="task", type=cfg.type, params=dict(cfg.params),
                            protocol=cfg.description, columns=list(task.metrics), code_version="unknown (schema 1)")
    except Exception:
        pass
    return UnitInfo(unit=unit, kind="task", type="", protocol="settings not recorded (schema 1)",
                    code_version="unknown (schema 1)")
