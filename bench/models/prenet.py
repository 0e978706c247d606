"""PReNet and its PRN relatives (Ren et al., "Progressive Image Deraining Networks", CVPR 2019).

Written from the facts of the official csdwren/PReNet ``networks.py`` / ``generator.py``; the
parameter names are the official ones so the released checkpoints load with ``strict=True``.

One stage: cat(input, x) -> conv 6→32 + ReLU -> [ConvLSTM] -> 5 residual blocks -> conv 32→3.
The variants differ only in data (``PReNetConfig``):

=============  ==========  ===============  ===============  ======================
official class  recurrent  residual blocks  LSTM position    output
=============  ==========  ===============  ===============  ======================
PReNet          LSTM       5 distinct        before blocks    input + conv(x)
PReNet_r        LSTM       1 block, 5 times  before blocks    input + conv(x)
PRN             none       5 distinct        —                input + conv(x)
PRN_r           none       1 block, 5 times  —                input + conv(x)
Generator_lstm  LSTM       5 distinct        after blocks     conv(h)  (not residual)
=============  ==========  ===============  ===============  ======================

``Generator_lstm`` with 4 stages is what the official ``test_real.py`` builds for
``logs/real/PReNet1.pth`` (its keys are identical to PReNet's, so only the test script tells
the two apart).

I/O, as in the official test scripts: ``cv2.imread`` gives BGR, which the scripts immediately
turn into RGB (``cv2.split`` + ``cv2.merge([r, g, b])``, the same in ``DerainDataset.py`` for
training), divide by 255 and feed the network; the output is clamped to [0, 1] and saved as
``np.uint8(255 * out)`` after swapping back to BGR for ``cv2.imwrite``. So the network sees RGB
in [0, 1] — exactly our pipeline — and the saved PNG is the truncated RGB output.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from bench.models.base import IOPolicy, ModelSpec, NetworkDerainer

FEATURES = 32


@dataclass(frozen=True)
class PReNetConfig:
    stages: int = 6
    lstm: bool = True                 # ConvLSTM between stages (PReNet) or none (PRN)
    shared_block: bool = False        # "_r": one residual block applied 5 times
    lstm_after_blocks: bool = False   # Generator_lstm order: blocks first, then the LSTM
    residual_output: bool = True      # output = input + conv(x); Generator_lstm has no skip


def _conv(cin: int, cout: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, 1, 1)


def _res_block() -> nn.Sequential:
    # Indices 0 and 2 are the official parameter names (res_convK.0 / res_convK.2).
    return nn.Sequential(_conv(FEATURES, FEATURES), nn.ReLU(), _conv(FEATURES, FEATURES), nn.ReLU())


def residual_relu(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """relu(y + x); in place when no gradient is recorded (inference), saving two buffers."""
    return F.relu(y + x) if torch.is_grad_enabled() else y.add_(x).relu_()


class PReNet(nn.Module):
    """The PReNet family; ``forward`` returns the final stage's output only."""

    def __init__(self, config: PReNetConfig = PReNetConfig()):
        super().__init__()
        self.config = config
        self.conv0 = nn.Sequential(_conv(6, FEATURES), nn.ReLU())
        for k in range(1, 2 if config.shared_block else 6):
            self.add_module(f"res_conv{k}", _res_block())
        if config.lstm:
            self.conv_i = nn.Sequential(_conv(2 * FEATURES, FEATURES), nn.Sigmoid())
            self.conv_f = nn.Sequential(_conv(2 * FEATURES, FEATURES), nn.Sigmoid())
            self.conv_g = nn.Sequential(_conv(2 * FEATURES, FEATURES), nn.Tanh())
            self.conv_o = nn.Sequential(_conv(2 * FEATURES, FEATURES), nn.Sigmoid())
        self.conv = nn.Sequential(_conv(FEATURES, 3))
        self._blocks = [self.res_conv1] * 5 if config.shared_block else \
            [getattr(self, f"res_conv{k}") for k in range(1, 6)]

    def _lstm(self, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        xh = torch.cat((x, h), 1)
        # One convolution for the four gates (weights concatenated along output channels):
        # the same arithmetic per channel as four separate convs, one pass over the input.
        w = torch.cat([self.conv_i[0].weight, self.conv_f[0].weight, self.conv_g[0].weight, self.conv_o[0].weight])
        b = torch.cat([self.conv_i[0].bias, self.conv_f[0].bias, self.conv_g[0].bias, self.conv_o[0].bias])
        i, f, g, o = F.conv2d(xh, w, b, padding=1).chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c

    def _blocks_forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self._blocks:
            x = residual_relu(block(x), x)
        return x

    def forward(self, rainy: torch.Tensor) -> torch.Tensor:
        cfg = self.config
        # NHWC is 1.2-1.5x faster for these 32-channel convs on CPU (oneDNN); results are identical.
        rainy = rainy.contiguous(memory_format=torch.channels_last)
        n, _, rows, cols = rainy.shape
        x = rainy
        h = c = None
        if cfg.lstm:
            h = rainy.new_zeros(n, FEATURES, rows, cols)
            c = rainy.new_zeros(n, FEATURES, rows, cols)
        for _ in range(cfg.stages):
            x = self.conv0(torch.cat((rainy, x), 1))
            if cfg.lstm and not cfg.lstm_after_blocks:
                h, c = self._lstm(x, h, c)
                x = h
            x = self._blocks_forward(x)
            if cfg.lstm and cfg.lstm_after_blocks:
                h, c = self._lstm(x, h, c)
                x = h
            x = self.conv(x)
            if cfg.residual_output:
                x = x + rainy
        return x


@dataclass(frozen=True)
class PReNetSpec(ModelSpec):
    """A ModelSpec whose architecture can depend on the checkpoint (PReNet's ``real`` model)."""

    network_for_weights: dict[str, Callable[[], nn.Module]] = field(default_factory=dict)

    def build(self, variant, ctx, dataset=None) -> NetworkDerainer:
        wid = self.pick_weights(variant, dataset)
        builder = self.network_for_weights.get(wid)
        spec = self if builder is None else dataclasses.replace(self, build_network=builder)
        return ModelSpec.build(spec, wid, ctx, dataset)


# Official test scripts: RGB in [0, 1], any size (all convs stride 1, padding 1), clamp, np.uint8(255*x).
IO = IOPolicy(input_range=(0.0, 1.0), clamp_output=True, size_policy="any", quantise="trunc")

REAL_RAIN_DATASETS = ("internet-data", "real-internet147", "internet147", "real200", "spa-data", "spa")

SPEC = PReNetSpec(
    name="prenet",
    title="PReNet", description="PReNet (Ren et al., CVPR 2019), 6 stages + LSTM",
    build_network=lambda: PReNet(PReNetConfig()),
    io=IO,
    weights=("Rain100H", "Rain100L", "Rain1400", "real"),
    weights_for_dataset={"rain100h": "Rain100H", "rain100l": "Rain100L", "rain1400": "Rain1400",
                         **{d: "real" for d in REAL_RAIN_DATASETS}},
    network_for_weights={"real": lambda: PReNet(PReNetConfig(stages=4, lstm_after_blocks=True,
                                                             residual_output=False))},
    notes="RGB [0,1] in and out (official scripts flip cv2's BGR to RGB before the network); "
          "output saved truncated. '@real' is generator.py's Generator_lstm, 4 stages (test_real.py).",
)


def _variant_spec(name: str, title: str, description: str, config: PReNetConfig) -> ModelSpec:
    return ModelSpec(
        name=name, title=title, description=description, build_network=lambda: PReNet(config), io=IO,
        weights=("Rain100H", "Rain100L", "Rain1400"),
        weights_for_dataset={"rain100h": "Rain100H", "rain100l": "Rain100L", "rain1400": "Rain1400"},
        notes="PReNet paper variant (networks.py); official checkpoints logs/<set>/<variant>/net_latest.pth; "
              "I/O as test_PReNet_r.py / test_PRN.py / test_PRN_r.py (same as test_PReNet.py).",
    )


# The paper's variants; their weights are configs/weights/{prenet_r,prn,prn_r}.yaml.
PRENET_R_SPEC = _variant_spec("prenet_r", "PReNet_r", "PReNet_r (Ren et al., CVPR 2019), one recursive block",
                              PReNetConfig(shared_block=True))
PRN_SPEC = _variant_spec("prn", "PRN", "PRN (Ren et al., CVPR 2019), progressive, no LSTM", PReNetConfig(lstm=False))
PRN_R_SPEC = _variant_spec("prn_r", "PRN_r", "PRN_r (Ren et al., CVPR 2019), no LSTM, one recursive block",
                           PReNetConfig(lstm=False, shared_block=True))
