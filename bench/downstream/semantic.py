"""Semantic segmentation: per-pixel classes, scored by a confusion matrix over the dataset.

Backends (data below, one small class each):
- ``segformer`` (transformers): SegFormer checkpoints from the Hugging Face hub, e.g.
  nvidia/segformer-b0-finetuned-cityscapes-1024-1024 (Cityscapes 19 train ids);
- ``torchvision``: torchvision's segmentation builders, e.g. lraspp_mobilenet_v3_large with
  COCO_WITH_VOC_LABELS_V1 (the general-scene set: 20 Pascal VOC classes + background).
- ``espnet``: ESPNet Cityscapes (bench/downstream/espnet.py), our network with the official test
  pipeline; its void output (19) is ignored in pseudo-labels and wrong in predictions.
mmsegmentation is not offered: it imports compiled mmcv ops, no mmcv wheel exists for current
torch, and a source build takes ~30 min on 2 cores (REFERENCE.md) — too costly to test in CI.

Scores (Cityscapes / mmseg convention): per-class IoU = TP / (TP + FP + FN) summed over all images;
a class with TP + FP + FN = 0 is NaN and left out of the mean; label 255 is ignored;
a predicted id outside the label set (ESPNet's void) is a false negative of the labelled class;
pixel accuracy = correct / labelled pixels. Records store the class map as a base64 PNG.
"""
from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.data.base import Sample
from bench.downstream.base import DownstreamTask, task_metric
from bench.downstream.instances import LABEL_SOURCES, slug
from bench.downstream.labels import CITYSCAPES_TRAIN_NAMES, read_cityscapes_train_ids
from bench.downstream.params import parse_params
from bench.downstream.espnet import EspnetBackend
from bench.downstream.semantic_backends import BACKENDS as _BUILT_IN

VOC_NAMES = ("background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair",
             "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa",
             "train", "tvmonitor")
LABEL_SETS = {"cityscapes19": CITYSCAPES_TRAIN_NAMES, "voc21": VOC_NAMES}
BACKENDS = {**_BUILT_IN, "espnet": EspnetBackend}    # espnet: our network, in its own module
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class SemanticParams:
    backend: str = "segformer"                  # segformer | torchvision | espnet
    weights: str = "nvidia/segformer-b0-finetuned-cityscapes-1024-1024"   # hub id / folder / torchvision enum
    arch: str = "lraspp_mobilenet_v3_large"      # torchvision builder (backend torchvision only)
    label_set: str = "cityscapes19"              # cityscapes19 | voc21
    scale: float = 1.0                           # resize factor before inference; logits go back to full size
    untrained: bool = False                      # random network from the architecture's config (mechanics only)
    seed: int = 0
    metric_prefix: str = "seg"


def encode_label_map(labels: np.ndarray) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(labels.astype(np.uint8), mode="L").save(buf, format="PNG", optimize=True)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def decode_label_map(record: dict[str, Any]) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(base64.b64decode(record["png"]))) as im:
        return np.asarray(im).astype(np.uint8)


def confusion(pred: np.ndarray, label: np.ndarray, n: int) -> np.ndarray:
    """n×(n+1) matrix, rows = label class, columns = predicted class, the last column = a predicted
    id outside the set (ESPNet's void): a false negative of the row's class, nobody's false positive.
    Label 255 (or >= n) is ignored."""
    if pred.shape != label.shape:
        raise ValueError(f"prediction {pred.shape} and label {label.shape} differ in size")
    valid = label < n
    p = np.minimum(pred[valid].astype(np.int64), n)
    return np.bincount(label[valid].astype(np.int64) * (n + 1) + p, minlength=n * (n + 1)).reshape(n, n + 1)


