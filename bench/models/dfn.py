"""DFN (Distributed Feedback Network for single-image deraining, Hang-Z/DFN).

Written from the facts of the official ``networks.py`` (class ``DFN``); parameter names follow it
so ``models/{Rain100H,Rain100L}/net_latest.pth`` (plain state_dicts, 40 keys) load with
``strict=True``.

Network: 7 iterations; each iteration ``x = gelu(input_layer(rainy))`` (conv 3→32), two feedback
blocks ``FB.0``, ``FB.1``, ``output_layer`` (conv 32→3) and ``+ rainy``; the last iteration is
the output. A feedback block keeps a hidden state: at the first iteration it is the block's own
input (so the mix below is the identity), later the block's previous output; the block computes
``feature_extract((x + hidden) / 2)`` and stores the result as the new hidden state.
``feature_extract`` is a residual dense block of 8 convs (growth 32, conv k takes the 32·k
channels of the input and all earlier outputs, each followed by GELU) and a 1×1 fusion conv
288→32, scaled by 0.2 and added to its input. GELU is the tanh approximation written out in
``networks.py`` (``0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³)))``).

I/O as in the official ``test.py`` (lines 41-59): ``cv2.imread`` → ``cv2.merge([r, g, b])`` (RGB),
``/255``, the whole image (all convs stride 1: any size), ``torch.clamp(out, 0, 1)``,
``np.uint8(255 * out)`` — truncation. Scored with ``statistics/Rain100{H,L}.m``: MATLAB
``rgb2ycbcr`` Y kept as double, PSNR and Wang SSIM on Y·255 (the ``prenet`` protocol).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from bench.models.base import IOPolicy, ModelSpec

FEATURES = 32
DENSE_CONVS = 8
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu_tanh(x: torch.Tensor) -> torch.Tensor:
    """The tanh-approximated GELU exactly as networks.py writes it."""
    return 0.5 * x * (1 + torch.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * torch.pow(x, 3))))


class DenseBlock(nn.Module):
    """Official ``ResidualDenseBlock_8C``: conv1..conv8 (3×3, dense inputs), conv9 (1×1 fusion)."""

    def __init__(self, channels: int = FEATURES):
        super().__init__()
        for k in range(1, DENSE_CONVS + 1):
            self.add_module(f"conv{k}", nn.Conv2d(channels * k, channels, 3, 1, 1))
        self.add_module(f"conv{DENSE_CONVS + 1}", nn.Conv2d(channels * (DENSE_CONVS + 1), channels, 1, 1, 0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = [x]
        for k in range(1, DENSE_CONVS + 1):
            feats.append(gelu_tanh(getattr(self, f"conv{k}")(torch.cat(feats, 1))))
        fused = getattr(self, f"conv{DENSE_CONVS + 1}")(torch.cat(feats, 1))
        return fused * 0.2 + x


class FeedbackBlock(nn.Module):
    """Official ``Feedbackblock``; the hidden state is passed explicitly instead of kept on self."""

    def __init__(self, channels: int = FEATURES):
        super().__init__()
        self.feature_extract = DenseBlock(channels)

    def forward(self, x: torch.Tensor, hidden: torch.Tensor | None) -> torch.Tensor:
        if hidden is not None:
            x = (x + hidden) / 2
        return self.feature_extract(x)


class DFN(nn.Module):
    def __init__(self, iterations: int = 7, blocks: int = 2):
        super().__init__()
        self.iterations = iterations
        self.input_layer = nn.Sequential(nn.Conv2d(3, FEATURES, 3, 1, 1))
        self.output_layer = nn.Sequential(nn.Conv2d(FEATURES, 3, 3, 1, 1))
        self.FB = nn.ModuleList(FeedbackBlock() for _ in range(blocks))

    def forward(self, rainy: torch.Tensor) -> torch.Tensor:
        hidden: list[torch.Tensor | None] = [None] * len(self.FB)
        # The input layer does not depend on the iteration: computed once.
        first = gelu_tanh(self.input_layer(rainy))
        out = rainy
        for _ in range(self.iterations):
            x = first
            for k, block in enumerate(self.FB):
                x = block(x, hidden[k])
                hidden[k] = x
            out = self.output_layer(x) + rainy
        return out


SPEC = ModelSpec(
    name="dfn",
    title="DFN", description="DFN (Distributed Feedback Network, Hang-Z/DFN)",
    build_network=DFN,
    io=IOPolicy(input_range=(0.0, 1.0), clamp_output=True, size_policy="any", quantise="trunc"),
    weights=("Rain100H", "Rain100L"),
    weights_for_dataset={"rain100h": "Rain100H", "rain100l": "Rain100L"},
    notes="RGB [0,1] in and out (test.py flips cv2's BGR first), 7 iterations x 2 feedback blocks, "
          "any size, clamp, saved truncated (np.uint8(255*out)).",
)
