"""Dataset registry: name -> "module:attr" of an object with ``find(data_root) -> Dataset``.

Besides registered names, ``folder:<path>`` opens any folder; use ``resolve_dataset`` for both.
"""
from __future__ import annotations

from pathlib import Path

from bench.registry import Registry

DATASETS = Registry("dataset", {
    "rain100h": "bench.data.benchmarks:RAIN100H",
    "rain100l": "bench.data.benchmarks:RAIN100L",
    "rain200h": "bench.data.benchmarks:RAIN200H",
    "rain200l": "bench.data.benchmarks:RAIN200L",
    "rain1400": "bench.data.benchmarks:RAIN1400",
    "test100": "bench.data.benchmarks:TEST100",
    "test1200": "bench.data.benchmarks:TEST1200",
    "spa-data": "bench.data.benchmarks:SPA_DATA",
    "real200": "bench.data.benchmarks:REAL200",
    "internet-data": "bench.data.benchmarks:INTERNET_DATA",
    "raincityscapes": "bench.data.benchmarks:RAINCITYSCAPES",
    "demo": "bench.data.generated:DEMO",
    "coco8-rain": "bench.data.generated:COCO8_RAIN",
    "cityscapes-rain": "bench.data.generated:CITYSCAPES_RAIN",
})


def check_dataset_name(name: str) -> str:
    """Validate a --datasets entry: a registered name (did-you-mean otherwise) or folder:<path>."""
    return name if name.startswith("folder:") else DATASETS.check(name)


def resolve_dataset(name: str, data_root: str | Path | None = None):
    """Locate (or build, for generated sets) a dataset by name -> bench.data.base.Dataset.

    Raises bench.registry.UnknownName for an unknown name and bench.data.base.DatasetNotFound
    (message: where to put it) when it is not on disk.
    """
    root = Path(data_root).expanduser() if data_root else None
    if name.startswith("folder:"):
        from bench.data.folder import find_folder
        return find_folder(name, root)
    return DATASETS.load(name).find(root)
