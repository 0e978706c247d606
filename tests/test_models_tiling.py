"""Tiled inference: exactness for local networks, weight partition, budget/forced tiling, OOM retry."""
import pytest
import torch
from torch import nn

from bench.models.base import IOPolicy, NetworkDerainer
from bench.models.testing import deterministic_input, fill_deterministic
from bench.models.tiling import (TilingFailed, forward_maybe_tiled, is_out_of_memory, tile_starts,
                                 tiled_forward)


def local_net(radius: int) -> nn.Module:
    """``radius`` 3×3 convs with zero padding: receptive-field radius exactly ``radius`` pixels."""
    layers = []
    for i in range(radius):
        layers += [nn.Conv2d(3 if i == 0 else 8, 8 if i < radius - 1 else 3, 3, padding=1), nn.ReLU()]
    return fill_deterministic(nn.Sequential(*layers[:-1]), seed=5).eval()


@torch.no_grad()
def test_tiled_equals_whole_image_for_overlap_of_four_radii():
    net, x = local_net(4), deterministic_input((2, 3, 83, 121))
    whole = net(x)
    tiled = tiled_forward(net, x, tile=40, overlap=16)     # margin 16 // 4 = 4 = radius
    assert (tiled - whole).abs().max().item() < 1e-5
    too_small = tiled_forward(net, x, tile=40, overlap=4)  # margin 1 < radius: seams differ
    assert (too_small - whole).abs().max().item() > 1e-3


def test_blend_weights_partition_unity():
    x = deterministic_input((1, 3, 97, 130))
    for tile, overlap, multiple in ((32, 8, 1), (48, 32, 16), (64, 16, 8), (200, 32, 1)):
        y = tiled_forward(lambda t: t, x, tile, overlap, multiple)
        assert (y - x).abs().max().item() < 1e-6, (tile, overlap, multiple)


def test_tile_starts_cover_and_align():
    assert tile_starts(100, 128, 32) == [0]
    starts = tile_starts(320, 96, 32, multiple=16)
    assert starts[0] == 0 and starts[-1] == 320 - 96 and all(s % 16 == 0 for s in starts)
    assert all(b - a <= 96 - 32 for a, b in zip(starts, starts[1:]))  # overlap ≥ 32 everywhere


class OOMAbove(nn.Module):
    """Pointwise network that raises an out-of-memory error for inputs above a pixel count."""

    def __init__(self, limit: int, error):
        super().__init__()
        self.limit, self.error, self.calls = limit, error, []

    def forward(self, x):
        self.calls.append(tuple(x.shape[-2:]))
        if x.shape[-2] * x.shape[-1] > self.limit:
            raise self.error
        return 1.0 - x


@pytest.mark.parametrize("error", [torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB"),
                                   RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried 9 GB"),
                                   MemoryError()])
def test_retry_with_smaller_tiles_after_oom(error):
    x = deterministic_input((1, 3, 160, 224))
    net = OOMAbove(80 * 80, error)
    y, info = forward_maybe_tiled(net, x, IOPolicy(tile_overlap=16))
    assert torch.allclose(y, 1.0 - x, atol=1e-6)
    assert info["oom_retries"] >= 2 and info["tile"] <= 80 and net.calls[0] == (160, 224)


def test_other_errors_are_not_swallowed_and_smallest_tile_fails_clearly():
    x = deterministic_input((1, 3, 160, 224))
    with pytest.raises(ValueError):
        forward_maybe_tiled(OOMAbove(0, ValueError("bad weights")), x, IOPolicy())
    with pytest.raises(TilingFailed, match="out of memory on a 160×224 image"):
        forward_maybe_tiled(OOMAbove(10, MemoryError()), x, IOPolicy(tile_overlap=16))
    assert not is_out_of_memory(RuntimeError("size mismatch"))


def test_budget_and_forced_tile_through_the_derainer(monkeypatch):
    net, x = local_net(2), deterministic_input((1, 3, 90, 100))
    whole = NetworkDerainer("t", net, IOPolicy(clamp_output=False))
    ref = whole.restore(x)
    assert whole.last_tiling is None
    forced = NetworkDerainer("t", net, IOPolicy(clamp_output=False, tile=48, tile_overlap=8))
    assert torch.allclose(forced.restore(x), ref, atol=1e-5) and forced.last_tiling["tile"] == 48
    budget = NetworkDerainer("t", net, IOPolicy(clamp_output=False, tile_overlap=8), max_pixels=50 * 50)
    assert torch.allclose(budget.restore(x), ref, atol=1e-5) and budget.last_tiling["tile"] == 50
