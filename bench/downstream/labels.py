"""Label conversions: YOLO txt -> instance records / COCO json; Cityscapes labelIds -> trainIds.

Instance records are the format of bench.downstream.coco_eval (boxes in pixels, x1y1x2y2).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bench.downstream.coco_eval import encode_mask, xyxy_to_xywh

# Cityscapes (cityscapesScripts labels.py): labelId -> trainId for the 19 evaluated classes;
# every other id (void, license plate = -1, rarely-seen classes) maps to 255 = ignore.
CITYSCAPES_LABEL_TO_TRAIN = {7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9, 23: 10,
                             24: 11, 25: 12, 26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18}
CITYSCAPES_TRAIN_NAMES = ("road", "sidewalk", "building", "wall", "fence", "pole", "traffic light",
                          "traffic sign", "vegetation", "terrain", "sky", "person", "rider", "car",
                          "truck", "bus", "train", "motorcycle", "bicycle")
IGNORE = 255


class LabelError(ValueError):
    """A label file that cannot be read as what it claims to be; names the file and the line."""


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


def read_yolo_txt(path: str | Path, height: int, width: int,
                  names: dict[int, str] | None = None) -> dict[str, Any]:
    """YOLO label file -> instance record. Lines: ``cls cx cy w h`` (normalised) for boxes, or
    ``cls x1 y1 x2 y2 ...`` (normalised polygon, YOLO-seg) whose box is the polygon's extent and
    whose mask is the filled polygon (pycocotools frPyObjects)."""
    path = Path(path)
    boxes, classes, masks, polygons = [], [], [], 0
    text = path.read_text() if path.is_file() else ""
    for n, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        try:
            cls, values = int(parts[0]), [float(v) for v in parts[1:]]
        except ValueError as e:
            raise LabelError(f"{path}:{n}: not a YOLO label line ({e}): {line!r}") from e
        if len(values) == 4:
            cx, cy, w, h = values
            box = [(cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height]
            masks.append(None)
        elif len(values) >= 6 and len(values) % 2 == 0:
            xs, ys = np.array(values[0::2]) * width, np.array(values[1::2]) * height
            box = [float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())]
            masks.append(_polygon_mask([float(v) for xy in zip(xs, ys) for v in xy], height, width))
            polygons += 1
        else:
            raise LabelError(f"{path}:{n}: expected 'cls cx cy w h' or 'cls x1 y1 x2 y2 x3 y3 ...' "
                             f"(normalised), got {len(values)} numbers")
        if min(values) < -0.01 or max(values) > 1.01:
            raise LabelError(f"{path}:{n}: coordinates must be normalised to 0..1, got {line!r}")
        boxes.append(box)
        classes.append(cls)
    record: dict[str, Any] = {"height": height, "width": width, "boxes": boxes, "classes": classes}
    if names:
        record["names"] = {str(c): names.get(c, str(c)) for c in sorted(set(classes))}
    if polygons == len(boxes) and boxes:
        record["masks"] = masks
    return record


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
