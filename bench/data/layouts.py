"""Paired-folder layouts as data: how rainy files are named and how each names its clean twin.

Pairing is by name, never by sorted order: a missing twin is an error that names the file.
A ``clean_name`` ending in ``.*`` means "the same stem with any image suffix" (one, not several).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from bench.data.base import Dataset, DatasetNotFound, Sample
from bench.data.label_index import CityscapesLabels  # noqa: F401 (type of PairedBenchmark.labels)
from bench.imageio import IMAGE_SUFFIXES


@dataclass(frozen=True)
class PairedLayout:
    name: str
    rainy_dir: str                 # relative to the dataset folder ("." = the folder itself)
    rainy_pattern: str             # regex on the file name with a named group "id"
    clean_dir: str | None = None   # None: no ground truth in this layout
    clean_name: str | None = None  # format string with {id} (and any other named groups)
    min_matches: int = 1           # how many rainy names must match before the layout is detected
    recursive: bool = False        # rainy files live in subfolders (Cityscapes cities); {sub} = that subfolder

    def matches(self, root: Path) -> bool:
        return self.count_pairs(root, stop_at=self.min_matches) >= self.min_matches

    def count_pairs(self, root: Path, stop_at: int | None = None) -> int:
        """How many rainy files this layout reads (and, if paired, pairs) in ``root``."""
        d = root / self.rainy_dir
        if not d.is_dir() or (self.clean_dir is not None and not (root / self.clean_dir).is_dir()):
            return 0
        rx = re.compile(self.rainy_pattern)
        hits = tried = 0
        for p in self._files(d):
            m = rx.fullmatch(p.name)
            if not m or not p.is_file() or p.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            if self.clean_dir is not None:  # a paired layout must pair something (spa: 000gt.png vs 000.png)
                tried += 1
                if self.clean_for(root, m, p.parent.relative_to(d).as_posix())[0] is None:
                    if tried >= 50 and hits == 0:
                        return 0
                    continue
            hits += 1
            if stop_at is not None and hits >= stop_at:
                return hits
        return hits

    def describe(self) -> str:
        """Readable form, e.g. ``jorder: rain/norain-N.png + norain/norain-N.png``."""
        rainy = _readable(f"{self.rainy_dir}/{self.rainy_pattern}")
        if self.clean_dir is None:
            return f"{self.name}: {rainy} (no GT)"
        clean = f"{self.clean_dir}/{self.clean_name}".replace("{sub}", "<city>")
        for group, word in (("id", "N" if r"(?P<id>\d+)" in self.rainy_pattern else "<name>"), ("base", "N"),
                            ("stem", "<stem>")):
            clean = clean.replace("{%s}" % group, word)
        return f"{self.name}: {rainy} + {clean.replace('.*', '.<ext>').removeprefix('./')}"

    def _files(self, d: Path) -> Iterator[Path]:
        return (p for p in d.rglob("*") if p.is_file()) if self.recursive else d.iterdir()

    def clean_for(self, root: Path, match: re.Match, sub: str = "") -> tuple[Path | None, str | None]:
        """The clean twin of a rainy name match, or (None, reason)."""
        name = self.clean_name.format(**match.groupdict(), sub=sub)
        folder = root / self.clean_dir
        if not name.endswith(".*"):
            path = folder / name
            return (path, None) if path.is_file() else (None, f"expected {path}")
        stem = name[:-2]
        found = [folder / f"{stem}{s}" for s in IMAGE_SUFFIXES + tuple(s.upper() for s in IMAGE_SUFFIXES)
                 if (folder / f"{stem}{s}").is_file()]
        found = sorted(set(found))
        if len(found) == 1:
            return found[0], None
        if not found:
            return None, f"expected {folder / stem}.<png|jpg|...>"
        return None, f"several candidates: {', '.join(p.name for p in found)}; keep one"

    def list(self, root: Path) -> Iterator[Sample]:
        rx = re.compile(self.rainy_pattern)
        seen: dict[str, Path] = {}
        base = root / self.rainy_dir
        for path in sorted(self._files(base), key=natural_key):
            m = rx.fullmatch(path.name)
            if not m or not path.is_file() or path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            sid = m.group("id")
            if sid in seen:
                # its own id (the file name), so the error is a record of its own
                yield Sample(path.name, path, error=f"{path}: duplicate image id {sid!r} (also {seen[sid].name}); "
                                                    "rename or remove one of them.")
                continue
            seen[sid] = path
            if self.clean_dir is None:
                yield Sample(sid, path)
                continue
            clean, why = self.clean_for(root, m, path.parent.relative_to(base).as_posix())
            if clean is None:
                yield Sample(sid, path, error=f"{path}: no ground-truth twin; {why} "
                                             f"(layout {self.name!r}). Add it or remove the rainy image.")
                continue
            yield Sample(sid, path, clean)

    def skipped(self, root: Path) -> list[tuple[str, str]]:
        """Paths in this layout's folders that ``list`` does not evaluate, each with the reason:
        dangling links, directories, unsupported extensions, names outside the layout's naming,
        ground truth that is no rainy image's twin. Relative to ``root``."""
        rx = re.compile(self.rainy_pattern)
        base = root / self.rainy_dir
        used: set[Path] = set()
        for path in self._files(base):
            m = rx.fullmatch(path.name)
            if m and path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
                used.add(path)
                if self.clean_dir is not None:
                    clean, _ = self.clean_for(root, m, path.parent.relative_to(base).as_posix())
                    if clean is not None:
                        used.add(clean)
        folders = [base] + ([root / self.clean_dir] if self.clean_dir is not None and not self.recursive else [])
        own = {f.resolve() for f in folders}
        out: dict[str, str] = {}
        for folder in dict.fromkeys(folders):
            entries = folder.rglob("*") if self.recursive and folder == base else folder.iterdir()
            for p in sorted(entries, key=natural_key):
                rel = Path(os.path.relpath(p, root)).as_posix()
                if p in used or rel in out or (self.recursive and p.is_dir() and not p.is_symlink()) \
                        or (p.is_dir() and any(p.resolve() == f or p.resolve() in f.parents for f in own)):
                    continue
                out[rel] = self._why(p, folder, base)
        return [(rel, why) for rel, why in out.items() if why]

    def _why(self, p: Path, folder: Path, base: Path) -> str:
        if p.is_symlink() and not p.exists():
            return f"dangling symbolic link (to {os.readlink(p)})"
        if p.is_dir():
            kind = "a directory named like an image" if p.suffix.lower() in IMAGE_SUFFIXES else "a directory"
            where = Path(os.path.relpath(folder, base.parent)).as_posix()
            return f"{kind}; layout {self.name!r} reads the files of {where}/ only"
        if p.suffix.lower() not in IMAGE_SUFFIXES:
            return f"unsupported extension {p.suffix or '(none)'!r} (images: {', '.join(IMAGE_SUFFIXES)})"
        if folder == base and not re.fullmatch(self.rainy_pattern, p.name):
            return f"name outside the detected layout's naming ({self.describe()})"
        return f"no rainy image pairs with it (layout {self.describe()})"


