"""Every registered layout, built in a temporary folder, is detected and paired by name."""
import inspect

import numpy as np
import pytest
from PIL import Image

from bench.cli import main
from bench.data import DATASETS, resolve_dataset
from bench.data.layouts import PairedBenchmark
from bench.imageio import read_rgb

IDS = ("1", "2", "10")   # natural, sorted-string and numeric orders differ: pairing must be by name

# (dataset, layout) -> (rainy path, clean path or None) for an id; "{i}" is the id.
EXAMPLES = {
    "jorder": ("rain/norain-{i}.png", "norain/norain-{i}.png"),
    "jorder-x2": ("rain/X2/norain-{i}x2.png", "norain/norain-{i}.png"),
    ("rain100h", "prenet"): ("rainy/rain-00{i}.png", "norain-00{i}.png"),
    ("rain100l", "prenet"): ("rainy/rain-00{i}.png", "norain-00{i}.png"),
    ("rain1400", "prenet"): ("rainy_image/90{i}_3.jpg", "ground_truth/90{i}.jpg"),
    "mprnet": ("input/{i}.png", "target/{i}.png"),
    "rain+norain": ("rain/{i}.png", "norain/{i}.png"),
    "rainy+clean": ("rainy/{i}.jpg", "clean/{i}.jpg"),
    "rain+gt": ("rain/{i}.png", "gt/{i}.png"),
    "rainy+gt": ("rainy/{i}.png", "gt/{i}.png"),
    "rain+clean": ("rain/{i}.png", "clean/{i}.png"),
    "lq+gt": ("lq/{i}.png", "gt/{i}.png"),
    "rain+label": ("rain/{i}.png", "label/{i}.png"),
    "spanet": ("rain/00{i}.png", "gt/00{i}gt.png"),
    "spanet-flat": ("00{i}.png", "00{i}gt.png"),
    "spanet-rc": ("00{i}-R.png", "00{i}-C.png"),
    "flat": ("{i}.jpg", None),
    "rainy-dir": ("rainy/{i}.jpg", None),
    "input-dir": ("input/{i}.jpg", None),
    "pairs": ("rain100mm/aachen_00000{i}_000019_leftImg8bit.png", "norain/aachen_00000{i}_000019_leftImg8bit.png"),
    "official": ("leftImg8bit_rain/val/lindau/lindau_00000{i}_000019_leftImg8bit_rain_alpha_0.01_beta_0.005"
                 "_dropsize_0.01_pattern_{i}.png", "leftImg8bit/val/lindau/lindau_00000{i}_000019_leftImg8bit.png"),
}
CASES = [(name, lay.name) for name in DATASETS.names() if isinstance(DATASETS.load(name), PairedBenchmark)
         for lay in DATASETS.load(name).layouts]


def _write(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = np.full((6, 9, 3), value, np.uint8)
    Image.fromarray(arr).save(path, quality=100) if path.suffix == ".jpg" else Image.fromarray(arr).save(path)


@pytest.mark.parametrize("dataset,layout", CASES, ids=[f"{d}-{lay}" for d, lay in CASES])
def test_layout_detected_and_paired_by_name(tmp_path, dataset, layout):
    spec = DATASETS.load(dataset)
    rainy_t, clean_t = EXAMPLES.get((dataset, layout)) or EXAMPLES[layout]
    root = tmp_path / spec.folders[0]
    for k, i in enumerate(IDS):
        value = 40 + 60 * k                      # each pair shares a distinct grey level
        _write(root / rainy_t.format(i=i), value)
        if clean_t:
            _write(root / clean_t.format(i=i), value)
    ds = spec.find(tmp_path)
    names = [lay.name for lay in spec.layouts]
    # detected as this layout, or as an earlier one that pairs these files the same way (checked below)
    assert names.index(ds.layout) <= names.index(layout)
    gen = ds.samples()
    assert inspect.isgenerator(gen)              # lazy: paths are listed as they are consumed
    samples = list(gen)
    assert len(samples) == len(IDS) and all(s.error is None for s in samples), [s.error for s in samples]
    assert ds.has_clean == (clean_t is not None)
    for s in samples:
        if clean_t:
            assert abs(int(read_rgb(s.rainy)[0, 0, 0]) - int(read_rgb(s.clean)[0, 0, 0])) <= 2, s
        else:
            assert s.clean is None


def test_missing_twin_is_an_error_naming_both_files(tmp_path):
    for i in ("1", "2"):
        _write(tmp_path / "rain100h" / "rain" / f"norain-{i}.png", 10)
    _write(tmp_path / "rain100h" / "norain" / "norain-1.png", 10)
    samples = list(DATASETS.load("rain100h").find(tmp_path).samples())
    bad = [s for s in samples if s.error]
    assert len(bad) == 1 and "norain-2.png" in bad[0].error and "rain/norain-2.png" in bad[0].error


def test_raincityscapes_official_layout_finds_gtfine_labels(tmp_path):
    root = tmp_path / "raincityscapes"
    rainy, clean = EXAMPLES["official"]
    _write(root / rainy.format(i=1), 5)
    _write(root / clean.format(i=1), 5)
    label = tmp_path / "cityscapes" / "gtFine" / "val" / "lindau" / "lindau_000001_000019_gtFine_labelIds.png"
    _write(label, 7)
    ds = DATASETS.load("raincityscapes").find(tmp_path)
    (s,) = list(ds.samples())
    assert ds.layout == "official" and ds.label_format == "cityscapes"
    assert s.labels == label and s.label_format == "cityscapes"


def test_folder_names_resolve_paired_and_unpaired(tmp_path):
    _write(tmp_path / "p" / "input" / "a.png", 1)
    _write(tmp_path / "p" / "target" / "a.png", 1)
    _write(tmp_path / "u" / "x.jpg", 1)
    paired, unpaired = resolve_dataset(f"folder:{tmp_path / 'p'}"), resolve_dataset(f"folder:{tmp_path / 'u'}")
    assert paired.has_clean and paired.layout == "mprnet" and [s.id for s in paired.samples()] == ["a"]
    assert not unpaired.has_clean and unpaired.layout == "flat"


def test_verify_passes_on_shared_rain100h_and_raincityscapes(shared_data, capsys):
    for name in ("rain100h", "raincityscapes"):
        assert main(["data", "--data-root", str(shared_data), "verify", name]) == 0
        out = capsys.readouterr().out
        assert "images: 100 (expected 100)" in out and "200/200 files match" in out


def test_verify_fails_on_wrong_count(tmp_path, capsys):
    for i in ("1", "2"):
        _write(tmp_path / "rain100h" / "rain" / f"norain-{i}.png", 10)
        _write(tmp_path / "rain100h" / "norain" / f"norain-{i}.png", 10)
    assert main(["data", "--data-root", str(tmp_path), "verify", "rain100h"]) == 1
    assert "2 images listed, expected 100" in capsys.readouterr().out


def test_fetch_offline_names_url_and_folder(tmp_path, capsys):
    assert main(["data", "--data-root", str(tmp_path), "fetch", "rain100h", "--offline"]) == 1
    out = capsys.readouterr().out
    assert "raw.githubusercontent.com/yuyi-sd/Robust_Rain_Removal" in out and str(tmp_path / "rain100h") in out
    assert main(["data", "--data-root", str(tmp_path), "fetch", "spa-data"]) == 1
    assert str(tmp_path / "spa-data") in capsys.readouterr().out
