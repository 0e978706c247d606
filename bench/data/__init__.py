"""Dataset registry: name -> "module:attr" of an object with ``find(data_root) -> Dataset``."""
from bench.registry import Registry

DATASETS = Registry("dataset", {
    "rain100h": "bench.data.benchmarks:RAIN100H",
    "raincityscapes": "bench.data.benchmarks:RAINCITYSCAPES",
})


def resolve_dataset(name: str, data_root):
    """Locate a registered dataset under ``data_root`` (raises DatasetNotFound with the fix)."""
    return DATASETS.load(name).find(data_root)
