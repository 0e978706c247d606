"""COCO val2017 photographs with their real labels (``$BENCH_DATA/coco-val128``), clean and with rain.

Source layout (lightly-ai/coco128_yolo, the first 128 val2017 images):
    images/val2017/<id>.jpg
    object_detection/labels/val2017/<id>.txt       YOLO boxes, the 80 contiguous classes 0-79
    instance_segmentation/labels/val2017/<id>.txt  YOLO-seg polygons, COCO *panoptic* category ids
                                                   (1-90 with gaps), for the first 100 images only

The built sets keep both files unchanged (``labels/<id>.txt``, ``labels-panoptic/<id>.txt``); the
polygons' ids are translated to 0-79 when they are read (PANOPTIC_TO_CONTIGUOUS). An image without
a box file has no objects (YOLO's rule); an image without a polygon file is outside the polygon
subset (its boxes say it has objects), so it is left out of mask scoring rather than counted empty.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable, Iterator

from bench.data.base import Sample
from bench.data.synth import SourceImage

# The official COCO 2017 thing categories (instances_val2017.json "categories": id, name), in id
# order; the contiguous class of a category is its position here (Ultralytics' coco.yaml order).
COCO_CATEGORIES: tuple[tuple[int, str], ...] = (
    (1, "person"), (2, "bicycle"), (3, "car"), (4, "motorcycle"), (5, "airplane"), (6, "bus"), (7, "train"),
    (8, "truck"), (9, "boat"), (10, "traffic light"), (11, "fire hydrant"), (13, "stop sign"),
    (14, "parking meter"), (15, "bench"), (16, "bird"), (17, "cat"), (18, "dog"), (19, "horse"), (20, "sheep"),
    (21, "cow"), (22, "elephant"), (23, "bear"), (24, "zebra"), (25, "giraffe"), (27, "backpack"),
    (28, "umbrella"), (31, "handbag"), (32, "tie"), (33, "suitcase"), (34, "frisbee"), (35, "skis"),
    (36, "snowboard"), (37, "sports ball"), (38, "kite"), (39, "baseball bat"), (40, "baseball glove"),
    (41, "skateboard"), (42, "surfboard"), (43, "tennis racket"), (44, "bottle"), (46, "wine glass"),
    (47, "cup"), (48, "fork"), (49, "knife"), (50, "spoon"), (51, "bowl"), (52, "banana"), (53, "apple"),
    (54, "sandwich"), (55, "orange"), (56, "broccoli"), (57, "carrot"), (58, "hot dog"), (59, "pizza"),
    (60, "donut"), (61, "cake"), (62, "chair"), (63, "couch"), (64, "potted plant"), (65, "bed"),
    (67, "dining table"), (70, "toilet"), (72, "tv"), (73, "laptop"), (74, "mouse"), (75, "remote"),
    (76, "keyboard"), (77, "cell phone"), (78, "microwave"), (79, "oven"), (80, "toaster"), (81, "sink"),
    (82, "refrigerator"), (84, "book"), (85, "clock"), (86, "vase"), (87, "scissors"), (88, "teddy bear"),
    (89, "hair drier"), (90, "toothbrush"),
)
COCO_NAMES: dict[int, str] = {i: name for i, (_, name) in enumerate(COCO_CATEGORIES)}
# panoptic thing ids are the instance category ids; stuff ids (92-200) have no polygon here
PANOPTIC_TO_CONTIGUOUS: dict[int, int] = {cid: i for i, (cid, _) in enumerate(COCO_CATEGORIES)}
NUM_CLASSES = len(COCO_CATEGORIES)

BOXES_DIR = "labels"
POLYGONS_DIR = "labels-panoptic"
POLYGON_IDS = "coco-panoptic"


def coco_items(root: Path) -> list[SourceImage]:
    """The photographs under ``root`` with their box and polygon files (absent files are skipped:
    a missing box file means no objects; a missing polygon file means outside the polygon subset)."""
    from bench.imageio import IMAGE_SUFFIXES

    images = root / "images" / "val2017"
    items = []
    for img in sorted(images.glob("*")):
        if img.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        labels = []
        boxes = root / "object_detection" / "labels" / "val2017" / f"{img.stem}.txt"
        polygons = root / "instance_segmentation" / "labels" / "val2017" / f"{img.stem}.txt"
        if boxes.is_file():
            labels.append((boxes, f"{BOXES_DIR}/{img.stem}.txt"))
        if polygons.is_file():
            labels.append((polygons, f"{POLYGONS_DIR}/{img.stem}.txt"))
        items.append(SourceImage(img.stem, img, tuple(labels)))
    if not items:
        raise FileNotFoundError(f"{root}: no images under images/val2017/ (expected the coco128_yolo layout: "
                                "images/val2017/, object_detection/labels/val2017/, instance_segmentation/...)")
    return items


def coco_label_lister(lister: Callable[[Path], Iterator[Sample]]) -> Callable[[Path], Iterator[Sample]]:
    """Attach labels/<id>.txt (boxes; always, a missing file = no objects) and, where it exists,
    labels-panoptic/<id>.txt (polygons, panoptic ids)."""

    def listed(root: Path) -> Iterator[Sample]:
        for s in lister(root):
            if s.error:
                yield s
                continue
            poly = root / POLYGONS_DIR / f"{s.id}.txt"
            yield dataclasses.replace(s, labels=root / BOXES_DIR / f"{s.id}.txt", label_format="yolo",
                                      polygons=poly if poly.is_file() else None,
                                      polygon_ids=POLYGON_IDS if poly.is_file() else None)
    return listed
