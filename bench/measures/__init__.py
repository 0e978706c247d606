"""Measure registry: name -> "module:attr" of a factory ``f(ctx) -> Measure`` (ctx: RunContext).

Names starting with ``pyiqa:`` (e.g. ``pyiqa:lpips``) are not in the table: ``build_measure``
hands them to the optional pyiqa adapter (bench/measures/pyiqa_adapter.py).
"""
from bench.registry import Registry

MEASURES = Registry("measure", {
    "psnr_y": "bench.measures.psnr:psnr_y",              # PReNet protocol (float Y): table default
    "ssim_y": "bench.measures.ssim:ssim_y",
    "psnr_y_uint8": "bench.measures.psnr:psnr_y_uint8",  # MPRNet/Restormer/DRSformer (uint8 Y)
    "ssim_y_uint8": "bench.measures.ssim:ssim_y_uint8",
    "psnr_rgb": "bench.measures.psnr:psnr_rgb",          # RGB, = scikit-image configured as Wang
    "ssim_rgb": "bench.measures.ssim:ssim_rgb",
    "ssim_y_autodown": "bench.measures.ssim:ssim_y_autodown",  # PReNet ssim.m literally (downsamples >= 384 px)
    "niqe": "bench.measures.niqe:niqe",                  # original LIVE NIQE release, no reference
})


def build_measure(name: str, ctx=None):
    """A ready Measure for a registered name, or for ``pyiqa:<metric>`` when pyiqa is installed.
    Every factory receives the run's RunContext (None outside a run)."""
    if name.startswith("pyiqa:"):
        from bench.measures.pyiqa_adapter import build

        return build(name)
    return MEASURES.load(name)(ctx)
