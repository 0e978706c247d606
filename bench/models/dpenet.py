"""DPENet (Wen et al., "From heavy rain removal to detail restoration: A faster and better
network", Pattern Recognition 2023), the full model (10 DDRBs, 3 ERPABs).

Written from the facts of the official chdwyb/DPENet ``NetModel.py`` (class ``DPENet``, commit
4ef5c0c); parameter names are the official ones so ``logs/{Rain100L,Rain1400}.pth`` load with
``strict=True`` (85 tensors, 647,328 parameters; convs without bias except the ERPAB 1×1 merge).

Network: x → conv1×1 3→32 + ReLU → 10 dilated dense residual blocks (three pairs of 3×3 convs at
dilation 1,1 / 2,2 / 5,5; block k sees relu(x + all earlier pair outputs), block output
relu(x + x1 + x2 + x3)) → conv1×1 32→3 + ReLU, plus the input = ``x_mid`` (rain-removal stage);
then conv1×1 3→32 + ReLU on relu(x_mid) → 3 enhanced residual pixel-attention blocks (parallel
3×3 convs at dilation 1, 2, 5 → concat → 1×1 96→32 + ReLU → pixel attention 32→1→32 with
sigmoid; out relu(f·att + in)) → conv1×1 32→3 + ReLU, plus ``x_mid``. The network returns
(x_mid, out); the test output is the second.

I/O. The repository has no ``test.py`` (the README names one that was never committed); the test
phase of ``main.py`` (lines 135-146) is the official test path: ``MyTestDataSet`` reads
``Image.open(...).convert('RGB')`` and ``to_tensor`` → RGB in [0, 1], full size, no padding (all
convolutions are stride 1 with "same" padding); the output ``output_test[1]`` is written with
torchvision's ``save_image``, which computes ``mul(255).add_(0.5).clamp_(0, 255)`` → uint8:
clamp and ROUND. No clamp before that, so the float output is clamped here as well.

The released ``NetModel.py`` does NOT match the released checkpoints. Its ``outconv1`` and
``outconv2`` are built with the ``conv()`` helper, which appends a ReLU, so each stage can only
ADD a non-negative layer to its input; with every released checkpoint that network is nearly the
identity (Rain100L image 1: 27.30 dB in, 27.30 out). The authors' first commit (3096a6c) holds one
input, its official result (``data/resultTest/1.png``) and ``logs/Rain100H.pth``: with plain 1×1
output convs (no ReLU; no parameters change, the keys are the same) that checkpoint reproduces the
official result to within one grey level (mean abs difference 0.000), while the ReLU version is
~100 levels off. So the default here has no output ReLU (``output_relu=False``);
``SPEC_AS_RELEASED`` (not registered) builds ``NetModel.py`` literally. Both are checked against
the official class in tests/reference/models/dpenet/ (the ReLU-free one with the two ReLUs
replaced by identities at run time).
"""
from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import nn

from bench.models.base import IOPolicy, ModelSpec

FEATURES = 32


def _conv_relu_1x1(cin: int, cout: int, bias: bool = False) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 1, bias=bias), nn.ReLU())


def _out_conv(relu: bool) -> nn.Sequential:
    return _conv_relu_1x1(FEATURES, 3) if relu else nn.Sequential(nn.Conv2d(FEATURES, 3, 1, bias=False))


def _dconv(dilation: int, cin: int = FEATURES, cout: int = FEATURES) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, 1, padding=dilation, dilation=dilation, bias=False)


class DilatedDenseResidualBlock(nn.Module):
    """Official ``DDRB`` (dilations 1,1,2,2,5,5)."""

    def __init__(self):
        super().__init__()
        self.dconv1 = nn.Sequential(_dconv(1), nn.ReLU(), _dconv(1))
        self.dconv2 = nn.Sequential(_dconv(2), nn.ReLU(), _dconv(2))
        self.dconv5 = nn.Sequential(_dconv(5), nn.ReLU(), _dconv(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.dconv1(x)
        b = self.dconv2(F.relu(x + a))
        c = self.dconv5(F.relu(x + a + b))
        return F.relu(x + a + b + c)


class PixelAttentionBlock(nn.Module):
    """Official ``ERPAB`` (dilations 1, 2, 5; attention reduction 32 → one channel)."""

    def __init__(self):
        super().__init__()
        self.inconv1 = _dconv(1)
        self.inconv2 = _dconv(2)
        self.inconv3 = _dconv(5)
        self.outconv = _conv_relu_1x1(3 * FEATURES, FEATURES, bias=True)
        self.pa = nn.Sequential(
            nn.Conv2d(FEATURES, 1, 3, 1, 1, bias=False), nn.ReLU(),
            nn.Conv2d(1, FEATURES, 3, 1, 1, bias=False), nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.outconv(torch.cat((self.inconv1(x), self.inconv2(x), self.inconv3(x)), 1))
        return F.relu(f * self.pa(f) + x)


class DPENet(nn.Module):
    """Official ``DPENet``; ``forward`` returns the final (detail-restored) image only."""

    def __init__(self, n_ddrb: int = 10, n_erpab: int = 3, output_relu: bool = False):
        super().__init__()
        self.inconv1 = _conv_relu_1x1(3, FEATURES)
        self.inconv2 = _conv_relu_1x1(3, FEATURES)
        # Key names outconvK.0.weight either way; NetModel.py as released has the ReLU (see above).
        self.outconv1 = _out_conv(output_relu)
        self.outconv2 = _out_conv(output_relu)
        self.n_ddrb, self.n_erpab = n_ddrb, n_erpab
        for k in range(1, n_ddrb + 1):
            self.add_module(f"ddrb{k}", DilatedDenseResidualBlock())
        for k in range(1, n_erpab + 1):
            self.add_module(f"erpab{k}", PixelAttentionBlock())

    def stages(self, rainy: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(rain-removal output x_mid, final output), as the official forward returns them."""
        x = self.inconv1(rainy)
        for k in range(1, self.n_ddrb + 1):
            x = getattr(self, f"ddrb{k}")(x)
        mid = self.outconv1(x) + rainy
        x = self.inconv2(F.relu(mid))
        for k in range(1, self.n_erpab + 1):
            x = getattr(self, f"erpab{k}")(x)
        return mid, self.outconv2(x) + mid

    def forward(self, rainy: torch.Tensor) -> torch.Tensor:
        return self.stages(rainy)[1]


# main.py's test phase: PIL RGB, to_tensor [0, 1], full size; save_image: clamp, round to uint8.
IO = IOPolicy(input_range=(0.0, 1.0), clamp_output=True, size_policy="any", quantise="round")

SPEC = ModelSpec(
    name="dpenet",
    title="DPENet", description="DPENet (Wen et al., Pattern Recognition 2023)",
    build_network=DPENet,
    io=IO,
    weights=("Rain100L", "Rain1400"),
    weights_for_dataset={"rain100l": "Rain100L", "rain1400": "Rain1400"},
    notes="RGB [0,1] in and out, any size; output of the detail-restoration stage, clamped and rounded "
          "(torchvision save_image in main.py's test phase; the repo has no test.py). Output convs without "
          "the ReLU of the released NetModel.py: that is what reproduces the authors' committed result.",
)

# NetModel.py exactly as released (ReLU after both output convs): near-identity with these weights.
# For the equivalence test and for anyone who wants the literal code; not registered.
SPEC_AS_RELEASED = dataclasses.replace(SPEC, build_network=lambda: DPENet(output_relu=True),
                                       description="DPENet, NetModel.py as released (output ReLUs)")
