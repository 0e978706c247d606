"""What a dataset is to the rest of the harness: a lazy stream of Samples (paths, not pixels)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Protocol

import numpy as np

from bench.imageio import ImageError, read_rgb


@dataclass(frozen=True)
class Sample:
    """One benchmark image. Pixels are decoded by the runner, once, when needed."""

    id: str
    rainy: Path
    clean: Path | None = None
    labels: Path | None = None          # per-image label file (YOLO txt, Cityscapes labelIds PNG, ...)
    label_format: str | None = None     # "yolo" | "cityscapes" | ... (see bench.downstream.labels)
    error: str | None = None            # a pairing/listing problem; the runner records it and moves on


@dataclass
class Dataset:
    """A located dataset. ``samples()`` re-lists lazily each time it is called."""

    name: str
    root: Path
    layout: str
    has_clean: bool
    label_source: str = "pseudo"       # default label source for downstream tasks: gt | pseudo | none
    expected_count: int | None = None
    description: str = ""
    label_format: str | None = None    # format of Sample.labels where samples carry labels
    source: str = ""                   # where the data came from (page, or how it was generated)
    manifest: str | None = None        # sha256 manifest name in bench/data/manifests (for verify)
    _lister: "SampleLister | None" = field(default=None, repr=False)

    def samples(self) -> Iterator[Sample]:
        assert self._lister is not None
        yield from self._lister(self.root)


def check_pair(rainy, clean, sample: Sample) -> None:
    """Raise PairMismatch if the decoded rainy and clean images differ in size.

    Accepts uint8 H×W×3 arrays or tensors (…×H×W); ``clean`` None (no ground truth) passes.
    """
    if clean is None:
        return
    hr, hc = _hw(rainy), _hw(clean)
    if hr != hc:
        raise PairMismatch(
            f"{sample.rainy}: rainy image is {hr[1]}x{hr[0]} but its ground truth {sample.clean} is "
            f"{hc[1]}x{hc[0]} (width x height); pairs must have the same size. Re-export one of them "
            "or remove the pair.")


def load_pair(sample: Sample) -> tuple[np.ndarray, np.ndarray | None]:
    """Decode a sample's rainy (and clean) image as uint8 RGB, raising ImageError with the reason.

    The one call a runner needs: listing errors (Sample.error), unreadable files and size
    mismatches all come out as ImageError subclasses whose message names the file.
    """
    if sample.error:
        raise SampleError(sample.error)
    rainy = read_rgb(sample.rainy)
    clean = read_rgb(sample.clean) if sample.clean is not None else None
    check_pair(rainy, clean, sample)
    return rainy, clean


def _hw(x) -> tuple[int, int]:
    if isinstance(x, np.ndarray):
        return tuple(x.shape[:2])
    return tuple(x.shape[-2:])  # torch tensor, channels first


class SampleError(ImageError):
    """A listing problem (missing twin, duplicate id, bad name) surfaced at load time."""


class PairMismatch(ImageError):
    """Rainy and clean images of one pair differ in size."""


class SampleLister(Protocol):
    def __call__(self, root: Path) -> Iterator[Sample]: ...


class DatasetNotFound(LookupError):
    """The dataset is registered but not on disk; the message says where to put it."""


class DatasetSpec(Protocol):
    """What a registry entry for a dataset provides."""

    name: str
    description: str

    def find(self, data_root: Path | None) -> Dataset:
        """Locate under ``data_root`` (or build, for generated sets) or raise DatasetNotFound."""
        ...
