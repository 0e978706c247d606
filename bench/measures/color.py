"""Colour conversions exactly as MATLAB computes them (all channel orders RGB).

Inputs are float N×3×H×W tensors in [0, 1] that hold uint8 values (the harness measures the
quantised image it saves). ``uint8_values`` snaps them back to the integers 0..255 in float64:
float32 ``v/255`` does not round-trip exactly, and every formula below is defined on the
integers MATLAB reads with ``imread``.
"""
from __future__ import annotations

import torch

# MATLAB rgb2ycbcr, luma row: Y = 16 + (65.481 R + 128.553 G + 24.966 B) for R,G,B in [0, 1].
Y_COEFFS = (65.481, 128.553, 24.966)
Y_OFFSET = 16.0
# MATLAB rgb2gray (= luma of rgb2ntsc, NTSC YIQ), full precision as in MATLAB's source.
GRAY_COEFFS = (0.298936021293775, 0.587043074451121, 0.114020904255103)


def check_rgb_batch(x: torch.Tensor, what: str = "image") -> None:
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[1] != 3:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{what}: expected a float N×3×H×W RGB tensor in [0, 1], got {shape}")
    if not x.is_floating_point():
        raise ValueError(f"{what}: expected floats in [0, 1] (use bench.imageio.to_tensor), got {x.dtype}")


def uint8_values(x: torch.Tensor) -> torch.Tensor:
    """float [0,1] holding uint8 values -> float64 integers 0..255 (same device)."""
    return x.to(torch.float64, copy=True).clamp_(0.0, 1.0).mul_(255.0).round_()  # in place: half the time


def _matlab_round_uint8(v: torch.Tensor) -> torch.Tensor:
    # MATLAB's cast to uint8 rounds half away from zero and saturates (v >= 0 here)
    return torch.floor(v + 0.5).clamp(0.0, 255.0)


def _weighted(rgb255: torch.Tensor, coeffs: tuple[float, float, float]) -> torch.Tensor:
    return coeffs[0] * rgb255[:, 0:1] + coeffs[1] * rgb255[:, 1:2] + coeffs[2] * rgb255[:, 2:3]


def matlab_y(rgb255: torch.Tensor, rounded: bool = False) -> torch.Tensor:
    """Luma of MATLAB ``rgb2ycbcr`` on the 0..255 scale (16..235), N×1×H×W float64.

    ``rounded=False``: the double-image path (``rgb2ycbcr(im2double(I))*255``), as PReNet's scripts.
    ``rounded=True``: the uint8-image path (``rgb2ycbcr(I)`` on uint8 rounds to uint8), as MPRNet's.
    """
    y = Y_OFFSET + _weighted(rgb255, tuple(c / 255.0 for c in Y_COEFFS))
    return _matlab_round_uint8(y) if rounded else y


def matlab_gray(rgb255: torch.Tensor, rounded: bool = True) -> torch.Tensor:
    """MATLAB ``rgb2gray`` on the 0..255 scale, N×1×H×W float64 (uint8 input rounds to uint8)."""
    g = _weighted(rgb255, GRAY_COEFFS)
    return _matlab_round_uint8(g) if rounded else g


def rgb(rgb255: torch.Tensor, rounded: bool = False) -> torch.Tensor:
    return rgb255


# Protocol.channel -> conversion (data, not branches).
CHANNELS = {"y": matlab_y, "gray": matlab_gray, "rgb": rgb}


_RECENT: list[tuple[torch.Tensor, int, str, bool, torch.Tensor]] = []  # (input, version, channel, rounded, planes)


def channel_planes(x: torch.Tensor, channel: str, rounded: bool) -> torch.Tensor:
    """float [0,1] RGB batch -> the protocol's planes on the 0..255 scale, float64.

    The last few conversions are remembered (keyed by the input tensor object and its version
    counter, which in-place edits bump), so PSNR and SSIM on the same decoded image convert it
    once. The cache holds the inputs themselves, so a key can never match a different tensor."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; known: {', '.join(CHANNELS)}")
    for src, version, ch, rnd, planes in _RECENT:
        if src is x and version == x._version and ch == channel and rnd == rounded:
            return planes
    planes = CHANNELS[channel](uint8_values(x), rounded)
    _RECENT.insert(0, (x, x._version, channel, rounded, planes))
    del _RECENT[4:]
    return planes
