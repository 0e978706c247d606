"""The reweighted mAP (bench/report/stats/scorers.py) against pycocotools run on physically duplicated
image sets: the bootstrap of mAP scores exactly what COCOeval scores on the resampled dataset."""
from __future__ import annotations

import numpy as np
import pytest

from bench.downstream.coco_eval import coco_map
from bench.report.stats.scorers import CocoScorer, ConfusionScorer


def _random_records(seed: int, n: int = 12, classes: int = 2):
    rng = np.random.default_rng(seed)
    preds, labels = {}, {}
    for i in range(n):
        k = rng.integers(0, 4)
        boxes = [[float(x), float(y), float(x + w), float(y + h)] for x, y, w, h in
                 zip(rng.uniform(0, 200, k), rng.uniform(0, 200, k), rng.uniform(10, 60, k), rng.uniform(10, 60, k))]
        cls = [int(c) for c in rng.integers(0, classes, k)]
        labels[f"im{i:02d}"] = {"height": 300, "width": 300, "boxes": boxes, "classes": cls}
        # predictions: jittered copies of some labels plus false positives, distinct scores
        pb, pc = [], []
        for b, c in zip(boxes, cls):
            if rng.random() < 0.7:
                j = rng.normal(0, 6, 4)
                pb.append([b[0] + j[0], b[1] + j[1], b[2] + j[2], b[3] + j[3]])
                pc.append(c if rng.random() < 0.9 else 1 - c)
        for _ in range(rng.integers(0, 3)):
            x, y = rng.uniform(0, 250, 2)
            pb.append([float(x), float(y), float(x + 30), float(y + 40)])
            pc.append(int(rng.integers(0, classes)))
        preds[f"im{i:02d}"] = {"height": 300, "width": 300, "boxes": pb, "classes": pc,
                               "scores": [float(s) for s in rng.uniform(0.05, 1.0, len(pb))]}
    return preds, labels


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_all_weights_one_is_coco_map(seed):
    preds, labels = _random_records(seed)
    ref = coco_map(preds, labels)
    got = CocoScorer(preds, labels, prefix="det").value(np.ones(len(labels)))
    assert got["det_map50_95"] == ref["map50_95"]
    assert got["det_map50"] == ref["map50"]
    assert 0 < ref["map50_95"] < 1


@pytest.mark.parametrize("seed", [3, 4, 5, 6])
def test_resample_equals_cocoeval_on_duplicated_images(seed):
    preds, labels = _random_records(seed)
    scorer = CocoScorer(preds, labels, prefix="det")
    rng = np.random.default_rng(100 + seed)
    idx = np.sort(rng.integers(0, scorer.n, scorer.n))          # a bootstrap draw, with repeats
    assert len(set(idx)) < len(idx)
    dup_p, dup_l = {}, {}
    for j, i in enumerate(idx):                                   # the resampled dataset, built for real
        src = scorer.ids[i]
        dup_p[f"r{j:03d}"], dup_l[f"r{j:03d}"] = preds[src], labels[src]
    ref = coco_map(dup_p, dup_l)
    got = scorer.value(np.bincount(idx, minlength=scorer.n))
    assert got["det_map50_95"] == pytest.approx(ref["map50_95"], abs=1e-12)
    assert got["det_map50"] == pytest.approx(ref["map50"], abs=1e-12)


def test_single_image_weight_is_that_images_map():
    preds, labels = _random_records(7)
    scorer = CocoScorer(preds, labels, prefix="det")
    for i, image_id in enumerate(scorer.ids[:5]):
        w = np.zeros(scorer.n)
        w[i] = 1
        ref = coco_map({image_id: preds[image_id]}, {image_id: labels[image_id]})["map50_95"]
        got = scorer.value(w)["det_map50_95"]
        assert (np.isnan(ref) and np.isnan(got)) or got == pytest.approx(ref, abs=1e-12)


def test_confusion_scorer_sums_weighted_matrices():
    from bench.downstream.semantic import encode_label_map

    rng = np.random.default_rng(0)
    maps = {f"i{k}": (rng.integers(0, 3, (8, 8)), rng.integers(0, 3, (8, 8))) for k in range(4)}
    preds = {k: {"png": encode_label_map(p)} for k, (p, _) in maps.items()}
    labels = {k: {"png": encode_label_map(lab)} for k, (_, lab) in maps.items()}
    scorer = ConfusionScorer(preds, labels, 3)
    w = np.array([2, 0, 1, 1])
    # the duplicated dataset, by hand: IoU per class over the stacked pixels
    p = np.concatenate([maps[f"i{k}"][0].ravel() for k in range(4) for _ in range(w[k])])
    lab = np.concatenate([maps[f"i{k}"][1].ravel() for k in range(4) for _ in range(w[k])])
    ious = [np.sum((p == c) & (lab == c)) / np.sum((p == c) | (lab == c)) for c in range(3)]
    assert scorer.value(w)["seg_miou"] == pytest.approx(np.mean(ious), abs=1e-12)
    assert scorer.value(w)["seg_pixel_acc"] == pytest.approx(np.mean(p == lab), abs=1e-12)
