"""SPANet (Wang et al., "Spatial Attentive Single-Image Deraining with a High Quality Real Rain
Dataset", CVPR 2019), trained on SPA-Data.

Written from the facts of the official stevewongv/SPANet ``SPANet.py``, ``irnn.py`` and
``IRNN_Forward_cuda.cu``; parameter names are the official ones so ``model/latest`` (a dict
{net, clock, opt}; the weights are under ``net``) loads with ``strict=True``.

Network: conv 3→32 + ReLU; 17 bottleneck blocks (1×1, ReLU, 3×3 dilation 2, ReLU, 1×1, no biases),
each ``out = relu(block(out) [* attention] + out)``; blocks 4–15 are modulated, in groups of
three, by an attention map from the single shared spatial attentive module ``SAM1`` (called four
times); conv 32→3 (the output is the derained image, not a residual).

SAM: conv 3×3 → IRNN (four directions) → concat → conv 3×3 → IRNN → concat → conv 3×3 → ReLU →
1×1 conv → sigmoid. The official SAM also computes a 4-channel "direction attention" and calls
``top_up.mul(weight[:, 0:1])`` etc., but ``Tensor.mul`` is not in place and its result is
discarded, so that branch has no effect on the output; it is kept here (``attention_layer``) only
so the checkpoint's keys load, and not evaluated.

IRNN (the official CUDA kernel, here in plain PyTorch, vectorised over batch, channels and the
other axis, so it runs on CPU and GPU): for each channel c and direction with weight w_c and bias
b_c, the scan starts at the far edge with ``relu(x)`` and moves one pixel at a time,
``o = relu(o * w_c + b_c + x)``. "left" scans from the last column towards column 0, "right" from
column 0, "up" from the last row, "down" from row 0; outputs are concatenated as
(up, right, down, left).

I/O as in the official ``main.py`` ``run_test`` and ``dataset.py`` ``TestDataset``: ``cv2.imread``
(BGR, not converted) / 255; the output is ``np.clip(pred, 0, 1) * 255`` written by ``cv2.imwrite``
as float32, which OpenCV converts to uint8 with rounding. Any size (stride 1 everywhere).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from bench.models.base import IOPolicy, ModelSpec

FEATURES = 32
BLOCKS = 17
ATTENDED = range(4, 16)   # blocks 4..15 are multiplied by the SAM map (a new one every three)


def _conv3x3(cin: int, cout: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, 1, 1, bias=False)


class Bottleneck(nn.Module):
    def __init__(self, channels: int = FEATURES):
        super().__init__()
        self.group1 = nn.Sequential()
        self.group1.add_module("conv1", nn.Conv2d(channels, channels, 1, bias=False))
        self.group1.add_module("relu1", nn.ReLU())
        self.group1.add_module("conv2", nn.Conv2d(channels, channels, 3, 1, padding=2, dilation=2, bias=False))
        self.group1.add_module("relu2", nn.ReLU())
        self.group1.add_module("conv3", nn.Conv2d(channels, channels, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.group1(x)


def _scan(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """IRNN recurrences along the first axis, all at once: ``x`` is L×D×N×C×M (L steps; D scans,
    one per direction, already flipped so that each starts at step 0; M the other spatial axis),
    contiguous so that each step is one block; ``w``, ``b``: D×1×C×1 (per direction and channel)."""
    out = torch.empty_like(x)
    o = x[0].relu()
    out[0] = o
    for i in range(1, x.shape[0]):
        o = o * w                      # the kernel's temp = out * w[c] + b[c] + in[i], in that order
        o += b
        o += x[i]
        o.relu_()                      # out = temp > 0 ? temp : 0
        out[i] = o
    return out


def irnn(x: torch.Tensor, weights: dict[str, torch.Tensor], biases: dict[str, torch.Tensor]):
    """(up, right, down, left), each N×C×H×W, as the official ``IRNNForward`` kernel computes them.

    "up" scans each column from the bottom row, "down" from the top row; "left" scans each row from
    the right edge, "right" from the left edge. The backward scans run on flipped copies."""
    c = x.shape[1]

    def wb(a: str, b: str):
        return (torch.stack([weights[a].reshape(c), weights[b].reshape(c)]).view(2, 1, c, 1),
                torch.stack([biases[a].reshape(c), biases[b].reshape(c)]).view(2, 1, c, 1))

    # along H: steps = rows (H×2×N×C×W); along W: steps = columns (W×2×N×C×H)
    rows = torch.stack([x.flip(2), x]).permute(3, 0, 1, 2, 4).contiguous()
    up_down = _scan(rows, *wb("up", "down")).permute(1, 2, 3, 0, 4)
    cols = torch.stack([x.flip(3), x]).permute(4, 0, 1, 2, 3).contiguous()
    left_right = _scan(cols, *wb("left", "right")).permute(1, 2, 3, 4, 0)
    return up_down[0].flip(2), left_right[1], up_down[1], left_right[0].flip(3)


class SpatialIRNN(nn.Module):
    """Official ``Spacial_IRNN``: four depthwise 1×1 convs whose weight/bias are the recurrences'."""

    def __init__(self, channels: int = FEATURES):
        super().__init__()
        for d in ("left", "right", "up", "down"):
            self.add_module(f"{d}_weight", nn.Conv2d(channels, channels, 1, groups=channels))

    def forward(self, x: torch.Tensor):
        dirs = ("up", "right", "down", "left")
        return irnn(x, {d: getattr(self, f"{d}_weight").weight for d in dirs},
                    {d: getattr(self, f"{d}_weight").bias for d in dirs})


