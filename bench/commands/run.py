"""`bench run`: derain, measure, run downstream tasks, then write the leaderboard and a summary."""
from __future__ import annotations

import argparse
from pathlib import Path

from bench.config import RunConfig, RunContext, load_suite


def _names(text: str | None) -> list[str] | None:
    return [n.strip() for n in text.split(",") if n.strip()] if text else None


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--all", action="store_true", help="everything in configs/suite.yaml that can run here")
    p.add_argument("--suite", default="suite", help="suite file under configs/ (default: suite)")
    p.add_argument("--models", help="comma-separated model names (name or name@weights-variant-or-path)")
    p.add_argument("--include", action="append", metavar="DIR",
                   help="a folder of *.py plug-ins registering your models (bench.plugins.register_model; "
                        "repeatable; also $BENCH_INCLUDE); see docs/your_model.md")
    p.add_argument("--datasets", help="comma-separated dataset names (or folder:<path>)")
    p.add_argument("--measures", help="comma-separated measure names")
    p.add_argument("--tasks", help="comma-separated downstream task names (files in tasks/); 'none' for none")
    p.add_argument("--limit", type=int, help="first N images of each dataset")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.add_argument("--batch-size", type=int, default=1)
    p.add_argument("--out", default="results", help="results folder (default: results/)")
    p.add_argument("--data-root", help="where datasets live (default: $BENCH_DATA)")
    p.add_argument("--weights-dir", help="where checkpoints live (default: $BENCH_WEIGHTS)")
    p.add_argument("--offline", action="store_true", default=None,
                   help="never touch the network (default: $BENCH_OFFLINE)")
    p.add_argument("--fresh", action="store_true", help="recompute everything this run selects")
    p.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                   help="run (model, dataset, shard) units as Ray tasks: a local cluster, or ADDRESS "
                        "(host:6379) of a running one; needs derain-bench[ray]")
    p.add_argument("--shards", type=int, default=2, help="with --ray: shards per (model, dataset) (default 2)")


def check_names(resolved: dict[str, list[str]]) -> None:
    """Every name must be known before any work starts: a typo is a usage error (exit 2), not a skip.
    Raises UnknownName (with did-you-mean) or UsageError."""
    from bench.cli import UsageError
    from bench.data import dataset_spec
    from bench.data.user import DatasetSpecError
    from bench.downstream.tasks import TaskConfigError, build_task
    from bench.measures import MEASURES
    from bench.models import MODELS, split_model_arg

    for m in resolved["models"]:
        MODELS.check(split_model_arg(m)[0])
    for d in resolved["datasets"]:
        try:
            dataset_spec(d)
        except DatasetSpecError as e:
            raise UsageError(str(e)) from e
    for m in resolved["measures"]:
        if not m.startswith("pyiqa:"):
            MEASURES.check(m)
    for t in resolved["tasks"]:
        try:
            build_task(t)
        except TaskConfigError as e:
            raise UsageError(str(e)) from e


def config_from_args(args) -> RunConfig:
    from bench.cli import UsageError

    try:
        suite = load_suite(args.suite)
    except ValueError as e:
        raise UsageError(str(e)) from e
    chosen = {k: _names(getattr(args, k)) for k in ("models", "datasets", "measures", "tasks")}
    if not args.all and not any(chosen.values()):
        raise UsageError("say what to run (--all, or --models/--datasets/...)")
    # Families not named on the command line default to the suite's: `--models rainy` still measures.
    resolved = {k: (v if v is not None else list(suite.get(k, []))) for k, v in chosen.items()}
    if resolved["tasks"] == ["none"]:
        resolved["tasks"] = []
    from bench.plugins import load_for_command

    include, plugins = load_for_command(args.include)     # before the names are checked: they add models
    for p in plugins:
        print(f"plug-in {p.source}: {', '.join(p.models) or 'no models'}", flush=True)
    check_names(resolved)
    ctx = RunContext.from_env(device=args.device, offline=args.offline, data_root=args.data_root,
                              weights_dir=args.weights_dir)
    return RunConfig(**resolved, out=Path(args.out), context=ctx, limit=args.limit,
                     batch_size=args.batch_size, fresh=args.fresh, include=tuple(include))


def run(args) -> int:
    from bench.offline import configure

    cfg = config_from_args(args)
    ctx = cfg.context
    configure(ctx.offline)
    from bench.report.tables.leaderboard import build
    from bench.report.outputs import leaderboard_frame, write_run_outputs
    from bench.engine.runner import Runner

    from bench.store import Store
    from bench.summary import RunLog

    log = RunLog(cfg)
    print(f"bench run {log.run_id}: models={','.join(cfg.models)} datasets={','.join(cfg.datasets)} "
          f"device={ctx.device} data_root={ctx.data_root} weights_dir={ctx.weights_dir} "
          f"offline={ctx.offline}" + (f" ray={args.ray or 'local'} shards={args.shards}" if args.ray is not None else ""),
          flush=True)
    if args.ray is not None:
        try:
            import ray  # noqa: F401
        except ImportError:
            print("bench run --ray: Ray is not installed; pip install 'derain-bench[ray]'", flush=True)
            return 2
        from bench.engine.ray_executor import run_on_ray

        run_on_ray(cfg, args.ray or None, args.shards, log)
    else:
        Runner(cfg, log).run()
    store = Store(Path(cfg.out) / "store.sqlite")
    with log.stage("report"):
        lb = build(store)
        written = write_run_outputs(lb, cfg.out)
    log.write(store)
    store.close()            # checkpoint: store.sqlite alone holds every record
    table = leaderboard_frame(lb)
    if not table.empty:
        show = [c for c in table.columns if c not in ("model_key", "protocol", "dataset_fp", "coverage")]
        print(table[show].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
        print("protocols:")
        for c, info in lb.columns.items():
            print(f"  {c} {info.arrow}: {info.protocol}")
    print(log.summary_text())
    print("wrote: " + ", ".join(str(p) for p in written))
    return log.exit_code()
