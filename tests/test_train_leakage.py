"""`bench data leakage` and the training guard: BSDS500 train+val hold every Rain100H test background
(rotated where Rain100H stores them portrait), BSDS500 test/ holds none; rotated, flipped, cropped
and rain-covered copies are found; leaked images are refused unless --allow-leakage."""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

from bench.data import leakage as L
from bench.imageio import read_rgb, write_png
from bench.train.data import Pair, TrainingSet
from bench.train.leakage import LeakageRefused, check_leakage
from bench.train.loop import TrainConfig
from tests.contexts import offline_ctx

CACHE = Path(tempfile.gettempdir()) / "derain-bench-test-leakage"   # thumbnails survive between runs


@pytest.fixture(scope="module")
def sigs(shared_data):
    b = shared_data / "bsds500"
    files = {"trainval": L.image_files(b / "train") + L.image_files(b / "val"), "test": L.image_files(b / "test"),
             "norain": L.image_files(shared_data / "rain100h" / "norain"),
             "rain": L.image_files(shared_data / "rain100h" / "rain")}
    assert [len(v) for v in files.values()] == [300, 200, 100, 100]
    return {k: L.signatures(v, CACHE) for k, v in files.items()}


def test_every_rain100h_background_is_found_in_bsds500_train_val(sigs):
    leaks = L.find_leaks(sigs["trainval"], sigs["norain"])
    found = {lk["test"] for lk in leaks}
    assert len(found) == 100, sorted(set(map(str, sigs["norain"].paths)) - found)[:5]
    photos = {lk["train"] for lk in leaks if lk["corr"] > 0.999}
    assert len(photos) == 91                    # 100 test pairs on 91 distinct BSDS500 photos


def test_no_rain100h_background_in_bsds500_test(sigs):
    assert L.find_leaks(sigs["test"], sigs["norain"]) == []
    assert L.find_leaks(sigs["test"], sigs["rain"]) == []


def test_rain_covered_copies_are_mostly_found_without_false_matches(sigs):
    # Rain100H's heavy rainy images against the clean photos: whole-image correlation through rain.
    found = {lk["test"] for lk in L.find_leaks(sigs["trainval"], sigs["rain"])}
    assert len(found) >= 70


def test_training_refuses_leaked_images(shared_data, tmp_path):
    src = shared_data / "rain100h" / "norain"
    a = read_rgb(src / "norain-1.png")
    write_png(tmp_path / "rot_flip.png", np.ascontiguousarray(np.rot90(a[:, ::-1], 1)))
    b = read_rgb(src / "norain-2.png")
    h, w = b.shape[:2]
    write_png(tmp_path / "crop.png", np.ascontiguousarray(np.rot90(b[h // 5: h // 5 + int(0.6 * h), w // 6: w // 6 + int(0.6 * w)], 2)))
    write_png(tmp_path / "fine.png", read_rgb(shared_data / "bsds500" / "test" / "100007.jpg"))
    pairs = [Pair(p.stem, p, p) for p in sorted(tmp_path.glob("*.png"))]
    tset = TrainingSet("t", tmp_path, pairs)
    ctx = offline_ctx(data_root=shared_data, cache_dir=CACHE)
    cfg = TrainConfig(model="prenet", data="t", against=("rain100h",))
    with pytest.raises(LeakageRefused, match="--allow-leakage"):
        check_leakage(cfg, tset, [], ctx)
    rep, kept = check_leakage(TrainConfig(model="prenet", data="t", against=("rain100h",), drop_leaked=True), tset, [], ctx)
    assert [p.id for p in kept] == ["fine"] and rep["policy"] == "dropped"
    hows = {Path(lk["train"]).stem: lk["how"] for lk in rep["against"]["rain100h"]["leaks"]}
    assert hows["crop"].startswith("crop/") and hows["rot_flip"].startswith("whole/flipH")
    rep, kept = check_leakage(TrainConfig(model="prenet", data="t", against=("rain100h",), allow_leakage=True), tset, [], ctx)
    assert len(kept) == 3 and rep["policy"] == "allowed" and len(rep["leaked_train"]) == 2


def test_leakage_csv_lists_every_match_the_terminal_shortens(sigs, tmp_path):
    # 100 Rain100H backgrounds in BSDS500 train+val: the terminal shows 10, the CSV all of them.
    import csv

    leaks = L.find_leaks(sigs["trainval"], sigs["norain"])
    rep = {"train_images": 300, "leaked_train": sorted({lk["train"] for lk in leaks}),
           "against": {"rain100h": {"images": 100, "leaks": leaks, "test_images_found": 100}}}
    assert "... and" in L.format_report(rep)
    n = L.write_csv(rep, tmp_path / "leaks.csv")
    with (tmp_path / "leaks.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert n == len(rows) == len(leaks) >= 100
    assert {r["test"] for r in rows} == {str(lk["test"]) for lk in leaks}
    assert all(r["how"] and float(r["score"]) > 0 for r in rows)
