"""Datasets the user describes: globs for the rainy and clean files, and an optional pairing rule.

Two ways to state one (same options, same meaning):

* ``bench data add NAME PATH --rainy GLOB [--clean GLOB] [--pair RULE] [--labels DIR]`` writes
  ``<config dir>/datasets/NAME.yaml`` (config dir: ``$BENCH_CONFIG``, default
  ``~/.config/derain-bench``); then ``--datasets NAME`` runs it.
* ``folder:PATH?rainy=GLOB&clean=GLOB&pair=RULE&labels=DIR`` on the command line, for a one-off run.
  Options follow the first ``?``, separated by ``&``; values are taken literally (no %-decoding,
  so ``+`` and ``\\d`` survive; a value cannot contain ``&``). Quote it in the shell.

GLOBs are relative to PATH (``**`` recurses). Pairing, by file stem (the name without suffix):

* no RULE: the rainy and clean stems are equal (``rain/12.png`` <-> ``norain/12.jpg``);
* ``pair=REGEX``: REGEX is searched in both stems; its groups must be equal (``(\\d+)``);
* ``pair=RAINY_REGEX->CLEAN_REGEX``: each side has its own regex; the groups must be equal
  (``input(\\d+)->norain(\\d+)`` pairs ``input12`` with ``norain12``).

Groups made of digits compare as numbers (``012`` = ``12``). A rainy file without exactly one
clean twin becomes an error record that names it; without ``clean`` the set is no-reference.

Labels (``labels``: a folder, relative to PATH or absolute): YOLO txt files matched to the rainy
images by file stem, boxes ``cls cx cy w h`` or polygons ``cls x1 y1 ...`` (normalised, COCO's 80
classes). An image without a txt has no objects (YOLO's rule). A labelled set is scored against its
labels (label source gt), with or without clean images.

A dataset YAML is data only: read with ``yaml.safe_load``, unknown keys refused, nothing executed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from bench.data.base import Dataset, DatasetNotFound, Sample
from bench.imageio import IMAGE_SUFFIXES

KEYS = ("path", "rainy", "clean", "pair", "labels", "description")
NAME_RX = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


class DatasetSpecError(ValueError):
    """A user dataset description that cannot be used; the message says which key and why."""


def parse_pair(rule: str | None) -> tuple[re.Pattern, re.Pattern] | None:
    if not rule:
        return None
    rainy, arrow, clean = rule.partition("->")
    try:
        rx = re.compile(rainy), re.compile(clean if arrow else rainy)
    except re.error as e:
        raise DatasetSpecError(f"pair {rule!r}: not a regular expression ({e})") from e
    for side in rx:
        if side.groups == 0:
            raise DatasetSpecError(f"pair {rule!r}: {side.pattern!r} has no group; put the part that "
                                   r"identifies an image in parentheses, e.g. input(\d+)->norain(\d+)")
    return rx


@dataclass(frozen=True)
class UserDataset:
    name: str
    path: str
    rainy: str
    clean: str | None = None
    pair: str | None = None
    description: str = ""
    source: str = ""                 # the YAML it came from (messages)
    labels: str | None = None        # folder of YOLO txt files, matched by stem

    def __post_init__(self):
        if not self.rainy:
            raise DatasetSpecError(f"{self.where}: `rainy` (a glob for the rainy images) is required")
        if self.pair and not self.clean:
            raise DatasetSpecError(f"{self.where}: `pair` needs `clean`")
        parse_pair(self.pair)

    @property
    def where(self) -> str:
        return self.source or self.name

    # --- the two ways in -------------------------------------------------------------------
    @classmethod
    def from_yaml(cls, path: Path) -> "UserDataset":
        import yaml

        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except yaml.YAMLError as e:
            raise DatasetSpecError(f"{path}: not valid YAML ({e})") from e
        if not isinstance(data, dict):
            raise DatasetSpecError(f"{path}: expected a mapping with keys {', '.join(KEYS)}")
        unknown = sorted(set(data) - set(KEYS))
        if unknown:
            raise DatasetSpecError(f"{path}: unknown key(s) {', '.join(unknown)}; known: {', '.join(KEYS)}")
        bad = [k for k, v in data.items() if v is not None and not isinstance(v, str)]
        if bad:
            raise DatasetSpecError(f"{path}: {', '.join(bad)} must be text")
        if not data.get("path"):
            raise DatasetSpecError(f"{path}: `path` (the dataset folder) is required")
        return cls(name=Path(path).stem, source=str(path), **{k: data.get(k) or "" for k in KEYS
                                                             if k not in ("clean", "pair", "labels")},
                   clean=data.get("clean") or None, pair=data.get("pair") or None,
                   labels=data.get("labels") or None)

    @classmethod
    def from_folder_arg(cls, text: str) -> "UserDataset":
        """``PATH?rainy=..&clean=..&pair=..`` (the part after ``folder:``)."""
        path, _, query = text.partition("?")
        opts: dict[str, str] = {}
        for part in filter(None, query.split("&")):
            key, eq, value = part.partition("=")
            if not eq or key not in ("rainy", "clean", "pair", "labels"):
                raise DatasetSpecError(f"folder:{text}: option {part!r} is not rainy=GLOB, clean=GLOB, pair=RULE "
                                       "or labels=DIR")
            opts[key] = value
        return cls(name=f"folder:{text}", path=path, **opts)

    def to_yaml(self) -> str:
        import yaml

        data = {k: getattr(self, k) for k in KEYS if getattr(self, k)}
        return "# written by `bench data add`; keys: " + ", ".join(KEYS) + "\n" + yaml.safe_dump(
            data, sort_keys=False, allow_unicode=True)

    # --- finding and listing ---------------------------------------------------------------
    def root(self, data_root: Path | None) -> Path:
        p = Path(self.path).expanduser()
        if not p.is_absolute() and not p.is_dir() and data_root:
            p = Path(data_root) / p
        return p

    def find(self, ctx=None) -> Dataset:
        root = self.root(getattr(ctx, "data_root", None))
        if not root.is_dir():
            raise DatasetNotFound(f"dataset {self.name!r} ({self.where}): {root} is not a folder")
        if not _images(root, self.rainy):
            raise DatasetNotFound(f"dataset {self.name!r}: no images match rainy={self.rainy!r} under {root}")
        labels = self.label_dir(root)
        if labels is not None and not labels.is_dir():
            raise DatasetNotFound(f"dataset {self.name!r} ({self.where}): labels {labels} is not a folder; "
                                  "give the folder of YOLO txt files (relative to the dataset folder or absolute)")
        layout = f"rainy={self.rainy}" + (f" clean={self.clean}" if self.clean else " (no GT)") \
            + (f" pair={self.pair}" if self.pair else (" pair=same stem" if self.clean else "")) \
            + (f" labels={self.labels} (YOLO txt by stem)" if self.labels else "")
        source = "gt" if labels is not None else ("pseudo" if self.clean else "none")
        return Dataset(name=self.name, root=root, layout=layout, has_clean=self.clean is not None,
                       label_source=source, description=self.description or f"user dataset ({self.where})",
                       _lister=self.list if labels is None else self._labelled)

    def label_dir(self, root: Path) -> Path | None:
        if not self.labels:
            return None
        p = Path(self.labels).expanduser()
        return p if p.is_absolute() else root / p

    def _labelled(self, root: Path) -> Iterator[Sample]:
        """Each rainy image with ``<labels>/<its stem>.txt`` (absent: no objects, YOLO's rule)."""
        import dataclasses

        folder = self.label_dir(root)
        for s in self.list(root):
            yield s if s.error else dataclasses.replace(s, labels=folder / f"{s.rainy.stem}.txt",
                                                        label_format="yolo")

    def list(self, root: Path) -> Iterator[Sample]:
        from bench.data.layouts import natural_key

        rainy = sorted(_images(root, self.rainy), key=natural_key)
        if self.clean is None:
            yield from _unpaired(root, rainy, self.rainy)
            return
        rx = parse_pair(self.pair)
        index: dict[tuple, list[Path]] = {}
        for p in _images(root, self.clean):
            k = _key(p, rx[1] if rx else None)
            if k is not None:
                index.setdefault(k, []).append(p)
        seen: dict[tuple, Path] = {}
        for path in rainy:
            sid = _sample_id(root, path, self.rainy)
            k = _key(path, rx[0] if rx else None)
            if k is None:
                yield Sample(sid, path, error=f"{path}: its name does not match the rainy side of "
                                              f"pair={self.pair!r}; rename it or change the rule")
                continue
            if k in seen:
                yield Sample(sid, path, error=f"{path}: same pairing key {k} as {seen[k].name}; "
                                              "rename or remove one of them")
                continue
            seen[k] = path
            twins = index.get(k, [])
            if len(twins) != 1:
                why = (f"no file matching clean={self.clean!r} has the key {k}" if not twins
                       else f"several clean candidates ({', '.join(t.name for t in twins)}); keep one")
                yield Sample(sid, path, error=f"{path}: no ground-truth twin: {why} (pair "
                                              f"{self.pair or 'same stem'}). Add it or remove the rainy image.")
                continue
            yield Sample(sid, path, twins[0])


def _images(root: Path, pattern: str) -> list[Path]:
    return [p for p in root.glob(pattern) if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]


def _key(path: Path, rx: re.Pattern | None) -> tuple | None:
    if rx is None:
        return (path.stem,)
    m = rx.search(path.stem)
    if m is None:
        return None
    return tuple(int(g) if g is not None and g.isdigit() else g for g in m.groups())


def _sample_id(root: Path, path: Path, pattern: str) -> str:
    """The rainy file's stem; with a recursive glob (``**``), its path below the glob's fixed
    folder, joined by ``__`` (Cityscapes-like city subfolders stay distinct)."""
    if "**" not in pattern:
        return path.stem
    fixed = Path(pattern.split("**")[0])
    rel = path.relative_to(root).with_suffix("")
    try:
        rel = rel.relative_to(fixed)
    except ValueError:
        pass
    return rel.as_posix().replace("/", "__")


def _unpaired(root: Path, rainy: list[Path], pattern: str) -> Iterator[Sample]:
    seen: dict[str, Path] = {}
    for p in rainy:
        sid = _sample_id(root, p, pattern)
        if sid in seen:
            yield Sample(p.name, p, error=f"{p}: duplicate image id {sid!r} (also {seen[sid].name}); "
                                          "rename or remove one of them")
            continue
        seen[sid] = p
        yield Sample(sid, p)


def user_dataset_files() -> dict[str, Path]:
    """name -> YAML in the user config folder's datasets/ (``bench data add`` writes them)."""
    from bench.config import config_dir

    folder = config_dir() / "datasets"
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))} if folder.is_dir() else {}


def load_user_dataset(name: str) -> UserDataset | None:
    path = user_dataset_files().get(name)
    return UserDataset.from_yaml(path) if path else None
