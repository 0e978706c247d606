"""``folder:<path>``: any folder, paired or not, recognised by the registered layouts.

Order: a folder written by ``bench data synth`` (dataset.json); then every registered benchmark's
layouts (so ``folder:~/Rain100H`` pairs exactly as ``rain100h`` would); then generic paired
folder names; then a flat folder of rainy images without ground truth.
"""
from __future__ import annotations

from pathlib import Path

from bench.data.base import Dataset, DatasetNotFound
from bench.data.benchmarks import FLAT, MPRNET, RAINY_CLEAN
from bench.data.generated import MANIFEST, synthetic_dataset
from bench.data.layouts import PairedBenchmark

PREFIX = "folder:"


def is_folder_name(name: str) -> bool:
    return name.startswith(PREFIX)


def find_folder(name: str, data_root: Path | None = None) -> Dataset:
    from bench.data import DATASETS

    raw = name[len(PREFIX):]
    path = Path(raw).expanduser()
    if not path.is_absolute() and not path.is_dir() and data_root is not None:
        path = Path(data_root) / raw          # relative names may also mean "under the data root"
    if not path.is_dir():
        raise DatasetNotFound(f"{name}: {path} is not a folder. Give an existing folder, e.g. folder:/data/my_rain.")
    if (path / MANIFEST).is_file():
        return synthetic_dataset(path, name)
    for bench_name in DATASETS.names():
        spec = DATASETS.load(bench_name)
        if isinstance(spec, PairedBenchmark) and spec.has_clean:  # flat layouts: see the generic fallback
            found = spec.locate(path)
            if found is not None:
                found.name, found.expected_count = name, None
                found.description = f"{path} in the {spec.name} layout {found.layout!r}"
                return found
    generic = PairedBenchmark(name, f"images in {path}", folders=(), layouts=(MPRNET, *RAINY_CLEAN, FLAT))
    found = generic.locate(path)
    if found is None:
        raise DatasetNotFound(f"{name}: no images in {path} (known paired layouts: "
                              + "; ".join(lay.describe() for lay in generic.layouts) + ")")
    return found
