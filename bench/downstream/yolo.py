"""Ultralytics YOLO detection and instance segmentation, scored with pycocotools (never Ultralytics' mAP).

Weights: a name registered under ``yolo`` in configs/weights/yolo.yaml (yolo11n.pt, yolo11n-seg.pt),
resolved by WeightsResolver (--weights-dir, cache, download online), or a path to any YOLO /
RT-DETR .pt or exported .onnx file. ``untrained: true`` with ``weights: yolo11n.yaml`` builds a
randomly initialised network with a fixed seed: it exercises the real Ultralytics path for
mechanics tests, its boxes mean nothing, and the protocol says UNTRAINED.
Ultralytics .pt files are pickled models (Ultralytics loads them itself, not weights_only):
use files from the registry or from a source you trust.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.downstream.base import TaskUnavailable
from bench.downstream.coco_eval import encode_mask
from bench.downstream.instances import InstanceTask, prediction_record


@dataclass(frozen=True)
class YoloParams:
    weights: str = "yolo11n.pt"
    conf: float = 0.001           # low, as for COCO mAP: every kept box is ranked by its score
    pseudo_conf: float = 0.5      # clean-image boxes at or above this become pseudo-labels
    proxy_conf: float = 0.25      # threshold of the label-source-none proxies (Ultralytics' predict default)
    iou: float = 0.7              # NMS IoU
    imgsz: int = 640
    classes: tuple[int, ...] | None = None
    max_det: int = 100            # = pycocotools maxDets; more would be ignored by COCOeval anyway
    untrained: bool = False
    seed: int = 0
    # Untrained nets only: batches of seeded noise used to set BatchNorm statistics. With PyTorch's
    # default init YOLO11n's activations shrink ~1e-9× by the neck, so its boxes ignore the image
    # (clean and rainy give identical predictions); calibrated BN keeps them image-dependent.
    calibrate_bn: int = 0
    metric_prefix: str = "det"


@dataclass(frozen=True)
class YoloSegParams(YoloParams):
    weights: str = "yolo11n-seg.pt"
    metric_prefix: str = "seg_mask"


def ultralytics_device(device: str) -> str:
    """'cuda' / 'cuda:1' / 'cpu' -> what Ultralytics' select_device expects ('0', '1', 'cpu')."""
    device = str(device)
    if device == "cuda":
        return "0"
    return device.split(":", 1)[1] if device.startswith("cuda:") else device


def calibrate_batchnorm(net, batches: int, imgsz: int) -> None:
    """Set every BatchNorm's running statistics from ``batches`` forward passes of uniform noise
    (torch's current RNG state: seed it first). No weight changes: the net stays untrained."""
    import torch

    for mod in net.modules():
        if isinstance(mod, torch.nn.modules.batchnorm._BatchNorm):
            mod.reset_running_stats()
            mod.momentum = None                  # cumulative average over the calibration batches
    net.train()
    with torch.no_grad():
        for _ in range(batches):
            net(torch.rand(2, 3, imgsz, imgsz))
    net.eval()


