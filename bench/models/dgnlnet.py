"""DGNL-Net fast (Hu et al., "Single-Image Real-Time Rain Removal Based on Depth-Guided Non-Local
Features", TIP 2021; xw-hu/DGNL-Net), trained on RainCityscapes.

Written from the facts of the official ``nets.py`` (class ``DGNLNet_fast``) and ``modules.py``
(``DepthWiseDilatedResidualBlock``, ``DGNL``); parameter names follow them so ``60000.pth`` (a
plain state_dict, 91 keys including the ImageNet ``mean``/``std`` the network normalises with)
loads with ``strict=True``. The checkpoint is a THIRD-PARTY copy (ajpfahnl/deraining-models
``DGNL/ckpt/DGNLNet_fast/60000.pth``); the official one is only on a Google Drive folder.

Network: ``x = (x - mean) / std``. A depth branch (conv 8×8/4, 4×4/2, 4×4/2, dilated 3×3, two
transposed 4×4/2 convs with skips from the first two levels, each conv + GroupNorm(32) + SELU;
``depth_pred`` conv + GN + SELU + 1×1 conv + sigmoid) predicts depth at 1/4 scale. The rain branch:
``head`` (1×1 conv 3→32, ReLU6, depthwise 8×8/4 conv, ReLU6, 1×1 conv 32→64), 9 depthwise dilated
residual blocks (dilations 1, 2, 2, 4, 8, 4, 2, 2, 1), the depth-guided non-local block (DGNL:
features averaged 4×4 → theta; phi and g also max-pooled 2×2; appearance relations
``softmax(theta·phi)``, depth relations ``softmax(min(d1/(d2+ε), d2/(d1+ε)))`` from the depth map
resized bilinearly (align_corners) to both grids; ``S = softmax(Ra·Rd)``; output ``x +
bilinear_up(z(S·g))``), ``tail`` (transposed depthwise 8×8/4 conv, ReLU6, 1×1 conv 32→3) added to
the normalised input; de-normalised and clamped to [0, 1] inside the network. The network needs
sides divisible by 32. In eval mode the official forward returns the image only; the depth map
(returned in training, upsampled) is not saved by ``infer_fast.py`` (its depth lines are commented
out), so it is not an output here either (``DGNLNetFast.depth`` exposes it).

I/O as in the official ``infer_fast.py``: PIL RGB, ``transforms.Resize([512, 1024])`` (bilinear),
``ToTensor``; the network output (already clamped) → ``ToPILImage`` (truncation to uint8) →
``transforms.Resize((h, w))`` back to the input size, saved. Here: size policy ``resize`` to
512×1024 by Pillow itself on the 8-bit image (bench/models/resize.py), the output truncated to
8-bit at 512×1024 and resized back by Pillow: the saved image equals the official one
(tests/test_models_encoder_decoder.py). Exactness matters here: torch's antialiased bilinear resize, which differs
from Pillow's by one level on ~11% of the input values, moved this network's output by 1.9 levels
on average and up to 55 levels on a 57×83 RainCityscapes crop. Evaluation code for RainCityscapes is in xw-hu/DAF-Net (not used here).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from bench.models.base import IOPolicy, ModelSpec

FEATURES = 64
DILATIONS = (1, 2, 2, 4, 8, 4, 2, 2, 1)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _gn_selu(conv: nn.Module, channels: int) -> nn.Sequential:
    return nn.Sequential(conv, nn.GroupNorm(32, channels), nn.SELU())


class DepthwiseDilatedBlock(nn.Module):
    """Official ``DepthWiseDilatedResidualBlock``: (pw 64→128, dw 3×3 dilated, pw 128→64) then
    (dw 3×3 dilated, pw 64→64), ReLU6 after each non-final conv, no biases, + input."""

    def __init__(self, channels: int, dilation: int):
        super().__init__()
        self.conv0 = nn.Sequential(
            nn.Conv2d(channels, 2 * channels, 1, bias=False), nn.ReLU6(),
            nn.Conv2d(2 * channels, 2 * channels, 3, padding=dilation, dilation=dilation, groups=channels, bias=False),
            nn.ReLU6(),
            nn.Conv2d(2 * channels, channels, 1, bias=False),
        )
        self.conv1 = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=dilation, dilation=dilation, groups=channels, bias=False),
            nn.ReLU6(),
            nn.Conv2d(channels, channels, 1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv1(self.conv0(x)) + x


class DepthGuidedNonLocal(nn.Module):
    """Official ``DGNL`` (position relations are commented out there and absent here)."""

    eps = 1e-6

    def __init__(self, channels: int = FEATURES):
        super().__init__()
        half = channels // 2
        self.theta = nn.Conv2d(channels, half, 1)
        self.phi = nn.Conv2d(channels, half, 1)
        self.g = nn.Conv2d(channels, half, 1)
        self.down = nn.Conv2d(channels, channels, 4, stride=4, groups=channels, bias=False)
        self.z = nn.Conv2d(half, channels, 1)

    def forward(self, x: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        small = (h // 4, w // 4)
        smaller = (h // 8, w // 8)
        xd = self.down(x)
        g = F.max_pool2d(self.g(xd), 2, 2).flatten(2).transpose(1, 2)
        theta = self.theta(xd).flatten(2).transpose(1, 2)
        phi = F.max_pool2d(self.phi(xd), 2, 2).flatten(2)
        appearance = F.softmax(torch.bmm(theta, phi), 2)
        d1 = F.interpolate(depth, size=small, mode="bilinear", align_corners=True).flatten(2).transpose(1, 2)
        d2 = F.interpolate(depth, size=smaller, mode="bilinear", align_corners=True).flatten(2)
        d1, d2 = d1.expand(n, small[0] * small[1], smaller[0] * smaller[1]), d2.expand(n, small[0] * small[1], -1)
        depth_rel = F.softmax(torch.min(d1 / (d2 + self.eps), d2 / (d1 + self.eps)), 2)
        s = F.softmax(appearance * depth_rel, 2)
        y = torch.bmm(s, g).transpose(1, 2).reshape(n, c // 2, *small)
        return x + F.interpolate(self.z(y), size=(h, w), mode="bilinear", align_corners=True)


class DGNLNetFast(nn.Module):
    def __init__(self, features: int = FEATURES):
        super().__init__()
        # ImageNet statistics, stored in the checkpoint as (frozen) parameters.
        self.mean = nn.Parameter(torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), requires_grad=False)
        self.std = nn.Parameter(torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), requires_grad=False)
        self.conv1 = _gn_selu(nn.Conv2d(3, 32, 8, stride=4, padding=2), 32)
        self.conv2 = _gn_selu(nn.Conv2d(32, 64, 4, stride=2, padding=1), 64)
        self.conv3 = _gn_selu(nn.Conv2d(64, 128, 4, stride=2, padding=1), 128)
        self.conv5 = _gn_selu(nn.Conv2d(128, 128, 3, padding=2, dilation=2), 128)
        self.conv8 = _gn_selu(nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1), 64)
        self.conv9 = _gn_selu(nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1), 32)
        self.depth_pred = nn.Sequential(nn.Conv2d(32, 32, 3, padding=1), nn.GroupNorm(32, 32), nn.SELU(),
                                        nn.Conv2d(32, 1, 1), nn.Sigmoid())
        self.head = nn.Sequential(
            nn.Conv2d(3, 32, 1, bias=False), nn.ReLU6(),
            nn.Conv2d(32, 32, 8, stride=4, padding=2, groups=32, bias=False), nn.ReLU6(),
            nn.Conv2d(32, features, 1, bias=False),
        )
        self.body = nn.Sequential(*[DepthwiseDilatedBlock(features, d) for d in DILATIONS])
        self.dgnlb = DepthGuidedNonLocal(features)
        self.tail = nn.Sequential(
            nn.ConvTranspose2d(features, 32, 8, stride=4, padding=2, groups=32, bias=False), nn.ReLU6(),
            nn.Conv2d(32, 3, 1, bias=False),
        )

    def depth(self, xn: torch.Tensor) -> torch.Tensor:
        """Depth at 1/4 scale from the normalised image (the official training also supervises it)."""
        f1 = self.conv1(xn)
        f2 = self.conv2(f1)
        f8 = self.conv8(self.conv5(self.conv3(f2)))
        return self.depth_pred(self.conv9(f8 + f2) + f1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        if h % 32 or w % 32:
            raise ValueError(f"DGNL-Net needs sides divisible by 32, got {h}x{w} (its I/O policy resizes to 512x1024)")
        xn = (x - self.mean) / self.std
        depth = self.depth(xn)
        f = self.dgnlb(self.body(self.head(xn)), depth)
        return ((xn + self.tail(f)) * self.std + self.mean).clamp(0, 1)


IO = IOPolicy(input_range=(0.0, 1.0), clamp_output=True, size_policy="resize", resize_to=(512, 1024),
              quantise="trunc")

SPEC = ModelSpec(
    name="dgnlnet",
    title="DGNL-Net", description="DGNL-Net fast (Hu et al., TIP 2021) [third-party checkpoint copy]",
    build_network=DGNLNetFast,
    io=IO,
    weights=("RainCityscapes",),
    weights_for_dataset={"raincityscapes": "RainCityscapes"},
    notes="Weights: THIRD-PARTY copy (ajpfahnl/deraining-models DGNL/ckpt/DGNLNet_fast/60000.pth), not "
          "the authors' download. RGB [0,1]; ImageNet mean/std normalisation inside the net; input "
          "resized to 512x1024 (Pillow bilinear on 8-bit, as infer_fast.py), output clamped, truncated "
          "to 8-bit and resized back to the input size the same way. Trained on RainCityscapes only.",
)
