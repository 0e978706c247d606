"""Tiled inference for images that do not fit: overlapping tiles, smooth blending, OOM retry.

Blending. Neighbouring tiles overlap by at least ``overlap`` pixels. Inside an overlap of width
``o`` each tile ignores a margin of ``m = overlap // 4`` pixels next to its own cut edge, and the
two tiles cross-fade linearly over the remaining ``o − 2m`` pixels (weights sum to one; image
borders get no margin and no fade). A tile therefore contributes only pixels that lie at least
``m`` pixels from any cut, so for a purely local network whose receptive-field radius is ≤ m
(overlap ≥ 4 × radius) the tiled result equals the whole-image result. Networks with global
operations (squeeze-excitation pooling in DRD-Net) or receptive fields wider than the margin
(PReNet's recurrent stages) change slightly; measured figures: tests/reference/models/TILING.md.

When. ``IOPolicy.tile`` forces a tile side; otherwise an image is run whole unless it has more
pixels than the device budget (``BENCH_MAX_PIXELS``, default below); after an out-of-memory error
the tile side is halved and the image retried, down to a minimum tile.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import torch

# Pixels per forward pass before tiling kicks in (CPU: RAM is shared by many jobs here; CUDA:
# the heaviest seed model, RDMC at 20 M params, needs roughly 6 GB for 4 MP in float32).
DEFAULT_MAX_PIXELS = {"cpu": 4_000_000, "cuda": 4_000_000}
MIN_TILE = 64


class TilingFailed(MemoryError):
    """Out of memory even with the smallest tile; the message says what was tried."""


def is_out_of_memory(err: BaseException) -> bool:
    if isinstance(err, MemoryError):
        return True
    oom_cls = getattr(torch.cuda, "OutOfMemoryError", None)
    if oom_cls is not None and isinstance(err, oom_cls):
        return True
    msg = str(err).lower()
    return isinstance(err, RuntimeError) and ("out of memory" in msg or "can't allocate memory" in msg)


def max_pixels(device: torch.device, override: int | None = None) -> int:
    """Pixel budget for one forward pass: the run's setting ($BENCH_MAX_PIXELS) or the device default."""
    return int(override) if override else DEFAULT_MAX_PIXELS.get(device.type, DEFAULT_MAX_PIXELS["cpu"])


def _floor_to(v: int, multiple: int) -> int:
    return max(multiple, v - v % multiple)


def tile_starts(length: int, tile: int, overlap: int, multiple: int = 1) -> list[int]:
    """Start offsets covering [0, length) with tiles of side ``tile`` overlapping by ≥ ``overlap``.

    Starts are multiples of ``multiple`` (pooling grids stay aligned) when ``length`` is one."""
    if length <= tile:
        return [0]
    step = _floor_to(tile - overlap, multiple)
    if step <= 0:
        raise ValueError(f"tile {tile} must exceed overlap {overlap}")
    starts = list(range(0, length - tile, step))
    starts.append(length - tile)
    return starts


def _axis_weights(starts: list[int], tile: int, length: int, margin: int, device) -> list[torch.Tensor]:
    """Per-tile 1-D weights along one axis; neighbouring fades are complementary."""
    out = []
    size = min(tile, length)
    for i, s in enumerate(starts):
        w = torch.ones(size, device=device, dtype=torch.float32)
        if i > 0:                                  # cut edge on the low side
            o = starts[i - 1] + size - s           # actual overlap with the previous tile
            w[:o] = _fade(o, margin, device)
        if i + 1 < len(starts):                    # cut edge on the high side
            o = s + size - starts[i + 1]
            w[size - o:] = torch.minimum(w[size - o:], _fade(o, margin, device).flip(0))
        out.append(w)
    return out


def _fade(o: int, margin: int, device) -> torch.Tensor:
    """0 over the margin, linear rise over the middle, 1 at the end; f(t) + f(o−1−t) = 1."""
    m = min(margin, max((o - 1) // 2, 0))
    ramp = o - 2 * m
    f = torch.zeros(o, device=device, dtype=torch.float32)
    f[m: m + ramp] = (torch.arange(ramp, device=device, dtype=torch.float32) + 0.5) / ramp
    f[m + ramp:] = 1.0
    return f


def tiled_forward(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, tile: int,
                  overlap: int = 32, multiple: int = 1) -> torch.Tensor:
    """Run ``fn`` (N×C×H×W → N×C'×H×W) over overlapping tiles of ``x`` and blend the outputs."""
    h, w = x.shape[-2:]
    tile = _floor_to(tile, multiple)
    ys, xs = tile_starts(h, tile, overlap, multiple), tile_starts(w, tile, overlap, multiple)
    th, tw = min(tile, h), min(tile, w)
    margin = overlap // 4
    wy = _axis_weights(ys, tile, h, margin, x.device)
    wx = _axis_weights(xs, tile, w, margin, x.device)
    acc = norm = None
    for i, y0 in enumerate(ys):
        for j, x0 in enumerate(xs):
            out = fn(x[..., y0: y0 + th, x0: x0 + tw])
            if acc is None:
                acc = x.new_zeros((x.shape[0], out.shape[1], h, w), dtype=torch.float32)
                norm = x.new_zeros((1, 1, h, w), dtype=torch.float32)
            weight = wy[i][:, None] * wx[j][None, :]
            acc[..., y0: y0 + th, x0: x0 + tw] += out.float() * weight
            norm[..., y0: y0 + th, x0: x0 + tw] += weight
    return (acc / norm).to(x.dtype)


def forward_maybe_tiled(net: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, io,
                        budget: int | None = None, min_tile: int = MIN_TILE) -> tuple[torch.Tensor, dict[str, Any] | None]:
    """Whole image if it fits, else tiles; halve the tile after an OOM. Returns (output, tiling info)."""
    h, w = x.shape[-2:]
    multiple = max(1, io.multiple)
    overlap = io.tile_overlap
    tile = io.tile
    limit = max_pixels(x.device, budget)
    if tile is None and h * w > limit:
        tile = int(math.sqrt(limit))
    smallest = _floor_to(max(min_tile, 2 * overlap + multiple), multiple)
    tried = []
    while True:
        try:
            if tile is None or (tile >= h and tile >= w):
                return net(x), None
            tile = _floor_to(tile, multiple)
            y = tiled_forward(net, x, tile, overlap, multiple)
            return y, {"tile": tile, "overlap": overlap, "oom_retries": len(tried)}
        except Exception as err:  # noqa: BLE001 - only out-of-memory errors are handled
            if not is_out_of_memory(err):
                raise
            tried.append(tile or max(h, w))
            if x.device.type == "cuda":
                torch.cuda.empty_cache()
            if tried[-1] <= smallest:
                raise TilingFailed(
                    f"out of memory on a {h}×{w} image on {x.device} even with tiles of {tried[-1]} px "
                    f"(tried {tried}); free memory, use a smaller BENCH_MAX_PIXELS, or run on another "
                    f"device") from err
            tile = max(_floor_to(tried[-1] // 2, multiple), smallest)
