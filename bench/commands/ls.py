"""`bench ls models|datasets|measures|tasks`: what is registered, and whether it can run here."""
from __future__ import annotations

from bench.config import RunContext


def add_arguments(p) -> None:
    p.add_argument("what", choices=["models", "datasets", "measures", "tasks"])
    p.add_argument("--data-root")
    p.add_argument("--weights-dir")
    p.add_argument("--include", action="append", metavar="DIR",
                   help="a folder of *.py plug-ins registering models (repeatable; also $BENCH_INCLUDE)")


def _context(args) -> RunContext:
    return RunContext.from_env(device="cpu", offline=True, data_root=args.data_root, weights_dir=args.weights_dir)


def run(args) -> int:
    from bench.plugins import load_for_command

    load_for_command(args.include)      # user models are listed with the built-in ones
    return {"models": _models, "datasets": _datasets, "measures": _measures, "tasks": _tasks}[args.what](args)


def _models(args) -> int:
    from bench.models import MODELS
    from bench.models.weights import resolver as weights_resolver

    resolver = weights_resolver(_context(args))
    for name in MODELS.names():
        try:
            spec = MODELS.load(name)
        except Exception as e:
            print(f"{name:<13} (cannot load: {e.__class__.__name__}: {e})")
            continue
        print(f"{name:<13} {spec.title}")
        io = spec.io
        print(f"{'':13} io: range {io.input_range}, size {io.size_policy}"
              + (f"/{io.multiple}" if io.multiple > 1 else "")
              + (f" {io.resize_to[0]}x{io.resize_to[1]} and back" if getattr(io, "resize_to", None) else "")
              + f", quantise {io.quantise}"
              + (f", channels {io.channel_order}" if io.channel_order != "RGB" else ""))
        if not spec.weights:
            print(f"{'':13} weights: " + ("none needed" if getattr(spec, "published_weights", True)
                                          else "no published weights (pass name@/path/to/ckpt.pth)"))
        if getattr(spec, "origin_sha256", None):
            print(f"{'':13} user model: {spec.entry_point or spec.origin} (sha256 {spec.origin_sha256})")
        for variant in spec.weights:
            try:
                path = (spec.locate(variant, _context(args))[1] if hasattr(spec, "locate")
                        else resolver.resolve(variant, model=name)[1])
                status = f"found {path}"
            except Exception as e:
                status = f"missing — {e}"
            print(f"{'':13} weights {variant}: {status}")
    return 0


def _datasets(args) -> int:
    from bench.data import dataset_names, dataset_spec, resolve_dataset

    ctx = _context(args)
    for name in dataset_names():      # registered, then the user's (`bench data add`)
        try:
            ds = resolve_dataset(name, ctx)
            where = f"found at {ds.root} (layout {ds.layout}, {'paired' if ds.has_clean else 'no GT'})"
        except Exception as e:
            where = f"not found: {e}"
        try:
            description = dataset_spec(name).description
        except Exception as e:  # a broken user YAML
            description = f"(unusable: {e})"
        print(f"{name:<16} {description}\n{'':16} {where}")
    return 0


def _measures(args) -> int:
    from bench.measures import MEASURES, build_measure

    for name in MEASURES.names():
        try:
            info = build_measure(name).info
        except Exception as e:
            print(f"{name:<14} (unavailable: {e})")
            continue
        lo, hi = info.value_range
        print(f"{name:<14} {info.reference} {info.arrow} range [{lo:g}, {hi:g}] {info.unit:<3} {info.protocol_text()}")
    return 0


def _tasks(args) -> int:
    from bench.downstream.tasks import build_task, load_task_configs

    for name, cfg in load_task_configs().items():
        task = build_task(cfg)
        metrics = ", ".join(f"{m.name} {m.arrow}" for m in task.metrics)
        print(f"{name:<18} type {cfg.type}, labels {cfg.label_source} — {cfg.description}")
        print(f"{'':18} metrics: {metrics}")
    return 0