def _readable(pattern: str) -> str:
    """A layout regex as a person would write the file name."""
    subs = ((r"(?P<id>(?P<base>\d+)_\d+)", "N_K"), (r"(?P<id>\d+)", "N"), (r"(?P<id>[^/]+?)", "<name>"),
            (r"(?P<id>.+)", "<name>"), (r"(?P<id>(?P<stem>[a-z_]+_\d{6}_\d{6})_leftImg8bit_rain_.+)",
                                        "<city>/<stem>_leftImg8bit_rain_<params>"))
    for rx, word in subs:
        pattern = pattern.replace(rx, word)
    pattern = re.sub(r"\\\.\(\?:([a-z]+)\|[^)]*\)", r".<\1|...>", pattern)
    return pattern.replace("\\.", ".").removeprefix("./")


def natural_key(p: Path):
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", p.as_posix())]


def best_layout(root: Path, layouts) -> "PairedLayout | None":
    """The paired layout that pairs the most files (ties: the first listed); a layout without ground
    truth only when no paired one pairs anything. One stray ``norain-9.png`` pair must not switch a
    folder of 15 other pairs to its layout."""
    layouts = list(layouts)
    paired = [(lay.count_pairs(root), -i, lay) for i, lay in enumerate(layouts) if lay.clean_dir is not None]
    best = max(paired, default=None, key=lambda t: t[:2])
    if best is not None and best[0] >= best[2].min_matches:
        return best[2]
    return next((lay for lay in layouts if lay.clean_dir is None and lay.matches(root)), None)


@dataclass(frozen=True)
class PairedBenchmark:
    """A registered benchmark: folder names it may live under and the layouts it may use."""

    name: str
    description: str
    folders: tuple[str, ...]            # candidate folder names under the data root
    layouts: tuple[PairedLayout, ...]
    expected_count: int | None = None
    label_source: str = "pseudo"
    source: str = ""                    # where users get it (page)
    downloads: tuple[tuple[str, str | None], ...] = ()  # (official direct URL, sha256 or None)
    labels: "CityscapesLabels | None" = None  # optional gt labels found beside the images
    url_note: str = ""                  # extra advice printed by `bench data fetch`

    def locate(self, data_root: Path | None) -> tuple[Path, PairedLayout] | None:
        for folder in self.folders:
            root = Path(data_root) / folder if data_root else None
            if root is None or not root.is_dir():
                continue
            layout = best_layout(root, self.layouts)
            if layout is not None:
                return root, layout
        return None

    def dataset(self, root: Path, layout: PairedLayout) -> Dataset:
        has_clean = layout.clean_dir is not None
        source = self.label_source if has_clean or self.label_source == "gt" else "none"
        lister = layout.list
        if self.labels is not None and self.labels.covers(root, lister):
            source, lister = "gt", self.labels.attach(lister)
        return Dataset(name=self.name, root=root, layout=layout.name, has_clean=has_clean,
                       label_source=source, expected_count=self.expected_count,
                       description=self.description, _lister=lister, _skipped=layout.skipped)

    def find(self, ctx) -> Dataset:
        data_root = ctx.data_root
        found = self.locate(data_root)
        if found:
            return self.dataset(*found)
        present = [f"{Path(data_root) / f} (present, but no known layout matched)"
                   for f in self.folders if data_root and (Path(data_root) / f).is_dir()]
        looked = f"{data_root or '$BENCH_DATA'}/{{{','.join(self.folders)}}}" if len(self.folders) > 1 \
            else f"{data_root or '$BENCH_DATA'}/{self.folders[0]}"
        raise DatasetNotFound(self.missing_message(data_root, present or [looked]))

    def missing_message(self, data_root: Path | None, tried: list[str]) -> str:
        expected = "; ".join(lay.describe() for lay in self.layouts)
        where = f"{data_root}/{self.folders[0]}" if data_root else f"$BENCH_DATA/{self.folders[0]}"
        return (f"dataset {self.name!r} not found (looked in: {', '.join(tried)}). "
                f"Put it at {where} in one of these layouts: {expected}."
                + (f" Source: {self.source}." if self.source else ""))
