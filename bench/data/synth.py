"""Seeded parametric rain on any image set, keeping its labels unchanged.

Model (the additive streak model of Yang et al. / Rain100, plus an optional veil):
    rainy = clip( clean·(1 − t) + A·t + β·S , 0, 1)
S is a streak layer: sparse random seeds (``density`` per 1000 pixels), widened by a Gaussian of
``width`` px, smeared by a line kernel of ``length`` px at ``angle`` degrees from vertical, and
normalised so that a streak's core is 1. β = ``brightness``; t = ``haze`` (veil strength) with
atmospheric light A = ``haze_light``. Sizes are given for a 481×321 image (Rain100's) and scale
with sqrt(area), so streaks look alike at any resolution. ``layers`` draws several streak
layers with lengths spread over ``length`` ± ``length_jitter`` (depth), and each image draws its
own strength factor in [1 − strength_jitter, 1 + strength_jitter] (Rain100's images also vary).

Everything random comes from numpy's PCG64 seeded by (seed, image id), so one image's rain does
not depend on which other images are rendered, or in which order.

Presets are calibrated on Rain100H's own clean images (tests/reference/synth/calibrate.py,
results in calibration.json): rainy-vs-clean PSNR-Y (PReNet protocol) over the 100 images —
light 26.94 dB mean (p10/p50/p90 23.6/26.6/30.0; Rain100L's published rainy row: 26.90);
heavy 13.68 dB (10.8/13.5/16.6; real Rain100H pairs: 13.556, 9.9/13.5/16.6).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import cv2  # used on float32 arrays only (no colour conversion): channel order never matters here
import numpy as np

SYNTH_VERSION = 1          # bump when the rendering changes: cached generated sets rebuild
REFERENCE_AREA = 481 * 321


@dataclass(frozen=True)
class RainParams:
    density: float = 2.0          # streak seeds per 1000 pixels (per layer)
    length: float = 20.0          # px at 481×321
    length_jitter: float = 0.3    # layers spread length by ±this fraction
    angle: float = 10.0           # degrees from vertical (positive leans right)
    angle_jitter: float = 3.0     # per-image angle spread (degrees)
    width: float = 0.8            # Gaussian sigma of a streak's cross-section, px at 481×321
    brightness: float = 0.5       # β, added intensity at a streak core (0..1)
    layers: int = 2
    haze: float = 0.0             # veil strength t (0 = none)
    haze_light: float = 0.85      # atmospheric light A
    strength_jitter: float = 0.0  # per-image factor on brightness, density and haze

    def replace(self, **changes) -> "RainParams":
        return dataclasses.replace(self, **changes)


PRESETS: dict[str, RainParams] = {
    # calibrated: see the module docstring and tests/reference/synth/calibration.json
    "light": RainParams(density=1.0, length=18.0, angle=8.0, width=0.6, brightness=0.43, layers=1,
                        haze=0.0, strength_jitter=0.35),
    "heavy": RainParams(density=0.9, length=34.0, angle=12.0, width=1.0, brightness=0.80, layers=2,
                        haze=0.16, haze_light=0.9, strength_jitter=0.5),
}


def preset(name: str) -> RainParams:
    if name not in PRESETS:
        raise KeyError(f"unknown rain preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]


def image_rng(seed: int, image_id: str) -> np.random.Generator:
    digest = hashlib.sha256(f"{seed}:{image_id}".encode()).digest()
    return np.random.Generator(np.random.PCG64(int.from_bytes(digest[:8], "little")))


def _line_kernel(length: float, angle_deg: float) -> np.ndarray:
    size = max(3, int(math.ceil(length)) | 1)
    k = np.zeros((size, size), np.float32)
    c = size // 2
    dx, dy = math.sin(math.radians(angle_deg)), math.cos(math.radians(angle_deg))
    half = (length - 1) / 2
    p0 = (int(round(c - dx * half)), int(round(c - dy * half)))
    p1 = (int(round(c + dx * half)), int(round(c + dy * half)))
    cv2.line(k, p0, p1, 1.0, 1, cv2.LINE_AA)
    return k / k.sum()


def streak_layer(h: int, w: int, p: RainParams, rng: np.random.Generator, strength: float) -> np.ndarray:
    """H×W float32 in [0, 1]: the sum of ``p.layers`` streak layers (before brightness)."""
    scale = math.sqrt(h * w / REFERENCE_AREA)
    angle = p.angle + rng.uniform(-p.angle_jitter, p.angle_jitter)
    total = np.zeros((h, w), np.float32)
    for i in range(p.layers):
        frac = 0.0 if p.layers == 1 else (i / (p.layers - 1)) * 2 - 1
        length = max(2.0, p.length * (1 + p.length_jitter * frac) * scale)
        # streak area grows as scale² (length × width), so seeds thin out as 1/scale²: the covered
        # fraction of the image, and so the PSNR, stays the same at any resolution
        rate = p.density * strength / 1000.0 / (scale * scale)
        seeds = (rng.random((h, w), dtype=np.float32) < rate).astype(np.float32)
        seeds *= rng.uniform(0.6, 1.0, size=(h, w)).astype(np.float32)  # streaks differ in opacity
        sigma = max(0.3, p.width * scale)
        peak = float(cv2.getGaussianKernel(2 * math.ceil(3 * sigma) + 1, sigma).max()) ** 2
        layer = cv2.GaussianBlur(seeds, (0, 0), sigma) / peak  # a lone streak's core is 1 at any width
        line = _line_kernel(length, angle + rng.normal(0, 1.0))
        total += cv2.filter2D(layer, -1, line / line.max(), borderType=cv2.BORDER_REFLECT)
    return np.clip(total, 0.0, 1.0)


def render(clean_rgb: np.ndarray, params: RainParams, seed: int, image_id: str) -> np.ndarray:
    """uint8 H×W×3 RGB clean -> uint8 H×W×3 RGB rainy (rounded)."""
    rng = image_rng(seed, image_id)
    strength = 1.0 + rng.uniform(-params.strength_jitter, params.strength_jitter)
    h, w = clean_rgb.shape[:2]
    streaks = streak_layer(h, w, params, rng, strength)
    x = clean_rgb.astype(np.float32) / 255.0
    t = min(0.95, params.haze * strength)
    if t > 0:
        x = x * (1 - t) + params.haze_light * t
    x = x + (params.brightness * min(strength, 1.5)) * streaks[..., None]
    return np.clip(np.round(x * 255.0), 0, 255).astype(np.uint8)


# --- writing a rainy copy of a labelled set -------------------------------------------------------
@dataclass(frozen=True)
class SourceImage:
    id: str
    image: Path
    labels: tuple[tuple[Path, str], ...] = ()   # (label file, path relative to the output root)


def write_rainy_set(items: list[SourceImage], out: Path, params: RainParams, seed: int,
                    label_format: str | None, source: str, max_side: int | None = None) -> dict:
    """Render every item into ``out`` (rain/<id>.png, norain/<id>.png, labels copied byte for byte
    to their relative paths) and write ``synth.json``. Builds in a temporary folder and renames,
    so an interrupted build never looks finished. Returns the manifest."""
    import os
    import shutil
    import tempfile

    from bench.imageio import read_rgb, write_png

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}-"))
    try:
        ids = set()
        for item in items:
            if item.id in ids:
                raise ValueError(f"{item.image}: duplicate image id {item.id!r} in the synthesis source")
            ids.add(item.id)
            clean = read_rgb(item.image)
            if max_side and max(clean.shape[:2]) > max_side:
                if item.labels and label_format == "cityscapes":
                    raise ValueError(f"{item.image}: resizing would break its label map; use max_side=None")
                clean = _downscale(clean, max_side)
            write_png(tmp / "norain" / f"{item.id}.png", clean)
            write_png(tmp / "rain" / f"{item.id}.png", render(clean, params, seed, item.id))
            for label, rel in item.labels:
                (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(label, tmp / rel)  # unchanged: rain moves no pixel
        manifest = {"synth_version": SYNTH_VERSION, "seed": seed, "params": dataclasses.asdict(params),
                    "label_format": label_format, "source": source, "count": len(items),
                    "max_side": max_side, "ids": sorted(ids)}
        (tmp / "synth.json").write_text(json.dumps(manifest, indent=1))
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
        return manifest
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _downscale(rgb: np.ndarray, max_side: int) -> np.ndarray:
    """Area-averaged downscale (cv2.INTER_AREA on RGB arrays; no colour conversion involved)."""
    h, w = rgb.shape[:2]
    s = max_side / max(h, w)
    return cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)


# --- sources ------------------------------------------------------------------------------------
def yolo_items(root: Path) -> list[SourceImage]:
    """Ultralytics layout: images/<split>/<stem>.jpg + labels/<split>/<stem>.txt (missing txt = no
    objects, as in Ultralytics). Label goes to labels/<id>.txt."""
    from bench.imageio import IMAGE_SUFFIXES

    items = []
    for img in sorted((root / "images").rglob("*")):
        if img.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        rel = img.relative_to(root / "images").with_suffix(".txt")
        txt = root / "labels" / rel
        sid = img.stem
        items.append(SourceImage(sid, img, ((txt, f"labels/{sid}.txt"),) if txt.is_file() else ()))
    if not items:
        raise FileNotFoundError(f"{root}: no images under images/ (expected the Ultralytics YOLO layout)")
    return items


def cityscapes_items(root: Path) -> list[SourceImage]:
    """Cityscapes layout: leftImg8bit/<split>/<city>/<stem>_leftImg8bit.png + gtFine/<split>/<city>/
    <stem>_gtFine_*.png (all gtFine files of that frame are copied to the same relative path)."""
    items = []
    for img in sorted((root / "leftImg8bit").rglob("*_leftImg8bit.png")):
        rel_dir = img.parent.relative_to(root / "leftImg8bit")
        frame = img.name[: -len("_leftImg8bit.png")]
        labels = tuple((p, f"gtFine/{rel_dir.as_posix()}/{p.name}")
                       for p in sorted((root / "gtFine" / rel_dir).glob(f"{frame}_gtFine_*.png")))
        items.append(SourceImage(img.stem, img, labels))
    if not items:
        raise FileNotFoundError(f"{root}: no leftImg8bit/<split>/<city>/*_leftImg8bit.png (Cityscapes layout)")
    return items


def folder_items(root: Path) -> list[SourceImage]:
    from bench.imageio import IMAGE_SUFFIXES

    items = [SourceImage(p.stem, p) for p in sorted(root.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES]
    if not items:
        raise FileNotFoundError(f"{root}: no images")
    return items


SOURCES = {"yolo": (yolo_items, "yolo"), "cityscapes": (cityscapes_items, "cityscapes"), "images": (folder_items, None)}


def detect_source(root: Path) -> str:
    if (root / "images").is_dir() and (root / "labels").is_dir():
        return "yolo"
    if (root / "leftImg8bit").is_dir():
        return "cityscapes"
    return "images"
