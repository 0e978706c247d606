"""`bench run --ray [ADDRESS]`: the serial run's work, split into (model, dataset, shard) Ray tasks.

Each task runs the ordinary Runner over one shard (every ``count``-th image, starting at ``index``)
into a private temporary store, and returns the rows it added and the derained PNGs it wrote. On the
driver, a ``Writer`` (as in the serial run) is the only holder of the results store: it applies the
store's own operations (``forget_pair`` and ``forget_labels`` for --fresh, ``merge_shard``, which
gives a finished image the serial run's ``forget_image_error`` / ``forget_deviations``), merging each
finished shard in one transaction, so a worker killed mid-shard adds nothing partial and loses
nothing already merged, and Ray retries its task (``max_retries``). Tables are the serial run's:
the same records, keyed the same way.

Several machines: start a head (``ray start --head``), join workers (``ray start --address
HEAD:6379``), then ``bench run --ray HEAD:6379 ...`` on the head. Data, weights and the package must be
at the same paths on every machine (a shared file system, or the same copies).
"""
from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.config import RunConfig, RunContext
from bench.engine.threads import Writer
from bench.store import Store
from bench.store.cache import OutputCache
from bench.store.shards import shard_pairs, shard_task_units, write_delta
from bench.summary import RunLog


def shard_plan(cfg: RunConfig, shards: int) -> list[tuple[str, str, int, int]]:
    """(model, dataset, index, count) for every model × dataset × shard the run selects."""
    return [(m, d, k, shards) for d in cfg.datasets for m in cfg.models for k in range(shards)]


def run_shard(cfg_fields: dict[str, Any], ctx_fields: dict[str, Any], model: str, dataset: str,
              index: int, count: int, snapshot: bytes | None = None) -> dict[str, Any]:
    """Runs on a worker: one shard, starting from a snapshot of the results store (so finished
    units are not redone), into a temporary folder; returns what this shard added (rows of its
    run, the PNGs it wrote) and its log."""
    from bench.engine.runner import Runner
    from bench.offline import configure
    from bench.plugins import load_plugins

    load_plugins(cfg_fields.get("include", ()))   # the driver's plug-in folders: same models
    ctx = RunContext(**ctx_fields)
    configure(ctx.offline)
    with tempfile.TemporaryDirectory(prefix="bench-shard-") as tmp:
        tmp = Path(tmp)
        if snapshot:
            (tmp / "store.sqlite").write_bytes(snapshot)
        cfg = RunConfig(**{**cfg_fields, "models": [model], "datasets": [dataset], "out": tmp,
                           "context": ctx, "shard": (index, count)})
        log = Runner(cfg).run()
        delta = tmp / "delta.sqlite"
        store = Store(tmp / "store.sqlite")
        try:
            write_delta(store, delta, log.run_id)
        finally:
            store.close()
        outputs = {rel: p.read_bytes() for rel, p in OutputCache(tmp).files().items()}
        return {"store": delta.read_bytes(), "outputs": outputs, "log": log.record(), "traces": log.traces}


def run_on_ray(cfg: RunConfig, address: str | None = None, shards: int = 2, log: RunLog | None = None,
               max_retries: int = 3, init_kwargs: dict[str, Any] | None = None) -> RunLog:
    import ray

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
    writer = Writer(Path(cfg.out) / "store.sqlite")
    try:
        snapshot = None
        if not cfg.fresh:     # workers skip what the store already holds
            snapshot = ray.put(writer.call(lambda st: st.snapshot()))
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
                fresh = [p for p in shard_pairs(shard_db) if cfg.fresh and p not in freshened]
                fresh_datasets = sorted({d for _, d in fresh} - {d for _, d in freshened})
                freshened.update(fresh)
                with log.stage("merge shards"):
                    _merge_result(writer, Path(cfg.out), result["outputs"], shard_db, fresh, fresh_datasets)
            finally:
                shard_db.unlink(missing_ok=True)
            _absorb_log(log, result["log"], result["traces"])
            log.progress(f"ray: merged {unit[0]} on {unit[1]} shard {unit[2] + 1}/{unit[3]}")
        writer.call(log.finish)
    finally:
        writer.close()
    return log


def _merge_result(writer: Writer, out: Path, outputs: dict[str, bytes], shard_db: Path,
                  fresh: list[tuple[str, str]] = (), fresh_datasets: list[str] = ()) -> None:
    """--fresh first (it removes the pair's old cached outputs), then the shard's outputs (a record
    never points at a missing PNG), then its rows; waits until they are on disk."""
    forget = [lambda st, k=k, d=d: st.forget_pair(k, d) for k, d in fresh]
    forget += [lambda st, d=d, u=shard_task_units(shard_db, d): st.forget_labels(d, u) for d in fresh_datasets]
    if forget:
        writer.submit([], forget)
    writer.submit([(out / rel, data) for rel, data in outputs.items()], [lambda st: st.merge_shard(shard_db)])
    writer.drain()


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
