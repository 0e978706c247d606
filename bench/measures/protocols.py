"""Named metric protocols: the presets people cite, as data.

Every number the harness stores carries the protocol it was computed under (``Protocol.summary``),
so a table never mixes, say, float-Y PSNR with uint8-Y PSNR silently.

- ``prenet`` (default for tables): PReNet's ``statistic/*.m`` scripts. Images as double, Y from
  MATLAB ``rgb2ycbcr`` kept unrounded, PSNR with peak 1 on Y/255 (= peak 255 on Y), SSIM =
  Wang 2004 on Y·255. Note: PReNet's ``ssim.m`` is Wang's auto-downsampling version; its factor
  ``round(min(H, W)/256)`` is 1 for images whose short side is below 384 px (Rain100H/L, Rain1400
  crops, RainCityscapes), where it equals ``ssim_index``. For larger images use
  ``prenet_autodown`` to follow the script literally.
- ``mprnet``: MPRNet/Restormer/DRSformer ``evaluate_PSNR_SSIM.m``: uint8 images, Y from
  ``rgb2ycbcr`` on uint8 (rounded to uint8), PSNR peak 255, the same Wang SSIM, files paired by
  sorted order in their script (the harness pairs by name; identical for the usual layouts).
- ``rgb``: all three RGB channels, 0-255, PSNR over all channels, SSIM per channel then averaged:
  equal to scikit-image ``structural_similarity(..., channel_axis=-1, gaussian_weights=True,
  sigma=1.5, use_sample_covariance=False, data_range=255)`` and ``peak_signal_noise_ratio(...,
  data_range=255)``.
"""
from __future__ import annotations

from bench.measures.base import Protocol

PRENET = Protocol(
    name="prenet", channel="y", y_rounded=False, data_range=255.0, crop_border=0, ssim="wang2004",
    pairing="by name (layout rule)",
    cite="PReNet statistic/psnr.m + ssim.m (Ren et al., CVPR 2019): float Y, Wang SSIM",
)
MPRNET = Protocol(
    name="mprnet", channel="y", y_rounded=True, data_range=255.0, crop_border=0, ssim="wang2004",
    pairing="by name (MPRNet's script pairs sorted file lists)",
    cite="MPRNet/Restormer/DRSformer evaluate_PSNR_SSIM.m: uint8 Y, Wang SSIM",
)
RGB = Protocol(
    name="rgb", channel="rgb", y_rounded=False, data_range=255.0, crop_border=0, ssim="wang2004",
    pairing="by name (layout rule)",
    cite="scikit-image PSNR / SSIM configured as Wang 2004 (gaussian_weights, sigma 1.5, population covariance)",
)
PRENET_AUTODOWN = Protocol(
    name="prenet_autodown", channel="y", y_rounded=False, data_range=255.0, crop_border=0,
    ssim="wang2009_autodown", pairing="by name (layout rule)",
    cite="PReNet statistic/ssim.m literally: Wang SSIM after its automatic downsampling "
         "(factor round(min(H,W)/256)); equals prenet below 384 px",
)

PROTOCOLS: dict[str, Protocol] = {p.name: p for p in (PRENET, MPRNET, RGB, PRENET_AUTODOWN)}
DEFAULT = PRENET


def get(name: str) -> Protocol:
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise KeyError(f"unknown metric protocol {name!r}; known: {', '.join(PROTOCOLS)}") from None
