"""`bench run --ray [ADDRESS]`: the serial run's work, split into (model, dataset, shard) Ray tasks.

Each task runs the ordinary Runner over one shard (every ``count``-th image, starting at ``index``)
into a private temporary store, and returns that store and the derained PNGs it wrote. The driver
is the single writer of the results store: it merges each finished shard in one transaction, so a
worker killed mid-shard adds nothing partial and loses nothing already merged, and Ray retries its
task (``max_retries``). Tables are the serial run's: the same records, keyed the same way.

Several machines: start a head (``ray start --head``), join workers (``ray start --address
HEAD:6379``), then ``bench run --ray HEAD:6379 ...`` on the head. Data, weights and the package must be
at the same paths on every machine (a shared file system, or the same copies).
"""
from __future__ import annotations

import dataclasses
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.config import RunConfig, RunContext
from bench.summary import RunLog


def shard_plan(cfg: RunConfig, shards: int) -> list[tuple[str, str, int, int]]:
    """(model, dataset, index, count) for every model × dataset × shard the run selects."""
    return [(m, d, k, shards) for d in cfg.datasets for m in cfg.models for k in range(shards)]


def run_shard(cfg_fields: dict[str, Any], ctx_fields: dict[str, Any], model: str, dataset: str,
              index: int, count: int, snapshot: bytes | None = None) -> dict[str, Any]:
    """Runs on a worker: one shard, starting from a snapshot of the results store (so finished
    units are not redone), into a temporary folder; returns what this shard added (rows of its
    run, the PNGs it wrote) and its log."""
    from bench.offline import configure
    from bench.plugins import load_plugins
    from bench.runner import Runner

    load_plugins(cfg_fields.get("extra", {}).get("include", ()))   # the driver's plug-in folders: same models
    ctx = RunContext(**ctx_fields)
    configure(ctx.offline)
    with tempfile.TemporaryDirectory(prefix="bench-shard-") as tmp:
        tmp = Path(tmp)
        if snapshot:
            (tmp / "store.sqlite").write_bytes(snapshot)
        cfg = RunConfig(**{**cfg_fields, "models": [model], "datasets": [dataset], "out": tmp,
                           "context": ctx, "shard": (index, count)})
        runner = Runner(cfg)
        log = runner.run()
        runner.store.close()
        delta = tmp / "delta.sqlite"
        _delta_store(tmp / "store.sqlite", delta, log.run_id)
        outputs = {str(p.relative_to(tmp)): p.read_bytes() for p in sorted((tmp / "cache").rglob("*.png"))}
        return {"store": delta.read_bytes(), "outputs": outputs, "log": log.record(), "traces": log.traces}


def _delta_store(src: Path, dst: Path, run_id: str) -> None:
    """The rows one shard run added: its records and deviations, the labels of its images, and the
    (small, idempotent) unit, binding, dataset and model tables."""
    from bench.store import Store

    Store(dst).close()                       # same schema, empty
    db = sqlite3.connect(dst)
    db.execute("ATTACH DATABASE ? AS src", (str(src),))
    db.execute("INSERT INTO records SELECT * FROM src.records WHERE run_id = ?", (run_id,))
    db.execute("INSERT INTO deviations SELECT * FROM src.deviations WHERE run_id = ?", (run_id,))
    db.execute("INSERT INTO labels SELECT * FROM src.labels l WHERE EXISTS (SELECT 1 FROM records r "
               "WHERE r.dataset = l.dataset AND r.dataset_fp = l.dataset_fp AND r.image_id = l.image_id)")
    for t in ("units", "bindings", "datasets", "models"):
        db.execute(f"INSERT OR REPLACE INTO {t} SELECT * FROM src.{t}")
    db.commit()
    db.close()


# Images the shard finished: it holds a value for them and no image-level error.
_FINISHED = """SELECT DISTINCT model_key, dataset, dataset_fp, image_id FROM shard.records r
    WHERE r.unit != '_image' AND r.error IS NULL AND NOT EXISTS (
        SELECT 1 FROM shard.records e WHERE e.unit = '_image' AND e.error IS NOT NULL
        AND e.model_key = r.model_key AND e.dataset = r.dataset AND e.dataset_fp = r.dataset_fp
        AND e.image_id = r.image_id)"""


def merge_store(dst: sqlite3.Connection, src_path: Path, fresh_pairs: list[tuple[str, str]] = (),
                fresh_labels: list[str] = ()) -> int:
    """Bring one shard's store into ``dst`` (same schema) in one transaction, with the serial
    runner's semantics: ``fresh_pairs`` (model key, dataset) lose their old records first (--fresh);
    an image the shard finished loses its old error record and its old tiling/OOM deviations."""
    dst.execute("ATTACH DATABASE ? AS shard", (str(src_path),))
    try:
        tables = [t for (t,) in dst.execute("SELECT name FROM shard.sqlite_master WHERE type='table' "
                                            "AND name NOT LIKE 'sqlite_%'")]
        rows = 0
        dst.execute("BEGIN IMMEDIATE")
        try:
            for key, dataset in fresh_pairs:
                for t in ("records", "deviations"):
                    dst.execute(f"DELETE FROM main.{t} WHERE model_key=? AND dataset=?", (key, dataset))
            for dataset in fresh_labels:
                dst.execute("DELETE FROM main.labels WHERE dataset=?", (dataset,))
            for t, extra in (("records", "AND unit = '_image'"), ("deviations", "AND kind != 'crop'")):
                dst.execute(f"DELETE FROM main.{t} WHERE (model_key, dataset, dataset_fp, image_id) IN "
                            f"({_FINISHED}) {extra}")
            for t in tables:
                if t == "runs":       # the driver records its own run
                    continue
                rows += dst.execute(f'INSERT OR REPLACE INTO main."{t}" SELECT * FROM shard."{t}"').rowcount
            dst.execute("COMMIT")
        except BaseException:
            dst.execute("ROLLBACK")
            raise
        return rows
    finally:
        dst.execute("DETACH DATABASE shard")


