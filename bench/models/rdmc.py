"""RDMC / DRNet (Jiang et al., arXiv 2305.18092; Pattern Recognition 2025) as in its released code.

Written from the facts of Jzy2017/DRNet ``P_3UNet_Darts.py`` (class ``UNet``); module names are
chosen so that ``state_dict()`` keys equal the official ones, so a checkpoint saved by the official
``train.py`` loads strictly.

Three recursive stages; each stage feeds cat(input, x) (6 channels; x = input at stage 1) to three
parallel U-Net encoders with dilation 1, 2, 3 (32→64→128→256→256 channels, 4 max-pools), fuses
them by concatenation, decodes 1536→384→192→96→48 with upsampling that mixes bilinear and bicubic
(align_corners=True) by softmax weights, maps 48→3 with a 1×1 conv and adds the input.

Architecture weights. The released code keeps its DARTS "architecture" tensors (the upsampling
mix ``alphas_upsample`` and the skip gates ``alphas_skipup``/``alphas_skipdown``) as plain tensors,
so they are neither saved nor loaded: every construction redraws them as 1e-3·randn, i.e. the
bilinear/bicubic mix is 0.5/0.5 ± about 4e-4 (one std). Here they are non-persistent buffers (the state_dict
keys stay the official ones) defaulting to zeros, the expectation of that draw: an exact 0.5/0.5
mix. A checkpoint that does carry ``alphas_*`` entries (e.g. saved by a fixed training script)
sets them on load.

Cross-level skip paths (the method's "dynamic recursion" options) exist in the released code but
are switched off by its default ``skip_index`` of all zeros; ``skip_index`` turns them on here.
When on, each skip adds ``gate · path(features)``; the released code uses the raw (unsoftmaxed)
alpha as gate (trained by its DARTS step, then lost at save time); here gates default to 1 and
come from the checkpoint's ``alphas_skip*`` entries when present. Their modules are always built, so the parameter count (19.81 M) includes 3.93 M parameters
that the default configuration never uses — exactly as in the official checkpoints.
"""
from __future__ import annotations

from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import nn

from bench.models.base import IOPolicy, ModelSpec

NO_SKIPS = ((0, 0, 0, 0), (0, 0, 0, 0))     # (skip-down enc3→dec4, enc2→dec3, enc1→dec2, enc0→dec1), (skip-up ...)
ALPHAS = ("alphas_upsample", "alphas_skipup", "alphas_skipdown")


