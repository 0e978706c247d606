"""``folder:<path>``: any folder, paired or not, recognised by the same layout rules.

Tried in order: every registered benchmark's layouts (most specific first), then generic
``<rainy>/ + <clean>/`` pairs matched by file stem, then a flat folder of rainy images (no GT).
A relative path is taken from the working directory, else from the data root.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.data.base import Dataset, DatasetNotFound
from bench.data.benchmarks import ANY_IMAGE
from bench.data.layouts import PairedLayout, best_layout

_ID = r"(?P<id>[^/]+?)" + ANY_IMAGE
GENERIC_PAIRS = (("rain", "norain"), ("rainy", "clean"), ("rainy", "gt"), ("rain", "gt"), ("input", "target"),
                 ("input", "gt"), ("lq", "gt"), ("rain", "clean"), ("rainy", "norain"), ("degraded", "clean"))
GENERIC = tuple(PairedLayout(f"{r}+{c}", r, _ID, c, "{id}.*") for r, c in GENERIC_PAIRS)
UNPAIRED = (PairedLayout("flat", ".", _ID), PairedLayout("rain-only", "rain", _ID),
            PairedLayout("input-only", "input", _ID))


def specific_layouts() -> list[PairedLayout]:
    """Layouts of the registered benchmarks that pair files (name-specific, so tried first)."""
    from bench.data import benchmarks as b

    seen, out = set(), []
    for spec in (b.RAIN100H, b.RAIN200H, b.RAIN1400, b.SPA_DATA, b.RAINCITYSCAPES):
        for lay in spec.layouts:
            if lay.clean_dir is not None and lay.name not in seen and lay.name != "mprnet":
                seen.add(lay.name)
                out.append(lay)
    return out


@dataclass(frozen=True)
class FolderDataset:
    path: str
    data_root: Path | None = None

    @property
    def name(self) -> str:
        return f"folder:{self.path}"

    description = "any folder: paired (rain/norain, input/target, ... by file name) or a flat folder without GT"

    def root(self) -> Path:
        p = Path(self.path).expanduser()
        if not p.is_absolute() and not p.is_dir() and self.data_root:
            p = Path(self.data_root) / p
        return p

    def find(self, ctx=None) -> Dataset:
        root = self.root()
        if not root.is_dir():
            raise DatasetNotFound(f"{self.name}: {root} is not a folder")
        layout = best_layout(root, (*specific_layouts(), *GENERIC, *UNPAIRED))
        if layout is not None:
            has_clean = layout.clean_dir is not None
            lister, source = _synth_labels(root, layout.list)
            return Dataset(name=self.name, root=root, layout=layout.name, has_clean=has_clean,
                           label_source=source or ("pseudo" if has_clean else "none"),
                           description=self.description, _lister=lister, _skipped=layout.skipped)
        raise DatasetNotFound(
            f"{self.name}: no images found in {root}. Put rainy images directly in it (no GT), or use "
            f"paired subfolders with the same file names: {', '.join(f'{r}/+{c}/' for r, c in GENERIC_PAIRS)}.")


def _synth_labels(root: Path, lister):
    """A folder written by `bench data synth` carries its labels: attach them (label source gt)."""
    import json

    try:
        fmt = json.loads((root / "synth.json").read_text()).get("label_format")
    except (OSError, ValueError):
        return lister, None
    if fmt == "yolo":
        from bench.data.generated import yolo_label_lister

        return yolo_label_lister(lister), "gt"
    if fmt == "cityscapes":
        from bench.data.label_index import CityscapesLabels

        return CityscapesLabels(search=("gtFine",)).attach(lister), "gt"
    return lister, None
