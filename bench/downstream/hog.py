"""OpenCV's pretrained HOG+linear-SVM people detector (Dalal-Triggs, in every opencv 4.x wheel).

No download: the one real pretrained detector available offline, so the science sanity check
(clean 1.0 > rainy under pseudo-labels) runs on real pixels in CI. Scores are SVM margins, not
probabilities; COCOeval only uses their order. OpenCV 5.x plain wheels dropped HOGDescriptor:
the task is then unavailable, with the fix in the message.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.downstream.base import TaskUnavailable
from bench.downstream.instances import InstanceTask, prediction_record


@dataclass(frozen=True)
class HogParams:
    upscale: float = 2.0          # RainCityscapes people are ~30-60 px tall; the detector window is 64×128
    win_stride: int = 8
    padding: int = 8
    scale: float = 1.05           # image pyramid step
    group_threshold: int = 2      # OpenCV's default grouping of overlapping windows
    conf: float = 0.0             # SVM margin: keep every window OpenCV returns (hit threshold 0)
    pseudo_conf: float = 0.5      # clean-image detections with margin >= 0.5 become pseudo-labels
    proxy_conf: float = 0.5
    classes: tuple[int, ...] | None = None   # single class 0 = person; kept for the common interface
    metric_prefix: str = "hog"


class HogPeople(InstanceTask):
    Params = HogParams
    iou_type = "bbox"
    kind = "people"

    def __init__(self, config, ctx=None):
        super().__init__(config, ctx)
        self._hog = None

    def model_description(self) -> str:
        import cv2

        p = self.params
        return (f"OpenCV {cv2.__version__} HOGDescriptor default people SVM (64×128), RGB->BGR, "
                f"upscale {p.upscale}× (bilinear), winStride {p.win_stride}, padding {p.padding}, "
                f"scale {p.scale}, groupThreshold {p.group_threshold}, score = SVM margin")

    def _load(self):
        if self._hog is None:
            import cv2

            if not hasattr(cv2, "HOGDescriptor"):
                raise TaskUnavailable(f"task {self.name!r}: OpenCV {cv2.__version__} has no HOGDescriptor "
                                      "(dropped from plain 5.x wheels); install opencv-python<5")
            hog = cv2.HOGDescriptor()
            hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
            self._hog = hog
        return self._hog

    def selection_text(self) -> str:
        # OpenCV keeps windows with margin >= hitThreshold (hog.cpp); we then keep margin >= conf
        return (f"windows at SVM margin >= 0 (OpenCV hitThreshold 0), kept at margin >= {self.params.conf}; "
                "person only (class 0; true labels of other classes dropped)")

    def _class_ok(self, cls: int) -> bool:
        return int(cls) == 0    # a people detector: true labels of the other 79 COCO classes are not its task

    def predict(self, images: list[np.ndarray]) -> list[dict[str, Any]]:
        return [self._detect(im) for im in images]

    def _detect(self, rgb: np.ndarray) -> dict[str, Any]:
        import cv2

        hog, p = self._load(), self.params
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)        # OpenCV's detector was trained on BGR frames
        if p.upscale != 1.0:
            bgr = cv2.resize(bgr, None, fx=p.upscale, fy=p.upscale, interpolation=cv2.INTER_LINEAR)
        rects, weights = hog.detectMultiScale(bgr, hitThreshold=0.0, winStride=(p.win_stride,) * 2,
                                              padding=(p.padding,) * 2, scale=p.scale,
                                              groupThreshold=p.group_threshold)
        weights = np.ravel(weights).astype(float)
        boxes, scores = [], []
        for (x, y, w, h), s in zip(np.reshape(rects, (-1, 4)), weights):
            if s < p.conf:
                continue
            boxes.append([x / p.upscale, y / p.upscale, (x + w) / p.upscale, (y + h) / p.upscale])
            scores.append(s)
        return prediction_record(rgb.shape, boxes, [0] * len(boxes), scores, lambda c: "person")
