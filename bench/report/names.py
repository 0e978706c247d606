"""Display names and number formats for reports: presentation data only, no logic about results."""
from __future__ import annotations

import math

MODEL_NAMES = {
    "rainy": "Rainy input", "clean": "Ground truth", "prenet": "PReNet", "sapnet": "SAPNet",
    "nlcl": "NLCL", "drdnet": "DRD-Net", "semi-drdnet": "Semi-DRDNet", "rdmc": "RDMC",
}
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

# Cost columns the leaderboard carries when known: (label, scale applied before printing, decimals, note)
COST_COLUMNS = {
    "params": ("Params (M)", 1e-6, 3, "Params: trainable parameters, millions"),
    "gflops": ("GFLOPs", 1.0, 2, "GFLOPs: multiply-adds ×2 per image, as stored in the models table"),
    "ms_per_image": ("ms/image", 1.0, 1, "ms/image: mean forward time per image, as stored in the models table"),
}


def model_label(model: str, variant: str | None = None) -> str:
    name = MODEL_NAMES.get(model, model)
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


def decimals_for(value_range: tuple[float, float] | None) -> int:
    """Scores in [0, 1] (SSIM, mAP) print with 4 decimals, everything else (dB, NIQE) with 2."""
    if value_range is not None and value_range[1] is not None and float(value_range[1]) <= 1.0:
        return 4
    return 2


def fmt(value, decimals: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{float(value):.{decimals}f}"
