"""Small real-data folders and run helpers for the engine, store and report tests."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from bench.cli import main


def crop_pair(shared_data: Path, i: int, dst: Path, name: str | None = None, box=(0, 0, 96, 64)) -> None:
    """rain/<name> + norain/<name>: a crop of Rain100H pair ``i`` (real pixels, small)."""
    name = name or f"norain-{i}.png"
    for sub in ("rain", "norain"):
        (dst / sub).mkdir(parents=True, exist_ok=True)
        Image.open(shared_data / "rain100h" / sub / f"norain-{i}.png").crop(box).save(dst / sub / name)


def tiny_pair(dst: Path, name: str) -> None:
    """A 1×1 pair: PSNR is defined, SSIM (11×11 window) is not."""
    for sub, v in (("rain", 90), ("norain", 100)):
        (dst / sub).mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((1, 1, 3), v, np.uint8)).save(dst / sub / name)


def run(*args) -> int:
    return main(["run", *args])


def last_run(out: Path) -> dict:
    runs = sorted((out / "runs").iterdir(), key=lambda p: p.stat().st_mtime)
    return json.loads((runs[-1] / "run.json").read_text())