def iou_and_accuracy(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(IoU per class [..., n], pixel accuracy [...]) from confusion matrices [..., n, n+1]:
    IoU = TP / (TP + FP + FN), NaN where the class is in neither labels nor predictions."""
    n = cm.shape[-2]
    tp = np.diagonal(cm[..., :n], axis1=-2, axis2=-1).astype(np.float64)
    union = cm[..., :n].sum(-2) + cm.sum(-1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, tp / union, np.nan), tp.sum(-1) / cm.sum((-2, -1))


class SemanticSegmentation(DownstreamTask):
    def __init__(self, config, ctx=None):
        super().__init__(config, ctx)
        self.params = p = parse_params(SemanticParams, config.params, f"task {config.name!r}")
        if p.label_set not in LABEL_SETS:
            raise ValueError(f"task {config.name!r}: label_set {p.label_set!r} not one of {', '.join(LABEL_SETS)}")
        if p.backend not in BACKENDS:
            raise ValueError(f"task {config.name!r}: backend {p.backend!r} not one of {', '.join(BACKENDS)}")
        self.names = LABEL_SETS[p.label_set]
        self.backend = BACKENDS[p.backend](self)
        self.metrics = (task_metric(f"{p.metric_prefix}_miou", True, (0.0, 1.0), f"mean IoU over {p.label_set}"),
                        task_metric(f"{p.metric_prefix}_pixel_acc", True, (0.0, 1.0), "labelled pixels right"))

    def protocol(self, label_source: str) -> str:
        p = self.params
        pipeline = (self.backend.pipeline() if hasattr(self.backend, "pipeline") else
                    f"input scale {p.scale}, ImageNet normalisation, logits resized bilinearly to full size, argmax")
        head = f"{self.name}: {self.backend.describe()}, label set {p.label_set} ({len(self.names)} classes), {pipeline}"
        if label_source == "none":
            return f"{head}; label source none: no labels, no score"
        if label_source not in LABEL_SOURCES:
            raise ValueError(f"unknown label source {label_source!r}; use one of {LABEL_SOURCES}")
        void = getattr(self.backend, "void_index", None)
        every = f"every pixel but void ({void}) ones" if void is not None else "every pixel"
        labels = (f"label source pseudo: the same model's class map on the clean image, {every}"
                  if label_source == "pseudo" else "label source gt: Cityscapes gtFine labelIds -> 19 trainIds "
                  "(a labelTrainIds file as is), other labelIds ignored (255)")
        return (f"{head}; {labels}; dataset-level confusion matrix, IoU = TP/(TP+FP+FN), classes with empty "
                f"union left out of the mean, label 255 ignored, a predicted id outside the set counts as a false "
                f"negative of the labelled class; pixel accuracy = right / labelled pixels; per-class IoU in "
                "per_class.csv")

    def ensure_ready(self) -> None:
        self.backend.model()

    def predict(self, images: list[np.ndarray]) -> list[dict[str, Any]]:
        import torch
        import torch.nn.functional as F

        model = self.backend.model()
        records = []
        if hasattr(self.backend, "classes"):     # a backend with its own official pipeline (espnet)
            return [{"height": int(rgb.shape[0]), "width": int(rgb.shape[1]), "label_set": self.params.label_set,
                     "png": encode_label_map(self.backend.classes(rgb))} for rgb in images]
        for rgb in images:     # one at a time: sizes differ across datasets, memory stays small
            x = torch.from_numpy(np.array(rgb, dtype=np.uint8, copy=True)).permute(2, 0, 1)[None].float().div(255)
            h, w = rgb.shape[:2]
            if self.params.scale != 1.0:
                x = F.interpolate(x, scale_factor=self.params.scale, mode="bilinear", align_corners=False)
            mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
            std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
            x = ((x - mean) / std).to(self.device)
            with torch.inference_mode():
                logits = self.backend.logits(model, x)
                logits = F.interpolate(logits.float(), size=(h, w), mode="bilinear", align_corners=False)
                classes = logits.argmax(1)[0].cpu().numpy().astype(np.uint8)
            records.append({"height": h, "width": w, "label_set": self.params.label_set,
                            "png": encode_label_map(classes)})
        return records

    def label_formats(self) -> tuple[str, ...]:
        return ("cityscapes",) if self.params.label_set == "cityscapes19" else ()

    def pseudo_labels(self, clean_prediction: dict[str, Any]) -> dict[str, Any]:
        void = getattr(self.backend, "void_index", None)
        if void is None:
            return dict(clean_prediction)
        classes = decode_label_map(clean_prediction)
        return {**clean_prediction, "png": encode_label_map(np.where(classes == void, 255, classes))}

    def gt_labels(self, sample: Sample, image_shape: tuple[int, int]) -> dict[str, Any] | None:
        if sample.labels is None or sample.label_format != "cityscapes" or self.params.label_set != "cityscapes19":
            return None
        train_ids = read_cityscapes_train_ids(sample.labels)
        if train_ids.shape != tuple(image_shape):
            raise ValueError(f"{sample.labels}: label map {train_ids.shape} does not match image {image_shape}")
        return {"height": image_shape[0], "width": image_shape[1], "label_set": "cityscapes19",
                "png": encode_label_map(train_ids)}

    def score(self, predictions: dict[str, dict], labels: dict[str, dict] | None) -> dict[str, float]:
        return self.score_per_class(predictions, labels)[0]

    def score_per_class(self, predictions: dict[str, dict],
                        labels: dict[str, dict] | None) -> tuple[dict[str, float], list[dict[str, Any]]]:
        """(``score``'s dict, one row per class in the mean: class_id (train id), class_name, metric
        iou, value, n_labels = the class's labelled pixels in the scored images)."""
        if labels is None:
            return {}, []   # no label-free proxy is meaningful for a class map
        n, p = len(self.names), self.params.metric_prefix
        cm = np.zeros((n, n + 1), dtype=np.int64)
        for image_id in sorted(set(predictions) & {k for k, v in labels.items() if v is not None}):
            cm += confusion(decode_label_map(predictions[image_id]), decode_label_map(labels[image_id]), n)
        iou, acc = iou_and_accuracy(cm)
        out = {f"{p}_miou": float(np.nanmean(iou)) if np.isfinite(iou).any() else math.nan,
               f"{p}_pixel_acc": float(acc) if cm.sum() else math.nan}
        rows, label_pixels = [], cm.sum(1)
        for k, (name, value) in enumerate(zip(self.names, iou)):
            if np.isfinite(value):
                out[f"{p}_iou_{slug(name)}"] = float(value)
                rows.append({"class_id": k, "class_name": name, "metric": "iou", "value": float(value),
                             "n_labels": int(label_pixels[k])})
        return out, rows

