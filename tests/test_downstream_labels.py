"""Label conversions on the shared samples: YOLO txt -> COCO json (coco8), Cityscapes labelIds -> trainIds."""
import json
from pathlib import Path

import numpy as np
import pytest

from bench.downstream.labels import (CITYSCAPES_LABEL_TO_TRAIN, LabelError, cityscapes_label_to_train_ids,
                                     read_cityscapes_train_ids, read_label_png, read_yolo_txt,
                                     yolo_dataset_to_coco, yolo_names)
from contexts import offline_ctx


@pytest.fixture(scope="module")
def coco8(shared_data) -> Path:
    return shared_data / "coco8"


def coco8_names():
    import ultralytics

    return yolo_names(Path(ultralytics.__file__).parent / "cfg" / "datasets" / "coco8.yaml")


def test_yolo_to_coco_by_hand(coco8):
    # images/val/000000000036.jpg is 481 wide, 640 high; its label line 1 is
    #   "25 0.475759 0.414523 0.951518 0.672422"  (class 25 = umbrella)
    # x = (0.475759 - 0.951518/2) * 481 = 0.000000 * 481 = 0
    # y = (0.414523 - 0.672422/2) * 640 = 0.078312 * 640 = 50.11968
    # w = 0.951518 * 481 = 457.680158;  h = 0.672422 * 640 = 430.35008
    coco = yolo_dataset_to_coco(coco8 / "images" / "val", coco8 / "labels" / "val", coco8_names())
    image = next(i for i in coco["images"] if i["file_name"] == "000000000036.jpg")
    assert (image["width"], image["height"]) == (481, 640)
    first = next(a for a in coco["annotations"] if a["image_id"] == image["id"])
    assert first["category_id"] == 26                      # COCO ids start at 1: YOLO class + 1
    assert first["bbox"] == pytest.approx([0.0, 50.11968, 457.680158, 430.35008], abs=1e-4)
    assert first["area"] == pytest.approx(457.680158 * 430.35008, rel=1e-9)
    assert {c["id"]: c["name"] for c in coco["categories"]}[26] == "umbrella"


def test_yolo_to_coco_round_trips_through_ultralytics_converter(coco8, tmp_path):
    """Our COCO json, converted back by Ultralytics' own convert_coco, gives the original txt lines."""
    from bench.offline import configure

    configure(True)
    from ultralytics.data.converter import convert_coco

    for split in ("train", "val"):
        coco = yolo_dataset_to_coco(coco8 / "images" / split, coco8 / "labels" / split)
        n_lines = sum(len([ln for ln in p.read_text().splitlines() if ln.strip()])
                      for p in (coco8 / "labels" / split).glob("*.txt"))
        assert len(coco["annotations"]) == n_lines
        ann_dir = tmp_path / f"ann_{split}"
        ann_dir.mkdir()
        (ann_dir / f"instances_{split}.json").write_text(json.dumps(coco))
        out = tmp_path / f"yolo_{split}"
        convert_coco(str(ann_dir), str(out), cls91to80=False)
        for txt in (coco8 / "labels" / split).glob("*.txt"):
            want = np.loadtxt(txt, ndmin=2)
            got = np.loadtxt(out / "labels" / split / txt.name, ndmin=2)
            assert got.shape == want.shape
            order = lambda a: a[np.lexsort(a.T[::-1])]  # noqa: E731  (the converter may reorder)
            assert np.allclose(order(got), order(want), atol=2e-6), txt.name


def test_yolo_bad_line_names_file_and_line(tmp_path):
    bad = tmp_path / "x.txt"
    bad.write_text("0 0.5 0.5 0.2 0.2\n3 0.5 0.5 0.2\n")
    with pytest.raises(LabelError, match=r"x\.txt:2"):
        read_yolo_txt(bad, 100, 100)
    bad.write_text("0 50 50 20 20\n")
    with pytest.raises(LabelError, match="normalised"):
        read_yolo_txt(bad, 100, 100)


