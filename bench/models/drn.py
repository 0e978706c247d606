"""DRN, dual recursive network (Cai, Li, Ren, Wang, "Dual Recursive Network for Fast Image
Deraining", ICIP 2019).

Facts read from csdwren/DRN (commit 9f2bf50): ``network.py`` class ``DRN`` and
``test_Rain100H.py`` / ``test_Rain100L.py``. Parameter names are the official ones so the
released ``logs/<set>_inter7_intra7/pretrained/net_latest.pth`` (plain state_dict, 12 keys) load
with ``strict=True``.

PReNet-like recursion without LSTM and with 16 features: each of ``inter_iter`` = 7 stages is
conv0(cat(input, x)) 6→16 + ReLU, then the same two residual blocks (res_conv1, res_conv2; each
conv-ReLU-conv-ReLU with the skip added before a ReLU) applied in turn ``intra_iter`` = 7 times,
then conv 16→3 plus the input. The test scripts use 7/7 (their defaults and the log folder name).

I/O as in the test scripts: cv2 BGR → ``cv2.merge([r, g, b])`` → /255 → clamp(out, 0, 1) →
``np.uint8(255 * out)`` (truncation) → BGR → ``cv2.imwrite`` PNG. Any size.
"""
from __future__ import annotations

import torch
from torch import nn

from bench.models.base import IOPolicy, ModelSpec
from bench.models.prenet import residual_relu

FEATURES = 16


def _conv(cin: int, cout: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, 1, 1)


class DRN(nn.Module):
    def __init__(self, inter_iter: int = 7, intra_iter: int = 7):
        super().__init__()
        self.inter_iter, self.intra_iter = inter_iter, intra_iter
        self.conv0 = nn.Sequential(_conv(6, FEATURES), nn.ReLU())
        self.res_conv1 = nn.Sequential(_conv(FEATURES, FEATURES), nn.ReLU(), _conv(FEATURES, FEATURES), nn.ReLU())
        self.res_conv2 = nn.Sequential(_conv(FEATURES, FEATURES), nn.ReLU(), _conv(FEATURES, FEATURES), nn.ReLU())
        self.conv = nn.Sequential(_conv(FEATURES, 3))

    def forward(self, rainy: torch.Tensor) -> torch.Tensor:
        rainy = rainy.contiguous(memory_format=torch.channels_last)
        x = rainy
        for _ in range(self.inter_iter):
            feat = self.conv0(torch.cat((rainy, x), 1))
            for _ in range(self.intra_iter):
                feat = residual_relu(self.res_conv1(feat), feat)
                feat = residual_relu(self.res_conv2(feat), feat)
            x = self.conv(feat) + rainy
        return x


IO = IOPolicy(input_range=(0.0, 1.0), clamp_output=True, size_policy="any", quantise="trunc")

SPEC = ModelSpec(
    name="drn",
    title="DRN", description="DRN (Cai et al., ICIP 2019), dual recursive network, inter 7 / intra 7",
    build_network=DRN,
    io=IO,
    weights=("Rain100H", "Rain100L"),
    weights_for_dataset={"rain100h": "Rain100H", "rain100l": "Rain100L"},
    notes="RGB [0,1], clamped, saved np.uint8(255*x) (test_Rain100H.py / test_Rain100L.py).",
)
