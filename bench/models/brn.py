"""BRN, the bilateral recurrent network (Ren, Shang, Zhu, Hu, Meng, Zuo, "Single Image
Deraining Using Bilateral Recurrent Network", IEEE TIP 2020).

Facts read from csdwren/RecDerain (commit 5b2ad01): ``generator.py`` class ``BRN`` (lines
209-386) and ``test_BRN.py``; parameter names are the official ones so the released
``logs/<set>/BRN/net_latest.pth`` (saved from ``nn.DataParallel``: keys ``module.*``, which
``test_BRN.py`` strips) load with ``strict=True``.

Two coupled recurrent networks, 32 features, unfolded ``inter_iter`` = 8 stages (``test_BRN.py``
default; the ``test_*.sh`` scripts do not change it):

* rain branch: conv0_r(cat(input, r)) 6→32 + ReLU → ConvLSTM over cat(feature, h_r, h) 96→32
  (gates i, f sigmoid, g tanh, o sigmoid) → residual blocks res_conv1_r..3_r from h_r →
  conv_r 32→3 = the rain layer r (direct, no skip). ``res_conv4_r``/``res_conv5_r`` are defined
  and saved but never used by ``forward``; they are kept here so the checkpoint loads strictly.
* background branch: conv0(cat(input, x, r)) 9→32 + ReLU → ConvLSTM over cat(feature, h, h_r)
  → res_conv1..5 from h → conv 32→3 = the background x (direct, no input skip).
  The rain branch of stage t sees the background LSTM's h of stage t-1; the background branch
  sees the rain LSTM's h_r of stage t.

The derainer returns the background x; ``BRN.layers`` returns (background, rain layer).
I/O as in ``test_BRN.py``: cv2 BGR → ``cv2.merge([r, g, b])`` → /255, output clamped to [0, 1],
saved ``np.uint8(255 * out)`` (truncation) after flipping back to BGR. Any size.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from bench.models.base import IOPolicy, ModelSpec
from bench.models.prenet import residual_relu

FEATURES = 32


def _conv(cin: int, cout: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, 1, 1)


def _res_block() -> nn.Sequential:
    return nn.Sequential(_conv(FEATURES, FEATURES), nn.ReLU(), _conv(FEATURES, FEATURES), nn.ReLU())


class BRN(nn.Module):
    def __init__(self, stages: int = 8):
        super().__init__()
        self.stages = stages
        for side, cin, blocks in (("", 9, 5), ("_r", 6, 5)):
            self.add_module(f"conv0{side}", nn.Sequential(_conv(cin, FEATURES), nn.ReLU()))
            for k in range(1, blocks + 1):
                self.add_module(f"res_conv{k}{side}", _res_block())
            for gate, act in (("i", nn.Sigmoid()), ("f", nn.Sigmoid()), ("g", nn.Tanh()), ("o", nn.Sigmoid())):
                self.add_module(f"conv_{gate}{side}", nn.Sequential(_conv(3 * FEATURES, FEATURES), act))
            self.add_module(f"conv{side}", nn.Sequential(_conv(FEATURES, 3)))
        self._blocks = [getattr(self, f"res_conv{k}") for k in range(1, 6)]
        self._blocks_r = [getattr(self, f"res_conv{k}_r") for k in range(1, 4)]   # 4_r, 5_r unused (official)

    def _lstm(self, side: str, z: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        gates = [getattr(self, f"conv_{g}{side}")[0] for g in "ifgo"]
        w = torch.cat([m.weight for m in gates])
        b = torch.cat([m.bias for m in gates])
        i, f, g, o = F.conv2d(z, w, b, padding=1).chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c

    @staticmethod
    def _run_blocks(blocks, x: torch.Tensor) -> torch.Tensor:
        for block in blocks:
            x = residual_relu(block(x), x)
        return x

    def layers(self, rainy: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(background, rain layer) after the last stage."""
        rainy = rainy.contiguous(memory_format=torch.channels_last)
        n, _, rows, cols = rainy.shape
        h, c, h_r, c_r = (rainy.new_zeros(n, FEATURES, rows, cols) for _ in range(4))
        x = r = rainy
        for _ in range(self.stages):
            feat = self.conv0_r(torch.cat((rainy, r), 1))
            h_r, c_r = self._lstm("_r", torch.cat((feat, h_r, h), 1), c_r)
            r = self.conv_r(self._run_blocks(self._blocks_r, h_r))
            feat = self.conv0(torch.cat((rainy, x, r), 1))
            h, c = self._lstm("", torch.cat((feat, h, h_r), 1), c)
            x = self.conv(self._run_blocks(self._blocks, h))
        return x, r

    def forward(self, rainy: torch.Tensor) -> torch.Tensor:
        return self.layers(rainy)[0]


IO = IOPolicy(input_range=(0.0, 1.0), clamp_output=True, size_policy="any", quantise="trunc")

SPEC = ModelSpec(
    name="brn",
    title="BRN", description="BRN (Ren et al., TIP 2020), bilateral recurrent network, 8 stages",
    build_network=BRN,
    io=IO,
    weights=("Rain100H", "Rain100L", "Rain1400"),
    weights_for_dataset={"rain100h": "Rain100H", "rain100l": "Rain100L", "rain1400": "Rain1400"},
    notes="RGB [0,1]; returns the background branch (not input minus rain), clamped, saved "
          "np.uint8(255*x) (test_BRN.py, inter_iter 8).",
)
