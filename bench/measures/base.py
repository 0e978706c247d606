"""What every measure declares (pyiqa-style metadata) and the protocol it is computed under."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch

from bench.columns import ColumnInfo


@dataclass(frozen=True)
class Protocol:
    """Everything that changes a PSNR/SSIM number. Stored with every value."""

    name: str
    channel: str = "y"              # "y" (MATLAB rgb2ycbcr luma) | "rgb" | "gray"
    y_rounded: bool = False         # Y from uint8 (rounded) as in MPRNet-style scripts, else float Y
    data_range: float = 255.0
    crop_border: int = 0
    ssim: str = "wang2004"          # 11×11 Gaussian σ1.5, K1 .01, K2 .03, 'valid', no downsampling
    psnr_cap_db: float = 100.0      # identical images give +inf; capped so means stay finite
    pairing: str = "by name (layout rule)"
    cite: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        ch = {"y": "Y (MATLAB rgb2ycbcr)" + (", uint8-rounded" if self.y_rounded else ", float"),
              "rgb": "RGB", "gray": "gray"}[self.channel]
        crop = f", crop {self.crop_border}px" if self.crop_border else ""
        return f"{self.name}: {ch}, range 0-{self.data_range:g}{crop}, SSIM {self.ssim}, PSNR cap {self.psnr_cap_db:g} dB"


class Measure:
    """Per-image values for a batch: ``output`` and ``clean`` are float N×3×H×W in [0,1] that
    hold uint8 values (the quantised derained image), RGB. Returns a float64 tensor of N values."""

    info: ColumnInfo   # what the measure declares (bench/columns.py)

    def __call__(self, output: torch.Tensor, clean: torch.Tensor | None) -> torch.Tensor:
        raise NotImplementedError
