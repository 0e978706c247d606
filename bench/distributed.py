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
              index: int, count: int) -> dict[str, Any]:
    """Runs on a worker: one shard into a temporary store; returns its bytes, outputs and log."""
    from bench.offline import configure
    from bench.runner import Runner

    ctx = RunContext(**ctx_fields)
    configure(ctx.offline)
    with tempfile.TemporaryDirectory(prefix="bench-shard-") as tmp:
        cfg = RunConfig(**{**cfg_fields, "models": [model], "datasets": [dataset], "out": Path(tmp),
                           "context": ctx, "shard": (index, count)})
        runner = Runner(cfg)
        log = runner.run()
        runner.store.close()
        store = Path(tmp) / "store.sqlite"
        outputs = {str(p.relative_to(tmp)): p.read_bytes() for p in sorted((Path(tmp) / "cache").rglob("*.png"))}
        return {"store": store.read_bytes(), "outputs": outputs, "log": log.record(),
                "traces": log.traces}


def merge_store(dst: sqlite3.Connection, src_path: Path) -> int:
    """Copy every row of every table of ``src_path`` into ``dst`` (same schema), in one transaction."""
    dst.execute("ATTACH DATABASE ? AS shard", (str(src_path),))
    try:
        tables = [t for (t,) in dst.execute("SELECT name FROM shard.sqlite_master WHERE type='table' "
                                            "AND name NOT LIKE 'sqlite_%'")]
        rows = 0
        dst.execute("BEGIN IMMEDIATE")
        try:
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
    pending = {remote.remote(cfg_fields, ctx_fields, *unit): unit for unit in plan}
    store = Store(Path(cfg.out) / "store.sqlite")
    log.progress(f"ray: {len(plan)} shards ({len(cfg.models)} models × {len(cfg.datasets)} datasets × {shards})")
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        unit = pending.pop(done[0])
        try:
            result = ray.get(done[0])
        except Exception as e:  # retries exhausted: the shard is a failure, the run goes on
            log.fail(unit[0], unit[1], "", f"shard {unit[2]}/{unit[3]} failed on Ray: {e.__class__.__name__}: {e}")
            continue
        with log.stage("merge shards"):
            _merge_result(store, Path(cfg.out), result)
        _absorb_log(log, result["log"], result["traces"])
        log.progress(f"ray: merged {unit[0]} on {unit[1]} shard {unit[2] + 1}/{unit[3]}")
    log.finish(store)
    return log


def _merge_result(store, out: Path, result: dict[str, Any]) -> None:
    for rel, data in result["outputs"].items():      # outputs first: a record never points at a missing PNG
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.part")
        tmp.write_bytes(data)
        tmp.replace(target)
    with tempfile.NamedTemporaryFile(suffix=".sqlite", delete=False) as f:
        f.write(result["store"])
        path = Path(f.name)
    try:
        merge_store(store.db, path)
    finally:
        path.unlink(missing_ok=True)


def _absorb_log(log: RunLog, record: dict[str, Any], traces: list[str]) -> None:
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
