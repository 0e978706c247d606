"""Image decoding and encoding. Every array here is RGB, uint8, H×W×3 — never BGR.

Conversions applied on read are deliberate and documented, because they change pixels:
EXIF orientation is applied; grayscale and palette images become RGB; RGBA/LA drop alpha
(no compositing — alpha in a benchmark image is almost always an export artefact); 16-bit
images (grayscale, and RGB/RGBA PNG, which PIL alone would truncate to their high byte) are
scaled to 8 bit with rounding, round(v·255/65535); CMYK JPEGs go through PIL's CMYK→RGB
conversion. Images over MAX_PIXELS (or PIL's decompression-bomb limit) are refused undecoded.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
MAX_PIXELS = 80_000_000  # above this we refuse rather than risk swapping the machine


class ImageError(ValueError):
    """A file that cannot be used as an image; the message says which file and what to do."""


def read_rgb(path: str | os.PathLike) -> np.ndarray:
    path = Path(path)
    if not path.is_file():
        raise ImageError(f"{path}: file not found. Check the dataset folder layout (bench data verify).")
    if path.stat().st_size == 0:
        raise ImageError(f"{path}: zero-byte file. Re-copy it from the dataset source.")
    if path.suffix.lower() == ".png" and _png_rgb16(path):
        return _read_png_rgb16(path)
    try:
        with Image.open(path) as im:
            if im.width * im.height > MAX_PIXELS:
                raise ImageError(
                    f"{path}: {im.width}x{im.height} is larger than {MAX_PIXELS} pixels; "
                    "downscale it or evaluate a crop."
                )
            im = ImageOps.exif_transpose(im)
            arr = _to_rgb8(im, path)
    except Image.DecompressionBombError as e:
        raise ImageError(f"{path}: refused as too large to decode safely ({e}); downscale it or evaluate a crop.") from e
    except (UnidentifiedImageError, ImportError) as e:
        # ImportError: Ultralytics patches Image.open to load an optional HEIF plugin after PIL
        # fails to identify a file; without the plugin the file is just as unreadable.
        raise ImageError(f"{path}: not a readable image ({e.__class__.__name__}). Replace or remove the file.") from e
    except (OSError, SyntaxError) as e:  # truncated data, broken chunks
        raise ImageError(f"{path}: image data is damaged ({e}). Re-copy it from the dataset source.") from e
    return arr if arr.flags.writeable and arr.flags.c_contiguous else np.array(arr, order="C")


def _png_rgb16(path: Path) -> bool:
    """16-bit RGB(A) PNG? PIL would decode it to 8 bit by dropping the low byte (truncation)."""
    with open(path, "rb") as f:
        head = f.read(26)
    return (len(head) == 26 and head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
            and head[24] == 16 and head[25] in (2, 6))


def _read_png_rgb16(path: Path) -> np.ndarray:
    import cv2  # only for 16-bit colour PNGs; OpenCV returns BGR(A), converted explicitly below

    with open(path, "rb") as f:
        head = f.read(24)
    w, h = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    if w * h > MAX_PIXELS:
        raise ImageError(f"{path}: {w}x{h} is larger than {MAX_PIXELS} pixels; downscale it or evaluate a crop.")
    a = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if a is None or a.ndim != 3 or a.dtype != np.uint16:
        raise ImageError(f"{path}: 16-bit PNG data is damaged or unreadable. Re-copy it from the dataset source.")
    rgb = cv2.cvtColor(np.ascontiguousarray(a[..., :3]), cv2.COLOR_BGR2RGB)
    return np.round(rgb.astype(np.float64) * (255.0 / 65535.0)).astype(np.uint8)


def _to_rgb8(im: Image.Image, path: Path) -> np.ndarray:
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        a = np.asarray(im, dtype=np.float64)
        peak = 65535.0 if a.max(initial=0) > 255 or im.mode.startswith("I;16") else 255.0
        gray = np.clip(np.round(a / peak * 255.0), 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if im.mode == "RGB":
        return np.asarray(im, dtype=np.uint8)
    if im.mode in ("RGBA", "LA", "PA"):
        im = im.convert("RGBA")
        return np.asarray(im, dtype=np.uint8)[..., :3]
    if im.mode in ("L", "1", "P", "CMYK", "YCbCr", "LAB", "HSV", "RGBX"):
        return np.asarray(im.convert("RGB"), dtype=np.uint8)
    if im.mode == "F":
        raise ImageError(f"{path}: floating-point image (mode F) has no defined 8-bit range; convert it to PNG first.")
    return np.asarray(im.convert("RGB"), dtype=np.uint8)


def write_png(path: str | os.PathLike, rgb: np.ndarray) -> None:
    """Write losslessly and atomically (temp file + rename): a killed run never leaves half a PNG."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"write_png expects uint8 H×W×3 RGB, got {rgb.dtype} {rgb.shape}")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".png")
    os.close(fd)
    try:
        Image.fromarray(rgb, "RGB").save(tmp, format="PNG", compress_level=1)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """uint8 H×W×3 RGB -> float32 1×3×H×W in [0, 1]."""
    return torch.from_numpy(rgb).permute(2, 0, 1).unsqueeze(0).float().div_(255.0)


def to_uint8(x: torch.Tensor, mode: str = "round") -> np.ndarray:
    """float N×3×H×W (or 3×H×W) in [0,1] -> uint8 (N×)H×W×3.

    ``mode`` is part of the protocol: "round" to nearest, or "trunc" as in ``np.uint8(255*x)``
    used by PReNet's and SAPNet's official test scripts.
    """
    y = x.detach().float().clamp(0, 1).mul(255.0)
    if mode == "round":
        y = torch.round(y)
    elif mode == "trunc":
        y = torch.floor(y)
    else:
        raise ValueError(f"unknown quantisation {mode!r}; use 'round' or 'trunc'")
    y = y.to(torch.uint8).cpu()
    return (y.permute(0, 2, 3, 1) if y.ndim == 4 else y.permute(1, 2, 0)).numpy()
