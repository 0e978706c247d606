"""FastestDet as a detection task: the official test pipeline around our network, pycocotools scoring.

Pipeline (dog-qiuqiu/FastestDet test.py / eval.py at 50473cd): the harness's RGB image is turned
into BGR (test.py feeds ``cv2.imread``'s BGR array), ``cv2.resize`` to 352×352 with INTER_LINEAR
(no letterbox), /255, one forward pass, ``handle_preds`` decoding with score > 0.001 (eval.py)
and torchvision batched_nms at IoU 0.45 per class; boxes are fractions of the image, multiplied
by W and H (eval.py) to get pixels. No clipping and no cap on the count, as the official code;
COCOeval then counts each image's 100 best boxes (maxDets 100).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.downstream.instances import InstanceTask, prediction_record

COCO_NAMES = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
    "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard",
    "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
    "teddy bear", "hair drier", "toothbrush")
# The COCO category names in YOLO id order (0-79). FastestDet's configs/coco.names has the same order
# with six darknet spellings (motorbike, aeroplane, sofa, pottedplant, diningtable, tvmonitor).


@dataclass(frozen=True)
class FastestDetParams:
    weights: str = "coco_352"      # a fastestdet id in configs/weights/fastestdet.yaml
    input_size: int = 352          # the network's square input; the checkpoint was trained at 352
    conf: float = 0.001            # eval.py's score threshold (score > conf)
    nms_iou: float = 0.45          # handle_preds' batched_nms IoU
    pseudo_conf: float = 0.65      # test.py's drawing threshold: clean-image boxes kept as pseudo-labels
    proxy_conf: float = 0.65
    classes: tuple[int, ...] | None = None
    metric_prefix: str = "fdet"


class FastestDetDetection(InstanceTask):
    Params = FastestDetParams
    iou_type = "bbox"
    kind = "boxes"

    def __init__(self, config, ctx=None):
        super().__init__(config, ctx)
        self._net = None
        self._sha: str | None = None

    def model_description(self) -> str:
        p = self.params
        sha = self._sha or self._card().get("sha256") or "unknown"
        return (f"FastestDet {p.weights} sha256 {sha[:12]} (own network, official parameter names), RGB->BGR, "
                f"cv2.resize {p.input_size}x{p.input_size} INTER_LINEAR, /255, official handle_preds decoding "
                f"(obj^0.6*cls^0.4), score > {p.conf}, per-class NMS IoU {p.nms_iou}, boxes x W/H")

    def _card(self) -> dict[str, Any]:
        from bench.models.weights import registry

        return registry().get("fastestdet", {}).get(self.params.weights, {})

    def _load(self):
        if self._net is None:
            from bench.downstream.checkpoints import load_network, resolve_checkpoint
            from bench.downstream.fastestdet_net import Detector

            _, path, self._sha = resolve_checkpoint(self, "fastestdet", self.params.weights)
            self._net = load_network(Detector(len(COCO_NAMES)), path).to(self.device)
        return self._net

    def raw_output(self, rgb: np.ndarray):
        """The network's 1×85×22×22 output for one RGB uint8 image (official preprocessing)."""
        import cv2
        import torch

        size = self.params.input_size
        bgr = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR)   # the network was trained on BGR
        x = cv2.resize(bgr, (size, size), interpolation=cv2.INTER_LINEAR)
        x = torch.from_numpy(x.transpose(2, 0, 1)[None].copy()).to(self.device).float() / 255.0
        with torch.inference_mode():
            return self._load()(x)

    def decoded(self, rgb: np.ndarray):
        """K×6 float32 [x1, y1, x2, y2 (fractions), score, class], as handle_preds returns it."""
        from bench.downstream.fastestdet_net import decode

        return decode(self.raw_output(rgb)[0], self.params.conf, self.params.nms_iou)

    def predict(self, images: list[np.ndarray]) -> list[dict[str, Any]]:
        return [self._record(self.decoded(rgb).numpy(), rgb.shape[:2]) for rgb in images]

    def _record(self, boxes: np.ndarray, shape) -> dict[str, Any]:
        h, w = int(shape[0]), int(shape[1])
        scale = np.array([w, h, w, h], dtype=np.float64)
        classes = [int(c) for c in boxes[:, 5]]
        keep = [i for i, c in enumerate(classes) if self._class_ok(c)]
        return prediction_record((h, w), [boxes[i, :4].astype(np.float64) * scale for i in keep],
                                 [classes[i] for i in keep], [boxes[i, 4] for i in keep], COCO_NAMES.__getitem__)
