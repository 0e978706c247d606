"""The YOLO label reader (bench/data/yolo_labels.py): real COCO label files read by hand-checked
values; every malformed case gives one error naming the file and line; a missing file = no objects."""
from __future__ import annotations

import pytest

from bench.data.base import Sample
from bench.data.coco import PANOPTIC_TO_CONTIGUOUS
from bench.data.yolo_labels import LabelFileError, read_yolo_labels
from bench.downstream.labels import instance_gt, read_yolo_txt
from bench.errors import BadInput, Failed, is_skip

COCO = "coco-val128"


def test_real_box_file_read_as_written(shared_data):
    path = shared_data / COCO / "object_detection" / "labels" / "val2017" / "000000000139.txt"
    objs = read_yolo_labels(path, num_classes=80)
    lines = path.read_text().split("\n")
    assert len(objs) == sum(1 for line in lines if line.strip())
    # the file's first line, by hand: "58 0.389578 0.416103 0.0385937 0.163146" (58 = potted plant)
    assert objs[0].cls == 58 and objs[0].values == (0.389578, 0.416103, 0.0385937, 0.163146)
    assert not objs[0].is_polygon


def test_real_polygon_file_mapped_to_contiguous_ids(shared_data):
    path = shared_data / COCO / "instance_segmentation" / "labels" / "val2017" / "000000000139.txt"
    raw = [int(line.split()[0]) for line in path.read_text().splitlines() if line.strip()]
    objs = read_yolo_labels(path, class_map=PANOPTIC_TO_CONTIGUOUS)
    assert [o.cls for o in objs] == [PANOPTIC_TO_CONTIGUOUS[c] for c in raw]
    assert raw[0] == 1 and objs[0].cls == 0                 # panoptic 1 person -> 0
    assert all(o.is_polygon and len(o.values) >= 6 for o in objs)
    assert 84 in raw and PANOPTIC_TO_CONTIGUOUS[84] == 73        # 84 book -> 73 (coco.yaml: 73 book)
    # read without the map, its panoptic ids 82 and 84 are unknown classes of an 80-class set
    with pytest.raises(LabelFileError, match="unknown class 8[24]"):
        read_yolo_labels(path, num_classes=80)


@pytest.mark.parametrize("line, why", [
    ("3 0.5 0.5 0.2", "4 columns"),                        # wrong column count (box missing h)
    ("3 0.5 0.5 0.2 0.2 0.3", "6 columns"),                # neither a box nor a polygon
    ("3 0.1 0.1 0.5 0.1 0.5 0.5 0.2", "8 columns"),        # an odd number of polygon coordinates
    ("3 0.5 1.2 0.2 0.2", "coordinate 1.2 outside [0, 1]"),
    ("3 -0.1 0.5 0.2 0.2", "coordinate -0.1 outside [0, 1]"),
    ("3 0.1 0.1 0.5 0.1 0.5 1.5", "coordinate 1.5 outside [0, 1]"),
    ("80 0.5 0.5 0.2 0.2", "unknown class 80"),
    ("-1 0.5 0.5 0.2 0.2", "unknown class -1"),
    ("car 0.5 0.5 0.2 0.2", "class 'car' is not a whole number"),
    ("3 0.5 nan 0.2 0.2", "outside [0, 1]"),
    ("3 0.5 half 0.2 0.2", "not a number"),
])
def test_each_malformed_line_names_file_and_line(tmp_path, line, why):
    path = tmp_path / "img7.txt"
    path.write_text(f"0 0.5 0.5 0.2 0.2\n\n{line}\n1 0.5 0.5 0.1 0.1\n")   # the bad line is line 3
    with pytest.raises(LabelFileError) as info:
        read_yolo_labels(path, num_classes=80)
    message = str(info.value)
    assert message.startswith(f"{path}:3: ") and why in message, message
    assert isinstance(info.value, BadInput) and isinstance(info.value, Failed)
    assert not is_skip(info.value)                         # a malformed file is a failure, never a skip


def test_unknown_panoptic_id_is_an_unknown_class(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("12 0.1 0.1 0.5 0.1 0.5 0.5\n")         # 12 is a gap in COCO's ids (street sign, unused)
    with pytest.raises(LabelFileError, match=r"p\.txt:1: unknown class 12"):
        read_yolo_labels(path, class_map=PANOPTIC_TO_CONTIGUOUS)


def test_a_rounding_step_outside_is_inside_but_not_more(tmp_path):
    path = tmp_path / "r.txt"
    path.write_text("0 1.0000001 0.5 0.2 0.2\n")
    assert read_yolo_labels(path, num_classes=80)[0].values[0] == 1.0      # clipped, not refused
    path.write_text("0 1.01 0.5 0.2 0.2\n")
    with pytest.raises(LabelFileError, match="outside"):
        read_yolo_labels(path, num_classes=80)


def test_missing_label_file_means_no_objects(tmp_path):
    assert read_yolo_labels(tmp_path / "absent.txt") == []
    sample = Sample("absent", tmp_path / "absent.png", labels=tmp_path / "absent.txt", label_format="yolo")
    record = instance_gt(sample, (100, 200), masks=False)
    assert record == {"height": 100, "width": 200, "boxes": [], "classes": []}   # scored: every detection is a FP


def test_empty_file_means_no_objects(tmp_path):
    path = tmp_path / "e.txt"
    path.write_text("\n  \n")
    assert read_yolo_labels(path) == []


def test_box_to_pixels_by_hand(tmp_path):
    path = tmp_path / "b.txt"
    path.write_text("2 0.5 0.25 0.2 0.1\n")
    rec = read_yolo_txt(path, height=200, width=400)
    # cx 200, cy 50, w 80, h 20 -> x1 160, y1 40, x2 240, y2 60
    assert rec["classes"] == [2] and rec["boxes"] == [pytest.approx([160, 40, 240, 60])]


def test_mask_task_without_polygons_gets_no_labels(tmp_path, shared_data):
    """Boxes cannot score masks: a sample with only a box file is left out of mask scoring (None),
    and a polygon file beside the boxes is what masks are scored against."""
    boxes = shared_data / COCO / "object_detection" / "labels" / "val2017" / "000000000139.txt"
    polys = shared_data / COCO / "instance_segmentation" / "labels" / "val2017" / "000000000139.txt"
    only_boxes = Sample("139", boxes, labels=boxes, label_format="yolo")
    assert instance_gt(only_boxes, (426, 640), masks=True) is None
    both = Sample("139", boxes, labels=boxes, label_format="yolo", polygons=polys, polygon_ids="coco-panoptic")
    rec = instance_gt(both, (426, 640), masks=True)
    assert len(rec["masks"]) == len(rec["boxes"]) > 0 and all(m is not None for m in rec["masks"])
    assert instance_gt(both, (426, 640), masks=False)["classes"][0] == 58   # boxes still come from the box file
