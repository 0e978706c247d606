"""NLCL (Ye et al., "Unsupervised Deraining: Where Contrastive Learning Meets Self-similarity",
CVPR 2022): the background generator, whose output is the derained image.

Written from the facts of the official yunguo224/NLCL ``models/networks.py``; parameter names
follow its ``Generator`` so ``checkpoints/RealRain/latest_net_{Back,Rain}.pth`` load with
``strict=True``. ``networks.py`` defines ``ResBlock`` twice; Python binds the name to the second
definition (zero-pad + conv + InstanceNorm + ReLU, zero-pad + conv + InstanceNorm, identity skip;
norms without affine parameters or running stats), and that is what the checkpoints hold
(``gen.K.model.{0,1}.conv.*``). Layout: conv 3→32, 16 such blocks, conv-IN-ReLU-conv 32→32,
conv 32→3. No global skip: the output is the layer itself, unbounded.

I/O: the generators were trained on ``Normalize(0.5, 0.5)`` tensors, i.e. [-1, 1] RGB read with
PIL, full size (the RealRain run's options: ``dataset_mode unaligned``, ``preprocess None``).
The official ``tensor2im`` maps an output back with ``clamp(-1, 1)``, ``(y + 1) / 2 * 255`` and
``astype(uint8)`` — truncation. We do the same and never resize (the repo's later
``dataset_mode single`` path feeds [0, 1] and resizes to a multiple of 4, which does not match
training).
"""
from __future__ import annotations

import torch
from torch import nn

from bench.models.base import IOPolicy, ModelSpec

FEATURES = 32
BLOCKS = 16


class _ConvNormAct(nn.Module):
    def __init__(self, act: bool):
        super().__init__()
        self.conv = nn.Conv2d(FEATURES, FEATURES, 3, 1, padding=1)  # ZeroPad2d(1)+conv == conv with padding 1
        self.norm = nn.InstanceNorm2d(FEATURES, affine=False, track_running_stats=False)
        self.act = nn.ReLU() if act else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.norm(self.conv(x)))


class ResidualBlock(nn.Module):
    """The live (second) ``ResBlock`` of the official networks.py."""

    def __init__(self):
        super().__init__()
        self.model = nn.Sequential(_ConvNormAct(act=True), _ConvNormAct(act=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.model(x)


class LayerGenerator(nn.Module):
    """Official ``Generator``: both the rain-layer and the background networks."""

    def __init__(self, channels: int = 3):
        super().__init__()
        tail = nn.Sequential(  # official conv_ycf: conv, IN, ReLU, conv
            nn.Conv2d(FEATURES, FEATURES, 3, 1, 1),
            nn.InstanceNorm2d(FEATURES, affine=False, track_running_stats=False),
            nn.ReLU(),
            nn.Conv2d(FEATURES, FEATURES, 3, 1, 1),
        )
        self.gen = nn.Sequential(
            nn.Conv2d(channels, FEATURES, 3, 1, 1),
            *[ResidualBlock() for _ in range(BLOCKS)],
            _WrappedConv(tail),
            nn.Conv2d(FEATURES, channels, 3, 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # NHWC: faster 32-channel convs on CPU (oneDNN); results are identical.
        return self.gen(x.contiguous(memory_format=torch.channels_last))


class _WrappedConv(nn.Module):
    """Keeps the official key names of the tail (``gen.17.conv.{0,3}.*``)."""

    def __init__(self, conv: nn.Sequential):
        super().__init__()
        self.conv = conv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


IO = IOPolicy(input_range=(-1.0, 1.0), clamp_output=True, size_policy="any", quantise="trunc")

SPEC = ModelSpec(
    name="nlcl",
    title="NLCL", description="NLCL (Ye et al., CVPR 2022), background generator",
    build_network=LayerGenerator,
    io=IO,
    weights=("RealRain",),
    notes="Unsupervised, trained on real rain. Input 2x-1, output (y+1)/2 clamped, truncated to uint8 "
          "(official tensor2im); full resolution, no resize.",
)

# The rain-layer generator (R, with O = R + B in [-1, 1] units). Useful for figures: R / 2 is the
# rain layer in [0, 1] image units. Built like a derainer so the same resolver/loader applies, but
# its output is a rain layer, not a derained image: do not register it as a model.
RAIN_LAYER_SPEC = ModelSpec(
    name="nlcl",
    title="NLCL rain layer", description="NLCL rain-layer generator (not a derainer)",
    build_network=LayerGenerator,
    io=IOPolicy(input_range=(-1.0, 1.0), clamp_output=False, size_policy="any"),
    weights=("RealRain-rain-layer",),
)


@torch.no_grad()
def rain_layer(net: nn.Module, rainy: torch.Tensor) -> torch.Tensor:
    """Rain layer in [0, 1] image units (R/2) for a rainy float N×3×H×W [0, 1] batch."""
    return net(rainy * 2 - 1) / 2
