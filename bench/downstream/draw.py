"""Pictures for the reports: a task's prediction record drawn on an RGB image (returns RGB uint8).

Colours are given as RGB triples and drawn on an RGB array, so OpenCV's drawing calls (which do
not care about channel order) never see BGR data.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from bench.downstream.coco_eval import decode_mask

# 20 distinct RGB colours (tab20-like), indexed by class id.
PALETTE = np.array([
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
    (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207), (174, 199, 232), (255, 187, 120),
    (152, 223, 138), (255, 152, 150), (197, 176, 213), (196, 156, 148), (247, 182, 210), (199, 199, 199),
    (219, 219, 141), (158, 218, 229)], dtype=np.uint8)


def color(class_id: int) -> tuple[int, int, int]:
    return tuple(int(v) for v in PALETTE[int(class_id) % len(PALETTE)])


def draw_prediction(image: np.ndarray, record: dict[str, Any], min_score: float = 0.25,
                    alpha: float = 0.45, label: bool = True) -> np.ndarray:
    """Boxes (+ instance masks) or a semantic class map from ``record`` on a copy of ``image``."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an H×W×3 uint8 RGB image, got {image.shape} {image.dtype}")
    if (record.get("height"), record.get("width")) != image.shape[:2]:
        raise ValueError(f"record is for a {record.get('height')}×{record.get('width')} image, "
                         f"not {image.shape[0]}×{image.shape[1]}")
    if "png" in record:
        return draw_class_map(image, record, alpha)
    return draw_instances(image, record, min_score, alpha, label)


def draw_class_map(image: np.ndarray, record: dict[str, Any], alpha: float = 0.45) -> np.ndarray:
    from bench.downstream.semantic import decode_label_map

    classes = decode_label_map(record)
    overlay = PALETTE[classes % len(PALETTE)]
    out = image.astype(np.float32) * (1 - alpha) + overlay.astype(np.float32) * alpha
    out[classes == 255] = image[classes == 255]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def draw_instances(image: np.ndarray, record: dict[str, Any], min_score: float = 0.25, alpha: float = 0.45,
                   label: bool = True) -> np.ndarray:
    import cv2

    out = np.ascontiguousarray(image.copy())
    names = record.get("names", {})
    scores = record.get("scores") or [1.0] * len(record.get("boxes", []))
    shown = [i for i, s in enumerate(scores) if s >= min_score]
    masks = record.get("masks")
    if masks:
        blend = out.astype(np.float32)
        for i in shown:
            m = decode_mask(masks[i])
            blend[m] = blend[m] * (1 - alpha) + np.array(color(record["classes"][i]), np.float32) * alpha
        out = np.clip(np.rint(blend), 0, 255).astype(np.uint8)
    thickness = max(1, round(max(image.shape[:2]) / 400))
    for i in shown:
        x1, y1, x2, y2 = (int(round(v)) for v in record["boxes"][i])
        c = color(record["classes"][i])
        cv2.rectangle(out, (x1, y1), (x2, y2), c, thickness)
        if label:
            text = f"{names.get(str(record['classes'][i]), record['classes'][i])}"
            if record.get("scores"):
                text += f" {scores[i]:.2f}"
            cv2.putText(out, text, (x1, max(y1 - 3, 10)), cv2.FONT_HERSHEY_SIMPLEX, 0.35 * thickness, c,
                        thickness, cv2.LINE_AA)
    return out
