"""`bench perf models`: params, GFLOPs and ms/image of every registered network (bench.models.cost).

Models without weights here are timed with deterministic weights (cost does not depend on weight
values), and the table says so.
"""
from __future__ import annotations

import argparse

import torch

from bench.config import RunContext, settings
from bench.errors import WeightsMissing
from bench.models.base import NetworkDerainer
from bench.models.cost import STATED_SIZE, cost_columns
from bench.models.testing import fill_deterministic


def _derainer_for(name: str, spec, ctx):
    """The registered model with its default weights, else deterministic weights (for cost only)."""
    try:
        return spec.build(None, ctx), "official"
    except WeightsMissing:
        net = fill_deterministic(spec.build_network(), seed=0)
        return NetworkDerainer(name, net, spec.io, ctx.device, variant="deterministic"), "deterministic (none here)"


def main(argv: list[str] | None = None) -> int:
    from bench.models import MODELS

    p = argparse.ArgumentParser(prog="bench perf models", description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="*", help="default: every registered network")
    p.add_argument("--size", default=f"{STATED_SIZE[0]}x{STATED_SIZE[1]}", help="H×W, e.g. 321x481")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--no-time", action="store_true", help="params and GFLOPs only")
    p.add_argument("--threads", type=int, default=2, help="CPU threads (torch.set_num_threads)")
    p.add_argument("--weights-dir", help="checkpoints (default: $BENCH_WEIGHTS, else $BENCH_SHARED/weights; "
                                         "models without weights there are timed with deterministic weights)")
    args = p.parse_args(argv)
    env = settings()
    weights_dir = args.weights_dir or env.weights_dir or (env.shared / "weights" if env.shared else None)
    torch.set_num_threads(args.threads)
    size = tuple(int(v) for v in args.size.lower().split("x"))
    device = torch.device(args.device)
    ctx = RunContext.from_env(device=args.device, offline=True, weights_dir=weights_dir)
    print(f"device {device} ({torch.cuda.get_device_name(device) if device.type == 'cuda' else 'CPU'}, "
          f"{args.threads} threads), input 1x3x{size[0]}x{size[1]}; GFLOPs = torch flop_counter rules (2 per MAC), "
          f"ms = median of {args.reps} after {args.warmup} warm-up; weights from {weights_dir or '(none)'}")
    header = f"{'model':<13} {'weights':<26} {'params':>10} {'GFLOPs':>9} {'GMACs':>9} {'net input':>10} {'ms/image':>10}"
    print(header)
    print("-" * len(header))
    for name in args.models or MODELS.names():
        try:
            spec = MODELS.load(name)
        except Exception as e:  # e.g. a model whose module is not merged yet
            print(f"{name:<13} unavailable: {e.__class__.__name__}: {e}")
            continue
        if not hasattr(spec, "build_network"):
            continue  # oracles and precomputed outputs have no network
        try:
            derainer, weights = _derainer_for(name, spec, ctx)
            c = cost_columns(derainer, size, time_it=not args.no_time, reps=args.reps, warmup=args.warmup)
        except Exception as e:  # one broken model must not hide the others
            print(f"{name:<13} failed: {e.__class__.__name__}: {e}")
            continue
        net_in = c["gflops_at"].split("network input ")[1].rstrip(")")
        ms = f"{c['ms_per_image']:10.1f}" if "ms_per_image" in c else f"{'-':>10}"
        print(f"{name:<13} {weights:<26} {c['params']:>10,} {c['gflops']:9.1f} {c['gmacs']:9.1f} {net_in:>10} {ms}")
    return 0
