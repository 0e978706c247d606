"""Straightforward NumPy/scikit-image reference implementations, for ``bench perf measures``.

Written plainly, one image and one block at a time, the way the MATLAB release and the common
Python ports do it, so the benchmark compares our batched torch code against a realistic
baseline. They compute the same numbers (checked by the benchmark and by tests).
"""
from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import correlate
from scipy.special import gamma
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

Y_COEFFS = np.array([65.481, 128.553, 24.966]) / 255.0
GRAY_COEFFS = np.array([0.298936021293775, 0.587043074451121, 0.114020904255103])


def y_float(rgb8: np.ndarray) -> np.ndarray:
    """MATLAB rgb2ycbcr luma of a uint8 H×W×3 image, double path, 0..255 scale."""
    return 16.0 + rgb8.astype(np.float64) @ Y_COEFFS


def psnr_y(out8: np.ndarray, clean8: np.ndarray) -> float:
    return float(peak_signal_noise_ratio(y_float(clean8), y_float(out8), data_range=255))


def ssim_y(out8: np.ndarray, clean8: np.ndarray) -> float:
    """scikit-image configured as Wang 2004 (REFERENCE.md)."""
    return float(structural_similarity(y_float(out8), y_float(clean8), data_range=255, gaussian_weights=True,
                                       sigma=1.5, use_sample_covariance=False))


def ssim_rgb(out8: np.ndarray, clean8: np.ndarray) -> float:
    return float(structural_similarity(out8.astype(np.float64), clean8.astype(np.float64), data_range=255,
                                       channel_axis=-1, gaussian_weights=True, sigma=1.5,
                                       use_sample_covariance=False))


# ------------------------------------------------------------------ NIQE, plainly
def _estimate_aggd(vec: np.ndarray) -> tuple[float, float, float]:
    gam = np.arange(0.2, 10.0005, 0.001)
    r_gam = gamma(2 / gam) ** 2 / (gamma(1 / gam) * gamma(3 / gam))
    left = np.sqrt(np.mean(vec[vec < 0] ** 2)) if np.any(vec < 0) else np.nan
    right = np.sqrt(np.mean(vec[vec > 0] ** 2)) if np.any(vec > 0) else np.nan
    g = left / right
    rhat = np.mean(np.abs(vec)) ** 2 / np.mean(vec ** 2)
    rnorm = rhat * (g ** 3 + 1) * (g + 1) / (g ** 2 + 1) ** 2
    diff = (r_gam - rnorm) ** 2
    alpha = gam[0] if np.isnan(rnorm) else gam[np.argmin(diff)]
    s = np.sqrt(gamma(1 / alpha) / gamma(3 / alpha))
    return alpha, left * s, right * s


def _block_feature(block: np.ndarray) -> list[float]:
    a, bl, br = _estimate_aggd(block.ravel())
    feat = [a, (bl + br) / 2]
    for shift in ((0, 1), (1, 0), (1, 1), (1, -1)):
        pair = block * np.roll(block, shift, axis=(0, 1))
        a, bl, br = _estimate_aggd(pair.ravel())
        feat += [a, (br - bl) * gamma(2 / a) / gamma(1 / a), bl, br]
    return feat


def _cubic(x):
    a = np.abs(x)
    return ((1.5 * a ** 3 - 2.5 * a ** 2 + 1) * (a <= 1)
            + (-0.5 * a ** 3 + 2.5 * a ** 2 - 4 * a + 2) * ((a > 1) & (a <= 2)))


def _resize_axis(img: np.ndarray, scale: float, axis: int) -> np.ndarray:
    n_in = img.shape[axis]
    n_out = math.ceil(n_in * scale)
    width = 4 / scale
    out = []
    for i in range(1, n_out + 1):
        u = i / scale + 0.5 * (1 - 1 / scale)
        left = math.floor(u - width / 2)
        idx = np.arange(left, left + math.ceil(width) + 2)
        w = scale * _cubic(scale * (u - idx))
        w = w / w.sum()
        idx = np.where(idx < 1, 1 - idx, idx)             # mirror at the start (symmetric)
        idx = np.where(idx > n_in, 2 * n_in + 1 - idx, idx)  # and at the end
        out.append(np.tensordot(w, np.take(img, idx - 1, axis=axis), axes=([0], [axis])))
    return np.stack(out, axis=axis)


def imresize_half(img: np.ndarray) -> np.ndarray:
    return _resize_axis(_resize_axis(img, 0.5, 0), 0.5, 1)


def niqe(rgb8: np.ndarray, mu_p: np.ndarray, cov_p: np.ndarray, block: int = 96) -> float:
    im = np.floor(rgb8.astype(np.float64) @ GRAY_COEFFS + 0.5)
    h, w = im.shape
    im = im[: h // block * block, : w // block * block]
    x = np.arange(7) - 3.0
    win = np.exp(-(x[:, None] ** 2 + x[None, :] ** 2) / (2 * (7 / 6) ** 2))
    win /= win.sum()
    feats = []
    for scale in (1, 2):
        mu = correlate(im, win, mode="nearest")
        sigma = np.sqrt(np.abs(correlate(im * im, win, mode="nearest") - mu * mu))
        mscn = (im - mu) / (sigma + 1)
        b = block // scale
        rows = []
        for c in range(mscn.shape[1] // b):
            for r in range(mscn.shape[0] // b):
                rows.append(_block_feature(mscn[r * b:(r + 1) * b, c * b:(c + 1) * b]))
        feats.append(np.array(rows))
        if scale == 1:
            im = imresize_half(im)
    f = np.concatenate(feats, axis=1)
    mu_d = np.nanmean(f, axis=0)
    cov_d = np.cov(f[~np.isnan(f).any(axis=1)], rowvar=False)
    d = mu_p.ravel() - mu_d
    return float(np.sqrt(d @ np.linalg.pinv((cov_p + cov_d) / 2) @ d))
