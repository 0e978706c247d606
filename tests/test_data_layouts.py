"""Every registered layout, built in a temporary folder, is detected and paired by name."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.data import DATASETS, dataset_spec, resolve_dataset
from bench.data.base import DatasetNotFound
from bench.data.layouts import PairedBenchmark
from contexts import offline_ctx


def _img(path: Path, value: int, size=(8, 6)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size[1], size[0], 3), value, np.uint8)).save(path)


# (dataset, folder, layout name, [(rainy rel path, clean rel path or None)], expected sample id of first)
CASES = [
    ("rain100h", "rain100h", "jorder", [("rain/norain-2.png", "norain/norain-2.png"),
                                         ("rain/norain-10.png", "norain/norain-10.png")]),
    ("rain100l", "Rain100L", "prenet", [("rainy/rain-001.png", "norain-001.png"),
                                         ("rainy/rain-002.png", "norain-002.png")]),
    ("rain100l", "rain100l", "rcdnet", [("rain/rain-1.png", "norain/norain-1.png")]),
    ("rain100h", "rain100h", "jorder-flat", [("rain-1.png", "norain-1.png")]),
    ("rain100h", "Rain100H", "mprnet", [("input/1.png", "target/1.png"), ("input/2.jpg", "target/2.jpg")]),
    ("rain200h", "rain200h", "jorder-x2", [("rain/X2/norain-1x2.png", "norain/norain-1.png"),
                                            ("rain/X2/norain-12x2.png", "norain/norain-12.png")]),
    ("rain200l", "Rain200L", "mprnet", [("input/a.png", "target/a.png")]),
    ("rain1400", "rain1400", "ddn", [("rainy_image/901_1.jpg", "ground_truth/901.jpg"),
                                      ("rainy_image/901_14.jpg", "ground_truth/901.jpg"),
                                      ("rainy_image/902_3.jpg", "ground_truth/902.jpg")]),
    ("test100", "Test100", "mprnet", [("input/1.png", "target/1.png")]),
    ("test100", "test100", "rain-norain", [("rain/x.jpg", "norain/x.png")]),
    ("test1200", "test1200", "mprnet", [("input/5.png", "target/5.png")]),
    ("spa-data", "spa-data", "spanet", [("rain/000.png", "gt/000gt.png"), ("rain/001.png", "gt/001gt.png")]),
    ("spa-data", "real_test_1000", "spanet-same-name", [("rain/000.png", "gt/000.png")]),
    ("spa-data", "SPA-Data", "spanet-flat", [("000.png", "000gt.png")]),
    ("spa-data", "spa-data", "spanet-suffix", [("rain/7_rain.png", "gt/7_gt.png")]),
    ("raincityscapes", "raincityscapes", "pairs", [("rain100mm/aachen_000052_000019_leftImg8bit.png",
                                                    "norain/aachen_000052_000019_leftImg8bit.png")]),
    ("raincityscapes", "raincityscapes", "cityscapes-rain", [
        ("leftImg8bit_rain/test/berlin/berlin_000000_000019_leftImg8bit_rain_alpha_0.01_beta_0.005_dropsize_0.01_pattern_1.png",
         "leftImg8bit/test/berlin/berlin_000000_000019_leftImg8bit.png"),
        ("leftImg8bit_rain/test/bonn/bonn_000001_000019_leftImg8bit_rain_alpha_0.02_beta_0.01_dropsize_0.005_pattern_2.png",
         "leftImg8bit/test/bonn/bonn_000001_000019_leftImg8bit.png")]),
    ("real200", "real200", "flat", [("a.jpg", None), ("b.png", None)]),
    ("real200", "Real200", "rain", [("rain/a.jpg", None)]),
    ("internet-data", "real-internet147", "flat", [("1.jpg", None), ("2.jpg", None)]),
]


@pytest.mark.parametrize("name,folder,layout,files", CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_layout_detected_and_paired_by_name(tmp_path, name, folder, layout, files):
    root = tmp_path / folder
    for i, (rainy, clean) in enumerate(files):
        _img(root / rainy, 10 + i)
        if clean:
            _img(root / clean, 100 + i)
    ds = resolve_dataset(name, offline_ctx(data_root=tmp_path))
    assert ds.layout == layout and ds.root == root
    samples = list(ds.samples())
    assert [s.error for s in samples] == [None] * len(files)
    got = {(str(s.rainy.relative_to(root)), str(s.clean.relative_to(root)) if s.clean else None) for s in samples}
    assert got == set(files)
    assert ds.has_clean == (files[0][1] is not None)
    assert ds.label_source == ("pseudo" if ds.has_clean else "none")
    # the same folder is recognised as folder:<path> too (same pairs)
    fd = resolve_dataset(f"folder:{root}")
    assert {(s.rainy, s.clean) for s in fd.samples()} == {(s.rainy, s.clean) for s in samples}


def test_pairing_is_by_name_not_sorted_order(tmp_path):
    root = tmp_path / "rain100h"
    for n in (1, 2, 10):
        _img(root / "rain" / f"norain-{n}.png", n)
    for n in (1, 10, 3):  # 2 missing; 3 has no rainy twin (sorted order would pair 2 with 3)
        _img(root / "norain" / f"norain-{n}.png", n)
    samples = {s.id: s for s in resolve_dataset("rain100h", offline_ctx(data_root=tmp_path)).samples()}
    assert samples["10"].clean.name == "norain-10.png" and samples["1"].clean.name == "norain-1.png"
    err = samples["2"].error
    assert "norain-2.png" in err and "no ground-truth twin" in err and str(root / "norain" / "norain-2.png") in err


def test_every_registered_name_is_covered_or_generated():
    covered = {c[0] for c in CASES} | {"demo", "coco8-rain", "coco8-rain-heavy", "cityscapes-sample-rain",
                                       "coco-val128", "coco-val128-rain-light", "coco-val128-rain-heavy"}
    assert set(DATASETS.names()) == covered
    for name in DATASETS.names():
        spec = dataset_spec(name)
        if isinstance(spec, PairedBenchmark):
            assert spec.source and spec.layouts


def test_not_found_names_the_folder_and_layouts(tmp_path):
    with pytest.raises(DatasetNotFound) as e:
        resolve_dataset("rain1400", offline_ctx(data_root=tmp_path))
    msg = str(e.value)
    assert str(tmp_path / "rain1400") in msg and "rainy_image/N_K" in msg and "ground_truth/N" in msg
    with pytest.raises(LookupError, match="did you mean|Did you mean"):
        resolve_dataset("rain100", offline_ctx(data_root=tmp_path))


def test_ambiguous_clean_twin_is_an_error(tmp_path):
    root = tmp_path / "set"
    _img(root / "input" / "a.png", 1)
    _img(root / "target" / "a.png", 2)
    _img(root / "target" / "a.jpg", 3)
    _img(root / "input" / "b.png", 1)
    _img(root / "target" / "b.png", 2)
    s, b = resolve_dataset(f"folder:{root}").samples()
    assert b.error is None and b.clean == root / "target" / "b.png"
    assert "several candidates" in s.error and "a.jpg" in s.error and "a.png" in s.error


def test_raincityscapes_attaches_gtfine_labels_when_present(tmp_path):
    root = tmp_path / "raincityscapes"
    stem = "aachen_000052_000019"
    _img(root / "rain100mm" / f"{stem}_leftImg8bit.png", 1)
    _img(root / "norain" / f"{stem}_leftImg8bit.png", 2)
    _img(root / "rain100mm" / "bochum_000000_006484_leftImg8bit.png", 1)
    _img(root / "norain" / "bochum_000000_006484_leftImg8bit.png", 2)
    assert resolve_dataset("raincityscapes", offline_ctx(data_root=tmp_path)).label_source == "pseudo"
    other = tmp_path / "cityscapes" / "gtFine" / "val" / "frankfurt" / "frankfurt_000000_000294_gtFine_labelIds.png"
    other.parent.mkdir(parents=True)
    Image.fromarray(np.zeros((6, 8), np.uint8)).save(other)
    assert resolve_dataset("raincityscapes", offline_ctx(data_root=tmp_path)).label_source == "pseudo"  # labels of other frames only
    lab = tmp_path / "cityscapes" / "gtFine" / "val" / "aachen" / f"{stem}_gtFine_labelIds.png"
    lab.parent.mkdir(parents=True)
    Image.fromarray(np.full((6, 8), 7, np.uint8)).save(lab)
    ds = resolve_dataset("raincityscapes", offline_ctx(data_root=tmp_path))
    assert ds.label_source == "gt"
    got = {s.id: (s.labels, s.label_format) for s in ds.samples()}
    assert got[f"{stem}_leftImg8bit"] == (lab, "cityscapes")
    assert got["bochum_000000_006484_leftImg8bit"] == (None, None)


def test_streaming_holds_paths_not_pixels(tmp_path):
    import tracemalloc

    root = tmp_path / "flat"
    for i in range(300):
        _img(root / f"{i}.png", i % 255, size=(64, 64))
    ds = resolve_dataset(f"folder:{root}")
    it = ds.samples()
    first = next(it)
    assert isinstance(first.rainy, Path) and not any(isinstance(v, np.ndarray) for v in vars(ds).values())
    tracemalloc.start()
    n = sum(1 for _ in ds.samples())
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert n == 300 and peak < 300 * 64 * 64 * 3 / 4  # far below the pixels of the images listed


def test_folder_layout_is_the_one_that_pairs_the_most_files(shared_data, tmp_path):
    # 16 real Rain100H pairs in rain/ + norain/ with the same names; one of them happens to be called
    # norain-9.png, which the JORDER layout (rain/norain-N.png) would also read. All 16 must pair.
    import shutil

    src = shared_data / "rain100h"
    for sub in ("rain", "norain"):
        (tmp_path / sub).mkdir()
        shutil.copy(src / sub / "norain-9.png", tmp_path / sub / "norain-9.png")
        for i in range(10, 25):
            shutil.copy(src / sub / f"norain-{i}.png", tmp_path / sub / f"street_{i}.png")
    ds = resolve_dataset(f"folder:{tmp_path}", offline_ctx(data_root=tmp_path))
    samples = list(ds.samples())
    assert ds.layout == "rain+norain"
    assert len(samples) == 16 and all(s.clean is not None for s in samples)
    assert list(ds.skipped_paths()) == []
