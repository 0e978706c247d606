"""SAPNet (Zheng et al., "Segmentation-Aware Progressive Network for Perceptual Contrastive
Deraining", WACV 2022): the deraining network of the official ``Modeling/network.py``.

Written from the facts of the official code (ShenZheng2000/SAPNet-for-image-deraining); parameter
names follow it so ``logs/SAPNet/Model11/net_latest.pth`` (saved from ``nn.DataParallel``, keys
``module.*``; the prefix is stripped on load) loads with ``strict=True``. The segmentation network
and the losses are training-only and not part of inference.

PReNet's stage layout (cat(input, x) → conv 6→32 + ReLU → ConvLSTM → 5 residual units → conv
32→3, + input; 6 stages), where each residual unit is a "progressive dilated unit": two 3×3
convs 32→32 at dilation d ∈ (1, 2, 4, 8, 16), each followed by a channel residual attention
layer (``CRALayer``, reduction 16) and a ReLU. The test script runs with ``--use_dilation True``
(the default) and never sets ``use_DSC``/``use_split``, so plain dilated convs are the live path.

I/O as in the official ``test.py``: ``cv2.imread`` then BGR→RGB (``cv2.merge([r, g, b])``), /255,
clamp, ``np.uint8(255 * out)`` (truncation). Trained on RainTrainH (``option.py`` default
``--data_path datasets/train/RainTrainH``, the Rain100H training set), tested on Rain100H.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from bench.models.base import IOPolicy, ModelSpec
from bench.models.prenet import residual_relu

FEATURES = 32
DILATIONS = (1, 2, 4, 8, 16)


class ChannelResidualAttention(nn.Module):
    """Official ``CRALayer``: x * sigmoid(MLP(avgpool x) + 1×1 conv(avgpool x)), no biases."""

    def __init__(self, channels: int = FEATURES, reduction: int = 16):
        super().__init__()
        self.conv_du = nn.Sequential(
            nn.Conv2d(channels, channels // reduction, 1, bias=False),
            nn.ReLU(),
            nn.Conv2d(channels // reduction, channels, 1, bias=False),
        )
        self.conv_1_1 = nn.Conv2d(channels, channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = x.mean((2, 3), keepdim=True)
        return x * torch.sigmoid(self.conv_du(pooled) + self.conv_1_1(pooled))


def _dilated_unit(d: int) -> nn.Sequential:
    # Indices match the official Sequential: 0 conv, 1 CRA, 2 ReLU, 3 conv, 4 CRA, 5 ReLU.
    return nn.Sequential(
        nn.Conv2d(FEATURES, FEATURES, 3, 1, padding=d, dilation=d), ChannelResidualAttention(), nn.ReLU(),
        nn.Conv2d(FEATURES, FEATURES, 3, 1, padding=d, dilation=d), ChannelResidualAttention(), nn.ReLU(),
    )


class SAPNet(nn.Module):
    def __init__(self, stages: int = 6, dilations: tuple[int, ...] = DILATIONS):
        super().__init__()
        self.stages = stages
        self.conv0 = nn.Sequential(nn.Conv2d(6, FEATURES, 3, 1, 1), nn.ReLU())
        for k, d in enumerate(dilations, start=1):
            self.add_module(f"res_conv{k}", _dilated_unit(d))
        self._units = [getattr(self, f"res_conv{k}") for k in range(1, len(dilations) + 1)]
        self.conv_i = nn.Sequential(nn.Conv2d(2 * FEATURES, FEATURES, 3, 1, 1), nn.Sigmoid())
        self.conv_f = nn.Sequential(nn.Conv2d(2 * FEATURES, FEATURES, 3, 1, 1), nn.Sigmoid())
        self.conv_g = nn.Sequential(nn.Conv2d(2 * FEATURES, FEATURES, 3, 1, 1), nn.Tanh())
        self.conv_o = nn.Sequential(nn.Conv2d(2 * FEATURES, FEATURES, 3, 1, 1), nn.Sigmoid())
        self.conv = nn.Sequential(nn.Conv2d(FEATURES, 3, 3, 1, 1))

    def forward(self, rainy: torch.Tensor) -> torch.Tensor:
        # NHWC: dilated 32-channel convs run ~1.5x faster on CPU (oneDNN); results are identical.
        rainy = rainy.contiguous(memory_format=torch.channels_last)
        n, _, rows, cols = rainy.shape
        h = rainy.new_zeros(n, FEATURES, rows, cols)
        c = rainy.new_zeros(n, FEATURES, rows, cols)
        # The four gate convs as one (weights concatenated): same per-channel arithmetic, one pass.
        gates_w = torch.cat([self.conv_i[0].weight, self.conv_f[0].weight, self.conv_g[0].weight, self.conv_o[0].weight])
        gates_b = torch.cat([self.conv_i[0].bias, self.conv_f[0].bias, self.conv_g[0].bias, self.conv_o[0].bias])
        x = rainy
        for _ in range(self.stages):
            x = self.conv0(torch.cat((rainy, x), 1))
            i, f, g, o = F.conv2d(torch.cat((x, h), 1), gates_w, gates_b, padding=1).chunk(4, 1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            x = h
            for unit in self._units:
                x = residual_relu(unit(x), x)
            x = self.conv(x) + rainy
        return x


SPEC = ModelSpec(
    name="sapnet",
    title="SAPNet", description="SAPNet (Zheng et al., WACV 2022)",
    build_network=SAPNet,
    io=IOPolicy(input_range=(0.0, 1.0), clamp_output=True, size_policy="any", quantise="trunc"),
    weights=("Rain100H",),
    notes="RGB [0,1] in and out (official test.py flips cv2's BGR to RGB first); output saved truncated. "
          "One checkpoint (Model11), trained on RainTrainH; used for every dataset.",
)
