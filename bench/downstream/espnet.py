"""ESPNet (Cityscapes, 19 train ids + void) as a backend of the semantic segmentation task.

The whole official test pipeline (sacmehta/ESPNet test/VisualizeResults.py, modelType 1) runs here,
not the task's generic one: the harness's RGB image becomes BGR (the script reads ``cv2.imread``),
float32, minus the BGR mean and divided by the BGR std channel by channel in the script's order,
``cv2.resize`` of that normalised float image to 1024×512 (INTER_LINEAR, the default), /255, forward,
argmax over the 20 outputs at 1024×512. The class map is brought back to the image's size by
nearest neighbour with cv2.INTER_NEAREST's rule (source = floor(destination · scale)).
Output 19 is void: the task ignores it in pseudo-labels and counts it wrong in predictions.
"""
from __future__ import annotations

import numpy as np

from bench.downstream.semantic_backends import _Backend, _unavailable

BGR_MEAN = (72.3923111, 82.90893555, 73.15840149)
BGR_STD = (45.3192215, 46.15289307, 44.91483307)
NET_SIZE = (1024, 512)            # (width, height), as cv2.resize takes it
VOID = 19


def nearest_resize(labels: np.ndarray, height: int, width: int) -> np.ndarray:
    """cv2.INTER_NEAREST: destination pixel (y, x) takes source (floor(y · sy), floor(x · sx)),
    with OpenCV's scale 1 / (destination / source), clamped to the last row/column."""
    src_h, src_w = labels.shape

    def index(dst: int, src: int) -> np.ndarray:
        scale = 1.0 / (dst / src)
        return np.minimum(np.floor(np.arange(dst) * scale).astype(np.int64), src - 1)

    return labels[index(height, src_h)[:, None], index(width, src_w)[None, :]]


class EspnetBackend(_Backend):
    """``weights`` = an espnet id in configs/weights/espnet.yaml (cityscapes_p2_q8)."""

    void_index = VOID
    p, q, outputs = 2, 8, 20

    def __init__(self, task):
        super().__init__(task)
        self._sha: str | None = None
        if self.params.scale != 1.0:
            raise ValueError(f"task {task.name!r}: backend espnet runs at its fixed 1024x512 input; "
                             f"remove scale: {self.params.scale}")
        if len(task.names) != VOID:
            raise ValueError(f"task {task.name!r}: backend espnet predicts the 19 Cityscapes train ids; "
                             f"use label_set: cityscapes19")

    def describe(self) -> str:
        if self.params.untrained:
            return f"UNTRAINED ESPNet(20, p=2, q=8) (seed {self.params.seed}; mechanics only)"
        from bench.models.weights import registry

        sha = self._sha or registry().get("espnet", {}).get(self.params.weights, {}).get("sha256") or "unknown"
        return f"ESPNet {self.params.weights} sha256 {sha[:12]} (own network, official parameter names)"

    def pipeline(self) -> str:
        return ("RGB->BGR, float32, minus BGR mean / BGR std per channel (official order), cv2.resize of the "
                "normalised image to 1024x512 bilinear, /255, argmax over 20 outputs at 1024x512, map back by "
                "nearest neighbour (cv2.INTER_NEAREST: src = floor(dst * scale)); output 19 = void")

    def build(self):
        from bench.downstream.checkpoints import load_network, resolve_checkpoint
        from bench.downstream.espnet_net import ESPNet

        net = ESPNet(self.outputs, self.p, self.q)
        if self.params.untrained:
            return net
        if self.params.weights not in _registered():
            raise _unavailable(self.task, f"backend espnet: unknown weights {self.params.weights!r}; "
                                          f"registered: {', '.join(_registered()) or 'none'}")
        _, path, self._sha = resolve_checkpoint(self.task, "espnet", self.params.weights)
        return load_network(net, path)

    def input_tensor(self, rgb: np.ndarray):
        """The 1×3×512×1024 float32 tensor VisualizeResults.py builds from the BGR image."""
        import cv2
        import torch

        img = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR).astype(np.float32)
        for j in range(3):                 # in place per channel, in float32, as the script does
            img[:, :, j] -= BGR_MEAN[j]
        for j in range(3):
            img[:, :, j] /= BGR_STD[j]
        img = cv2.resize(img, NET_SIZE)
        img /= 255
        return torch.from_numpy(img.transpose((2, 0, 1)).copy())[None]

    def logits(self, model, x):
        return model(x)

    def classes(self, rgb: np.ndarray) -> np.ndarray:
        """H×W uint8 class map at the image's size: 0–18 train ids, 19 void."""
        import torch

        model = self.model()
        with torch.inference_mode():
            out = model(self.input_tensor(rgb).to(self.task.device))
        class_map = out[0].max(0)[1].to(torch.uint8).cpu().numpy()     # the script's max(0)[1]
        return nearest_resize(class_map, *rgb.shape[:2])


def _registered() -> dict:
    from bench.models.weights import registry

    return registry().get("espnet", {})
