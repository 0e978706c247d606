"""Small training material for tests/test_train_*.py: BSDS500 crops with rendered heavy rain."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from bench.data.synth import preset, render
from bench.imageio import read_rgb, write_png

TEST_PHOTOS = ("100007", "100039", "101027", "103006")   # BSDS500 test/: in no Rain100L/H test pair


def tiny_pairs(shared_data: Path, out: Path, side: int = 48) -> Path:
    """rain/ + norain/ folder of len(TEST_PHOTOS) side×side pairs (BSDS500 test crops, heavy rain)."""
    for pid in TEST_PHOTOS:
        clean = read_rgb(shared_data / "bsds500" / "test" / f"{pid}.jpg")[100: 100 + side, 150: 150 + side]
        write_png(out / "norain" / f"{pid}.png", clean)
        write_png(out / "rain" / f"{pid}.png", render(np.ascontiguousarray(clean), preset("heavy"), 0, pid))
    return out


def tiny_batch(shared_data: Path, side: int = 32, n: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    rainy, clean = [], []
    for pid in TEST_PHOTOS[:n]:
        c = np.ascontiguousarray(read_rgb(shared_data / "bsds500" / "test" / f"{pid}.jpg")[100: 100 + side, 150: 150 + side])
        clean.append(torch.from_numpy(c).permute(2, 0, 1).float() / 255)
        rainy.append(torch.from_numpy(render(c, preset("heavy"), 0, pid)).permute(2, 0, 1).float() / 255)
    return torch.stack(rainy), torch.stack(clean)
