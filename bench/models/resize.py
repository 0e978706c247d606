"""Resize 8-bit images exactly as official scripts do with Pillow (size policy "resize").

Some official test scripts resize the 8-bit PIL image before the network
(``transforms.Resize`` on a PIL image = ``Image.resize(..., BILINEAR)``) and resize the 8-bit
output back. A float resize (even torch's antialiased bilinear, built to imitate Pillow) differs
from Pillow's integer arithmetic by one level on ~10% of the values, and DGNL-Net turns that into
output differences of up to tens of levels; Pillow also picks the order of its two separable
passes by a rule that has changed between releases. So the policy calls Pillow itself on the
8-bit image: the result is the official one for the installed Pillow, on any device (the image
makes one trip through host memory).
"""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image

FILTERS = {"bilinear": Image.Resampling.BILINEAR, "bicubic": Image.Resampling.BICUBIC}


def pil_resize_uint8(x: torch.Tensor, size: tuple[int, int], quantise: str = "round",
                     resample: str = "bilinear") -> torch.Tensor:
    """N×3×H×W floats in [0, 1] → 8-bit (``quantise``: "round" or "trunc" as ``ToPILImage``) →
    Pillow resize to ``size`` = (height, width) → floats k/255 on the input's device."""
    levels = x.detach().clamp(0, 1).mul(255.0)
    levels = torch.floor(levels) if quantise == "trunc" else torch.round(levels)
    arr = levels.to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    out = np.stack([np.asarray(Image.fromarray(a).resize((int(size[1]), int(size[0])), FILTERS[resample]))
                    for a in arr])
    return torch.from_numpy(out).to(x.device).permute(0, 3, 1, 2).float().div_(255.0).contiguous()
