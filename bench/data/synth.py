"""Seeded parametric rain: streak layers (density, length, angle, width, brightness) plus optional
haze (veiling), composited additively onto clean images, as in the JORDER/Rain100 model O = B + S.

Every parameter is a range; each image draws its own values from an RNG seeded by (seed, image id),
so a dataset is reproducible image by image, whatever the order or subset. Lengths and widths are
given in pixels at a 321-pixel short side (Rain100H's) and scale with the image.
"""
from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass, replace

import cv2
import numpy as np

REFERENCE_SHORT_SIDE = 321.0

Range = tuple[float, float]


@dataclass(frozen=True)
class RainParams:
    density: Range = (0.002, 0.004)      # fraction of pixels seeding a streak, per layer, at the reference size
    length: Range = (20.0, 40.0)         # streak length, px at the reference short side
    angle: Range = (-10.0, 10.0)         # degrees from vertical (positive leans right going down)
    angle_spread: float = 3.0            # extra per-layer jitter around the drawn angle, degrees
    width: Range = (0.6, 1.0)            # Gaussian cross-section sigma, px at the reference short side
    brightness: Range = (0.3, 0.5)       # intensity added by one streak at its centre line, [0,1]
    layers: int = 1                      # independent streak layers (near/far rain)
    haze: Range = (0.0, 0.0)             # veiling: blend weight towards the atmospheric light
    haze_light: Range = (0.8, 0.9)       # atmospheric light, [0,1]

    def with_overrides(self, **kw) -> "RainParams":
        """Override ranges; a single number means a fixed value."""
        fixed = {k: (v if k in ("layers", "angle_spread") or isinstance(v, tuple) else (float(v), float(v)))
                 for k, v in kw.items() if v is not None}
        return replace(self, **fixed)


# Calibrated on the 100 Rain100H clean images against the rainy/clean PSNR-Y of Rain100H (heavy:
# 13.56 dB mean, 2.91 dB std) and the published Rain100L input value (light: 26.90 dB).
# Numbers reached: see tests/reference/synth/calibrate.py and its output next to it.
PRESETS: dict[str, RainParams] = {
    "light": RainParams(density=(0.002, 0.004), length=(12.0, 30.0), angle=(-15.0, 15.0), width=(0.5, 0.8),
                        brightness=(0.3, 0.6), layers=1, haze=(0.0, 0.0)),
    "heavy": RainParams(density=(0.0012, 0.005), length=(60.0, 160.0), angle=(-12.0, 12.0), width=(0.8, 1.4),
                        brightness=(0.35, 0.9), layers=1, haze=(0.0, 0.2), haze_light=(0.8, 0.9)),
}


def image_rng(seed: int, image_id: str) -> np.random.Generator:
    return np.random.default_rng([int(seed), zlib.crc32(image_id.encode("utf-8"))])


def draw(params: RainParams, rng: np.random.Generator) -> dict[str, float]:
    """One image's concrete values, drawn from the ranges (in a fixed order: reproducible)."""
    u = lambda r: float(rng.uniform(r[0], r[1])) if r[1] > r[0] else float(r[0])  # noqa: E731
    return {"density": u(params.density), "length": u(params.length), "angle": u(params.angle),
            "width": u(params.width), "brightness": u(params.brightness), "haze": u(params.haze),
            "haze_light": u(params.haze_light), "layers": params.layers, "angle_spread": params.angle_spread}


def streak_kernel(length: float, angle_deg: float, sigma: float) -> np.ndarray:
    """A rain-streak point spread: a line of ``length`` px with a Gaussian cross-section and
    tapered ends, peak 1 (so an isolated seed of value v draws a streak of intensity v)."""
    half = int(np.ceil(length / 2 + 3 * sigma)) + 1
    yy, xx = np.mgrid[-half:half + 1, -half:half + 1].astype(np.float64)
    a = np.deg2rad(angle_deg)
    along = xx * np.sin(a) + yy * np.cos(a)
    across = xx * np.cos(a) - yy * np.sin(a)
    t = np.clip(1.0 - np.abs(along) / max(length / 2, 0.5), 0.0, 1.0)
    return (np.sqrt(t) * np.exp(-0.5 * (across / max(sigma, 0.3)) ** 2)).astype(np.float32)


def rain_layer(h: int, w: int, values: dict[str, float], rng: np.random.Generator) -> np.ndarray:
    """Streak intensity S (float32 h×w, ≥0) for one image."""
    scale = min(h, w) / REFERENCE_SHORT_SIDE
    length, sigma = values["length"] * scale, values["width"] * scale
    density = min(values["density"] / scale ** 2, 1.0)   # streak area grows with scale²: keep coverage fixed
    pad = int(length) + 4      # seeds outside the frame draw streaks into it (no empty border)
    total = np.zeros((h, w), np.float32)
    for _ in range(int(values["layers"])):
        angle = values["angle"] + float(rng.uniform(-1, 1)) * values["angle_spread"]
        seeds = (rng.random((h + 2 * pad, w + 2 * pad)) < density).astype(np.float32)
        seeds *= rng.uniform(0.4, 1.0, size=seeds.shape).astype(np.float32)
        streaks = cv2.filter2D(seeds, cv2.CV_32F, streak_kernel(length, angle, sigma),
                               borderType=cv2.BORDER_CONSTANT)[pad:pad + h, pad:pad + w]
        total += np.minimum(streaks, 1.0)
    return np.minimum(total, 1.0) * values["brightness"]


def render(clean: np.ndarray, values: dict[str, float], rng: np.random.Generator) -> np.ndarray:
    """uint8 RGB clean image -> uint8 RGB rainy image (streaks are colourless, as in Rain100)."""
    h, w = clean.shape[:2]
    b = clean.astype(np.float32) / 255.0
    s = rain_layer(h, w, values, rng)[..., None]
    o = b + s
    if values["haze"] > 0:
        o = o * (1.0 - values["haze"]) + values["haze_light"] * values["haze"]
    return np.clip(np.round(o * 255.0), 0, 255).astype(np.uint8)


def add_rain(clean: np.ndarray, image_id: str, params: RainParams | str = "heavy", seed: int = 0
             ) -> tuple[np.ndarray, dict[str, float]]:
    """Render seeded rain on one image; returns the rainy image and the values drawn."""
    p = PRESETS[params] if isinstance(params, str) else params
    rng = image_rng(seed, image_id)
    values = draw(p, rng)
    return render(clean, values, rng), values


def psnr_y(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR on MATLAB-rgb2ycbcr Y (unrounded, peak 1) of two uint8 RGB images: the PReNet protocol."""
    def y(x):
        x = x.astype(np.float64) / 255.0
        return (16.0 + 65.481 * x[..., 0] + 128.553 * x[..., 1] + 24.966 * x[..., 2]) / 255.0
    mse = float(np.mean((y(a) - y(b)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(1.0 / mse)


def params_dict(p: RainParams) -> dict:
    return asdict(p)
