"""Your own labelled rainy photos (issue 20, part 5): `bench data add ... --labels DIR` and
`folder:PATH?rainy=..&labels=DIR` attach YOLO txt files by stem; the set is scored against them
(label source gt), with or without clean images; a malformed label file is one error record and the
rest of the run is scored. Real data: COCO val2017 photographs with their real boxes, rain rendered
by the calibrated heavy preset."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from bench.cli import main
from bench.data import resolve_dataset
from bench.data.synth import preset, render
from bench.imageio import read_rgb, write_png
from bench.store import Store
from contexts import offline_ctx

# COCO val2017 images with people in them (their box files have class-0 lines). OpenCV's HOG (a
# pedestrian detector) finds people at all in only 9 of the 128 (at half size); four of those are here,
# so the scores are not all 0. 000000000785 (a skier, missed by HOG) loses its label file below.
IDS = ("000000000139", "000000002473", "000000001490", "000000002532", "000000006763", "000000000785")


@pytest.fixture(scope="module")
def photos(shared_data, tmp_path_factory) -> Path:
    """rainy/<id>.png (heavy rain, seed 0), clean/<id>.png, boxes/<id>.txt: a user's folder, with
    one image whose label file is absent (no objects) and one label file without an image."""
    import cv2

    src = shared_data / "coco-val128"
    root = tmp_path_factory.mktemp("mine")
    for sub in ("rainy", "clean", "boxes"):
        (root / sub).mkdir()
    for i in IDS:
        rgb = read_rgb(src / "images" / "val2017" / f"{i}.jpg")
        rgb = cv2.resize(rgb, (rgb.shape[1] // 2, rgb.shape[0] // 2), interpolation=cv2.INTER_AREA)  # keep CPU time short
        write_png(root / "clean" / f"{i}.png", rgb)
        write_png(root / "rainy" / f"{i}.png", render(rgb, preset("heavy"), 0, i))
        shutil.copyfile(src / "object_detection" / "labels" / "val2017" / f"{i}.txt", root / "boxes" / f"{i}.txt")
    (root / "boxes" / f"{IDS[-1]}.txt").unlink()                       # image without a label: no objects
    shutil.copyfile(src / "object_detection" / "labels" / "val2017" / "000000001268.txt",
                    root / "boxes" / "000000001268.txt")                # label without an image
    return root


@pytest.fixture()
def config(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("BENCH_CONFIG", str(tmp_path / "config"))
    return tmp_path / "config"


def _hog(out: Path, dataset: str, models: str) -> pd.DataFrame:
    rc = main(["run", "--models", models, "--datasets", dataset, "--measures", "psnr_y", "--tasks", "hog_people",
               "--out", str(out)])
    lb = pd.read_csv(out / "leaderboard.csv")
    return rc, lb[lb.dataset == dataset].set_index("model")


def test_add_with_labels_then_run_scores_against_them(photos, config, tmp_path, capsys):
    assert main(["data", "add", "mine", str(photos), "--rainy", "rainy/*.png", "--clean", "clean/*.png",
                 "--labels", str(photos / "boxes")]) == 0
    said = capsys.readouterr().out
    assert "1 image(s) without a label file, taken as having no objects" in said and IDS[-1] in said
    assert "1 label file(s) without an image" in said and "000000001268.txt" in said
    spec = yaml.safe_load((config / "datasets" / "mine.yaml").read_text())
    assert spec["labels"] == str(photos / "boxes")
    ds = resolve_dataset("mine", offline_ctx())
    assert ds.label_source == "gt"
    samples = {s.id: s for s in ds.samples()}
    assert samples[IDS[0]].labels == photos / "boxes" / f"{IDS[0]}.txt"
    assert samples[IDS[-1]].labels == photos / "boxes" / f"{IDS[-1]}.txt" and not samples[IDS[-1]].labels.exists()

    rc, lb = _hog(tmp_path / "res", "mine", "rainy,clean")
    assert rc == 0
    assert (lb["images"] == len(IDS)).all()                              # the unlabelled image is scored too
    assert "label source gt" in lb.loc["clean", "protocol"]
    assert 0.0 < lb.loc["clean", "hog_map50"] < 1.0                      # true boxes: clean is no longer 1.0
    labels = Store(tmp_path / "res" / "store.sqlite").labels("mine", _hog_unit(tmp_path / "res"), source="gt")
    assert labels[IDS[-1]]["boxes"] == []                                 # YOLO's rule: no objects
    assert labels[IDS[0]]["classes"] == [0, 0]                            # 139: its two people (HOG: person only)


def test_rainy_only_labelled_set_is_scored_against_its_labels(photos, config, tmp_path):
    """No clean images (an RID-like set): still mAP against the labels, not proxies."""
    assert main(["data", "add", "mine-rainy", str(photos), "--rainy", "rainy/*.png", "--labels", "boxes"]) == 0
    ds = resolve_dataset("mine-rainy", offline_ctx())
    assert not ds.has_clean and ds.label_source == "gt"
    rc, lb = _hog(tmp_path / "res", "mine-rainy", "rainy")
    assert rc == 0
    row = lb.loc["rainy"]
    assert "label source gt" in row["protocol"] and 0.0 <= row["hog_map50_95"] <= 1.0
    assert pd.isna(row.get("hog_proxy_count"))                           # not the no-reference proxies


def test_folder_spec_with_labels(photos):
    ds = resolve_dataset(f"folder:{photos}?rainy=rainy/*.png&labels=boxes", offline_ctx())
    assert ds.label_source == "gt" and not ds.has_clean
    assert all(s.label_format == "yolo" and s.labels.parent == photos / "boxes" for s in ds.samples())


def test_malformed_label_is_one_error_and_the_rest_is_scored(photos, config, tmp_path, capsys):
    bad_root = tmp_path / "bad"
    shutil.copytree(photos, bad_root)
    (bad_root / "boxes" / f"{IDS[1]}.txt").write_text("0 0.5 0.5 0.2 0.2\n0 0.5 1.7 0.2 0.2\n")
    assert main(["data", "add", "bad", str(bad_root), "--rainy", "rainy/*.png", "--labels", "boxes"]) == 1
    assert f"{IDS[1]}.txt:2: coordinate 1.7 outside [0, 1]" in capsys.readouterr().out
    assert main(["data", "verify", "bad"]) == 1
    assert f"PROBLEM: {bad_root / 'boxes' / IDS[1]}.txt:2" in capsys.readouterr().out

    rc, lb = _hog(tmp_path / "res", "bad", "rainy")
    assert rc == 1                                                        # a failure, not a skip
    row = lb.loc["rainy"]
    assert row["images"] == len(IDS) - 1 and row["left_out"] == 1        # the rest is scored
    assert 0.0 <= row["hog_map50_95"] <= 1.0
    errors = Store(tmp_path / "res" / "store.sqlite").label_errors("bad", _hog_unit(tmp_path / "res"))
    assert list(errors) == [IDS[1]]                                       # one error record
    assert f"{IDS[1]}.txt:2: coordinate 1.7 outside [0, 1]" in errors[IDS[1]]


def _hog_unit(out: Path) -> str:
    units = [u for u in Store(out / "store.sqlite").units() if u.startswith("hog_people")]
    assert len(units) == 1, units
    return units[0]
