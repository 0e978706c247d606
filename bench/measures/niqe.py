"""NIQE, the original LIVE release (Mittal, Soundararajan, Bovik 2013, ``niqe_release.zip``).

Variant: the authors' MATLAB code ``computequality(im, 96, 96, 0, 0, mu_prisparam,
cov_prisparam)`` with their pristine model ``modelparameters.mat`` (36-d MVG). This is *not*
MATLAB's built-in ``niqe()`` (Image Processing Toolbox), which uses a different pristine model
and gives different numbers (e.g. 7.20 vs 15.75 on TID2013 I03).

Algorithm, step by step as the release does it:
1. RGB uint8 -> ``rgb2gray`` (MATLAB coefficients, rounded to uint8), as double.
2. Crop to whole 96×96 blocks from the top-left.
3. Two scales. At each: local mean/std with a 7×7 Gaussian (σ 7/6, ``imfilter`` 'replicate'),
   MSCN = (I - μ)/(σ + 1); per block (96×96, then 48×48 at the half scale) 18 features: AGGD
   fit (``estimateaggdparam``: shape on the grid 0.2:0.001:10) of the MSCN values, and of the
   products with the block's circularly shifted copy for shifts (0,1), (1,0), (1,1), (1,-1).
   The second scale is MATLAB ``imresize(im, 0.5)``: bicubic with antialiasing (kernel widened
   by 2, weights normalised, symmetric borders).
4. MVG of the block features (``nanmean``, ``nancov`` over complete rows), quality =
   sqrt((μp - μd) pinv((Σp + Σd)/2) (μp - μd)ᵀ). Lower is better.

Batched over images and vectorised over blocks; float64 throughout; CPU or CUDA.

Caveat, inherited from the release: in flat 7×7 windows (saturated rain streaks, clipped sky)
I − μ is floating-point rounding noise whose signs enter the AGGD fits, so NIQE depends on the
filter's arithmetic by up to a few percent on such images. Our filter order (separable, fused
multiply-adds) reproduces the published MATLAB values on TID2013 I04/I06/I08 to ~1e-12 and I03
to 0.003 %; I19 (30 % flat) is +0.56 %. Octave running the release differs from MATLAB by up to
1.5 % on the same images (tests/reference/measures/README.md).
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from bench.columns import ColumnInfo
from bench.measures.base import Measure
from bench.measures.color import check_rgb_batch, matlab_gray, uint8_values
from bench.measures.ssim import _filter_valid
from bench.measures.threads import single_thread_on_cpu

BLOCK = 96
VARIANT = ("original LIVE NIQE release (computequality.m, 96×96 blocks, no overlap, "
           "pristine model modelparameters.mat); not MATLAB's built-in niqe()")
SHIFTS = ((0, 1), (1, 0), (1, 1), (1, -1))  # circshift offsets of computefeature.m


# ---------------------------------------------------------------- MATLAB pieces
def gaussian_1d(size: int = 7, sigma: float = 7 / 6) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(x * x) / (2 * sigma * sigma))
    return g / g.sum()  # fspecial('gaussian', 7, 7/6) is the outer product of this with itself


def _cubic(x: torch.Tensor) -> torch.Tensor:
    a = x.abs()
    a2, a3 = a * a, a * a * a
    return ((1.5 * a3 - 2.5 * a2 + 1) * (a <= 1)
            + (-0.5 * a3 + 2.5 * a2 - 4 * a + 2) * ((a > 1) & (a <= 2)))


@lru_cache(maxsize=32)
def imresize_matrix(in_len: int, scale: float) -> torch.Tensor:
    """(out × in) matrix of MATLAB ``imresize`` bicubic along one axis (antialiased when
    shrinking): row i holds the normalised kernel weights, borders mirrored ('symmetric')."""
    out_len = math.ceil(in_len * scale)
    width = 4.0 / scale if scale < 1 else 4.0
    x = torch.arange(1, out_len + 1, dtype=torch.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = torch.floor(u - width / 2)
    taps = math.ceil(width) + 2
    idx = left[:, None] + torch.arange(taps, dtype=torch.float64)[None, :]
    dist = u[:, None] - idx
    w = scale * _cubic(scale * dist) if scale < 1 else _cubic(dist)
    w = w / w.sum(dim=1, keepdim=True)
    mirror = torch.cat([torch.arange(in_len), torch.arange(in_len - 1, -1, -1)])
    cols = mirror[torch.remainder(idx.long() - 1, 2 * in_len)]
    m = torch.zeros(out_len, in_len, dtype=torch.float64)
    m.scatter_add_(1, cols, w)
    return m


def imresize(x: torch.Tensor, scale: float) -> torch.Tensor:
    """MATLAB imresize(x, scale) (bicubic, antialiasing) of (..., H, W) float64; rows first."""
    mr = imresize_matrix(x.shape[-2], scale).to(x.device)
    mc = imresize_matrix(x.shape[-1], scale).to(x.device)
    return mr @ x @ mc.T


@lru_cache(maxsize=4)
def _aggd_tables() -> tuple[torch.Tensor, ...]:
    """The release's shape grid and the gamma-function ratios it needs, per grid point."""
    from scipy.special import gamma

    gam = 0.2 + 0.001 * np.arange(9801)  # 0.2:0.001:10
    r_gam = gamma(2 / gam) ** 2 / (gamma(1 / gam) * gamma(3 / gam))  # strictly increasing
    beta_scale = np.sqrt(gamma(1 / gam) / gamma(3 / gam))
    mean_scale = gamma(2 / gam) / gamma(1 / gam)
    return tuple(torch.from_numpy(a) for a in (gam, r_gam, beta_scale, mean_scale))


