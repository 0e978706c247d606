"""What a run has to do, as plain data: the work of one (model, dataset version) is planned per
(image, unit) by ``plan_pair`` from what the store already holds. An executor (the serial
``Runner``, or a pipelined / distributed one) consumes ``PairPlan.todo``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bench.data.base import Dataset, Sample
from bench.models.base import Derainer
from bench.units import UnitInfo


@dataclass
class TaskSlot:
    """A downstream task bound to one dataset: which labels it scores against."""

    task: Any
    unit: str
    label_source: str           # gt | pseudo | none
    unavailable: str | None = None
    info: UnitInfo | None = None
    protocol: str = ""          # as recorded in the store's bindings for this dataset


@dataclass
class Work:
    """One image on its way through the pipeline."""

    sample: Sample
    measures: dict[str, Any]
    slots: list[TaskSlot]
    clean_rgb: np.ndarray | None = None
    rainy_rgb: np.ndarray | None = None
    out_rgb: np.ndarray | None = None
    scored_clean: np.ndarray | None = None    # ground truth as scored (cropped like the output)


@dataclass
class Prepared:
    datasets: list[Dataset] = field(default_factory=list)
    measures: dict[str, Any] = field(default_factory=dict)
    tasks: list[Any] = field(default_factory=list)
    fingerprints: dict[str, str] = field(default_factory=dict)   # dataset name -> content sha256


@dataclass
class Pair:
    """One (model, dataset version): the keys every record of the pair is stored under."""

    derainer: Derainer
    dataset: Dataset
    key: str                    # model_key_for(derainer)
    fp: str                     # dataset content fingerprint

    @property
    def ds(self) -> str:
        return self.dataset.name


@dataclass
class PairPlan:
    images: int = 0             # images selected (after --limit)
    done: int = 0               # every unit already in the store
    todo: list[Work] = field(default_factory=list)


def plan_pair(samples, done: dict[str, set[str]], measures: dict[str, Any], slots: list[TaskSlot],
              limit: int | None = None, in_shard=None) -> PairPlan:
    """Which (image, unit) work remains for one (model, dataset version): a plain data structure.
    ``done``: image id -> units already stored without error (``Store.done_units``); ``in_shard``:
    position -> bool, the images this process handles (``RunConfig.in_shard``; None = all)."""
    plan = PairPlan()
    for i, sample in enumerate(samples):
        if limit is not None and i >= limit:
            break
        if in_shard is not None and not in_shard(i):
            continue
        plan.images += 1
        finished = done.get(sample.id, set())
        work = Work(sample, {n: m for n, m in measures.items() if n not in finished},
                    [s for s in slots if s.unavailable is None and s.unit not in finished])
        if not work.measures and not work.slots:
            plan.done += 1
            continue
        plan.todo.append(work)
    return plan
