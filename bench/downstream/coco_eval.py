"""pycocotools scoring of per-image instance records (boxes, optionally RLE masks).

Record format (predictions and labels alike; JSON-serialisable, one per image):
    {"height": H, "width": W,
     "boxes":   [[x1, y1, x2, y2], ...]          # pixels, original image frame
     "classes": [int, ...],                       # the model's class index
     "scores":  [float, ...],                     # predictions only; labels may omit
     "masks":   [{"size": [H, W], "counts": str}, ...],   # optional: COCO compressed RLE
     "names":   {"0": "person", ...}}             # class index -> name, for the classes present

COCO rules kept as they are (stated in every protocol string):
- 10 IoU thresholds 0.50:0.05:0.95, 101 recall points, area range "all", maxDets=100: only each
  image's 100 highest-scoring detections count.
- A class with no label anywhere in the scored images has no AP (pycocotools gives -1) and is left
  out of the mean; its false positives therefore cost nothing (standard COCO behaviour).
- No labels at all in the scored images: mAP is undefined and reported as NaN, never 0 or 1.
- Means are rounded to 12 decimals (see _mean_defined).
"""
from __future__ import annotations

import contextlib
import io
import math
from typing import Any

import numpy as np

MAX_DETS = 100
COCO_RULES = "pycocotools COCOeval, IoU 0.50:0.95, area all, maxDets=100"


def _quiet():
    """pycocotools prints progress to stdout; keep the runner's output readable."""
    return contextlib.redirect_stdout(io.StringIO())


def xyxy_to_xywh(box) -> list[float]:
    x1, y1, x2, y2 = (float(v) for v in box)
    return [x1, y1, x2 - x1, y2 - y1]


def _names(*records: dict[str, Any]) -> dict[int, str]:
    out: dict[int, str] = {}
    for rec in records:
        for k, v in (rec.get("names") or {}).items():
            out.setdefault(int(k), str(v))
    return out


def coco_map(predictions: dict[str, dict], labels: dict[str, dict], iou_type: str = "bbox") -> dict[str, Any]:
    """Score predictions against labels over the image ids present in both.

    Returns {"map50_95", "map50", "ap": {class_name: AP50:95}, "ap50": {...}, "classes": {class index:
    {"name", "ap50_95", "ap50", "labels" (instances)}} for every labelled class, "images", "labels",
    "detections"}; mAPs are NaN when the scored images hold no label at all.
    """
    ev, names, out = coco_evaluate(predictions, labels, iou_type)
    out.pop("ids")
    if ev is None:
        return out
    with _quiet():
        ev.accumulate()
    precision = ev.eval["precision"][:, :, :, 0, -1]          # [T, R, K] at area "all", maxDets=100
    out["map50_95"] = _mean_defined(precision)
    out["map50"] = _mean_defined(precision[:1])
    for k, cat in enumerate(ev.params.catIds):
        if (precision[:, :, k] > -1).any():
            name = names.get(cat - 1, str(cat - 1))
            out["ap"][name] = _mean_defined(precision[:, :, k])
            out["ap50"][name] = _mean_defined(precision[:1, :, k])
            out["classes"][cat - 1] = {"name": name, "ap50_95": out["ap"][name], "ap50": out["ap50"][name],
                                       "labels": len(ev.cocoGt.getAnnIds(catIds=[cat]))}
    return out