def aggd_fit(v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``estimateaggdparam`` on each block of ``v`` (B × h × w, any strides): alpha, beta_l,
    beta_r, and the mean parameter (beta_r - beta_l)·Γ(2/α)/Γ(1/α)."""
    gam, r_gam, beta_scale, mean_scale = (t.to(v.device) for t in _aggd_tables())
    dims = tuple(range(1, v.ndim))
    neg, pos = v.clamp(max=0.0), v.clamp(min=0.0)
    sq_neg, sq_pos = (neg * neg).sum(dims), (pos * pos).sum(dims)
    left = torch.sqrt(sq_neg / (v < 0).sum(dims))      # mean over an empty set -> NaN, as MATLAB
    right = torch.sqrt(sq_pos / (v > 0).sum(dims))
    g = left / right
    m = v[0].numel()
    rhat = ((pos.sum(dims) - neg.sum(dims)) / m) ** 2 / ((sq_neg + sq_pos) / m)
    rnorm = rhat * (g ** 3 + 1) * (g + 1) / (g ** 2 + 1) ** 2
    # argmin over the grid of (r_gam - rnorm)^2: r_gam is increasing, so the minimiser is one of
    # the two neighbours of rnorm's insertion point; MATLAB's min takes the first on ties and
    # index 1 when everything is NaN.
    hi = torch.searchsorted(r_gam, rnorm.nan_to_num(0.0).contiguous()).clamp(1, r_gam.numel() - 1)
    lo = hi - 1
    pick_lo = (r_gam[lo] - rnorm) ** 2 <= (r_gam[hi] - rnorm) ** 2
    i = torch.where(pick_lo, lo, hi)
    i = torch.where(rnorm.isnan(), torch.zeros_like(i), i)
    beta_l, beta_r = left * beta_scale[i], right * beta_scale[i]
    return gam[i], beta_l, beta_r, (beta_r - beta_l) * mean_scale[i]


def block_features(mscn: torch.Tensor, block: int) -> torch.Tensor:
    """(N, H, W) MSCN -> (N, blocks, 18) ``computefeature`` per block (row-major block order)."""
    n, h, w = mscn.shape
    nr, nc = h // block, w // block
    b = mscn.reshape(n, nr, block, nc, block).permute(0, 1, 3, 2, 4).reshape(n * nr * nc, block, block)
    # circshift(b, [s0 s1]) inside each block = a window of the block padded circularly by one
    # row on top and one column each side: no per-shift copies.
    ext = F.pad(b.unsqueeze(1), (1, 1, 1, 0), mode="circular").squeeze(1)
    alpha, bl, br, _ = aggd_fit(b)
    cols = [alpha, (bl + br) / 2]
    for s0, s1 in SHIFTS:
        shifted = ext[:, 1 - s0: 1 - s0 + block, 1 - s1: 1 - s1 + block]
        alpha, bl, br, mean = aggd_fit(b * shifted)
        cols += [alpha, mean, bl, br]
    return torch.stack(cols, dim=1).reshape(n, nr * nc, 18)


def _local_filter(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """imfilter(x, fspecial-gaussian, 'replicate') of (N, H, W): same size. Separable, columns
    then rows, taps accumulated in order: on the published TID2013 values this order reproduces
    MATLAB to 1e-13 where others do not (MSCN of flat areas is rounding noise; see README)."""
    r = (g.numel() - 1) // 2
    y = F.pad(x.unsqueeze(1), (r, r, r, r), mode="replicate").squeeze(1)
    return _filter_valid(y, g)


def niqe_features(gray: torch.Tensor) -> torch.Tensor:
    """(N, H, W) float64 grey, H and W multiples of 96 -> (N, blocks, 36) features."""
    g = gaussian_1d().to(gray.device)
    feats, im = [], gray
    for scale in (1, 2):
        mu = _local_filter(im, g)
        sigma = torch.sqrt((_local_filter(im * im, g) - mu * mu).abs())
        feats.append(block_features((im - mu) / (sigma + 1), BLOCK // scale))
        if scale == 1:
            im = imresize(im, 0.5)
    return torch.cat(feats, dim=2)


def mvg_distance(feat: torch.Tensor, mu_p: torch.Tensor, cov_p: torch.Tensor) -> torch.Tensor:
    """NIQE from (N, blocks, 36) features: nanmean, nancov (complete rows, N-1), pinv."""
    finite = ~feat.isnan()
    mu_d = feat.nan_to_num(0.0).sum(1) / finite.sum(1)                      # nanmean per column
    rows = finite.all(dim=2, keepdim=True)                                 # nancov: complete rows
    cnt = rows.sum(1, keepdim=True).to(feat.dtype)
    x = torch.where(rows, feat, torch.zeros_like(feat))
    mean_c = x.sum(1, keepdim=True) / cnt
    xc = torch.where(rows, x - mean_c, torch.zeros_like(x))
    cov_d = xc.transpose(1, 2) @ xc / (cnt - 1)
    d = (mu_p - mu_d).unsqueeze(1)                                         # (N, 1, 36)
    inv = torch.linalg.pinv((cov_p + cov_d) / 2)
    return torch.sqrt((d @ inv @ d.transpose(1, 2)).reshape(-1))


# ---------------------------------------------------------------- the measure
def load_pristine(path: str | os.PathLike) -> tuple[torch.Tensor, torch.Tensor]:
    with np.load(path, allow_pickle=False) as z:
        missing = {"mu_pris_param", "cov_pris_param"} - set(z.files)
        if missing:
            raise ValueError(f"{path}: not a NIQE pristine model (missing {', '.join(sorted(missing))})")
        mu = torch.from_numpy(np.asarray(z["mu_pris_param"], dtype=np.float64).reshape(36))
        cov = torch.from_numpy(np.asarray(z["cov_pris_param"], dtype=np.float64).reshape(36, 36))
    return mu, cov


PACKAGED = "niqe_pris_params.npz"       # bench/measures/data/, provenance in PROVENANCE.md there
PACKAGED_SHA256 = "2a7c182a68c9e7f1b2e2e5ec723279d6f65d912b6fcaf37eb2bf03d7367c4296"


def packaged_pristine() -> Path:
    """The official parameters shipped with the package (checked against their sha256)."""
    from importlib import resources

    from bench.hashing import sha256_file

    path = Path(str(resources.files("bench.measures") / "data" / PACKAGED))
    if sha256_file(path) != PACKAGED_SHA256:
        raise ValueError(f"{path}: sha256 differs from the official NIQE parameters ({PACKAGED_SHA256}); "
                         "reinstall derain-bench")
    return path


class NIQE(Measure):
    info = ColumnInfo(
        name="niqe", reference="NR", higher_is_better=False, value_range=(0.0, math.inf),
        description=f"NIQE, {VARIANT}; grey = MATLAB rgb2gray (uint8), lower is better",
    )

    def __init__(self, params_path: str | os.PathLike | None = None):
        self._path = params_path
        self._params: tuple[torch.Tensor, torch.Tensor] | None = None

    def params(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._params is None:  # read on first use, so listing measures reads no file
            self._params = load_pristine(self._path or packaged_pristine())
        return self._params

    def __call__(self, output: torch.Tensor, clean: torch.Tensor | None = None) -> torch.Tensor:
        check_rgb_batch(output, "niqe input")
        h, w = output.shape[-2:]
        if h < BLOCK or w < BLOCK:
            raise ValueError(f"niqe: image {h}×{w} is smaller than one {BLOCK}×{BLOCK} block; "
                             "NIQE is undefined for it")
        mu_p, cov_p = (t.to(output.device) for t in self.params())
        with single_thread_on_cpu(output):
            gray = matlab_gray(uint8_values(output), rounded=True)[:, 0]
            gray = gray[:, : h // BLOCK * BLOCK, : w // BLOCK * BLOCK]
            return mvg_distance(niqe_features(gray), mu_p, cov_p)


def niqe(ctx=None) -> NIQE:
    """NIQE (original LIVE release, official pristine parameters shipped with the package),
    no reference, lower is better."""
    return NIQE()
