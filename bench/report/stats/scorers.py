"""Dataset-level scores on a reweighted set of images, for bootstrapping over images.

A bootstrap resample draws n image indices with replacement; ``weights = np.bincount(idx, n)``
says how many times each image was drawn. Every scorer here gives the score of the dataset in
which image i appears ``weights[i]`` times, without re-running the model or the matching:

- ``MeanScorer``: a per-image measure; the weighted mean.
- ``CocoScorer`` (mAP): COCOeval.evaluate() runs once on the real image set (bench/downstream/
  coco_eval.py) and its per-image matches (``evalImgs``) are kept. A resample is then scored by
  pycocotools' own accumulate rule (area "all", maxDets 100, 101 recall points, interpolated
  precision, classes without labels left out) with each image's detections and labels counted
  ``weights[i]`` times: the same number COCOeval gives on a dataset holding that many copies of
  each image (up to the order of exactly tied scores within one image). All weights 1 reproduces
  ``coco_map`` exactly (tests/test_stats_scorers.py).
- ``ConfusionScorer`` (mIoU, pixel accuracy): per-image confusion matrices are kept; a resample
  sums them with the weights.
"""
from __future__ import annotations

import math

import numpy as np

from bench.downstream.coco_eval import _mean_defined, coco_evaluate


class MeanScorer:
    def __init__(self, ids: list[str], values: np.ndarray, metric: str):
        self.ids, self.x, self.metric = list(ids), np.asarray(values, dtype=float), metric
        self.n = len(self.ids)

    def values(self, weights: np.ndarray) -> dict[str, np.ndarray]:
        W = np.atleast_2d(np.asarray(weights, dtype=float))
        with np.errstate(invalid="ignore", divide="ignore"):
            return {self.metric: W @ self.x / W.sum(axis=1)}

    def value(self, weights: np.ndarray) -> dict[str, float]:
        return {k: float(v[0]) for k, v in self.values(np.asarray(weights, dtype=float)[None]).items()}


class CocoScorer:
    """mAP50-95 / mAP50 of one model's predictions, reweighted over images."""

    def __init__(self, predictions: dict[str, dict], labels: dict[str, dict], iou_type: str = "bbox",
                 prefix: str = "det"):
        labels = {k: v for k, v in labels.items() if v is not None}
        ev, _, out = coco_evaluate(predictions, labels, iou_type)
        self.ids, self.n, self.prefix = list(out["ids"]), len(out["ids"]), prefix
        self._cats: list[tuple] = []
        self._memo: dict[int, dict] = {}
        if ev is None:
            return
        p = ev._paramsEval
        self.rec_thrs = np.asarray(p.recThrs)
        n_img, n_area, max_det = len(p.imgIds), len(p.areaRng), p.maxDets[-1]
        assert p.areaRngLbl[0] == "all"
        for k in range(len(p.catIds)):
            scores, img, tp, fp = [], [], [], []
            npig = np.zeros(n_img)
            for i in range(n_img):
                e = ev.evalImgs[k * n_area * n_img + i]          # area "all" is the first range
                if e is None:
                    continue
                s = np.asarray(e["dtScores"][:max_det], dtype=float)
                dtm, dtig = e["dtMatches"][:, :max_det], e["dtIgnore"][:, :max_det]
                scores.append(s)
                img.append(np.full(len(s), i))
                tp.append(np.logical_and(dtm, np.logical_not(dtig)))
                fp.append(np.logical_and(np.logical_not(dtm), np.logical_not(dtig)))
                npig[i] = np.count_nonzero(np.asarray(e["gtIgnore"]) == 0)
            T = len(p.iouThrs)
            if scores:
                s = np.concatenate(scores)
                order = np.argsort(-s, kind="mergesort")     # pycocotools' order
                cat = (np.concatenate(img)[order], np.concatenate(tp, axis=1)[:, order].astype(float),
                       np.concatenate(fp, axis=1)[:, order].astype(float), npig)
            else:
                cat = (np.zeros(0, int), np.zeros((T, 0)), np.zeros((T, 0)), npig)
            self._cats.append(cat)
        self.T = len(p.iouThrs)

    def precision(self, weights: np.ndarray) -> np.ndarray:
        """[B, T, R, K] interpolated precision (-1 where a class has no label), as COCOeval.accumulate,
        for a batch of weight vectors ``weights`` [B, n] (or [n] -> [T, R, K])."""
        W = np.asarray(weights, dtype=float)
        single = W.ndim == 1
        W = np.atleast_2d(W)
        B, R = W.shape[0], len(self.rec_thrs)
        out = -np.ones((B, self.T, R, len(self._cats)))
        for k, (img, tp, fp, npig_img) in enumerate(self._cats):
            npig = W @ npig_img                                        # [B]
            wd = W[:, img]                                             # [B, D]; weight 0 = image not drawn
            nd = wd.shape[1]
            q = np.zeros((B, self.T, R))
            if nd:
                # a detection of weight 0 repeats the previous (tp, fp) point: it changes no value below
                tp_sum = np.cumsum(tp[None] * wd[:, None, :], axis=2)
                fp_sum = np.cumsum(fp[None] * wd[:, None, :], axis=2)
                with np.errstate(invalid="ignore", divide="ignore"):
                    rc = tp_sum / npig[:, None, None]
                pr = tp_sum / (fp_sum + tp_sum + np.spacing(1))
                pr = np.maximum.accumulate(pr[:, :, ::-1], axis=2)[:, :, ::-1]
                inds = np.empty((B, self.T, R), dtype=int)
                for b in range(B):
                    for t in range(self.T):
                        inds[b, t] = np.searchsorted(rc[b, t], self.rec_thrs, side="left")
                ok = inds < nd
                q = np.where(ok, np.take_along_axis(pr, np.minimum(inds, nd - 1), axis=2), 0.0)
            q[npig == 0] = -1
            out[:, :, :, k] = q
        return out[0] if single else out

    def values(self, weights: np.ndarray) -> dict[str, np.ndarray]:
        """[B, n] weights -> {metric: [B]}. The last few batches are remembered: a seeded bootstrap
        draws the same resamples for every interval and comparison of a column."""
        W = np.atleast_2d(np.asarray(weights, dtype=float))
        key = hash((W.shape, W.tobytes()))
        if key in self._memo:
            return self._memo[key]
        keys = (f"{self.prefix}_map50_95", f"{self.prefix}_map50")
        if not self._cats:
            return {k: np.full(W.shape[0], math.nan) for k in keys}
        pr = self.precision(W)
        out = {keys[0]: np.array([_mean_defined(p) for p in pr]), keys[1]: np.array([_mean_defined(p[:1]) for p in pr])}
        if len(self._memo) >= 16:
            self._memo.pop(next(iter(self._memo)))
        self._memo[key] = out
        return out

    def value(self, weights: np.ndarray) -> dict[str, float]:
        return {k: float(v[0]) for k, v in self.values(np.asarray(weights, dtype=float)[None]).items()}