class YoloDetection(InstanceTask):
    Params = YoloParams
    iou_type = "bbox"
    kind = "boxes"
    yolo_tasks = ("detect", "segment")   # a seg model also yields boxes

    def __init__(self, config, ctx=None):
        super().__init__(config, ctx)
        self._model = None
        self._weights: tuple[str, Path | None, str | None] | None = None

    # --- weights ----------------------------------------------------------------------------------
    def weights(self) -> tuple[str, Path | None, str | None]:
        """(label, path or None for an untrained net, sha256 or None). Raises TaskUnavailable."""
        if self._weights is None:
            p = self.params
            if p.untrained:
                if not p.weights.endswith((".yaml", ".yml")):
                    raise TaskUnavailable(f"task {self.name!r}: untrained: true needs a model YAML as weights "
                                          f"(e.g. yolo11n.yaml), not {p.weights!r}")
                bn = f", BN calibrated on {p.calibrate_bn} noise batches" if p.calibrate_bn else ""
                self._weights = (f"UNTRAINED {p.weights} seed={p.seed}{bn}", None, None)
            elif p.weights.endswith((".yaml", ".yml")):
                raise TaskUnavailable(f"task {self.name!r}: weights {p.weights!r} is a model definition; "
                                      "set untrained: true to build a random network on purpose")
            else:
                from bench.models.weights import WeightsMissing, WeightsMismatch

                resolver = self.resolver
                try:
                    _, path = resolver.resolve(p.weights, "yolo")
                except (WeightsMissing, WeightsMismatch) as e:
                    raise TaskUnavailable(f"task {self.name!r}: {e}") from e
                self._weights = (path.name, path, resolver.sha256(path))
        return self._weights

    def _local_weights(self) -> tuple[str, Path | None, str | None]:
        """Like weights(), but never downloads and never raises: protocol() runs at report time too."""
        if self._weights is not None or self.params.untrained:
            try:
                return self.weights()
            except TaskUnavailable as e:       # a config error; predict() raises it in full
                return f"{self.params.weights} ({e})", Path(self.params.weights), None
        from bench.models.weights import WeightsResolver

        r = self.resolver
        local = WeightsResolver(r.weights_dir, r.cache_dir, offline=True)
        try:
            _, path = local.resolve(self.params.weights, "yolo")
            return path.name, path, local.sha256(path)
        except Exception:
            return self.params.weights, Path(self.params.weights), None

    def model_description(self) -> str:
        label, path, sha = self._local_weights()
        if path is None:
            return (f"Ultralytics YOLO {label} (UNTRAINED: mechanics only, boxes mean nothing), "
                    f"square letterbox {self.params.imgsz}")
        family = "RT-DETR" if "rtdetr" in label.lower() else "YOLO"
        digest = f"sha256 {sha[:12]}" if sha else "(file not present here)"
        return (f"Ultralytics {family} {label} {digest}, square letterbox {self.params.imgsz}, "
                f"NMS IoU {self.params.iou}, max_det {self.params.max_det}")

    def _load(self):
        if self._model is None:
            from bench.offline import configure

            configure(self.offline)          # before ultralytics reads its settings
            import torch
            from ultralytics import RTDETR, YOLO

            from bench.offline import disable_ultralytics_events

            disable_ultralytics_events()

            label, path, _ = self.weights()
            if path is None:
                torch.manual_seed(self.params.seed)
                model = YOLO(self.params.weights)
                if self.params.calibrate_bn:
                    calibrate_batchnorm(model.model, self.params.calibrate_bn, self.params.imgsz)
            else:
                cls = RTDETR if "rtdetr" in path.name.lower() else YOLO
                try:
                    # an exported .onnx carries no task: say which
                    model = (cls(str(path)) if path.suffix == ".pt"
                             else YOLO(str(path), task="segment" if self.iou_type == "segm" else "detect"))
                except Exception as e:  # corrupt file, missing onnxruntime, ...
                    raise TaskUnavailable(f"task {self.name!r}: cannot load {path}: {e}") from e
            if getattr(model, "task", None) not in self.yolo_tasks:
                raise TaskUnavailable(f"task {self.name!r}: {label} is a {model.task!r} model; "
                                      f"this task needs one of {self.yolo_tasks}")
            self._model = model
        return self._model

    # --- prediction -------------------------------------------------------------------------------
    def predict(self, images: list[np.ndarray]) -> list[dict[str, Any]]:
        model = self._load()
        p = self.params
        # Ultralytics reads numpy arrays as BGR (OpenCV order); our images are RGB: convert explicitly.
        bgr = [np.ascontiguousarray(im[:, :, ::-1]) for im in images]
        results = model.predict(bgr, conf=p.conf, iou=p.iou, imgsz=p.imgsz, max_det=p.max_det,
                                classes=list(p.classes) if p.classes else None,
                                device=ultralytics_device(self.device), verbose=False,
                                retina_masks=self.iou_type == "segm",
                                # square letterbox always: with rect=True an image's padding (and so its
                                # boxes) would depend on which other images share its batch
                                rect=False)
        return [self._record(r, im.shape[:2]) for r, im in zip(results, images)]

    def _record(self, result, shape) -> dict[str, Any]:
        boxes = result.boxes
        xyxy = boxes.xyxy.cpu().numpy().astype(np.float64) if len(boxes) else np.zeros((0, 4))
        classes = boxes.cls.cpu().numpy().astype(int).tolist() if len(boxes) else []
        scores = boxes.conf.cpu().numpy().astype(float).tolist() if len(boxes) else []
        keep = [i for i, b in enumerate(xyxy) if b[2] > b[0] and b[3] > b[1]]   # zero-area boxes cannot match
        return prediction_record(shape, [xyxy[i] for i in keep], [classes[i] for i in keep],
                                 [scores[i] for i in keep], lambda c: str(result.names[c]))


class YoloSegmentation(YoloDetection):
    """Instance masks at the original resolution (retina_masks), RLE-encoded, pycocotools segm.
    An instance whose mask is empty is dropped: it cannot overlap anything."""

    Params = YoloSegParams
    iou_type = "segm"
    kind = "instances"
    yolo_tasks = ("segment",)

    def _record(self, result, shape) -> dict[str, Any]:
        n = len(result.boxes)
        masks = result.masks.data.cpu().numpy() > 0.5 if (n and result.masks is not None) else np.zeros((0, *shape))
        if masks.shape[1:] != tuple(shape):
            raise RuntimeError(f"mask shape {masks.shape[1:]} != image shape {shape}; expected retina_masks")
        xyxy = result.boxes.xyxy.cpu().numpy().astype(np.float64) if n else np.zeros((0, 4))
        classes = result.boxes.cls.cpu().numpy().astype(int).tolist() if n else []
        scores = result.boxes.conf.cpu().numpy().astype(float).tolist() if n else []
        keep = [i for i in range(n) if masks[i].any()]
        return prediction_record(shape, [xyxy[i] for i in keep], [classes[i] for i in keep],
                                 [scores[i] for i in keep], lambda c: str(result.names[c]),
                                 masks=[encode_mask(masks[i]) for i in keep])
