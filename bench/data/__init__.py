"""Dataset registry: name -> "module:attr" of an object with ``find(ctx) -> Dataset`` (ctx: RunContext).

Besides the registered names: a dataset the user added with ``bench data add`` (a YAML in
``<config dir>/datasets/``, bench/data/user.py), and ``folder:<path>`` for any folder: by its
layout (bench/data/folder.py), or with explicit pairing options
``folder:<path>?rainy=GLOB&clean=GLOB&pair=RULE`` (bench/data/user.py).
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
    "coco-val128": "bench.data.generated:COCO_VAL128",
    "coco-val128-rain-light": "bench.data.generated:COCO_VAL128_RAIN_LIGHT",
    "coco-val128-rain-heavy": "bench.data.generated:COCO_VAL128_RAIN_HEAVY",
})

FOLDER_PREFIX = "folder:"


def dataset_names() -> list[str]:
    """Registered names, then the user's (``bench data add``) that do not shadow one."""
    from bench.data.user import user_dataset_files

    return DATASETS.names() + [n for n in user_dataset_files() if n not in DATASETS]


def dataset_spec(name: str, data_root=None):
    """The registry entry for a name, a user dataset (``bench data add``), or a folder for
    ``folder:<path>`` (``folder:<path>?rainy=..&clean=..&pair=..`` with explicit pairing).
    Unknown names raise UnknownName with did-you-mean; a bad user YAML raises DatasetSpecError."""
    if name.startswith(FOLDER_PREFIX):
        rest = name[len(FOLDER_PREFIX):]
        if "?" in rest:
            from bench.data.user import UserDataset

            return UserDataset.from_folder_arg(rest)
        from bench.data.folder import FolderDataset

        return FolderDataset(rest, data_root)
    if name in DATASETS:
        return DATASETS.load(name)
    from bench.data.user import load_user_dataset

    user = load_user_dataset(name)
    if user is not None:
        return user
    from bench.registry import Registry

    return Registry("dataset", {n: "" for n in dataset_names()}).check(name)  # raises with did-you-mean


def resolve_dataset(name: str, ctx=None):
    """Locate (or build, for generated sets) a dataset under ``ctx.data_root``; raises
    DatasetNotFound with the fix, or UnknownName with did-you-mean."""
    from bench.config import RunContext

    ctx = ctx or RunContext()
    return dataset_spec(name, ctx.data_root).find(ctx)
