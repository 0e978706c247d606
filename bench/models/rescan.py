"""RESCAN (Li et al., "Recurrent Squeeze-and-Excitation Context Aggregation Net for Single Image
Deraining", ECCV 2018), as retrained by the BRN authors.

Written from the facts of the official XiaLiPKU/RESCAN ``config/model.py`` with the settings of
its ``config/settings.py`` (``uint = 'GRU'``, ``channel = 24``, ``depth = 7``, ``stage_num = 4``,
``use_se = True``, ``frame = 'Full'``); parameter names are the official ones so the checkpoints
load with ``strict=True``. The checkpoints are csdwren/RecDerain ``logs/{RainHeavy,RainLight}/RESCAN/
latest``: RecDerain holds only the weights (no copy of RESCAN's code or settings), and their 88 keys
(``rnns.0``–``rnns.4`` with ``conv_x{z,r,n}``/``conv_h{z,r,n}`` and an SE block each, ``dec``) are
exactly the GRU / depth 7 / 24-channel / SE layout of the default settings. The stage count is
not stored in the checkpoint; the default ``stage_num = 4`` is what RESCAN's code builds.

Network: ``depth - 2 = 5`` recurrent units, the first 3→24 (dilation 1), then 24→24 at dilations
1, 2, 4, 8. Each unit is a convolutional GRU (input convs dilated, hidden-state convs 3×3 plain),
followed by the official SE block (``Linear(24, 6)`` → ReLU → ``Linear(6, 24)`` → sigmoid; the
hidden size is the literal "reduction" 6) and LeakyReLU(0.2). The decoder (conv 3×3, SE,
LeakyReLU, conv 1×1) predicts the rain layer R; each stage feeds ``O - R`` to the next, and the
hidden states carry across stages. The derained image is ``O - R`` of the last stage.

I/O as in the official ``config/show.py`` + ``config/dataset.py`` (``ShowDataset``):
``cv2.imread(...).astype(np.float32) / 255`` with NO channel swap (the network sees BGR in [0, 1]);
output ``O - O_R``, ``np.clip(img * 255, 0, 255)`` and ``cv2.imwrite`` of that float32 array, which
OpenCV converts to uint8 with rounding (``convertTo``, saturate_cast). Any size (all convs stride 1,
"same" padding).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from bench.models.base import IOPolicy, ModelSpec

CHANNELS = 24
DEPTH = 7          # official settings.depth: depth - 2 recurrent units
STAGES = 4         # official settings.stage_num
SE_HIDDEN = 6      # official SEBlock(input_dim, 6) uses Linear(input_dim, 6)


class SqueezeExcite(nn.Module):
    """Official ``SEBlock``: x * sigmoid(fc(avgpool x)); ``fc`` indices 0 and 2 are the Linears."""

    def __init__(self, channels: int = CHANNELS, hidden: int = SE_HIDDEN):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(), nn.Linear(hidden, channels), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c = x.shape[:2]
        return x * self.fc(F.adaptive_avg_pool2d(x, 1).view(n, c)).view(n, c, 1, 1)


class ConvGRUUnit(nn.Module):
    """Official ``ConvGRU``: the first call (no state) is h = sigmoid(xz) * tanh(xn)."""

    def __init__(self, cin: int, cout: int, dilation: int):
        super().__init__()
        for gate in "zrn":
            self.add_module(f"conv_x{gate}", nn.Conv2d(cin, cout, 3, padding=dilation, dilation=dilation))
        for gate in "zrn":
            self.add_module(f"conv_h{gate}", nn.Conv2d(cout, cout, 3, padding=1))
        self.se = SqueezeExcite(cout)
        self.relu = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor, h: torch.Tensor | None) -> torch.Tensor:
        if h is None:
            h = torch.sigmoid(self.conv_xz(x)) * torch.tanh(self.conv_xn(x))
        else:
            # The three input convs as one, and the z/r hidden convs as one (weights concatenated
            # along output channels): the same per-channel arithmetic in fewer passes.
            xz, xr, xn = F.conv2d(x, self._cat("conv_xz", "conv_xr", "conv_xn", w=True),
                                  self._cat("conv_xz", "conv_xr", "conv_xn", w=False),
                                  padding=self.conv_xz.padding, dilation=self.conv_xz.dilation).chunk(3, 1)
            hz, hr = F.conv2d(h, self._cat("conv_hz", "conv_hr", w=True), self._cat("conv_hz", "conv_hr", w=False),
                              padding=1).chunk(2, 1)
            z = torch.sigmoid(xz + hz)
            r = torch.sigmoid(xr + hr)
            n = torch.tanh(xn + self.conv_hn(r * h))
            h = (1 - z) * h + z * n
        return self.relu(self.se(h))

    def _cat(self, *names: str, w: bool) -> torch.Tensor:
        return torch.cat([getattr(self, n).weight if w else getattr(self, n).bias for n in names])


class RESCAN(nn.Module):
    """Returns the derained image of the last stage (``O - R_last``)."""

    def __init__(self, channels: int = CHANNELS, depth: int = DEPTH, stages: int = STAGES):
        super().__init__()
        self.stages = stages
        self.rnns = nn.ModuleList([ConvGRUUnit(3, channels, 1)] +
                                  [ConvGRUUnit(channels, channels, 2 ** i) for i in range(depth - 3)])
        self.dec = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1),
            SqueezeExcite(channels),
            nn.LeakyReLU(0.2),
            nn.Conv2d(channels, 3, 1),
        )

    def forward(self, rainy: torch.Tensor) -> torch.Tensor:
        # NHWC runs these 24-channel convs faster on CPU (oneDNN); the arithmetic per pixel is the same.
        rainy = rainy.contiguous(memory_format=torch.channels_last)
        states: list[torch.Tensor | None] = [None] * len(self.rnns)
        x = rainy
        for _ in range(self.stages):
            for k, unit in enumerate(self.rnns):
                x = states[k] = unit(x, states[k])
            x = rainy - self.dec(x)       # 'Full' frame: each stage predicts the whole rain layer
        return x


IO = IOPolicy(input_range=(0.0, 1.0), channel_order="BGR", clamp_output=True, size_policy="any",
              quantise="round")

PROVENANCE = ("retrained by the BRN authors on RainHeavy*/RainLight* (Rain200H/L training sets), "
              "not on the old Rain100H/L")

SPEC = ModelSpec(
    name="rescan",
    title="RESCAN", description="RESCAN (Li et al., ECCV 2018), GRU, 4 stages",
    build_network=RESCAN,
    io=IO,
    weights=("RainHeavy", "RainLight"),
    weights_for_dataset={"rain200h": "RainHeavy", "rain200l": "RainLight",
                         "rain100h": "RainHeavy", "rain100l": "RainLight"},
    notes=f"Checkpoints {PROVENANCE} (csdwren/RecDerain logs/<set>/RESCAN). On rain100h/rain100l the "
          "RainHeavy/RainLight weights are used: a train/test mismatch (trained on the updated "
          "JORDER sets, tested on the old Rain100H/L), so the numbers are not the paper protocol. "
          "BGR [0,1] in and out (official show.py feeds cv2.imread unconverted); output rounded.",
)
