"""PSNR under a named protocol, batched, on any device.

PSNR = 10·log10(L² / MSE) per image, L = ``Protocol.data_range`` (255 on the 0..255 planes; the
same number as PReNet's peak-1 formula on Y/255), MSE over all pixels and channels of the planes.

Identical images (MSE = 0) have infinite PSNR. We return ``Protocol.psnr_cap_db`` (100 dB)
instead, and clamp every larger value to it, so that per-dataset means stay finite: a perfect
image then weighs like a 100 dB image, not like +inf (the ``clean`` upper-bound row reads 100).
The cap also catches near-identical pairs: one pixel off by one grey level in a 481×321 image
is 10·log10(255²·154401) = 100.02 dB -> 100. Real outputs sit far below (Rain100H ~30 dB).
"""
from __future__ import annotations

import torch

from bench.columns import ColumnInfo
from bench.measures.base import Protocol
from bench.measures.fullref import FullReference
from bench.measures.protocols import MPRNET, PRENET, RGB


def psnr_planes(a: torch.Tensor, b: torch.Tensor, protocol: Protocol) -> torch.Tensor:
    """Per-image PSNR (float64[N]) of two N×C×H×W planes on the protocol's scale."""
    mse = (a - b).pow(2).flatten(1).mean(dim=1)
    value = 10.0 * torch.log10(protocol.data_range ** 2 / mse)  # mse 0 -> +inf
    return value.clamp(max=protocol.psnr_cap_db)


def make_psnr(name: str, protocol: Protocol) -> FullReference:
    info = ColumnInfo(name=name, reference="FR", higher_is_better=True,
                       value_range=(0.0, protocol.psnr_cap_db), protocol=protocol, unit="dB",
                       description=f"PSNR, {protocol.summary()}; identical images -> {protocol.psnr_cap_db:g} dB")
    return FullReference(info, psnr_planes)


def psnr_y(ctx=None) -> FullReference:
    """Y-PSNR, PReNet protocol (float Y): the table default."""
    return make_psnr("psnr_y", PRENET)


def psnr_y_uint8(ctx=None) -> FullReference:
    """Y-PSNR, MPRNet/Restormer/DRSformer protocol (uint8-rounded Y)."""
    return make_psnr("psnr_y_uint8", MPRNET)


def psnr_rgb(ctx=None) -> FullReference:
    """RGB PSNR over all three channels (= scikit-image peak_signal_noise_ratio, data_range 255)."""
    return make_psnr("psnr_rgb", RGB)