class ConfusionScorer:
    """mIoU / pixel accuracy from per-image confusion matrices (bench/downstream/semantic.py rules)."""

    def __init__(self, predictions: dict[str, dict], labels: dict[str, dict], n_classes: int, prefix: str = "seg"):
        from bench.downstream.semantic import confusion, decode_label_map, iou_and_accuracy

        self._iou_and_accuracy = iou_and_accuracy

        self.ids = sorted(set(predictions) & {k for k, v in labels.items() if v is not None})
        self.n, self.prefix = len(self.ids), prefix
        self.cms = np.stack([confusion(decode_label_map(predictions[i]), decode_label_map(labels[i]), n_classes)
                             for i in self.ids]) if self.ids else np.zeros((0, n_classes, n_classes + 1))

    def values(self, weights: np.ndarray) -> dict[str, np.ndarray]:
        W = np.atleast_2d(np.asarray(weights, dtype=float))
        cm = np.tensordot(W, self.cms, axes=1)                              # [B, C, C+1]
        with np.errstate(invalid="ignore", divide="ignore"):
            iou, acc = self._iou_and_accuracy(cm)
        miou = np.array([np.nanmean(r) if np.isfinite(r).any() else math.nan for r in iou])
        return {f"{self.prefix}_miou": miou, f"{self.prefix}_pixel_acc": acc}

    def value(self, weights: np.ndarray) -> dict[str, float]:
        return {k: float(v[0]) for k, v in self.values(np.asarray(weights, dtype=float)[None]).items()}


def task_scorer(task, predictions: dict[str, dict], labels: dict[str, dict] | None):
    """The scorer for a built task (bench.downstream.tasks.build_task), or None when the task's
    scores cannot be reweighted (label source none: proxies)."""
    if labels is None:
        return None
    prefix = getattr(task.params, "metric_prefix", "det")
    if hasattr(task, "iou_type"):
        return CocoScorer(predictions, labels, task.iou_type, prefix)
    if hasattr(task, "names"):
        return ConfusionScorer(predictions, labels, len(task.names), prefix)
    return None
