"""Optional ground-truth labels found beside a dataset (Cityscapes gtFine for RainCityscapes).

Only paths are indexed (never pixels). A sample whose label is absent keeps ``labels=None``:
tasks then skip it for gt scoring rather than guessing.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from bench.data.base import Sample


@dataclass(frozen=True)
class CityscapesLabels:
    """Cityscapes gtFine ``<city>_<seq>_<frame>_gtFine_labelIds.png`` matched by the image's
    ``<city>_<seq>_<frame>`` prefix, searched in ``gtFine/`` folders relative to the dataset
    folder and to the data root."""

    search: tuple[str, ...] = ("gtFine", "../cityscapes/gtFine", "../gtFine")
    suffix: str = "_gtFine_labelIds.png"
    key_pattern: str = r"(?P<key>[a-z_]+?_\d{6}_\d{6})_"
    label_format: str = "cityscapes"

    def index(self, root: Path) -> dict[str, Path]:
        found: dict[str, Path] = {}
        for rel in self.search:
            folder = (root / rel).resolve()
            if folder.is_dir():
                for p in folder.rglob(f"*{self.suffix}"):
                    found.setdefault(p.name[: -len(self.suffix)], p)
        return found

    def covers(self, root: Path, lister: Callable[[Path], Iterator[Sample]]) -> bool:
        """Whether any sample of the dataset has a label here (then its label source is gt)."""
        index = self.index(root)
        if not index:
            return False
        rx = re.compile(self.key_pattern)
        return any((m := rx.match(s.rainy.name)) and m.group("key") in index for s in lister(root))

    def attach(self, lister: Callable[[Path], Iterator[Sample]]) -> Callable[[Path], Iterator[Sample]]:
        rx = re.compile(self.key_pattern)

        def listed(root: Path) -> Iterator[Sample]:
            index = self.index(root)
            for s in lister(root):
                m = rx.match(s.rainy.name)
                label = index.get(m.group("key")) if m and s.error is None else None
                yield dataclasses.replace(s, labels=label, label_format=self.label_format) if label else s

        return listed