def _conv_bn_relu(cin: int, cout: int, dilation: int = 1, bias: bool = True) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=dilation, dilation=dilation, bias=bias),
            nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class DilatedUnit(nn.Module):
    """3×3 conv-BN-ReLU, then a bias-free 3×3 conv at the branch's dilation, BN, ReLU."""

    def __init__(self, cin: int, cout: int, dilation: int):
        super().__init__()
        self.op = nn.Sequential(*_conv_bn_relu(cin, cout), *_conv_bn_relu(cout, cout, dilation, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class DoubleConv(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = nn.Sequential(*_conv_bn_relu(cin, cout), *_conv_bn_relu(cout, cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class EncoderIn(nn.Module):
    def __init__(self, cin: int, cout: int, dilation: int):
        super().__init__()
        self.conv = nn.Sequential(DilatedUnit(cin, cout, dilation))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class EncoderDown(nn.Module):
    def __init__(self, cin: int, cout: int, dilation: int):
        super().__init__()
        self.mpconv = nn.Sequential(nn.MaxPool2d(2), DilatedUnit(cin, cout, dilation))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mpconv(x)


def mixed_upsample(x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """×2 upsampling: softmax-weighted sum of bilinear and bicubic (both align_corners=True)."""
    bilinear = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)
    bicubic = F.interpolate(x, scale_factor=2, mode="bicubic", align_corners=True)
    return weights[0] * bilinear + weights[1] * bicubic


class DecoderUp(nn.Module):
    """Mixed ×2 upsampling of the deeper map, concatenation [skip, upsampled], double conv."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = DoubleConv(cin, cout)

    def forward(self, deep: torch.Tensor, skip: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        up = mixed_upsample(deep, weights)
        if up.shape[-2:] != skip.shape[-2:]:
            raise ValueError(f"RDMC needs sides divisible by 16; got decoder maps {tuple(up.shape[-2:])} "
                             f"vs {tuple(skip.shape[-2:])} (use size policy 'pad' or 'crop')")
        return self.conv(torch.cat([skip, up], dim=1))


class SkipDownStrided(nn.Module):
    """Reflection-padded stride-2 3×3 conv, BN, LeakyReLU(0.2): encoder level k → decoder level k+1."""

    def __init__(self, ch: int):
        super().__init__()
        self.op = nn.Sequential(nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(ch, ch, 3, stride=2)),
                                nn.BatchNorm2d(ch), nn.LeakyReLU(0.2, inplace=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class SkipDownPointwise(nn.Module):
    """1×1 conv, BN, LeakyReLU(0.2): stage input (6 ch) → first decoder level."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.op = nn.Sequential(nn.Conv2d(cin, cout, 1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2, inplace=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class SkipUp(nn.Module):
    """Bilinear ×2 (align_corners=True) then double conv: encoder level k → decoder level k−1."""

    def __init__(self, cin: int, cout: int, upsample: bool = True):
        super().__init__()
        self.upsample = upsample
        self.conv = DoubleConv(cin, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)
        return self.conv(x)


class RDMC(nn.Module):
    def __init__(self, stages: int = 3, skip_index=NO_SKIPS, in_channels: int = 6, out_channels: int = 3):
        super().__init__()
        self.stages = stages
        self.skip_index = tuple(tuple(int(bool(v)) for v in row) for row in skip_index)
        for b, dil in ((1, 1), (2, 2), (3, 3)):
            setattr(self, f"inc{b}", EncoderIn(in_channels, 32, dil))
        for b, dil in ((1, 1), (2, 2), (3, 3)):   # branch b has dilation b
            for lvl, (cin, cout) in enumerate(((32, 64), (64, 128), (128, 256), (256, 256)), start=1):
                setattr(self, f"down{b}_{lvl}", EncoderDown(cin, cout, dil))
        self.up1, self.up2 = DecoderUp(1536, 384), DecoderUp(768, 192)
        self.up3, self.up4 = DecoderUp(384, 96), DecoderUp(192, 48)
        self.skip_down_0_1 = SkipDownPointwise(in_channels, 48)
        self.skip_down_1_2, self.skip_down_2_3, self.skip_down_3_4 = (SkipDownStrided(c) for c in (96, 192, 384))
        self.skip_up_4_3, self.skip_up_3_2, self.skip_up_2_1 = SkipUp(768, 192), SkipUp(384, 96), SkipUp(192, 48)
        self.skip_up_1_0 = SkipUp(96, out_channels, upsample=False)
        self.outc = nn.Module()
        self.outc.conv = nn.Conv2d(48, out_channels, 1)
        # Not in the state_dict, as in the released code (see the module docstring).
        self.register_buffer("alphas_upsample", torch.zeros(1, 2), persistent=False)
        self.register_buffer("alphas_skipup", torch.ones(4), persistent=False)
        self.register_buffer("alphas_skipdown", torch.ones(4), persistent=False)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        for name in ALPHAS:  # optional extras in a checkpoint: take them, keep strict key checks
            value = state_dict.pop(prefix + name, None)
            if value is not None:
                getattr(self, name).copy_(value.reshape(getattr(self, name).shape))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    def _encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Five levels, each the concatenation of the three dilated branches."""
        levels = []
        for b in (1, 2, 3):
            feats = [getattr(self, f"inc{b}")(x)]
            for lvl in range(1, 5):
                feats.append(getattr(self, f"down{b}_{lvl}")(feats[-1]))
            levels.append(feats)
        return [torch.cat([levels[0][i], levels[1][i], levels[2][i]], dim=1) for i in range(5)]

    def _stage(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        e1, e2, e3, e4, e5 = self._encode(x)
        down, up = self.skip_index
        gd, gu = self.alphas_skipdown, self.alphas_skipup
        d4 = self.up1(e5, e4, w)
        if down[0]:
            d4 = d4 + gd[0] * self.skip_down_3_4(e3)
        d3 = self.up2(d4, e3, w)
        if down[1]:
            d3 = d3 + gd[1] * self.skip_down_2_3(e2)
        if up[0]:
            d3 = d3 + gu[0] * self.skip_up_4_3(e4)
        d2 = self.up3(d3, e2, w)
        if down[2]:
            d2 = d2 + gd[2] * self.skip_down_1_2(e1)
        if up[1]:
            d2 = d2 + gu[1] * self.skip_up_3_2(e3)
        d1 = self.up4(d2, e1, w)
        if down[3]:
            d1 = d1 + gd[3] * self.skip_down_0_1(x)
        if up[2]:
            d1 = d1 + gu[2] * self.skip_up_2_1(e2)
        y = self.outc.conv(d1)
        if up[3]:
            y = y + gu[3] * self.skip_up_1_0(e1)
        return y

    def forward(self, rainy: torch.Tensor) -> torch.Tensor:
        h, w = rainy.shape[-2:]
        if h % 16 or w % 16:
            raise ValueError(f"RDMC needs sides divisible by 16, got {h}×{w}; use size policy 'pad' or 'crop'")
        weights = F.softmax(self.alphas_upsample, dim=-1)[0]
        x = rainy
        for _ in range(self.stages):
            x = self._stage(torch.cat((rainy, x), dim=1), weights) + rainy
        return x


# Default: reflect-pad to a multiple of 16 and crop back, so every pixel of the benchmark image is
# scored. "crop" reproduces the official test script: a centred crop to a multiple of 32
# (Rain100H 481×321 → 480×320); the output is then smaller than the ground truth.
IO_PAD = IOPolicy(input_range=(0.0, 1.0), clamp_output=True, size_policy="pad", multiple=16, quantise="trunc")
IO_OFFICIAL_CROP = replace(IO_PAD, size_policy="crop", multiple=32)
IO_POLICIES = {"pad": IO_PAD, "crop": IO_OFFICIAL_CROP}

SPEC = ModelSpec(
    name="rdmc",
    title="RDMC", description="RDMC / DRNet (Jiang et al., arXiv 2305.18092; Pattern Recognition 2025)",
    build_network=RDMC,
    io=IO_PAD,
    weights=(),
    published_weights=False,
    notes="no published weights; run with rdmc@/path/net_latest.pth. Size policy: reflect-pad to 16 "
          "(default, model 'rdmc') or the official centred crop to 32 (model 'rdmc-crop'). Cross-level "
          "skip paths off, as in the released code (RDMC(skip_index=...) turns them on).",
)

SPEC_OFFICIAL_CROP = replace(SPEC, name="rdmc-crop", io=IO_OFFICIAL_CROP,
                             title="RDMC, official crop",
                             description=SPEC.description + " — official centred crop to a multiple of 32")
