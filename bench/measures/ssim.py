"""SSIM (Wang, Bovik, Sheikh, Simoncelli 2004) under a named protocol, batched, on any device.

``wang2004`` is Wang's reference ``ssim_index.m``: 11×11 Gaussian window (σ 1.5, normalised),
K1 = 0.01, K2 = 0.03, L = ``Protocol.data_range`` (255), statistics by 'valid' filtering (the map
is (H-10)×(W-10)), no downsampling, mean of the map. Multi-channel planes (RGB) give one map per
channel; the value is the mean over channels, as scikit-image with ``channel_axis``.

``wang2009_autodown`` is Wang's ``ssim.m`` "with automatic downsampling", the file PReNet ships
as ``statistic/ssim.m``: first average with an f×f box (``imfilter(..., 'symmetric', 'same')``)
and keep every f-th pixel, f = max(1, round(min(H, W)/256)); identical to ``wang2004`` while
the short side is below 384 px.

Computed in float64; the Gaussian is applied as two 1-D passes (the 2-D window is their
outer product, so the result equals MATLAB's ``filter2`` to rounding error). On CPU the passes
run in OpenCV's ``sepFilter2D`` (float64, SIMD, releases the GIL: about 3× the torch loop); on
other devices in torch. Both agree to ~1e-13 on the 0..255 scale.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from bench.columns import ColumnInfo
from bench.measures.base import Protocol
from bench.measures.fullref import FullReference
from bench.measures.protocols import MPRNET, PRENET, RGB


@dataclass(frozen=True)
class SSIMVariant:
    window: int = 11
    sigma: float = 1.5
    k1: float = 0.01
    k2: float = 0.03
    autodown: bool = False      # Wang's 2009 ssim.m automatic downsampling


SSIM_VARIANTS = {
    "wang2004": SSIMVariant(),
    "wang2009_autodown": SSIMVariant(autodown=True),
}


def gaussian_1d(size: int, sigma: float, device=None) -> torch.Tensor:
    r = (size - 1) / 2.0
    x = torch.arange(size, dtype=torch.float64, device=device) - r
    g = torch.exp(-(x * x) / (2.0 * sigma * sigma))
    return g / g.sum()


def _correlate_valid(x: torch.Tensor, g: torch.Tensor, dim: int) -> torch.Tensor:
    """'valid' 1-D correlation along ``dim`` with a symmetric kernel, as a sum of shifted slices
    (much faster than float64 conv2d on CPU; the same code on CUDA). Taps are accumulated
    last-to-first with fused multiply-adds (``add_(alpha=)``): for NIQE, whose MSCN of flat
    areas is pure rounding noise, this order reproduces the published MATLAB values best."""
    k = g.numel()
    n = x.shape[dim] - k + 1
    w = g.tolist()
    acc = x.narrow(dim, k - 1, n) * w[k - 1]
    for i in range(k - 2, -1, -1):
        acc.add_(x.narrow(dim, i, n), alpha=w[i])
    return acc


def _filter_valid(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """'valid' correlation of (..., H, W) with the separable window outer(g, g): columns, then rows."""
    return _correlate_valid(_correlate_valid(x, g, -2), g, -1)


def _filter_valid_cpu(planes: list[torch.Tensor], g: torch.Tensor) -> list[torch.Tensor]:
    """``_filter_valid`` of each H×W float64 CPU plane through OpenCV: filter 'same', keep the
    interior, which never touches the border, so it is exactly the 'valid' region."""
    import cv2
    import numpy as np

    k = g.cpu().numpy()
    r = (k.size - 1) // 2
    out = []
    for p in planes:
        f = cv2.sepFilter2D(np.ascontiguousarray(p.numpy()), cv2.CV_64F, k, k, borderType=cv2.BORDER_CONSTANT)
        out.append(torch.from_numpy(f[r:f.shape[0] - r, r:f.shape[1] - r]))
    return out


def _ssim_statistics(a: torch.Tensor, b: torch.Tensor, g: torch.Tensor):
    """Windowed means of a, b, a²+b² and ab (the formula needs σ1² + σ2² only as a sum)."""
    if a.device.type == "cpu":
        m = a.shape[0]
        planes = [a[:, 0], b[:, 0], a[:, 0] * a[:, 0] + b[:, 0] * b[:, 0], a[:, 0] * b[:, 0]]
        flat = [p[i] for p in planes for i in range(m)]
        f = _filter_valid_cpu(flat, g)
        return tuple(torch.stack(f[j * m:(j + 1) * m]).unsqueeze(1) for j in range(4))
    stats = _filter_valid(torch.cat([a, b, a * a + b * b, a * b], dim=0), g)
    return stats.split(a.shape[0], dim=0)


def _symmetric_index(n: int, before: int, after: int, device) -> torch.Tensor:
    """Indices of MATLAB 'symmetric' padding (edge sample repeated: ... 1 0 | 0 1 2 ... n-1 | n-1 n-2 ...)."""
    i = torch.arange(-before, n + after, device=device)
    period = 2 * n
    i = torch.remainder(i, period)
    return torch.where(i < n, i, period - 1 - i)


def autodown(x: torch.Tensor) -> torch.Tensor:
    """Wang's ssim.m downsampling: f×f mean with symmetric padding, MATLAB's 'same' anchor, then
    every f-th pixel starting with the first."""
    h, w = x.shape[-2:]
    f = max(1, math.floor(min(h, w) / 256 + 0.5))  # MATLAB round: half away from zero
    if f == 1:
        return x
    centre = (f + 1) // 2  # MATLAB's kernel centre floor((f+1)/2), 1-based
    before, after = centre - 1, f - centre
    x = x.index_select(-2, _symmetric_index(h, before, after, x.device))
    x = x.index_select(-1, _symmetric_index(w, before, after, x.device))
    return F.avg_pool2d(x, kernel_size=f, stride=f)


def ssim_planes(a: torch.Tensor, b: torch.Tensor, protocol: Protocol) -> torch.Tensor:
    """Per-image SSIM (float64[N]) of two N×C×H×W planes on the protocol's scale."""
    try:
        v = SSIM_VARIANTS[protocol.ssim]
    except KeyError:
        raise ValueError(f"unknown SSIM variant {protocol.ssim!r}; known: {', '.join(SSIM_VARIANTS)}") from None
    n, c, h, w = a.shape
    a = a.reshape(n * c, 1, h, w)
    b = b.reshape(n * c, 1, h, w)
    if v.autodown:
        a, b = autodown(a), autodown(b)
    if min(a.shape[-2:]) < v.window:
        raise ValueError(f"SSIM needs at least {v.window}×{v.window} pixels, got {tuple(a.shape[-2:])}")
    g = gaussian_1d(v.window, v.sigma, a.device)
    c1 = (v.k1 * protocol.data_range) ** 2
    c2 = (v.k2 * protocol.data_range) ** 2
    mu1, mu2, e_sq, e12 = _ssim_statistics(a, b, g)
    mu11, mu22, mu12 = mu1 * mu1, mu2 * mu2, mu1 * mu2
    ssim_map = ((2 * mu12 + c1) * (2 * (e12 - mu12) + c2)) / ((mu11 + mu22 + c1) * (e_sq - mu11 - mu22 + c2))
    return ssim_map.reshape(n, -1).mean(dim=1)


