"""DRD-Net (Deng et al., CVPR 2020) and Semi-DRDNet (Shen et al., arXiv 2204.02772).

Written from the facts of the official `networks.py` (syy-whu/DRD-Net); module names are chosen so
that ``state_dict()`` keys equal the official ones (``rain_net.0.…``, ``back_net.0.…``), so a
checkpoint saved by the official ``train.py`` loads strictly.

Two branches see the same rainy input x:
  rain residual network R(x): conv 3→64 + PReLU, 16 SE residual blocks, conv+BN, global skip, conv 64→3
  detail repair network D(x): same frame, blocks of parallel 3×3 convs at dilation 1, 3, 5 → 1×1 conv
output = (x − R(x)) + D(x). The official test script clamps to [0, 1] (our IOPolicy does too).

Semi-DRDNet keeps this derainer unchanged; its additions (dual sample-augmented contrastive
regulariser, unlabelled real-rain branch) act only during training and live in
``bench.models.losses``. Neither model has published weights.
"""
from __future__ import annotations

import torch
from torch import nn

from bench.models.base import IOPolicy, ModelSpec

FEATURES = 64
BLOCKS = 16


def _conv3(cin: int = FEATURES, cout: int = FEATURES, dilation: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, padding=dilation, dilation=dilation)


class SEResidualBlock(nn.Module):
    """conv-BN-PReLU-conv-BN, rescaled per channel by a squeeze-excitation gate (64→4→64), + input."""

    def __init__(self):
        super().__init__()
        self.rain_residual_block_head = nn.Sequential(
            _conv3(), nn.BatchNorm2d(FEATURES), nn.PReLU(FEATURES), _conv3(), nn.BatchNorm2d(FEATURES))
        self.rain_residual_block_body = nn.Sequential(
            nn.Linear(FEATURES, 4, bias=False), nn.ReLU(), nn.Linear(4, FEATURES, bias=False), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.rain_residual_block_head(x)
        gate = self.rain_residual_block_body(y.mean(dim=(2, 3)))
        return y * gate[:, :, None, None] + x


class ContextAggregation(nn.Module):
    """Parallel 3×3 convs at dilation 1, 3, 5, concatenated and fused by a 1×1 conv (192→64)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Sequential(_conv3(dilation=1))
        self.conv2 = nn.Sequential(_conv3(dilation=3))
        self.conv3 = nn.Sequential(_conv3(dilation=5))
        self.conv4 = nn.Sequential(nn.Conv2d(3 * FEATURES, FEATURES, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv4(torch.cat((self.conv1(x), self.conv2(x), self.conv3(x)), dim=1))


class DetailBlock(nn.Module):
    """Structure-detail context aggregation block: CA-BN-PReLU-CA-BN + input."""

    def __init__(self):
        super().__init__()
        self.back_residual_block_body = nn.Sequential(
            ContextAggregation(), nn.BatchNorm2d(FEATURES), nn.PReLU(FEATURES),
            ContextAggregation(), nn.BatchNorm2d(FEATURES))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.back_residual_block_body(x) + x


class _Branch(nn.Module):
    """Shared frame of both branches; ``prefix`` reproduces the official attribute names."""

    def __init__(self, prefix: str, block: type[nn.Module], n_blocks: int = BLOCKS):
        super().__init__()
        self._prefix = prefix
        setattr(self, f"{prefix}_net_head", nn.Sequential(nn.Conv2d(3, FEATURES, 3, padding=1), nn.PReLU(FEATURES)))
        setattr(self, f"{prefix}_residual_blocks", nn.Sequential(*[block() for _ in range(n_blocks)]))
        setattr(self, f"{prefix}_net_body", nn.Sequential(_conv3(), nn.BatchNorm2d(FEATURES)))
        self.tail = nn.Sequential(nn.Conv2d(FEATURES, 3, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self._prefix
        head = getattr(self, f"{p}_net_head")(x)
        y = getattr(self, f"{p}_net_body")(getattr(self, f"{p}_residual_blocks")(head))
        return self.tail(y + head)


class DRDNet(nn.Module):
    """``forward`` returns the derained image; ``forward_parts`` also the training-time outputs."""

    def __init__(self, n_blocks: int = BLOCKS):
        super().__init__()
        # nn.Sequential wrappers: the official code wraps each branch, hence keys "rain_net.0.*".
        self.rain_net = nn.Sequential(_Branch("rain", SEResidualBlock, n_blocks))
        self.back_net = nn.Sequential(_Branch("back", DetailBlock, n_blocks))

    def forward_parts(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        rain = self.rain_net(x)
        detail = self.back_net(x)
        rain_free = x - rain           # "out1" in the official code, supervised with weight 0.1
        return {"rain": rain, "rain_free": rain_free, "detail": detail, "out": rain_free + detail}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_parts(x)["out"]


IO = IOPolicy(input_range=(0.0, 1.0), clamp_output=True, size_policy="any", quantise="trunc")

DRDNET = ModelSpec(
    name="drdnet",
    title="DRD-Net", description="DRD-Net (Deng et al., CVPR 2020; the released base of Semi-DRDNet)",
    build_network=DRDNet,
    io=IO,
    weights=(),
    published_weights=False,
    notes="no published weights (the official repo ships code only); run with drdnet@/path/net.pth. "
          "Official test script: clamp to [0,1], save np.uint8(255*out) (truncation).",
)

SEMI_DRDNET = ModelSpec(
    name="semi-drdnet",
    title="Semi-DRDNet", description="Semi-DRDNet (Shen et al., arXiv 2204.02772)",
    build_network=DRDNet,
    io=IO,
    weights=(),
    published_weights=False,
    notes="derainer = DRD-Net architecture; the dual sample-augmented contrastive regulariser and the "
          "unlabelled real-rain branch are training-time only (bench.models.losses.semi_drdnet). "
          "No published weights (code 'coming soon'); run with semi-drdnet@/path/net.pth.",
)
