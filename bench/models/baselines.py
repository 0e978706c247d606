"""Bounds every table needs: `rainy` (no deraining: the floor) and `clean` (ground truth: the ceiling)."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from bench.models.base import Derainer, IOPolicy


class Identity(Derainer):
    name = "rainy"
    cache_output = False

    def derain(self, rainy: torch.Tensor, clean: torch.Tensor | None = None) -> torch.Tensor:
        return rainy


class GroundTruth(Derainer):
    name = "clean"
    uses_clean = True
    cache_output = False

    def derain(self, rainy: torch.Tensor, clean: torch.Tensor | None = None) -> torch.Tensor:
        if clean is None:
            raise ValueError("the `clean` oracle needs ground truth; this dataset has none")
        return clean


@dataclass(frozen=True)
class BaselineSpec:
    name: str
    title: str
    cls: type
    io: IOPolicy = IOPolicy()
    weights: tuple[str, ...] = ()
    published_weights: bool = True
    needs_clean: bool = False

    def build(self, variant=None, resolver=None, device="cpu", dataset=None) -> Derainer:
        return self.cls()


RAINY = BaselineSpec("rainy", "Rainy input (no deraining; lower bound)", Identity)
CLEAN = BaselineSpec("clean", "Ground truth (oracle; upper bound where GT exists)", GroundTruth, needs_clean=True)
