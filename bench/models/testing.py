"""Deterministic weights for models without published checkpoints.

Used to compare our networks with the official code (same filled weights in both, see
tests/reference/models/) and to time networks in ``bench perf models``. The filler depends only on
the key names, shapes and the seed, and draws keys in sorted order from one seeded CPU generator,
so the official state_dict (same keys) receives exactly the same tensors.
"""
from __future__ import annotations

import math
from typing import Mapping

import torch


def deterministic_state_dict(shapes: Mapping[str, tuple[int, ...] | torch.Size], seed: int = 0,
                             gain: float = 1.0) -> dict[str, torch.Tensor]:
    """Fill each key (sorted order) from ``torch.Generator().manual_seed(seed)``.

    Scaling keeps activations O(1) through deep residual stacks:
      ≥2-D weights   U(−a, a), a = gain·sqrt(3 / fan_in)   (unit output variance for unit input)
      1-D *.weight   U(0.5, 1.0)   (BatchNorm gamma / PReLU slope)
      *.bias         U(−0.1, 0.1)
      running_mean   U(−0.1, 0.1);  running_var U(0.5, 1.5);  num_batches_tracked 0
    """
    g = torch.Generator().manual_seed(seed)
    out: dict[str, torch.Tensor] = {}
    for key in sorted(shapes):
        shape = tuple(shapes[key])
        leaf = key.rsplit(".", 1)[-1]
        if leaf == "num_batches_tracked":
            out[key] = torch.zeros(shape, dtype=torch.long)
            continue
        u = torch.rand(shape, generator=g, dtype=torch.float64)
        if leaf == "running_var":
            t = 0.5 + u
        elif leaf in ("bias", "running_mean"):
            t = 0.2 * u - 0.1
        elif len(shape) >= 2:
            fan_in = math.prod(shape[1:])
            a = gain * math.sqrt(3.0 / fan_in)
            t = (2 * u - 1) * a
        else:
            t = 0.5 + 0.5 * u
        out[key] = t.to(torch.float32)
    return out


def fill_deterministic(net: torch.nn.Module, seed: int = 0, gain: float = 1.0) -> torch.nn.Module:
    """Load ``deterministic_state_dict`` of ``net``'s own keys into it (strict) and return it."""
    shapes = {k: v.shape for k, v in net.state_dict().items()}
    net.load_state_dict(deterministic_state_dict(shapes, seed, gain), strict=True)
    return net


def deterministic_input(shape: tuple[int, ...], seed: int = 1234) -> torch.Tensor:
    """A smooth-plus-noise test image in [0, 1], float32, from a seeded generator."""
    g = torch.Generator().manual_seed(seed)
    n, c, h, w = shape
    yy = torch.linspace(0, 1, h, dtype=torch.float64)[:, None]
    xx = torch.linspace(0, 1, w, dtype=torch.float64)[None, :]
    base = torch.stack([0.5 + 0.3 * torch.sin(6.0 * xx + 2.0 * k) * torch.cos(4.0 * yy + k) for k in range(c)])
    noise = torch.rand((n, c, h, w), generator=g, dtype=torch.float64)
    return (0.8 * base[None] + 0.2 * noise).clamp(0, 1).to(torch.float32)
