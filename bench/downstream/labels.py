"""Label conversions: YOLO txt -> instance records / COCO json; Cityscapes labelIds -> trainIds.

Instance records are the format of bench.downstream.coco_eval (boxes in pixels, x1y1x2y2).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bench.data.base import Sample
from bench.data.yolo_labels import LabelFileError, read_yolo_labels
from bench.downstream.coco_eval import encode_mask, xyxy_to_xywh

# Cityscapes (cityscapesScripts labels.py): labelId -> trainId for the 19 evaluated classes;
# every other id (void, license plate = -1, rarely-seen classes) maps to 255 = ignore.
CITYSCAPES_LABEL_TO_TRAIN = {7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9, 23: 10,
                             24: 11, 25: 12, 26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18}
CITYSCAPES_TRAIN_NAMES = ("road", "sidewalk", "building", "wall", "fence", "pole", "traffic light",
                          "traffic sign", "vegetation", "terrain", "sky", "person", "rider", "car",
                          "truck", "bus", "train", "motorcycle", "bicycle")
IGNORE = 255


# one class for every label file that cannot be read (a BadInput: recorded for that image, the run goes on)
LabelError = LabelFileError

# Label files without a class list are read as COCO's 80 classes: every detector and segmenter here
# that reads YOLO labels was trained on them, so a class 80+ could never be detected.
YOLO_CLASSES = 80


def cityscapes_label_to_train_ids(label_ids: np.ndarray) -> np.ndarray:
    """H×W Cityscapes labelIds (uint8/int) -> H×W uint8 trainIds, 255 where not evaluated."""
    lut = np.full(256, IGNORE, dtype=np.uint8)
    for label_id, train_id in CITYSCAPES_LABEL_TO_TRAIN.items():
        lut[label_id] = train_id
    ids = np.asarray(label_ids)
    if ids.min() < 0 or ids.max() > 255:
        raise LabelError(f"Cityscapes labelIds must lie in 0..255, got {ids.min()}..{ids.max()}")
    return lut[ids.astype(np.int64)]


def read_label_png(path: str | Path) -> np.ndarray:
    """A single-channel label PNG read as stored (no palette expansion, no colour conversion)."""
    from PIL import Image

    path = Path(path)
    try:
        with Image.open(path) as im:
            if im.mode not in ("L", "P", "I", "I;16"):
                raise LabelError(f"{path}: label image has mode {im.mode}; expected one channel of ids. "
                                 "Use the *_labelIds.png (or *_labelTrainIds.png) file, not the colour one.")
            return np.asarray(im).astype(np.int64)
    except OSError as e:
        raise LabelError(f"{path}: cannot read label image ({e})") from e


def read_cityscapes_train_ids(path: str | Path) -> np.ndarray:
    """*_labelIds.png -> trainIds; *_labelTrainIds.png is taken as is."""
    ids = read_label_png(path)
    if Path(path).name.endswith("labelTrainIds.png"):
        return ids.astype(np.uint8)
    return cityscapes_label_to_train_ids(ids)


def read_yolo_txt(path: str | Path, height: int, width: int, names: dict[int, str] | None = None,
                  num_classes: int | None = None, class_map: dict[int, int] | None = None) -> dict[str, Any]:
    """YOLO label file -> instance record (bench.data.yolo_labels reads and checks the lines).
    Boxes ``cls cx cy w h`` become pixel x1y1x2y2; a polygon ``cls x1 y1 x2 y2 ...`` becomes its
    extent as the box and the filled polygon as the mask (pycocotools frPyObjects). A missing file
    is an image without objects."""
    boxes, classes, masks, polygons = [], [], [], 0
    for obj in read_yolo_labels(path, num_classes, class_map):
        if not obj.is_polygon:
            cx, cy, w, h = obj.values
            box = [(cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height]
            masks.append(None)
        else:
            xs, ys = np.array(obj.values[0::2]) * width, np.array(obj.values[1::2]) * height
            box = [float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())]
            masks.append(_polygon_mask([float(v) for xy in zip(xs, ys) for v in xy], height, width))
            polygons += 1
        boxes.append(box)
        classes.append(obj.cls)
    record: dict[str, Any] = {"height": height, "width": width, "boxes": boxes, "classes": classes}
    if names:
        record["names"] = {str(c): names.get(c, str(c)) for c in sorted(set(classes))}
    if polygons == len(boxes) and boxes:
        record["masks"] = masks
    return record


def instance_gt(sample: Sample, image_shape: tuple[int, int], masks: bool) -> dict[str, Any] | None:
    """A sample's true instances for a box task (``masks=False``) or a mask task, or None where the
    sample has no labels of that kind (it is then not scored, never counted as empty)."""
    height, width = image_shape
    if masks and sample.polygons is not None:
        class_map = None
        if sample.polygon_ids == "coco-panoptic":
            from bench.data.coco import PANOPTIC_TO_CONTIGUOUS as class_map
        record = read_yolo_txt(sample.polygons, height, width, num_classes=YOLO_CLASSES, class_map=class_map)
        if record["boxes"] and "masks" not in record:
            raise LabelFileError(f"{sample.polygons}: a polygon file with box lines; every line must be a polygon")
        return record
    if sample.labels is None or sample.label_format != "yolo":
        return None        # another format (Cityscapes maps) gives no instances here
    record = read_yolo_txt(sample.labels, height, width, num_classes=YOLO_CLASSES)
    if masks and "masks" not in record and record["boxes"]:
        return None        # box-only labels cannot score masks
    return record


def sample_label_formats(sample: Sample) -> set[str]:
    """Label formats one sample carries. YOLO files with polygons (a line with more than 5 columns),
    or a polygon file beside the boxes, also count as "yolo-polygons"."""
    if sample.labels is None or not sample.label_format:
        return {"yolo-polygons"} if sample.polygons is not None else set()
    formats = {sample.label_format}
    if sample.polygons is not None:
        formats.add("yolo-polygons")
    elif sample.label_format == "yolo":
        try:
            lines = Path(sample.labels).read_text().splitlines()
        except (OSError, UnicodeDecodeError):
            lines = []
        if any(len(line.split()) > 5 for line in lines):
            formats.add("yolo-polygons")
    return formats


def dataset_label_formats(dataset, peek: int = 20) -> set[str]:
    """Label formats a dataset carries, from its first ``peek`` labelled samples (the label-source
    choice: ``auto`` gives gt to a task that reads one of them)."""
    formats: set[str] = set()
    if not hasattr(dataset, "samples"):
        return formats
    seen = 0
    for s in dataset.samples():
        got = sample_label_formats(s)
        if not got:
            continue
        formats |= got
        seen += 1
        if seen >= peek:
            break
    return formats


def _polygon_mask(flat_xy: list[float], height: int, width: int) -> dict:
    from pycocotools import mask as mask_utils

    rle = mask_utils.merge(mask_utils.frPyObjects([flat_xy], height, width))
    return encode_mask(mask_utils.decode(rle))


def yolo_dataset_to_coco(images_dir: str | Path, labels_dir: str | Path,
                         names: dict[int, str] | None = None) -> dict[str, Any]:
    """A YOLO folder pair (images/*.jpg, labels/*.txt of the same stem) -> COCO detection json.

    Category id = YOLO class + 1 (COCO ids start at 1); an image without a txt has no objects.
    """
    from bench.imageio import IMAGE_SUFFIXES
    from PIL import Image

    images_dir, labels_dir = Path(images_dir), Path(labels_dir)
    if not images_dir.is_dir():
        raise LabelError(f"{images_dir}: no such image folder")
    coco: dict[str, Any] = {"images": [], "annotations": [], "categories": []}
    seen: set[int] = set()
    for image_id, img in enumerate(sorted(p for p in images_dir.iterdir()
                                          if p.suffix.lower() in IMAGE_SUFFIXES), start=1):
        with Image.open(img) as im:
            width, height = im.size
        coco["images"].append({"id": image_id, "file_name": img.name, "height": height, "width": width})
        record = read_yolo_txt(labels_dir / f"{img.stem}.txt", height, width)
        for j, (box, cls) in enumerate(zip(record["boxes"], record["classes"])):
            x, y, w, h = xyxy_to_xywh(box)
            ann = {"id": len(coco["annotations"]) + 1, "image_id": image_id, "category_id": cls + 1,
                   "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0}
            if "masks" in record:
                ann["segmentation"] = record["masks"][j]
            coco["annotations"].append(ann)
            seen.add(cls)
    known = set(names or {}) | seen
    coco["categories"] = [{"id": c + 1, "name": (names or {}).get(c, str(c))} for c in sorted(known)]
    return coco


def yolo_names(data_yaml: str | Path) -> dict[int, str]:
    """Class names from an Ultralytics dataset YAML (``names:`` as a list or a mapping)."""
    import yaml

    with open(data_yaml) as f:
        names = (yaml.safe_load(f) or {}).get("names", {})
    return dict(enumerate(names)) if isinstance(names, list) else {int(k): str(v) for k, v in names.items()}
