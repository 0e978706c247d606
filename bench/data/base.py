"""What a dataset is to the rest of the harness: a lazy stream of Samples (paths, not pixels)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Protocol


@dataclass(frozen=True)
class Sample:
    """One benchmark image. Pixels are decoded by the runner, once, when needed."""

    id: str
    rainy: Path
    clean: Path | None = None
    labels: Path | None = None          # per-image label file (YOLO txt, Cityscapes labelIds PNG, ...)
    label_format: str | None = None     # "yolo" | "cityscapes" | ... (see bench.downstream.labels)
    polygons: Path | None = None        # YOLO-seg polygons kept beside the boxes in ``labels`` (COCO sets)
    polygon_ids: str | None = None      # their class ids: None = as written, "coco-panoptic" = mapped to 0-79
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
    _lister: "SampleLister | None" = field(default=None, repr=False)
    _skipped: "Callable[[Path], list[tuple[str, str]]] | None" = field(default=None, repr=False)

    def samples(self) -> Iterator[Sample]:
        assert self._lister is not None
        yield from self._lister(self.root)

    def skipped_paths(self) -> list[tuple[str, str]]:
        """(path relative to root, reason) for every file in the dataset's folders that is not
        evaluated (dangling link, directory, unsupported extension, name outside the layout)."""
        return self._skipped(self.root) if self._skipped is not None else []


class SampleLister(Protocol):
    def __call__(self, root: Path) -> Iterator[Sample]: ...


class DatasetNotFound(LookupError):
    """The dataset is registered but not on disk; the message says where to put it."""


class DatasetSpec(Protocol):
    """What a registry entry for a dataset provides."""

    name: str
    description: str

    def find(self, ctx) -> Dataset:
        """Locate under ``ctx.data_root`` (or build, for generated sets, under ``ctx.cache_dir``)
        or raise DatasetNotFound."""
        ...
