"""Cost columns: parameters, GFLOPs at a stated size, ms per image on the device.

GFLOPs are counted with ``torch.utils.flop_counter``'s per-op rules (FlopCounterMode's) on one forward pass of the
network at the stated image size *after* the model's size policy (RDMC: 321×481 is reflect-padded
to 336×496). FlopCounterMode counts 2 FLOPs per multiply-accumulate of convolutions and matrix
products and ignores element-wise ops, pooling and interpolation; many papers print MACs and call
them FLOPs, so GMACs (= GFLOPs / 2) are given too. Counting runs on the meta device (no compute).

ms/image times ``Derainer.derain`` (policy, forward, crop/clamp; not file I/O) at the stated size:
median of ``reps`` runs after ``warmup`` runs, CUDA synchronised. ``bench perf models`` prints the
table for every registered network; models without weights here are timed with deterministic
weights (cost does not depend on weight values), and the table says so.
"""
from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import torch
from torch.func import functional_call
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from bench.models.testing import deterministic_input, fill_deterministic

STATED_SIZE = (321, 481)   # Rain100H landscape images, H×W; papers commonly state 1×3×321×481 or 512×512


def count_params(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


class _FlopCount(TorchDispatchMode):
    """FlopCounterMode's per-op formulas (``flop_registry``) without its module tracking, which
    costs seconds on networks with hundreds of modules."""

    def __init__(self):
        super().__init__()
        self.total = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        rule = flop_registry.get(func._overloadpacket)
        if rule is not None:
            self.total += int(rule(*args, **kwargs, out_val=out))
        return out


def count_flops(net: torch.nn.Module, x: torch.Tensor) -> int:
    """Total FLOPs (2 per MAC) of ``net(x)``, on the meta device (shapes only, no compute)."""
    meta_state = {k: v.to("meta") for k, v in net.state_dict(keep_vars=True).items()}
    meta_state.update({k: b.to("meta") for k, b in net.named_buffers()})  # non-persistent buffers too
    counter = _FlopCount()
    with torch.no_grad(), counter:
        functional_call(net, meta_state, (x.to("meta"),))
    return counter.total


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_derainer(derainer, size=STATED_SIZE, reps: int = 3, warmup: int = 1) -> float:
    """Median ms per 1×3×H×W image through ``derainer.derain``."""
    x = deterministic_input((1, 3, *size))
    device = getattr(derainer, "device", torch.device("cpu"))
    times = []
    for i in range(warmup + reps):
        _sync(device)
        t0 = time.perf_counter()
        derainer.restore(x)
        _sync(device)
        if i >= warmup:
            times.append(1000.0 * (time.perf_counter() - t0))
    return statistics.median(times)


def cost_columns(derainer, size=STATED_SIZE, time_it: bool = False, reps: int = 3,
                 warmup: int = 1) -> dict[str, Any]:
    """What the runner stores in models.info: params, gflops (+ the size they are at), optionally ms.

    Derainers without a network (rainy, clean, precomputed) get None values."""
    net = getattr(derainer, "net", None)
    if net is None:
        return {"params": None, "gflops": None, "gmacs": None, "gflops_at": None}
    x = deterministic_input((1, 3, *size))
    lo, hi = derainer.io.input_range
    net_in = derainer._prepare(x.to(derainer.device))    # the exact tensor the network sees
    flops = count_flops(net, net_in)
    out = {"params": count_params(net), "gflops": round(flops / 1e9, 3), "gmacs": round(flops / 2e9, 3),
           "gflops_at": f"1x3x{size[0]}x{size[1]} (network input {net_in.shape[-2]}x{net_in.shape[-1]})"}
    if time_it:
        out["ms_per_image"] = round(time_derainer(derainer, size, reps, warmup), 2)
        out["ms_device"] = str(derainer.device)
    return out


def _derainer_for(name: str, spec, ctx):
    """The registered model with its default weights, else deterministic weights (for cost only)."""
    from bench.models.base import NetworkDerainer
    from bench.models.weights import WeightsMissing

    try:
        return spec.build(None, ctx), "official"
    except WeightsMissing:
        net = fill_deterministic(spec.build_network(), seed=0)
        return NetworkDerainer(name, net, spec.io, ctx.device, variant="deterministic"), "deterministic (none here)"


def perf_main(argv: list[str] | None = None) -> int:
    from bench.config import RunContext, environment
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
    env = environment()
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
