"""Paired-folder layouts as data: how rainy files are named and how each names its clean twin.

Pairing is by name, never by sorted order: a missing twin is an error that names the file.
Listing yields paths only; pixels are decoded later by the runner (``bench.data.base.load_pair``).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from bench.data.base import Dataset, DatasetNotFound, Sample
from bench.imageio import IMAGE_SUFFIXES

ANY_IMAGE = r"(?P<id>.+)\.(?i:png|jpe?g|bmp|tiff?|webp)"


@dataclass(frozen=True)
class LabelRule:
    """Where a sample's label file lives, derived from its id.

    ``key_pattern`` is searched in the id and its named groups fill ``name``; the file is looked up
    by name in ``dirs`` (relative to the dataset folder; ``..`` reaches the data root), walked
    recursively because Cityscapes nests ``<split>/<city>/``. Labels are optional: no file, no label.
    """

    format: str                          # "yolo" | "cityscapes" | "coco"
    dirs: tuple[str, ...]
    name: str
    key_pattern: str = r"(?P<id>.+)"

    def index(self, root: Path) -> dict[str, Path]:
        found: dict[str, Path] = {}
        for rel in self.dirs:
            base = (root / rel).resolve()
            if not base.is_dir():
                continue
            for dirpath, dirnames, filenames in os.walk(base):
                dirnames.sort()
                for fn in sorted(filenames):
                    found.setdefault(fn, Path(dirpath) / fn)
        return found

    def exists(self, root: Path) -> bool:
        return any((root / rel).is_dir() for rel in self.dirs)

    def lookup(self, sample_id: str, index: dict[str, Path]) -> Path | None:
        m = re.search(self.key_pattern, sample_id)
        if not m:
            return None
        return index.get(self.name.format(**{k: v for k, v in m.groupdict().items() if v is not None}))


@dataclass(frozen=True)
class PairedLayout:
    name: str
    rainy_dir: str                 # relative to the dataset folder
    rainy_pattern: str             # regex on the path relative to rainy_dir, with a named group "id"
    clean_dir: str | None = None   # None: no ground truth in this layout
    clean_name: str | tuple[str, ...] | None = None  # format string(s) over the pattern's groups; first existing wins
    recursive: bool = False        # walk sub-folders of rainy_dir (official RainCityscapes: <split>/<city>/)
    expected_count: int | None = None   # overrides the benchmark's count (e.g. a published subset)
    labels: LabelRule | None = None

    @property
    def clean_names(self) -> tuple[str, ...]:
        if self.clean_name is None:
            return ()
        return (self.clean_name,) if isinstance(self.clean_name, str) else tuple(self.clean_name)

    def describe(self) -> str:
        s = f"{self.name}: {self.rainy_dir}/<{self.rainy_pattern}>"
        if self.clean_dir is not None:
            s += f" + {self.clean_dir}/{' or '.join(self.clean_names)}"
        return s

    def _candidates(self, root: Path) -> Iterator[tuple[Path, str]]:
        """(path, name relative to rainy_dir) for every image file, in natural order."""
        base = root / self.rainy_dir
        if not self.recursive:
            for p in sorted(base.iterdir(), key=_natural_key):
                if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES:
                    yield p, p.name
            return
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort(key=_natural_str_key)
            for fn in sorted(filenames, key=_natural_str_key):
                p = Path(dirpath) / fn
                if not fn.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES:
                    yield p, p.relative_to(base).as_posix()

    def _clean_for(self, root: Path, m: re.Match) -> tuple[Path | None, list[Path]]:
        groups = {k: v for k, v in m.groupdict().items() if v is not None}
        tried = [root / self.clean_dir / t.format(**groups) for t in self.clean_names]
        return next((t for t in tried if t.is_file()), None), tried

    def matches(self, root: Path, probe: int = 3) -> bool:
        """True if the folders exist and the first few matching rainy files have their clean twins."""
        d = root / self.rainy_dir
        if not d.is_dir() or (self.clean_dir is not None and not (root / self.clean_dir).is_dir()):
            return False
        rx = re.compile(self.rainy_pattern)
        hits = 0
        for _path, rel in self._candidates(root):
            m = rx.fullmatch(rel)
            if not m:
                continue
            if self.clean_dir is not None and self._clean_for(root, m)[0] is None:
                continue
            hits += 1
            if hits >= probe:
                break
        return hits > 0

    def list(self, root: Path) -> Iterator[Sample]:
        rx = re.compile(self.rainy_pattern)
        seen: dict[str, Path] = {}
        label_index = None
        for path, rel in self._candidates(root):
            m = rx.fullmatch(rel)
            if not m and self.clean_dir == self.rainy_dir:
                continue        # rainy and clean share the folder: the clean twins are listed here too
            if not m:
                yield Sample(Path(rel).stem, path, error=(
                    f"{path}: file name does not follow layout {self.name!r} ({self.rainy_pattern}); "
                    "rename it or move it out of the dataset folder."))
                continue
            sid = m.group("id")
            if sid in seen:
                yield Sample(sid, path, error=f"{path}: duplicate image id {sid!r} (also {seen[sid]}); "
                                              "rename or remove one of them.")
                continue
            seen[sid] = path
            labels = label_format = None
            if self.labels is not None:
                if label_index is None:
                    label_index = self.labels.index(root)
                labels = self.labels.lookup(sid, label_index)
                label_format = self.labels.format if labels else None
            if self.clean_dir is None:
                yield Sample(sid, path, None, labels, label_format)
                continue
            clean, tried = self._clean_for(root, m)
            if clean is None:
                yield Sample(sid, path, error=(
                    f"{path}: no ground-truth twin; expected {' or '.join(map(str, tried))} "
                    f"(layout {self.name!r}). Add it or remove the rainy image."))
                continue
            yield Sample(sid, path, clean, labels, label_format)


def _natural_str_key(s: str):
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", s)]


def _natural_key(p: Path):
    return _natural_str_key(p.name)


@dataclass(frozen=True)
class Download:
    """Official direct files: ``base_url + rel`` for every ``rel`` in the sha256 manifest."""

    base_url: str
    manifest: str          # file in bench/data/manifests/: "<sha256>  <relative path>" lines
    note: str = ""


@dataclass(frozen=True)
class PairedBenchmark:
    """A registered benchmark: folder names it may live under and the layouts it may use."""

    name: str
    description: str
    folders: tuple[str, ...]            # candidate folder names under the data root
    layouts: tuple[PairedLayout, ...]
    expected_count: int | None = None
    label_source: str = "pseudo"
    source: str = ""                    # where users get it (page or URL)
    nests: tuple[str, ...] = ("",)      # sub-folders tried inside each folder ("test", "test/small", ...)
    download: Download | None = None    # official direct files with sha256, where they exist
    manifest: str | None = None         # sha256 manifest for `bench data verify` (same format as Download's)
    synthetic: bool = True              # rendered rain (vs real rain)

    @property
    def has_clean(self) -> bool:
        return any(lay.clean_dir is not None for lay in self.layouts)

    def candidate_roots(self, data_root: Path) -> Iterator[Path]:
        for folder in self.folders:
            for nest in self.nests:
                yield (data_root / folder / nest) if nest else (data_root / folder)

    def locate(self, root: Path) -> Dataset | None:
        """The dataset if ``root`` holds one of this benchmark's layouts."""
        for layout in self.layouts:
            if layout.matches(root):
                label_format = layout.labels.format if layout.labels and layout.labels.exists(root) else None
                return Dataset(
                    name=self.name, root=root, layout=layout.name,
                    has_clean=layout.clean_dir is not None, label_source=self.label_source,
                    expected_count=layout.expected_count or self.expected_count,
                    description=self.description, label_format=label_format, source=self.source,
                    manifest=self.manifest, _lister=layout.list,
                )
        return None

    def find(self, data_root: Path | None) -> Dataset:
        tried = []
        if data_root is not None:
            data_root = Path(data_root)
            for root in self.candidate_roots(data_root):
                if not root.is_dir():
                    continue
                found = self.locate(root)
                if found is not None:
                    return found
                tried.append(f"{root} (present, but no known layout matched)")
        if not tried:
            tried.append(f"{data_root}/{{{','.join(self.folders)}}}" if data_root else "no data root set")
        expected = "; ".join(lay.describe() for lay in self.layouts)
        where = f"{data_root}/{self.folders[0]}" if data_root else f"$BENCH_DATA/{self.folders[0]}"
        raise DatasetNotFound(
            f"dataset {self.name!r} not found (looked in: {', '.join(tried)}). "
            f"Put it at {where} in one of these layouts: {expected}."
            + (f" Source: {self.source}." if self.source else "")
            + (f" Or run: bench data fetch {self.name}." if self.download else "")
        )