def run_on_ray(cfg: RunConfig, address: str | None = None, shards: int = 2, log: RunLog | None = None,
               max_retries: int = 3, init_kwargs: dict[str, Any] | None = None) -> RunLog:
    import ray

    from bench.store import Store

    log = log or RunLog(cfg)
    ctx = cfg.context
    if not ray.is_initialized():
        kwargs = {"include_dashboard": False, "log_to_driver": False, **(init_kwargs or {})}
        ray.init(address=address or None, **kwargs)
    cfg_fields = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg)
                  if f.name not in ("models", "datasets", "out", "context", "shard")}
    ctx_fields = {f.name: getattr(ctx, f.name) for f in dataclasses.fields(ctx)
                  if not f.name.startswith("_") and f.name != "notices"}
    gpus = 1 if str(ctx.device).startswith("cuda") else 0
    remote = ray.remote(run_shard).options(num_cpus=1, num_gpus=gpus, max_retries=max_retries)
    plan = shard_plan(cfg, shards)
    store = Store(Path(cfg.out) / "store.sqlite")
    snapshot = None
    if store.path.is_file() and not cfg.fresh:     # workers skip what the store already holds
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        snapshot = ray.put(store.path.read_bytes())
    pending = {remote.remote(cfg_fields, ctx_fields, *unit, snapshot): unit for unit in plan}
    log.progress(f"ray: {len(plan)} shards ({len(cfg.models)} models × {len(cfg.datasets)} datasets × {shards})")
    freshened: set[tuple[str, str]] = set()
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        unit = pending.pop(done[0])
        try:
            result = ray.get(done[0])
        except Exception as e:  # retries exhausted: the shard is a failure, the run goes on
            log.fail(unit[0], unit[1], "", f"shard {unit[2]}/{unit[3]} failed on Ray: {e.__class__.__name__}: {e}")
            continue
        with tempfile.NamedTemporaryFile(suffix=".sqlite", delete=False) as f:   # the shard's rows, once
            f.write(result["store"])
            shard_db = Path(f.name)
        try:
            pairs = _pairs_in(shard_db)
            fresh = [p for p in pairs if cfg.fresh and p not in freshened]
            fresh_labels = sorted({d for _, d in fresh} - {d for _, d in freshened})
            freshened.update(fresh)
            with log.stage("merge shards"):
                _merge_result(store, Path(cfg.out), result["outputs"], shard_db, fresh, fresh_labels)
        finally:
            shard_db.unlink(missing_ok=True)
        _absorb_log(log, result["log"], result["traces"])
        log.progress(f"ray: merged {unit[0]} on {unit[1]} shard {unit[2] + 1}/{unit[3]}")
    log.finish(store)
    return log


def _pairs_in(shard_db: Path) -> list[tuple[str, str]]:
    db = sqlite3.connect(shard_db)
    try:
        return [tuple(r) for r in db.execute("SELECT DISTINCT model_key, dataset FROM records")]
    finally:
        db.close()


def _merge_result(store, out: Path, outputs: dict[str, bytes], shard_db: Path,
                  fresh: list[tuple[str, str]] = (), fresh_labels: list[str] = ()) -> None:
    """Outputs first (a record never points at a missing PNG), then the shard's rows."""
    import shutil

    from bench.store import output_dirs

    for key, dataset in fresh:   # --fresh: the pair's old cached outputs go (the shard recomputed them)
        for folder in output_dirs(out, key, dataset):
            shutil.rmtree(folder, ignore_errors=True)
    for rel, data in outputs.items():
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.part")
        tmp.write_bytes(data)
        tmp.replace(target)
    merge_store(store.db, shard_db, fresh, fresh_labels)


def _absorb_log(log: RunLog, record: dict[str, Any], traces: list[str]) -> None:
    for n in record.get("notices", []):      # e.g. "dataset changed since it was last run"
        if n not in log.cfg.context.notices:
            log.cfg.context.notices.append(n)
    for s in record.get("skipped", []):
        log.skip(s["kind"], s["name"], s["reason"])
    for f in record.get("failures", []):
        log.fail(f["model"], f["dataset"], f["image"], f["error"])
    for p in record.get("work", {}).get("pairs", []):
        counts = log.pair(p["model"], p["dataset"])
        for k, v in p.items():
            if k not in ("model", "dataset") and isinstance(v, (int, float)):
                counts[k] += v
    for k, v in record.get("timings_s", {}).items():
        log.timings[k] += v
    log.traces.extend(traces)
    log.timings["ray wall"] = time.time() - log.started
