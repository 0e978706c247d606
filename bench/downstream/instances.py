"""Shared logic of the instance tasks (YOLO boxes, YOLO masks, HOG people): label sources and scoring.

Label sources (the string is recorded with every score through ``protocol``):
- ``gt``: the sample's label file (YOLO txt) converted to instance records, class filter applied;
- ``pseudo``: the same model's predictions on the clean image, kept where score >= pseudo_conf;
- ``none``: no mAP; the no-reference proxies <prefix>_proxy_count (detections per image with
  score >= proxy_conf) and <prefix>_proxy_conf (their mean score) — proxies, not accuracy.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import Any

from bench.data.base import Sample
from bench.downstream.base import DownstreamTask, TaskConfig, task_metric
from bench.downstream.coco_eval import COCO_RULES, coco_map
from bench.downstream.labels import instance_gt
from bench.downstream.params import parse_params

LABEL_SOURCES = ("gt", "pseudo", "none")


def slug(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(name).lower()).strip("_") or "class"


def prediction_record(shape, boxes: Iterable, classes: Iterable[int], scores: Iterable[float],
                      class_name: Callable[[int], str], **per_box: list) -> dict[str, Any]:
    """What an instance task stores for one image: pixel boxes [x1, y1, x2, y2] rounded to 0.001 px,
    classes, scores, further per-box lists (``masks``), and the names of the classes present."""
    record = {"height": int(shape[0]), "width": int(shape[1]),
              "boxes": [[round(float(v), 3) for v in box] for box in boxes],
              "classes": [int(c) for c in classes], "scores": [float(s) for s in scores], **per_box}
    record["names"] = {str(c): class_name(c) for c in sorted(set(record["classes"]))}
    return record


class InstanceTask(DownstreamTask):
    """Subclasses set ``Params`` (a dataclass with conf, pseudo_conf, proxy_conf, classes,
    metric_prefix), ``iou_type`` and implement ``predict`` and ``model_description``."""

    Params: type
    iou_type = "bbox"
    kind = "detections"

    def __init__(self, config: TaskConfig, ctx=None):
        super().__init__(config, ctx)
        self.params = parse_params(self.Params, config.params, f"task {config.name!r}")
        p = self.params.metric_prefix
        self.metrics = (
            task_metric(f"{p}_map50_95", True, (0.0, 1.0), f"COCO mAP@[.50:.95] ({self.iou_type})"),
            task_metric(f"{p}_map50", True, (0.0, 1.0), f"COCO AP@.50 ({self.iou_type})"),
            task_metric(f"{p}_proxy_count", True, (0.0, math.inf),
                       f"PROXY (label source none): {self.kind} per image with score >= "
                       f"{self.params.proxy_conf}; more is not necessarily better"),
            task_metric(f"{p}_proxy_conf", True, (0.0, math.inf),
                       f"PROXY (label source none): mean score of those {self.kind}"),
        )

    # --- what a subclass provides -------------------------------------------------------------
    def model_description(self) -> str:
        raise NotImplementedError

    # --- protocol ------------------------------------------------------------------------------
    def selection_text(self) -> str:
        """Which predictions are kept, with the comparison the code uses: Ultralytics' NMS and
        FastestDet's handle_preds both keep score > conf. HOG overrides it."""
        p = self.params
        classes = "all classes" if not p.classes else f"classes {list(p.classes)} (labels of the others dropped)"
        return f"predictions at score > {p.conf}, {classes}"

    def gt_text(self) -> str:
        """Where gt labels come from (bench/downstream/labels.py instance_gt)."""
        if self.iou_type == "segm":
            return "the dataset's YOLO polygons as filled masks"
        return "the dataset's YOLO-format labels as boxes (a polygon line counts as its extent)"

    def protocol(self, label_source: str) -> str:
        p = self.params
        head = f"{self.name}: {self.model_description()}; {self.selection_text()}"
        if label_source == "none":
            return (f"{head}; label source none: NO mAP; PROXIES {p.metric_prefix}_proxy_count "
                    f"({self.kind}/image with score >= {p.proxy_conf}) and {p.metric_prefix}_proxy_conf "
                    "(their mean score)")
        if label_source == "pseudo":
            labels = (f"label source pseudo: the same model on the clean image, kept at score >= "
                      f"{p.pseudo_conf}")
        elif label_source == "gt":
            labels = f"label source gt: {self.gt_text()}"
        else:
            raise ValueError(f"unknown label source {label_source!r}; use one of {LABEL_SOURCES}")
        return f"{head}; {labels}; {COCO_RULES} ({self.iou_type}); per-class AP (ap50_95, ap50) in per_class.csv"

    # --- labels -----------------------------------------------------------------------------------
    def label_formats(self) -> tuple[str, ...]:
        return ("yolo-polygons",) if self.iou_type == "segm" else ("yolo", "yolo-polygons")

    def _class_ok(self, cls: int) -> bool:
        return not self.params.classes or int(cls) in self.params.classes

    def _filter(self, record: dict[str, Any], keep) -> dict[str, Any]:
        out = {k: v for k, v in record.items() if k not in ("boxes", "classes", "scores", "masks")}
        idx = [i for i in range(len(record.get("boxes", []))) if keep(i)]
        for key in ("boxes", "classes", "scores", "masks"):
            if key in record:
                out[key] = [record[key][i] for i in idx]
        return out

    def pseudo_labels(self, clean_prediction: dict[str, Any]) -> dict[str, Any]:
        scores = clean_prediction["scores"]
        labels = self._filter(clean_prediction, lambda i: scores[i] >= self.params.pseudo_conf
                              and self._class_ok(clean_prediction["classes"][i]))
        labels.pop("scores", None)
        return labels

    def gt_labels(self, sample: Sample, image_shape: tuple[int, int]) -> dict[str, Any] | None:
        record = instance_gt(sample, image_shape, masks=self.iou_type == "segm")
        if record is None:
            return None
        return self._filter(record, lambda i: self._class_ok(record["classes"][i]))

    # --- scores -----------------------------------------------------------------------------------
    def score(self, predictions: dict[str, dict], labels: dict[str, dict] | None) -> dict[str, float]:
        return self.score_per_class(predictions, labels)[0]

    def score_per_class(self, predictions: dict[str, dict],
                        labels: dict[str, dict] | None) -> tuple[dict[str, float], list[dict[str, Any]]]:
        """(``score``'s dict, one row per labelled class and value: class_id, class_name, metric
        (ap50_95 | ap50), value, n_labels = the class's label instances in the scored images)."""
        p = self.params.metric_prefix
        if labels is None:
            return self.proxies(predictions), []
        # gt_labels gives None for a sample without labels in this task's format: not scored
        labels = {k: v for k, v in labels.items() if v is not None}
        result = coco_map(predictions, labels, self.iou_type)
        out = {f"{p}_map50_95": result["map50_95"], f"{p}_map50": result["map50"]}
        for name, ap in sorted(result["ap"].items()):
            out[f"{p}_ap_{slug(name)}"] = ap
        rows = [{"class_id": c, "class_name": v["name"], "metric": metric, "value": v[metric], "n_labels": v["labels"]}
                for c, v in sorted(result["classes"].items()) for metric in ("ap50_95", "ap50")]
        return out, rows

    def proxies(self, predictions: dict[str, dict]) -> dict[str, float]:
        p, threshold = self.params.metric_prefix, self.params.proxy_conf
        kept = [[s for s in rec.get("scores", []) if s >= threshold] for rec in predictions.values()]
        n_images, flat = len(kept), [s for k in kept for s in k]
        return {f"{p}_proxy_count": (len(flat) / n_images) if n_images else math.nan,
                f"{p}_proxy_conf": (sum(flat) / len(flat)) if flat else math.nan}