def make_ssim(name: str, protocol: Protocol) -> FullReference:
    info = ColumnInfo(name=name, reference="FR", higher_is_better=True, value_range=(-1.0, 1.0),
                       protocol=protocol, description=f"SSIM, {protocol.summary()}")
    return FullReference(info, ssim_planes)


def ssim_y(ctx=None) -> FullReference:
    """Y-SSIM, PReNet protocol (float Y): the table default."""
    return make_ssim("ssim_y", PRENET)


def ssim_y_uint8(ctx=None) -> FullReference:
    """Y-SSIM, MPRNet/Restormer/DRSformer protocol (uint8-rounded Y)."""
    return make_ssim("ssim_y_uint8", MPRNET)


def ssim_rgb(ctx=None) -> FullReference:
    """RGB SSIM, mean over channels (= scikit-image configured as Wang, data_range 255)."""
    return make_ssim("ssim_rgb", RGB)


def ssim_y_autodown(ctx=None) -> FullReference:
    """Y-SSIM exactly as PReNet's statistic/ssim.m (Wang's automatic downsampling): equals
    ssim_y below a 384 px short side, differs above (e.g. 512×512 SPA-Data: factor 2)."""
    from bench.measures.protocols import PRENET_AUTODOWN

    return make_ssim("ssim_y_autodown", PRENET_AUTODOWN)