class DirectionAttention(nn.Module):
    """Official ``Attention`` (conv 3×3 → ReLU → conv 3×3 → ReLU → 1×1 → sigmoid); its output is
    never used by the official SAM (see the module docstring), so SAM does not call it."""

    def __init__(self, channels: int = FEATURES):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels // 2, 3, padding=1)
        self.conv2 = nn.Conv2d(channels // 2, channels // 2, 3, padding=1)
        self.conv3 = nn.Conv2d(channels // 2, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.conv3(F.relu(self.conv2(F.relu(self.conv1(x))))))


class SAM(nn.Module):
    def __init__(self, channels: int = FEATURES):
        super().__init__()
        self.irnn1 = SpatialIRNN(channels)
        self.irnn2 = SpatialIRNN(channels)
        self.conv_in = _conv3x3(channels, channels)
        self.conv2 = _conv3x3(4 * channels, channels)
        self.conv3 = _conv3x3(4 * channels, channels)
        self.attention_layer = DirectionAttention(channels)
        self.conv_out = nn.Conv2d(channels, 1, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(torch.cat(self.irnn1(self.conv_in(x)), 1))
        out = F.relu(self.conv3(torch.cat(self.irnn2(out), 1)))
        return torch.sigmoid(self.conv_out(out))


class SPANet(nn.Module):
    """Returns the derained image (the official forward returns (attention map, image))."""

    def __init__(self):
        super().__init__()
        self.conv_in = nn.Sequential(_conv3x3(3, FEATURES), nn.ReLU())
        self.SAM1 = SAM(FEATURES)
        for k in range(1, BLOCKS + 1):
            self.add_module(f"res_block{k}", Bottleneck(FEATURES))
        self.conv_out = nn.Sequential(_conv3x3(FEATURES, 3))

    def forward(self, rainy: torch.Tensor) -> torch.Tensor:
        # NHWC runs these 32-channel convs faster on CPU (oneDNN); the arithmetic per pixel is the same.
        rainy = rainy.contiguous(memory_format=torch.channels_last)
        out = self.conv_in(rainy)
        attention = None
        for k in range(1, BLOCKS + 1):
            if k in ATTENDED and (k - ATTENDED.start) % 3 == 0:
                attention = self.SAM1(out)
            y = getattr(self, f"res_block{k}")(out)
            if k in ATTENDED:
                y = y * attention
            out = F.relu(y + out)
        return self.conv_out(out)


SPEC = ModelSpec(
    name="spanet",
    title="SPANet", description="SPANet (Wang et al., CVPR 2019)",
    build_network=SPANet,
    io=IOPolicy(input_range=(0.0, 1.0), channel_order="BGR", clamp_output=True, size_policy="any",
                quantise="round"),
    weights=("SPA",),
    weights_for_dataset={"spa-data": "SPA", "spa": "SPA"},
    notes="One checkpoint, trained on SPA-Data (real rain; official model/latest, 40k steps); used for "
          "every dataset, so synthetic sets are out of its training distribution. BGR [0,1] in and out "
          "(official main.py feeds cv2.imread unconverted); output rounded by cv2.imwrite. The IRNN "
          "CUDA kernel is reimplemented in PyTorch (CPU and GPU).",
)
