"""A Ray shard's rows: what one shard run added to its private store, and how the driver's store
takes them in. The rules are the store's own operations (``Store.forget_image_error``,
``Store.forget_deviations``), the ones the serial run applies image by image.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

# Images the shard finished: it holds a value for them and no image-level error.
_FINISHED = """SELECT DISTINCT model_key, dataset, dataset_fp, image_id FROM records r
    WHERE r.unit != '_image' AND r.error IS NULL AND NOT EXISTS (
        SELECT 1 FROM records e WHERE e.unit = '_image' AND e.error IS NOT NULL
        AND e.model_key = r.model_key AND e.dataset = r.dataset AND e.dataset_fp = r.dataset_fp
        AND e.image_id = r.image_id)"""


def write_delta(store, dst: Path, run_id: str) -> None:
    """The rows run ``run_id`` added to ``store`` into a new store file ``dst``: its records and
    deviations, the labels of its images, and the (small, idempotent) unit, binding, dataset and
    model tables."""
    type(store)(dst).close()                 # same schema, empty
    db = sqlite3.connect(dst)
    try:
        db.execute("ATTACH DATABASE ? AS src", (str(store.path),))
        db.execute("INSERT INTO records SELECT * FROM src.records WHERE run_id = ?", (run_id,))
        db.execute("INSERT INTO deviations SELECT * FROM src.deviations WHERE run_id = ?", (run_id,))
        db.execute("INSERT INTO labels SELECT * FROM src.labels l WHERE EXISTS (SELECT 1 FROM records r "
                   "WHERE r.dataset = l.dataset AND r.dataset_fp = l.dataset_fp AND r.image_id = l.image_id)")
        for t in ("units", "bindings", "datasets", "models"):
            db.execute(f"INSERT OR REPLACE INTO {t} SELECT * FROM src.{t}")
        db.commit()
    finally:
        db.close()


def shard_pairs(shard_path: Path) -> list[tuple[str, str]]:
    """(model key, dataset) pairs a shard holds records of."""
    db = sqlite3.connect(shard_path)
    try:
        return [tuple(r) for r in db.execute("SELECT DISTINCT model_key, dataset FROM records")]
    finally:
        db.close()


def shard_task_units(shard_path: Path, dataset: str) -> list[str]:
    """The task units a shard bound to ``dataset`` (the serial run's task slots there)."""
    db = sqlite3.connect(shard_path)
    try:
        return [u for (u,) in db.execute("SELECT DISTINCT unit FROM bindings WHERE dataset=? ORDER BY unit",
                                         (dataset,))]
    finally:
        db.close()


def merge_shard(store, shard_path: Path) -> int:
    """Copy every table of the shard (but ``runs``: the driver records its own run) into ``store``,
    inside one transaction; an image the shard finished first loses its old error record and old
    tiling/OOM deviations."""
    shard = sqlite3.connect(shard_path)
    try:
        tables = [t for (t,) in shard.execute("SELECT name FROM sqlite_master WHERE type='table' "
                                              "AND name NOT LIKE 'sqlite_%'")]
        rows = 0
        with store.transaction():
            for key, dataset, fp, image_id in shard.execute(_FINISHED).fetchall():
                store.forget_image_error(key, dataset, image_id, fp)
                store.forget_deviations(key, dataset, image_id, fp)
            for t in tables:
                if t == "runs":
                    continue
                data = shard.execute(f'SELECT * FROM "{t}"').fetchall()
                if data:
                    marks = ",".join("?" * len(data[0]))
                    store.db.executemany(f'INSERT OR REPLACE INTO "{t}" VALUES ({marks})', data)
                    rows += len(data)
        return rows
    finally:
        shard.close()