def coco_evaluate(predictions: dict[str, dict], labels: dict[str, dict], iou_type: str = "bbox"):
    """The per-image half of COCOeval: (COCOeval after ``evaluate()``, class names, counts).

    ``ev.evalImgs`` then holds every image's matches (ev.params.imgIds are 1..n in sorted image-id
    order, ``out["ids"]``); ``accumulate()`` turns them into the dataset score. The COCOeval is None
    (and the mAPs NaN) when the images hold no label at all. bench/report/stats/scorers.py reuses the
    matches to bootstrap mAP over images without re-matching.
    """
    if iou_type not in ("bbox", "segm"):
        raise ValueError(f"iou_type must be 'bbox' or 'segm', not {iou_type!r}")
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    ids = sorted(set(predictions) & set(labels))
    names = _names(*(labels[i] for i in ids), *(predictions[i] for i in ids))
    classes = sorted({int(c) for i in ids for c in labels[i].get("classes", [])}
                     | {int(c) for i in ids for c in predictions[i].get("classes", [])})
    # COCO ids start at 1: pycocotools treats a matched gt id of 0 as "unmatched".
    images, annotations, results = [], [], []
    for n, image_id in enumerate(ids, start=1):
        lab, pred = labels[image_id], predictions[image_id]
        images.append({"id": n, "height": int(lab["height"]), "width": int(lab["width"]),
                       "file_name": image_id})
        for j, (box, cls) in enumerate(zip(lab.get("boxes", []), lab.get("classes", []))):
            ann = {"id": len(annotations) + 1, "image_id": n, "category_id": int(cls) + 1,
                   "bbox": xyxy_to_xywh(box), "iscrowd": 0}
            if iou_type == "segm":
                ann["segmentation"] = _mask(lab, j, image_id)
                ann["area"] = _rle_area(ann["segmentation"])
            else:
                ann["area"] = ann["bbox"][2] * ann["bbox"][3]
            annotations.append(ann)
        scores = pred.get("scores")
        if scores is None:
            raise ValueError(f"prediction for image {image_id!r} has no 'scores'; cannot rank detections")
        for j, (box, cls, score) in enumerate(zip(pred.get("boxes", []), pred.get("classes", []), scores)):
            res = {"image_id": n, "category_id": int(cls) + 1, "score": float(score)}
            if iou_type == "segm":  # no "bbox" key: loadRes then takes area and box from the mask
                res["segmentation"] = _mask(pred, j, image_id)
            else:
                res["bbox"] = xyxy_to_xywh(box)
            results.append(res)

    out: dict[str, Any] = {"images": len(ids), "labels": len(annotations), "detections": len(results),
                           "ap": {}, "ap50": {}, "classes": {}, "ids": ids}
    if not annotations:
        out.update(map50_95=math.nan, map50=math.nan)
        return None, names, out
    categories = [{"id": c + 1, "name": names.get(c, str(c))} for c in classes]
    with _quiet():
        gt = COCO()
        gt.dataset = {"images": images, "annotations": annotations, "categories": categories}
        gt.createIndex()
        if results:
            dt = gt.loadRes(results)
        else:  # loadRes cannot take an empty list; an empty result set scores 0 on every labelled class
            dt = COCO()
            dt.dataset = {"images": images, "annotations": [], "categories": categories}
            dt.createIndex()
        ev = COCOeval(gt, dt, iou_type)
        assert ev.params.maxDets[-1] == MAX_DETS
        ev.evaluate()
    return ev, names, out


def _mean_defined(p: np.ndarray) -> float:
    # Rounded to 12 decimals: pycocotools computes precision as tp / (tp + fp + np.spacing(1)), so a
    # perfect single-detection class gives 0.9999999999999998; the rounding makes perfect exactly 1.0
    # and changes nothing else that could be printed.
    p = p[p > -1]
    return round(float(p.mean()), 12) if p.size else math.nan


def _mask(record: dict, j: int, image_id: str) -> dict:
    masks = record.get("masks")
    if masks is None or j >= len(masks):
        raise ValueError(f"image {image_id!r}: instance {j} has no mask; segm scoring needs a mask per box")
    m = masks[j]
    return {"size": [int(m["size"][0]), int(m["size"][1])], "counts": m["counts"]}


def _rle_area(rle: dict) -> float:
    from pycocotools import mask as mask_utils

    return float(mask_utils.area(rle))


def encode_mask(mask: np.ndarray) -> dict:
    """Binary H×W mask -> COCO compressed RLE with str counts (JSON-safe)."""
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def decode_mask(rle: dict) -> np.ndarray:
    from pycocotools import mask as mask_utils

    return mask_utils.decode({"size": rle["size"], "counts": rle["counts"].encode("ascii")
                              if isinstance(rle["counts"], str) else rle["counts"]}).astype(bool)
