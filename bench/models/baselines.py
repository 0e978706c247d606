"""Bounds every table needs: `rainy` (no deraining: the floor) and `clean` (ground truth: the ceiling)."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from bench.models.base import Batch, Derainer, IOPolicy, ModelNotApplicable


class Identity(Derainer):
    name = "rainy"
    cache_output = False

    def derain(self, batch: Batch) -> torch.Tensor:
        return batch.rainy


class GroundTruth(Derainer):
    name = "clean"
    cache_output = False

    def derain(self, batch: Batch) -> torch.Tensor:
        if batch.clean is None:
            raise ValueError("the `clean` oracle needs ground truth; this image has none")
        return batch.clean


@dataclass(frozen=True)
class BaselineSpec:
    name: str
    title: str
    cls: type
    io: IOPolicy = IOPolicy()
    weights: tuple[str, ...] = ()
    published_weights: bool = True
    requires_ground_truth: bool = False
    description: str = ""

    def build(self, variant=None, ctx=None, dataset=None) -> Derainer:
        if self.requires_ground_truth and dataset is not None and not getattr(dataset, "has_clean", True):
            raise ModelNotApplicable(f"{self.name}: {getattr(dataset, 'name', dataset)} has no ground truth")
        derainer = self.cls()
        derainer.title = self.title
        return derainer


RAINY = BaselineSpec("rainy", "Rainy input", Identity, description="no deraining; lower bound")
CLEAN = BaselineSpec("clean", "Ground truth", GroundTruth, requires_ground_truth=True,
                     description="oracle; upper bound where GT exists")
