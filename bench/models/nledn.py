"""NLEDN (Li et al., "Non-locally Enhanced Encoder-Decoder Network for Single Image De-raining",
ACM MM 2018; AlexHex7/NLEDN).

Written from the facts of the official ``lib/NLEDN.py``, ``lib/RNEDB.py``, ``lib/NEDB.py``,
``lib/region_non_local_block.py`` and ``lib/non_local_block.py``; parameter names follow them so
``weights/net_{Rain100H,Rain100L}.pth`` (plain state_dicts, 122 keys) load with ``strict=True``.

Network: conv1 3→64, conv2 64→64; encoder of three region-non-local dense blocks (RNEDB, grids
8×8, 4×4, 2×2), each followed by a 2×2 max-pool that keeps its indices; a non-local dense block
(NEDB) at the bottom; decoder: max-unpool to the encoder's size, cat with the encoder feature,
1×1 fusion 128→64, RNEDB (grids 2×2, 4×4); last unpool to full size, cat(feature_0, decoder,
first encoder block output) → 1×1 conv 192→64 → 3×3 conv, + conv1's output, conv 64→3 + tanh.
A (R)NEDB: a (region) non-local block, then 4 densely connected 3×3 conv 32 + ReLU layers, a 1×1
fusion back to 64 channels and the block input added. The non-local block (embedded Gaussian,
inter 32 channels, ``g`` and ``phi`` sub-sampled by a 2×2 max-pool, no BatchNorm) adds ``W(y)``
to its input; the region version applies it separately to each cell of ``x.chunk(grid)`` along
rows then columns (so cells follow ``torch.chunk``'s ceil-sized split).

The network predicts the rain layer. I/O as in the official ``test.py`` and
``lib/data_loader.py``: PIL RGB, ``ToTensor`` ([0, 1]), ``out = clamp(x - net(x), 0, 1)``, saved with
``ToPILImage`` (``mul(255).byte()``: truncation). The whole image, no padding: the pools floor
and the unpools restore the exact sizes, so Rain100H/L (481×321, 321×481) run as they are. Sizes
where a region cell would be a single row or column fail in the official code and here alike
(e.g. 57 rows: 8 cells of 8 rows leave a last one of 1). The official test scores in Python
(``lib/utils.py``); the paper's numbers are what we record as published.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from bench.models.base import IOPolicy, ModelSpec

CHANNELS = 64
INTER = 32
DENSE_LAYERS = 4


class NonLocal2d(nn.Module):
    """Official ``NONLocalBlock2D(64, sub_sample=True, bn_layer=False)``."""

    def __init__(self, channels: int = CHANNELS):
        super().__init__()
        inter = channels // 2
        self.g = nn.Sequential(nn.Conv2d(channels, inter, 1), nn.MaxPool2d(2))
        self.theta = nn.Conv2d(channels, inter, 1)
        self.phi = nn.Sequential(nn.Conv2d(channels, inter, 1), nn.MaxPool2d(2))
        self.W = nn.Conv2d(inter, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        g = self.g(x).flatten(2).transpose(1, 2)           # N × (h/2·w/2) × C'
        theta = self.theta(x).flatten(2).transpose(1, 2)   # N × (h·w) × C'
        phi = self.phi(x).flatten(2)                       # N × C' × (h/2·w/2)
        y = torch.matmul(F.softmax(torch.matmul(theta, phi), dim=-1), g)
        y = y.transpose(1, 2).reshape(n, -1, h, w)
        return self.W(y) + x


class RegionNonLocal2d(nn.Module):
    """Official ``RegionNONLocalBlock``: the non-local block on each cell of a grid."""

    def __init__(self, grid: tuple[int, int], channels: int = CHANNELS):
        super().__init__()
        self.non_local_block = NonLocal2d(channels)
        self.grid = grid

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = []
        for band in x.chunk(self.grid[0], dim=2):
            rows.append(torch.cat([self.non_local_block(cell) for cell in band.chunk(self.grid[1], dim=3)], 3))
        return torch.cat(rows, 2)


class DenseNonLocalBlock(nn.Module):
    """Official ``RNEDB`` (grid given; attention ``region_non_local``) or ``NEDB`` (``non_local``)."""

    def __init__(self, grid: tuple[int, int] | None):
        super().__init__()
        if grid is None:
            self.non_local = NonLocal2d()
        else:
            self.region_non_local = RegionNonLocal2d(grid)
        self._attention = "non_local" if grid is None else "region_non_local"
        for k in range(DENSE_LAYERS):
            self.add_module(f"group_{k}", nn.Sequential(nn.Conv2d(CHANNELS + k * INTER, INTER, 3, 1, 1), nn.ReLU()))
        self.fusion = nn.Sequential(nn.Conv2d(CHANNELS + DENSE_LAYERS * INTER, CHANNELS, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = [getattr(self, self._attention)(x)]
        for k in range(DENSE_LAYERS):
            feats.append(getattr(self, f"group_{k}")(torch.cat(feats, 1)))
        return self.fusion(torch.cat(feats, 1)) + x


class NLEDN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, CHANNELS, 3, 1, 1)
        self.conv2 = nn.Conv2d(CHANNELS, CHANNELS, 3, 1, 1)
        self.up_1 = DenseNonLocalBlock((8, 8))
        self.up_2 = DenseNonLocalBlock((4, 4))
        self.up_3 = DenseNonLocalBlock((2, 2))
        self.down_3 = DenseNonLocalBlock(None)
        self.down_2 = DenseNonLocalBlock((2, 2))
        self.down_1 = DenseNonLocalBlock((4, 4))
        self.down_2_fusion = nn.Conv2d(2 * CHANNELS, CHANNELS, 1)
        self.down_1_fusion = nn.Conv2d(2 * CHANNELS, CHANNELS, 1)
        self.fusion = nn.Sequential(nn.Conv2d(3 * CHANNELS, CHANNELS, 1), nn.Conv2d(CHANNELS, CHANNELS, 3, 1, 1))
        self.final_conv = nn.Sequential(nn.Conv2d(CHANNELS, 3, 3, 1, 1), nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The rain layer (the official ``NLEDN.forward``)."""
        f_neg1 = self.conv1(x)
        f0 = self.conv2(f_neg1)
        e1 = self.up_1(f0)
        p1, i1 = F.max_pool2d(e1, 2, 2, return_indices=True)
        p2, i2 = F.max_pool2d(self.up_2(p1), 2, 2, return_indices=True)
        p3, i3 = F.max_pool2d(self.up_3(p2), 2, 2, return_indices=True)
        d = F.max_unpool2d(self.down_3(p3), i3, 2, 2, output_size=p2.shape[-2:])
        d = self.down_2(self.down_2_fusion(torch.cat((p2, d), 1)))
        d = F.max_unpool2d(d, i2, 2, 2, output_size=p1.shape[-2:])
        d = self.down_1(self.down_1_fusion(torch.cat((p1, d), 1)))
        d = F.max_unpool2d(d, i1, 2, 2, output_size=f0.shape[-2:])
        feature = self.fusion(torch.cat((f0, d, e1), 1)) + f_neg1
        return self.final_conv(feature)


class NLEDNDerain(NLEDN):
    """Derained image ``x - rain`` (test.py); same parameters, so the checkpoints load as they are."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x - super().forward(x)


SPEC = ModelSpec(
    name="nledn",
    title="NLEDN", description="NLEDN (Li et al., ACM MM 2018)",
    build_network=NLEDNDerain,
    io=IOPolicy(input_range=(0.0, 1.0), clamp_output=True, size_policy="any", quantise="trunc"),
    weights=("Rain100H", "Rain100L"),
    weights_for_dataset={"rain100h": "Rain100H", "rain100l": "Rain100L"},
    notes="PIL RGB [0,1]; the net predicts rain, output clamp(x - net(x), 0, 1), saved truncated "
          "(ToPILImage); whole image, no padding (max-unpool restores odd sizes).",
)
