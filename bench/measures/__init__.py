"""Measure registry: name -> "module:attr" of a zero-argument factory returning a Measure."""
from bench.registry import Registry

MEASURES = Registry("measure", {
    "psnr_y": "bench.measures.psnr:psnr_y",
    "ssim_y": "bench.measures.ssim:ssim_y",
})


def build_measure(name: str):
    """A ready Measure for a registered name."""
    return MEASURES.load(name)()