def test_yolo_polygon_line_gives_box_and_mask(tmp_path):
    # A square polygon (0.1,0.1)-(0.5,0.5) on a 100x100 image: box [10,10,50,50], mask ~40x40 px.
    p = tmp_path / "seg.txt"
    p.write_text("7 0.1 0.1 0.5 0.1 0.5 0.5 0.1 0.5\n")
    rec = read_yolo_txt(p, 100, 100)
    assert rec["boxes"] == [pytest.approx([10, 10, 50, 50])] and rec["classes"] == [7]
    from bench.downstream.coco_eval import decode_mask

    area = decode_mask(rec["masks"][0]).sum()
    assert 1500 <= area <= 1700          # 40*40 = 1600 up to pycocotools' polygon rasterisation


def test_cityscapes_label_ids_to_train_ids_match_the_official_train_id_png(shared_data):
    folder = shared_data / "cityscapes-sample" / "gtFine" / "val" / "frankfurt"
    label_ids = read_label_png(folder / "frankfurt_000000_000294_gtFine_labelIds.png")
    official = read_label_png(folder / "frankfurt_000000_000294_gtFine_labelTrainIds.png")
    ours = cityscapes_label_to_train_ids(label_ids)
    assert ours.shape == official.shape == (128, 256)
    assert len(np.unique(label_ids)) > 10               # a real street scene, many classes
    # Same map wherever the downscaled official file is consistent with its own labelIds file.
    # (Both files were resized independently by nearest neighbour: check agreement, not identity.)
    # Measured: 77 of 32768 pixels differ, all on region borders.
    agree = (ours == official).mean()
    assert agree > 0.99, agree
    # And for every labelId present, the official file's most common trainId is our table's value.
    for label_id in np.unique(label_ids):
        values, counts = np.unique(official[label_ids == label_id], return_counts=True)
        assert values[counts.argmax()] == CITYSCAPES_LABEL_TO_TRAIN.get(int(label_id), 255), label_id
    assert (read_cityscapes_train_ids(folder / "frankfurt_000000_000294_gtFine_labelIds.png") == ours).all()
    assert set(np.unique(ours)) <= set(CITYSCAPES_LABEL_TO_TRAIN.values()) | {255}


def test_cityscapes_table_by_hand():
    # cityscapesScripts: road 7->0, car 26->13, bicycle 33->18, ego vehicle 1->255, license plate -1 -> 255
    ids = np.array([[7, 26, 33, 1, 0]])
    assert cityscapes_label_to_train_ids(ids).tolist() == [[0, 13, 18, 255, 255]]
    with pytest.raises(LabelError):
        cityscapes_label_to_train_ids(np.array([[-1]]))


def test_colour_label_image_is_refused(shared_data):
    with pytest.raises(LabelError, match="labelIds"):
        read_label_png(shared_data / "cityscapes-sample" / "leftImg8bit" / "val" / "frankfurt"
                       / "frankfurt_000000_000294_leftImg8bit.png")


def test_detection_task_reads_yolo_gt_with_class_filter(coco8):
    from bench.data.base import Sample
    from bench.downstream.base import TaskConfig
    from bench.downstream.tasks import build_task

    img, txt = coco8 / "images" / "val" / "000000000036.jpg", coco8 / "labels" / "val" / "000000000036.txt"
    sample = Sample("36", img, labels=txt, label_format="yolo")
    every = build_task("yolo_detect", offline_ctx()).gt_labels(sample, (640, 481))
    assert every["classes"] == [25, 0]                       # umbrella, person (the file's two lines)
    people = build_task(TaskConfig("p", "yolo_detect", "gt", {"classes": [0]}), offline_ctx())
    only = people.gt_labels(sample, (640, 481))
    assert only["classes"] == [0] and only["boxes"] == [every["boxes"][1]]
    assert people.gt_labels(Sample("x", img, labels=txt, label_format="cityscapes"), (640, 481)) is None
