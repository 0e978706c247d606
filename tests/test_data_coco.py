"""COCO val2017 with real labels (issue 20, part 4): coco-val128 (no rain: the upper bound) and
coco-val128-rain-light / -heavy, built from ../shared/data/coco-val128 with the calibrated presets,
seed 0, longer side capped at 480 px, labels carried over byte for byte."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

from bench.cli import main
from bench.data import dataset_names, resolve_dataset
from bench.data.coco import COCO_CATEGORIES, COCO_NAMES, PANOPTIC_TO_CONTIGUOUS
from bench.data.synth import preset, render
from bench.hashing import sha256_file
from bench.imageio import read_rgb
from contexts import offline_ctx

SETS = ("coco-val128", "coco-val128-rain-light", "coco-val128-rain-heavy")


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


# Building the three 128-image sets takes ~25 s on CPU, so the tests that read them are marked slow.
@pytest.fixture(scope="module")
def built(shared_data, cache):
    ctx = offline_ctx(data_root=shared_data, cache_dir=cache)
    return {name: resolve_dataset(name, ctx) for name in SETS}


def source(shared_data: Path) -> Path:
    return shared_data / "coco-val128"


# --- the category map, against the official COCO list -----------------------------------------
def test_panoptic_ids_map_to_the_80_contiguous_classes_by_hand():
    # hand-checked against COCO's instances_val2017.json categories and Ultralytics' coco.yaml
    for panoptic, contiguous, name in ((1, 0, "person"), (3, 2, "car"), (13, 11, "stop sign"),
                                       (27, 24, "backpack"), (67, 60, "dining table"), (84, 73, "book"),
                                       (90, 79, "toothbrush")):
        assert PANOPTIC_TO_CONTIGUOUS[panoptic] == contiguous and COCO_NAMES[contiguous] == name
    assert len(PANOPTIC_TO_CONTIGUOUS) == 80 and sorted(PANOPTIC_TO_CONTIGUOUS.values()) == list(range(80))
    # the 10 ids COCO never used for a thing category
    assert set(range(1, 91)) - set(PANOPTIC_TO_CONTIGUOUS) == {12, 26, 29, 30, 45, 66, 68, 69, 71, 83}


def test_map_agrees_with_both_config_files_of_the_shared_set(shared_data):
    """The box labels' names (0-79) and the polygons' names (panoptic ids) come from two separate
    files of the source set; the map must send every panoptic id to the class of the same name."""
    boxes = yaml.safe_load((source(shared_data) / "object_detection" / "config.yaml").read_text())["names"]
    polys = yaml.safe_load((source(shared_data) / "instance_segmentation" / "config.yaml").read_text())["names"]
    assert {int(k): v for k, v in boxes.items()} == COCO_NAMES
    assert {int(k) for k in polys} == set(PANOPTIC_TO_CONTIGUOUS)
    for pid, name in polys.items():
        assert COCO_NAMES[PANOPTIC_TO_CONTIGUOUS[int(pid)]] == name
    assert [cid for cid, _ in COCO_CATEGORIES] == sorted(cid for cid, _ in COCO_CATEGORIES)


# --- the sets ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_sets_register_and_build(built):
    assert set(SETS) <= set(dataset_names())
    for name, ds in built.items():
        samples = list(ds.samples())
        assert len(samples) == 128 == ds.expected_count and not any(s.error for s in samples)
        assert ds.label_source == "gt" and ds.has_clean
        assert all(s.labels is not None and s.label_format == "yolo" for s in samples)
        assert sum(s.polygons is not None for s in samples) == 100          # the polygon subset
        assert "480 px" in ds.layout and "480 px" in ds.description, name
    clean = list(built["coco-val128"].samples())
    assert all(s.rainy == s.clean for s in clean)                            # no rain: input = clean
    assert "no rain" in built["coco-val128"].layout
    assert "light rain, seed 0" in built["coco-val128-rain-light"].layout
    assert "heavy rain, seed 0" in built["coco-val128-rain-heavy"].layout


@pytest.mark.slow
def test_longer_side_capped_at_480_keeping_the_aspect(built, shared_data):
    src = source(shared_data) / "images" / "val2017"
    for s in built["coco-val128-rain-heavy"].samples():
        with Image.open(s.rainy) as rainy, Image.open(s.clean) as clean, Image.open(src / f"{s.id}.jpg") as orig:
            assert rainy.size == clean.size
            w, h = rainy.size
            ow, oh = orig.size
            assert max(w, h) == min(480, max(ow, oh)), s.id
            assert abs(w / h - ow / oh) < 2 / min(w, h), s.id                  # aspect kept to a pixel


@pytest.mark.slow
def test_labels_carried_over_byte_for_byte(built, shared_data):
    src = source(shared_data)
    for ds in built.values():
        for s in ds.samples():
            box_src = src / "object_detection" / "labels" / "val2017" / f"{s.id}.txt"
            assert sha256_file(s.labels) == sha256_file(box_src)
            poly_src = src / "instance_segmentation" / "labels" / "val2017" / f"{s.id}.txt"
            if poly_src.is_file():
                assert s.polygons is not None and sha256_file(s.polygons) == sha256_file(poly_src)
                assert s.polygon_ids == "coco-panoptic"
            else:
                assert s.polygons is None


@pytest.mark.slow
def test_rain_is_seeded_and_the_calibrated_preset(built):
    """The rainy file is exactly the synth renderer's output for (preset, seed 0, image id) on the
    capped clean image: rebuilding gives the same pixels, and it is not the clean image."""
    for name, which in (("coco-val128-rain-light", "light"), ("coco-val128-rain-heavy", "heavy")):
        samples = list(built[name].samples())
        for s in samples[:3] + samples[-2:]:
            clean = read_rgb(s.clean)
            again = render(clean, preset(which), 0, s.id)
            assert np.array_equal(read_rgb(s.rainy), again), (name, s.id)
            assert not np.array_equal(again, clean)
            assert not np.array_equal(again, render(clean, preset(which), 1, s.id))   # the seed matters


@pytest.mark.slow
def test_verify_reads_every_label(built, capsys):
    from bench.data.verify import format_report, verify

    rep = verify(built["coco-val128-rain-light"], decode=False)
    text = format_report(rep)
    assert rep.ok, text
    assert "228 YOLO label file(s) read" in text                   # 128 box files + 100 polygon files
    assert "without an image" not in text


# --- the clean row is a real upper bound under true labels ------------------------------------
@pytest.mark.slow   # ~1 min; the true-label path through `bench run` stays quick in test_data_synth.py (coco8-rain)
def test_clean_upper_bound_below_one_with_true_person_boxes(shared_data, cache, tmp_path, monkeypatch):
    """hog_people (label source auto) on coco-val128-rain-heavy scores against the true person boxes:
    clean is the upper bound of the rows but a real detector's AP, below 1.0; heavy rain scores less.
    On coco-val128 (no rain) the rainy row is the clean one. First 40 images (~1 min on 2 cores)."""
    monkeypatch.setenv("BENCH_CACHE", str(cache))
    out = tmp_path / "res"
    args = ["run", "--models", "rainy,clean", "--measures", "psnr_y", "--tasks", "hog_people", "--limit", "40",
            "--data-root", str(shared_data), "--out", str(out)]
    assert main(args + ["--datasets", "coco-val128-rain-heavy,coco-val128"]) == 0
    lb = pd.read_csv(out / "leaderboard.csv")
    heavy = lb[lb.dataset == "coco-val128-rain-heavy"].set_index("model")
    clean_ap, rainy_ap = heavy.loc["clean", "hog_map50_95"], heavy.loc["rainy", "hog_map50_95"]
    print(f"HOG person AP vs true boxes, first 40 coco-val128 images: clean {clean_ap:.4f}, "
          f"heavy rain {rainy_ap:.4f} (AP50 {heavy.loc['clean', 'hog_map50']:.4f} / {heavy.loc['rainy', 'hog_map50']:.4f})")
    assert 0.0 < clean_ap < 1.0 and 0.0 < heavy.loc["clean", "hog_map50"] < 1.0
    assert rainy_ap < clean_ap
    assert "label source gt" in heavy.loc["rainy", "protocol"]
    assert "pseudo" not in heavy.loc["rainy", "protocol"]
    none = lb[lb.dataset == "coco-val128"].set_index("model")
    assert none.loc["rainy", "hog_map50_95"] == none.loc["clean", "hog_map50_95"] == clean_ap
