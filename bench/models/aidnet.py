"""AIDNet (Attentive Image Deraining Network, cuiyixin555/AIDNet, "AID_location135").

Written from the facts of the official ``networks/generator_aid135.py`` (class ``BRN``) and
``networks/aid.py`` (``AID``: CBAM-style channel gate then spatial gate). Parameter names follow
the checkpoints ``logs/<set>/AID_location135/net_latest.pth`` (saved from ``nn.DataParallel``,
keys ``module.*``, stripped on load) so they load with ``strict=True``.

Network (BRN-style two-branch recurrence, 8 iterations as in ``test_AID.py``/``trainH_aid135.py``):
a rain branch ``r`` (cat(input, r) → conv0_r 6→32 + ReLU → ConvLSTM over cat(r, h_r, h) with gates
conv_{i,f,g,o}_r 96→32 → 3 residual units res_conv{1,2,3}_r, each followed by the attention module
→ conv_r 32→3) and an image branch ``x`` (cat(input, x, r) → conv0 9→32 + ReLU → ConvLSTM over
cat(x, h, h_r) → 5 residual units where after units 1, 3 and 5 ("location 1,3,5") the features are
re-weighted by the rain branch's attention maps, ``x = a_r·x + x`` → conv 32→3). Residual units
are ``relu(unit(x) + x)``. No input skip: the last iteration's ``conv`` output is the image.

Two facts the released code does not say, read from the released checkpoints:
- ``generator_aid135.py`` builds ``self.aid_module = AID(32)`` (MLP reduction 2) but its forward
  calls ``self.cbam_module``; the Rain100H checkpoint holds ``cbam_module.*`` with a 32→2→32 MLP,
  i.e. reduction 16. We build ``cbam_module`` with reduction 16.
- The Rain100L ``AID_location135`` checkpoint holds no CBAM but ``seblock.fc.{0,2}`` (Linear 32→16,
  Linear 16→32): a squeeze-excitation block that no released file defines. We apply the usual SE
  block (global average pool → fc → ReLU → fc → sigmoid → scale) in the attention position. This
  variant cannot be checked against official code; only its Rain100L score vouches for it.

``aidnet@location_TrainL_135`` (opt-in, not in ../shared) is the checkpoint whose outputs the
repository's ``statistic_rain100L.m`` scores; it holds the released ``AID(32)`` (reduction 2) under
the ``cbam_module`` name. Neither Rain100L checkpoint reaches the published 40.41 dB (README).

I/O as in ``test_AID.py``: cv2 BGR → RGB, ``/255``, whole image (stride 1 everywhere: any size),
``clamp(0, 1)``, ``np.uint8(255 * out)`` (truncation); scored with ``statistic/statistic_rain100*.m``
(MATLAB ``rgb2ycbcr`` Y as double, PSNR and Wang SSIM on Y·255: the ``prenet`` protocol).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from bench.models.base import IOPolicy
from bench.models.prenet import PReNetSpec

FEATURES = 32
ITERATIONS = 8


def _unit() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(FEATURES, FEATURES, 3, 1, 1), nn.ReLU(),
                         nn.Conv2d(FEATURES, FEATURES, 3, 1, 1), nn.ReLU())


def _gate(cin: int, act: nn.Module) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, FEATURES, 3, 1, 1), act)


class _ChannelGate(nn.Module):
    def __init__(self, channels: int, reduction: int):
        super().__init__()
        # Index 0 of the official Sequential is a Flatten (no parameters).
        self.mlp = nn.Sequential(nn.Flatten(), nn.Linear(channels, channels // reduction), nn.ReLU(),
                                 nn.Linear(channels // reduction, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        att = self.mlp(x.mean((2, 3))) + self.mlp(x.amax((2, 3)))
        return x * torch.sigmoid(att)[:, :, None, None]


class _BasicConv(nn.Module):
    """7×7 conv 2→1 without bias + BatchNorm (eval: running statistics), as aid.py's BasicConv."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 1, 7, 1, 3, bias=False)
        self.bn = nn.BatchNorm2d(1, eps=1e-5, momentum=0.01, affine=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


class _SpatialGate(nn.Module):
    def __init__(self):
        super().__init__()
        self.spatial = _BasicConv()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = torch.cat((x.amax(1, keepdim=True), x.mean(1, keepdim=True)), 1)
        return x * torch.sigmoid(self.spatial(pooled))


class CBAM(nn.Module):
    """Official ``AID``: channel gate (avg- and max-pooled MLP) then spatial gate."""

    def __init__(self, channels: int = FEATURES, reduction: int = 16):
        super().__init__()
        self.ChannelGate = _ChannelGate(channels, reduction)
        self.SpatialGate = _SpatialGate()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.SpatialGate(self.ChannelGate(x))


class SqueezeExcitation(nn.Module):
    """The Rain100L checkpoint's ``seblock`` (fc.0 Linear 32→16, fc.2 Linear 16→32)."""

    def __init__(self, channels: int = FEATURES, reduction: int = 2):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(channels, channels // reduction), nn.ReLU(),
                                nn.Linear(channels // reduction, channels), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.fc(x.mean((2, 3)))[:, :, None, None]


class AIDNet(nn.Module):
    def __init__(self, attention: str = "cbam", iterations: int = ITERATIONS, reduction: int = 16):
        super().__init__()
        self.iterations = iterations
        self.conv0 = nn.Sequential(nn.Conv2d(9, FEATURES, 3, 1, 1), nn.ReLU())
        for k in range(1, 6):
            self.add_module(f"res_conv{k}", _unit())
        self.conv_i = _gate(3 * FEATURES, nn.Sigmoid())
        self.conv_f = _gate(3 * FEATURES, nn.Sigmoid())
        self.conv_g = _gate(3 * FEATURES, nn.Tanh())
        self.conv_o = _gate(3 * FEATURES, nn.Sigmoid())
        self.conv = nn.Sequential(nn.Conv2d(FEATURES, 3, 3, 1, 1))
        self.conv0_r = nn.Sequential(nn.Conv2d(6, FEATURES, 3, 1, 1), nn.ReLU())
        for k in range(1, 6):  # units 4_r and 5_r exist in the checkpoint but the forward skips them
            self.add_module(f"res_conv{k}_r", _unit())
        self.conv_i_r = _gate(3 * FEATURES, nn.Sigmoid())
        self.conv_f_r = _gate(3 * FEATURES, nn.Sigmoid())
        self.conv_g_r = _gate(3 * FEATURES, nn.Tanh())
        self.conv_o_r = _gate(3 * FEATURES, nn.Sigmoid())
        self.conv_r = nn.Sequential(nn.Conv2d(FEATURES, 3, 3, 1, 1))
        if attention == "cbam":
            self.cbam_module = CBAM(FEATURES, reduction=reduction)
        elif attention == "se":
            self.seblock = SqueezeExcitation(FEATURES, reduction=2)
        else:
            raise ValueError(f"attention must be 'cbam' or 'se', not {attention!r}")
        self._attention = "cbam_module" if attention == "cbam" else "seblock"

    @staticmethod
    def _lstm(gates: tuple[nn.Module, ...], z: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        i, f, g, o = (m(z) for m in gates)
        c = f * c + i * g
        return o * torch.tanh(c), c

    def forward(self, rainy: torch.Tensor) -> torch.Tensor:
        n, _, rows, cols = rainy.shape
        h, c, h_r, c_r = (rainy.new_zeros(n, FEATURES, rows, cols) for _ in range(4))
        gates = (self.conv_i, self.conv_f, self.conv_g, self.conv_o)
        gates_r = (self.conv_i_r, self.conv_f_r, self.conv_g_r, self.conv_o_r)
        x = r = rainy
        for _ in range(self.iterations):
            r = self.conv0_r(torch.cat((rainy, r), 1))
            h_r_new, c_r = self._lstm(gates_r, torch.cat((r, h_r, h), 1), c_r)
            r, att = h_r_new, []
            for k in range(1, 4):
                r = F.relu(getattr(self, f"res_conv{k}_r")(r) + r)
                att.append(getattr(self, self._attention)(r))
            r = self.conv_r(r)

            x = self.conv0(torch.cat((rainy, x, r), 1))
            h, c = self._lstm(gates, torch.cat((x, h, h_r_new), 1), c)
            h_r = h_r_new
            x = h
            for k in range(1, 6):
                x = F.relu(getattr(self, f"res_conv{k}")(x) + x)
                if k % 2:  # locations 1, 3, 5
                    x = att[k // 2] * x + x
            x = self.conv(x)
        return x


def _aidnet_cbam() -> AIDNet:
    return AIDNet("cbam")


def _aidnet_se() -> AIDNet:
    return AIDNet("se")


def _aidnet_aid() -> AIDNet:
    """The released code's own attention (aid.py ``AID(32)``, MLP reduction 2), stored as
    ``cbam_module``: the repository's ``location_*`` ablation checkpoints hold this one."""
    return AIDNet("cbam", reduction=2)


SPEC = PReNetSpec(
    name="aidnet",
    title="AIDNet", description="AIDNet (Attentive Image Deraining Network, AID_location135)",
    build_network=_aidnet_cbam,
    io=IOPolicy(input_range=(0.0, 1.0), clamp_output=True, size_policy="any", quantise="trunc"),
    weights=("Rain100H", "Rain100L", "location_TrainL_135"),
    weights_for_dataset={"rain100h": "Rain100H", "rain100l": "Rain100L"},
    network_for_weights={"Rain100H": _aidnet_cbam, "Rain100L": _aidnet_se,
                         "location_TrainL_135": _aidnet_aid},
    notes="RGB [0,1] (test_AID.py flips cv2's BGR), 8 iterations, any size, clamp, saved truncated. "
          "Rain100H: CBAM attention (reduction 16, as the checkpoint holds; the released file says "
          "2 and names it differently). Rain100L: the checkpoint holds an SE block no released file "
          "defines; built as a standard SE block, not checkable against official code. "
          "location_TrainL_135 (opt-in): the released AID attention, reduction 2.",
)
