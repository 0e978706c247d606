"""Paired-folder layouts as data: how rainy files are named and how each names its clean twin.

Pairing is by name, never by sorted order: a missing twin is an error that names the file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from bench.data.base import Dataset, DatasetNotFound, Sample
from bench.imageio import IMAGE_SUFFIXES


@dataclass(frozen=True)
class PairedLayout:
    name: str
    rainy_dir: str                 # relative to the dataset folder
    rainy_pattern: str             # regex on the file name with a named group "id"
    clean_dir: str | None = None   # None: no ground truth in this layout
    clean_name: str | None = None  # format string with {id} (and any other named groups)

    def matches(self, root: Path) -> bool:
        d = root / self.rainy_dir
        if not d.is_dir() or (self.clean_dir is not None and not (root / self.clean_dir).is_dir()):
            return False
        rx = re.compile(self.rainy_pattern)
        return any(rx.fullmatch(p.name) for p in d.iterdir())

    def list(self, root: Path) -> Iterator[Sample]:
        rx = re.compile(self.rainy_pattern)
        seen: dict[str, Path] = {}
        for path in sorted((root / self.rainy_dir).iterdir(), key=_natural_key):
            m = rx.fullmatch(path.name)
            if not m or path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            sid = m.group("id")
            if sid in seen:
                yield Sample(sid, path, error=f"{path}: duplicate image id {sid!r} (also {seen[sid].name}); "
                                            "rename or remove one of them.")
                continue
            seen[sid] = path
            if self.clean_dir is None:
                yield Sample(sid, path)
                continue
            clean = root / self.clean_dir / self.clean_name.format(**m.groupdict())
            if not clean.is_file():
                yield Sample(sid, path, error=f"{path}: no ground-truth twin; expected {clean} "
                                             f"(layout {self.name!r}). Add it or remove the rainy image.")
                continue
            yield Sample(sid, path, clean)


def _natural_key(p: Path):
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", p.name)]


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

    def find(self, data_root: Path | None) -> Dataset:
        tried = []
        for folder in self.folders:
            root = (data_root / folder) if data_root else None
            if root is None or not root.is_dir():
                tried.append(str(root) if root else folder)
                continue
            for layout in self.layouts:
                if layout.matches(root):
                    return Dataset(
                        name=self.name, root=root, layout=layout.name,
                        has_clean=layout.clean_dir is not None, label_source=self.label_source,
                        expected_count=self.expected_count, description=self.description,
                        _lister=layout.list,
                    )
            tried.append(f"{root} (present, but no known layout matched)")
        expected = "; ".join(
            f"{lay.name}: {lay.rainy_dir}/<{lay.rainy_pattern}>"
            + (f" + {lay.clean_dir}/{lay.clean_name}" if lay.clean_dir else "")
            for lay in self.layouts
        )
        where = f"{data_root}/{self.folders[0]}" if data_root else f"$BENCH_DATA/{self.folders[0]}"
        raise DatasetNotFound(
            f"dataset {self.name!r} not found (looked in: {', '.join(tried)}). "
            f"Put it at {where} in one of these layouts: {expected}."
            + (f" Source: {self.source}." if self.source else "")
        )
