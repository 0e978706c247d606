"""Downstream tasks: run a vision model on derained images, score against a named label source.

Per-image predictions are stored (JSON); dataset-level scores (mAP, mIoU) are computed from the
store at report time, so a report never re-runs a model.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bench.columns import ColumnInfo
from bench.data.base import Sample
from bench.errors import Unavailable


def task_metric(name: str, higher_is_better: bool = True, value_range: tuple[float, float] = (0.0, 1.0),
                description: str = "") -> ColumnInfo:
    """A task's score column (kind "task"): the one column-metadata type of bench/columns.py."""
    return ColumnInfo(name, reference="", higher_is_better=higher_is_better, value_range=value_range,
                      description=description, kind="task")


@dataclass
class TaskConfig:
    """One YAML file in tasks/. ``type`` must be a registered task type (no code from configs)."""

    name: str
    type: str
    label_source: str = "auto"       # gt | pseudo | none | auto (the dataset's default)
    params: dict[str, Any] = field(default_factory=dict)
    description: str = ""


class TaskUnavailable(Unavailable, RuntimeError):
    """The task cannot run here (weights missing offline, backend not installed); says why and what to do."""


class DownstreamTask:
    """Subclasses set ``metrics`` and implement ``predict``, ``labels`` and ``score``."""

    metrics: tuple[ColumnInfo, ...] = ()

    def __init__(self, config: TaskConfig, ctx=None):
        from bench.config import RunContext

        self.config = config
        self.name = config.name
        self.ctx = ctx if ctx is not None else RunContext()

    @property
    def device(self) -> str:
        return self.ctx.device

    @property
    def resolver(self):
        from bench.models.weights import resolver

        return resolver(self.ctx)

    @property
    def offline(self) -> bool:
        return self.ctx.offline

    def ensure_ready(self) -> None:
        """Load the vision model now, raising TaskUnavailable (weights missing offline, backend not
        installed) before any image is processed. The runner calls it once per run."""
        load = getattr(self, "_load", None)
        if load is not None:
            load()

    def label_formats(self) -> tuple[str, ...]:
        """Label formats (``Sample.label_format``) this task can score against as ground truth;
        ``label_source: auto`` picks gt only where the dataset carries one of them."""
        return ()

    def protocol(self, label_source: str) -> str:
        """One line saying exactly how the score is computed (model, thresholds, labels)."""
        raise NotImplementedError

    def predict(self, images: list[np.ndarray]) -> list[dict[str, Any]]:
        """RGB uint8 images -> one JSON-serialisable prediction record per image."""
        raise NotImplementedError

    def gt_labels(self, sample: Sample, image_shape: tuple[int, int]) -> dict[str, Any] | None:
        """True labels for a sample in this task's prediction format (None if the sample has none)."""
        return None

    def pseudo_labels(self, clean_prediction: dict[str, Any]) -> dict[str, Any]:
        """Turn a prediction on the clean image into labels (e.g. keep boxes above a threshold)."""
        raise NotImplementedError

    def score(self, predictions: dict[str, dict], labels: dict[str, dict] | None) -> dict[str, float]:
        """Dataset-level metrics from per-image predictions (and labels; None for label source none)."""
        raise NotImplementedError
