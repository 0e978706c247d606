"""Dataset registry: name -> "module:attr" of an object with ``find(ctx) -> Dataset`` (ctx: RunContext).

Besides the registered names, ``folder:<path>`` opens any folder (bench/data/folder.py).
"""
from bench.registry import Registry

DATASETS = Registry("dataset", {
    "demo": "bench.data.generated:DEMO",
    "rain100l": "bench.data.benchmarks:RAIN100L",
    "rain100h": "bench.data.benchmarks:RAIN100H",
    "rain200l": "bench.data.benchmarks:RAIN200L",
    "rain200h": "bench.data.benchmarks:RAIN200H",
    "rain1400": "bench.data.benchmarks:RAIN1400",
    "test100": "bench.data.benchmarks:TEST100",
    "test1200": "bench.data.benchmarks:TEST1200",
    "spa-data": "bench.data.benchmarks:SPA_DATA",
    "raincityscapes": "bench.data.benchmarks:RAINCITYSCAPES",
    "real200": "bench.data.benchmarks:REAL200",
    "internet-data": "bench.data.benchmarks:INTERNET_DATA",
    "coco8-rain": "bench.data.generated:COCO8_RAIN",
    "coco8-rain-heavy": "bench.data.generated:COCO8_RAIN_HEAVY",
    "cityscapes-sample-rain": "bench.data.generated:CITYSCAPES_SAMPLE_RAIN",
})

FOLDER_PREFIX = "folder:"


def dataset_spec(name: str, data_root=None):
    """The registry entry for a name, or a FolderDataset for ``folder:<path>``."""
    if name.startswith(FOLDER_PREFIX):
        from bench.data.folder import FolderDataset

        return FolderDataset(name[len(FOLDER_PREFIX):], data_root)
    return DATASETS.load(name)


def resolve_dataset(name: str, ctx=None):
    """Locate (or build, for generated sets) a dataset under ``ctx.data_root``; raises
    DatasetNotFound with the fix, or UnknownName with did-you-mean."""
    from bench.config import RunContext

    ctx = ctx or RunContext()
    return dataset_spec(name, ctx.data_root).find(ctx)
