"""JORDER-E (Yang et al., "Joint Rain Detection and Removal from a Single Image with Contextualized
Deep Networks", TPAMI 2019), the authors' "practical" heavy-rain model.

Written from the facts of the official flyywh/JORDER-E-Deep-Image-Deraining-TPAMI-2019-Journal
``testing_practical/src/model/jorder_e.py``; parameter names are the official ones so
``testing_practical/src/pretrained_model/model_practical.pt`` (a plain state_dict, 132 keys) loads
with ``strict=True`` (the official loader itself uses ``strict=False``; every key matches anyway).

Two identical ``JORDER`` stages (G0 = 32 features, 3×3 kernels; ``RDNconfig`` is read but unused).
A stage: encoder conv(cat(x, prev)) (the first stage uses cat(x, x)) → 3 residual blocks, each
``x + relu(c2(relu(c1 x))) + 0.1 relu(c4(relu(c3 x))) + 0.1 relu(c6(relu(c5 x)))`` (c3–c5 dilation 2,
c6 dilation 4), and in the second stage ``+`` the first stage's block output at the same depth;
rain mask (2 ch) and rain level (3 ch) estimators (two convs, no activation; the second stage adds
the first stage's estimates); the features are modulated
``F1 = mb(mask) + F + lb(level)``, ``F2 = mw(mask) * F * lw(level)`` (each a conv → ReLU → conv),
decoded by two convs (no activation) from ``F1 + F2`` and added to the input. The derained image is
the second stage's output (``x2``, what ``trainer.py`` saves as ``sr``).

I/O as in the official ``testing_practical/src/test.sh`` → ``main.py`` / ``trainer.py``
``test()``: images read with ``imageio.imread`` (RGB), ``np2Tensor`` with ``--rgb_range 255``
(default; the network sees RGB in [0, 255]); no ``--chop`` and no ``--self_ensemble`` in test.sh;
the output goes through ``utility.quantize`` (``clamp(0, 255).round()``) and is saved with
``.byte()`` of that rounded value. Any size (``--scale 2`` is only a label; all convs stride 1).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from bench.models.base import IOPolicy, ModelSpec

G0 = 32
BLOCKS = 3


def _conv(cin: int, cout: int, dilation: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, padding=dilation, dilation=dilation)


class ResBlock(nn.Module):
    def __init__(self, ch: int = G0):
        super().__init__()
        self.conv1, self.conv2 = _conv(ch, ch), _conv(ch, ch)
        self.conv3, self.conv4 = _conv(ch, ch, 2), _conv(ch, ch, 2)
        self.conv5, self.conv6 = _conv(ch, ch, 2), _conv(ch, ch, 4)

    def forward(self, x: torch.Tensor, prev: torch.Tensor | None = None) -> torch.Tensor:
        y = x + F.relu(self.conv2(F.relu(self.conv1(x))))
        y = y + 0.1 * F.relu(self.conv4(F.relu(self.conv3(x))))
        y = y + 0.1 * F.relu(self.conv6(F.relu(self.conv5(x))))
        return y if prev is None else y + prev


class Updater(nn.Module):
    """Official ``ResNet`` (named ``updater``): three ResBlocks ``res1``–``res3``."""

    def __init__(self, ch: int = G0):
        super().__init__()
        for k in range(1, BLOCKS + 1):
            self.add_module(f"res{k}", ResBlock(ch))

    def forward(self, x: torch.Tensor, prev: list[torch.Tensor] | None):
        feats = []
        for k in range(BLOCKS):
            x = getattr(self, f"res{k + 1}")(x, None if prev is None else prev[k])
            feats.append(x)
        return x, feats


class JORDERStage(nn.Module):
    def __init__(self, ch: int = G0):
        super().__init__()
        self.encoder = _conv(6, ch)
        self.updater = Updater(ch)
        self.mask_estimator1, self.mask_estimator2 = _conv(ch, 8), _conv(8, 2)
        self.level_estimator1, self.level_estimator2 = _conv(ch, 8), _conv(8, 3)
        for name, cin in (("mask", 2), ("level", 3)):
            for kind in ("w", "b"):
                self.add_module(f"{name}_F_{kind}_encoder1", _conv(cin, 16))
                self.add_module(f"{name}_F_{kind}_encoder2", _conv(16, ch))
        self.decoder = nn.Sequential(_conv(ch, ch), _conv(ch, 3))

    def _modulation(self, name: str, kind: str, z: torch.Tensor) -> torch.Tensor:
        first = getattr(self, f"{name}_F_{kind}_encoder1")
        second = getattr(self, f"{name}_F_{kind}_encoder2")
        return second(F.relu(first(z)))

    def forward(self, x: torch.Tensor, prev=None):
        """``prev``: None for the first stage, else (x1, block features, mask, level) of stage 1."""
        x_prev, feats_prev, mask_prev, level_prev = prev if prev is not None else (x, None, None, None)
        feat, feats = self.updater(self.encoder(torch.cat((x, x_prev), 1)), feats_prev)
        mask = self.mask_estimator2(self.mask_estimator1(feat))
        level = self.level_estimator2(self.level_estimator1(feat))
        if prev is not None:
            mask, level = mask + mask_prev, level + level_prev
        f1 = self._modulation("mask", "b", mask) + feat + self._modulation("level", "b", level)
        f2 = self._modulation("mask", "w", mask) * feat * self._modulation("level", "w", level)
        return self.decoder(f1 + f2) + x, feats, mask, level


class JORDERE(nn.Module):
    """Returns the second stage's derained image, in the input's [0, 255] units."""

    def __init__(self):
        super().__init__()
        self.jorder1 = JORDERStage()
        self.jorder2 = JORDERStage()

    def forward(self, rainy: torch.Tensor) -> torch.Tensor:
        # NHWC runs these 32-channel convs faster on CPU (oneDNN); the arithmetic per pixel is the same.
        rainy = rainy.contiguous(memory_format=torch.channels_last)
        first = self.jorder1(rainy)
        return self.jorder2(rainy, first)[0]


SPEC = ModelSpec(
    name="jorder_e",
    title="JORDER-E", description="JORDER-E (Yang et al., TPAMI 2019), practical model",
    build_network=JORDERE,
    io=IOPolicy(input_range=(0.0, 255.0), clamp_output=True, size_policy="any", quantise="round"),
    weights=("practical",),
    notes="The authors' 'heavy rain-oriented pretrained streak removal model' (testing_practical); "
          "its training set is not stated in the repository. One checkpoint for every dataset. "
          "RGB [0,255] in and out (rgb_range 255); output clamped and rounded (utility.quantize).",
)
