"""Shared plumbing for full-reference measures: input checks and protocol planes."""
from __future__ import annotations

import torch

from bench.columns import ColumnInfo
from bench.measures.base import Measure, Protocol
from bench.measures.color import channel_planes, check_rgb_batch
from bench.measures.threads import single_thread_on_cpu


def protocol_planes(output: torch.Tensor, clean: torch.Tensor | None, protocol: Protocol,
                    name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Both images as the protocol's planes (0..255 float64, border cropped), N×C×H×W."""
    if clean is None:
        raise ValueError(f"{name} is a full-reference measure: it needs the ground-truth image "
                         "(this dataset has none; use a no-reference measure such as niqe)")
    check_rgb_batch(output, f"{name} output")
    check_rgb_batch(clean, f"{name} clean")
    if output.shape != clean.shape:
        raise ValueError(f"{name}: output {tuple(output.shape)} and clean {tuple(clean.shape)} differ in "
                         "size; the model must return the input size (see IOPolicy size policy)")
    a = channel_planes(output, protocol.channel, protocol.y_rounded)
    b = channel_planes(clean.to(output.device), protocol.channel, protocol.y_rounded)
    c = protocol.crop_border
    if c:
        if min(a.shape[-2:]) <= 2 * c:
            raise ValueError(f"{name}: image {tuple(a.shape[-2:])} too small for a {c}px border crop")
        a, b = a[..., c:-c, c:-c], b[..., c:-c, c:-c]
    return a, b


class FullReference(Measure):
    """A full-reference measure: ``fn(planes_out, planes_clean, protocol) -> float64[N]``."""

    def __init__(self, info: ColumnInfo, fn):
        self.info = info
        self._fn = fn

    def __call__(self, output: torch.Tensor, clean: torch.Tensor | None) -> torch.Tensor:
        with single_thread_on_cpu(output):
            a, b = protocol_planes(output, clean, self.info.protocol, self.info.name)
            return self._fn(a, b, self.info.protocol)

    def __repr__(self) -> str:
        return f"<{self.info.name}: {self.info.protocol_text()}>"
