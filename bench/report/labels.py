"""Display labels for reports: models (their ``ModelSpec.title``), datasets and metrics.

Presentation only, no logic about results. A model's label is the ``title`` of its registry
entry (bench/models), so a new model is labelled where it is defined.
"""
from __future__ import annotations

import functools
import math

DATASET_NAMES = {
    "rain100h": "Rain100H", "rain100l": "Rain100L", "rain1400": "Rain1400", "rain200h": "Rain200H",
    "raincityscapes": "RainCityscapes", "spa": "SPA-Data", "real-internet147": "Internet-Data",
}
METRIC_LABELS = {
    "psnr_y": "PSNR-Y", "ssim_y": "SSIM-Y", "psnr_rgb": "PSNR-RGB", "ssim_rgb": "SSIM-RGB",
    "niqe": "NIQE", "lpips": "LPIPS",
}
# Task metrics are "<task prefix>_<metric>" (bench/downstream): label both halves.
TASK_PREFIX_LABELS = {"det": "Det", "seg": "Seg", "seg_mask": "Mask", "seg_voc": "Seg-VOC", "hog": "HOG"}
TASK_METRIC_LABELS = {"map50_95": "mAP50-95", "map50": "mAP50", "miou": "mIoU", "pixel_acc": "pix. acc.",
                      "proxy_count": "boxes/img", "proxy_conf": "mean conf."}
# Rows that bound the range (input unchanged, ground truth): shown, never ranked.
REFERENCE_MODELS = ("rainy", "clean")
BASELINE_MODEL = "rainy"


@functools.lru_cache(maxsize=None)
def model_title(model: str) -> str:
    """The registered model's ``title``; the bare name for a model the registry does not know
    (a store written by another version, a plugin that is not installed here)."""
    from bench.models import MODELS

    if model not in MODELS:
        return model
    return getattr(MODELS.load(model), "title", None) or model


def model_label(model: str, variant: str | None = None) -> str:
    name = model_title(model)
    return f"{name} ({variant})" if is_present(variant) else name


def dataset_label(dataset: str) -> str:
    return DATASET_NAMES.get(dataset, dataset)


def metric_label(metric: str) -> str:
    if metric in METRIC_LABELS:
        return METRIC_LABELS[metric]
    for suffix, label in sorted(TASK_METRIC_LABELS.items(), key=lambda kv: -len(kv[0])):
        if metric.endswith("_" + suffix):
            prefix = metric[: -len(suffix) - 1]
            return f"{TASK_PREFIX_LABELS.get(prefix, prefix)} {label}"
    return metric


def is_present(value) -> bool:
    """False for None, NaN and empty strings (pandas hands all three back for 'no variant')."""
    if value is None:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return str(value) != ""
