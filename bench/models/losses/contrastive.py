"""VGG19 feature taps and the ratio-form contrastive regulariser used by RDMC (and Semi-DRDNet).

RDMC's released ``VGGLoss1`` (AECR-Net lineage): VGG19 ``features`` without input normalisation,
outputs collected after layers i with (i + 1) ∈ {1, 3, 5, 9, 13}, weights 1/32, 1/16, 1/8, 1/4, 1,
L1 per tap. Because torchvision's ReLUs are in-place, the tensors collected after conv1_1 and
conv1_2 are overwritten by the following ReLU, and the loop stops before relu3_2: the features
actually compared are relu1_1, relu1_2, pool1, relu2_2 and conv3_2 (pre-activation), i.e. the
outputs of layers (1, 3, 4, 8, 12). ``VGGTaps`` reproduces exactly those, without in-place tricks.

Ratio: loss = Σ w·L1(f(positive), f(anchor)) / Σ w·L1(f(negative), f(anchor)), with the anchor the
network output, positive the ground truth and negative the rainy input. The official code detaches
the anchor's features, so this term never trains the network; here gradients flow to the anchor
and only the positive/negative features are constants.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

RDMC_TAPS = (1, 3, 4, 8, 12)                      # effective layers of the official (1, 3, 5, 9, 13)
RDMC_TAP_WEIGHTS = (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0)
VGG19_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"


class VGGTaps(nn.Module):
    """Frozen feature extractor returning the outputs of ``features[k]`` for k in ``taps``."""

    def __init__(self, features: nn.Sequential, taps: Sequence[int] = RDMC_TAPS):
        super().__init__()
        self.taps = tuple(taps)
        self.layers = nn.Sequential(*list(features)[: max(self.taps) + 1])
        for m in self.layers:
            if isinstance(m, nn.ReLU):
                m.inplace = False
        self.requires_grad_(False)
        self.eval()

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = []
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i in self.taps:
                out.append(x)
        return out


def vgg19_taps(weights_path: str | Path | None = None, taps: Sequence[int] = RDMC_TAPS) -> VGGTaps:
    """VGG19 with ImageNet weights from ``weights_path`` (torchvision's file), or from the torch hub
    cache; never downloads."""
    import torchvision

    net = torchvision.models.vgg19(weights=None)
    if weights_path is None:
        cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(VGG19_URL).name
        if not cached.is_file():
            raise FileNotFoundError(f"the contrastive loss needs ImageNet VGG19 weights: download {VGG19_URL} "
                                    f"and pass its path (or place it at {cached})")
        weights_path = cached
    net.load_state_dict(torch.load(weights_path, map_location="cpu", weights_only=True), strict=True)
    return VGGTaps(net.features, taps)


def weighted_l1(feats_a: list[torch.Tensor], feats_b: list[torch.Tensor], weights: Sequence[float]) -> torch.Tensor:
    return sum(w * F.l1_loss(a, b) for w, a, b in zip(weights, feats_a, feats_b))


class ContrastiveRatio(nn.Module):
    """Σ w·L1(f(pos), f(anchor)) / Σ w·L1(f(neg), f(anchor)); gradients reach the anchor only."""

    def __init__(self, features: nn.Module, weights: Sequence[float] = RDMC_TAP_WEIGHTS, eps: float = 0.0):
        super().__init__()
        self.features, self.weights, self.eps = features, tuple(weights), eps

    def forward(self, anchor: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor) -> torch.Tensor:
        fa = self.features(anchor)
        with torch.no_grad():
            fp, fn = self.features(positive), self.features(negative)
        return weighted_l1(fp, fa, self.weights) / (weighted_l1(fn, fa, self.weights) + self.eps)
