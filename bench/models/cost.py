"""Cost columns: parameters, GFLOPs at a stated size, ms per image on the device.

GFLOPs are counted with ``torch.utils.flop_counter``'s per-op rules (FlopCounterMode's) on one forward pass of the
network at the stated image size *after* the model's size policy (RDMC: 321×481 is reflect-padded
to 336×496). FlopCounterMode counts 2 FLOPs per multiply-accumulate of convolutions and matrix
products and ignores element-wise ops, pooling and interpolation; many papers print MACs and call
them FLOPs, so GMACs (= GFLOPs / 2) are given too. Counting runs on the meta device (no compute).

ms/image times ``Derainer.derain`` (policy, forward, crop/clamp; not file I/O) at the stated size:
median of ``reps`` runs after ``warmup`` runs, CUDA synchronised. ``bench perf models``
(bench/commands/perf_models.py) prints the table for every registered network.
"""
from __future__ import annotations

import statistics
import time
from typing import Any

import torch
from torch.func import functional_call
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from bench.models.testing import deterministic_input

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
