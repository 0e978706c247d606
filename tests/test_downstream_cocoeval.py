"""pycocotools on hand-built cases whose mAP was computed by hand (comments show the arithmetic).

COCO facts used below: AP at one IoU threshold = mean over the 101 recall points r = 0, .01, ..., 1
of the interpolated precision p(r) = max precision at recall >= r (0 where recall r is never
reached); mAP50_95 = mean over the 10 IoU thresholds .50, .55, ..., .95; box IoU uses w, h with
no +1; a detection is a TP at threshold t when IoU >= t.
"""
import json
import math

import numpy as np
import pytest

from bench.downstream.base import TaskConfig
from bench.downstream.coco_eval import coco_map, decode_mask, encode_mask
from bench.downstream.hog import HogPeople

A = [0, 0, 10, 10]        # x1 y1 x2 y2
B = [50, 50, 70, 70]
C = [80, 0, 95, 15]       # overlaps neither A nor B


def rec(boxes, classes=None, scores=None, masks=None, h=100, w=100):
    r = {"height": h, "width": w, "boxes": boxes, "classes": classes or [0] * len(boxes),
         "names": {"0": "a", "1": "b", "2": "c"}}
    if scores is not None:
        r["scores"] = scores
    if masks is not None:
        r["masks"] = masks
    return json.loads(json.dumps(r))       # what the store gives back


def score(pred, label, iou_type="bbox"):
    return coco_map({"img": pred}, {"img": label}, iou_type)


def test_perfect_boxes_score_one():
    r = score(rec([A, B], scores=[0.9, 0.8]), rec([A, B]))
    assert r["map50_95"] == 1.0 and r["map50"] == 1.0 and r["ap"] == {"a": 1.0}


def test_one_missed_box():
    # 2 labels, 1 correct detection: recall reaches 0.5 at precision 1, never more.
    # p(r) = 1 for the 51 recall points 0.00..0.50, 0 for the other 50 -> AP = 51/101 at every IoU.
    r = score(rec([A], scores=[0.9]), rec([A, B]))
    assert r["map50_95"] == pytest.approx(51 / 101, abs=1e-12)
    assert r["map50"] == pytest.approx(51 / 101, abs=1e-12)


def test_false_positive_ranked_first_and_last():
    # FP C scored highest: ranks C(FP) A(TP) B(TP) -> precision 0, 1/2, 2/3 at recall 0, .5, 1.
    # Interpolated p(r) = 2/3 for every r -> AP = 2/3 at every IoU threshold.
    r = score(rec([C, A, B], scores=[0.95, 0.9, 0.8]), rec([A, B]))
    assert r["map50_95"] == pytest.approx(2 / 3, abs=1e-12)
    # Same FP scored lowest: A, B reach recall 1 at precision 1 first -> AP = 1 (COCO ranks, it does not count).
    r = score(rec([A, B, C], scores=[0.9, 0.8, 0.1]), rec([A, B]))
    assert r["map50_95"] == 1.0


def test_mislocalised_box():
    # A shifted 2 px right: [2,0,12,10] vs [0,0,10,10]: intersection 8*10 = 80, union 120, IoU 2/3.
    # TP at t = .50 .55 .60 .65 (2/3 >= t): with B found too, AP = 1 there.
    # FP at t = .70 ... .95 (6 thresholds): B (0.9) then the miss -> AP = 51/101 as in the missed case.
    # mAP50_95 = (4 * 1 + 6 * 51/101) / 10 = 710/1010; mAP50 = 1.
    r = score(rec([B, [2, 0, 12, 10]], scores=[0.9, 0.8]), rec([A, B]))
    assert r["map50_95"] == pytest.approx(710 / 1010, abs=1e-12)
    assert r["map50"] == 1.0


def test_classes_without_labels_are_left_out_and_labelled_classes_without_detections_score_zero():
    # class a: perfect (AP 1). class b: labelled, never detected (AP 0). class c: detected, never
    # labelled: pycocotools gives -1, left out of the mean and of the per-class dict.
    # mAP = (1 + 0) / 2 = 0.5.
    pred = rec([A, C], classes=[0, 2], scores=[0.9, 0.99])
    label = rec([A, B], classes=[0, 1])
    r = score(pred, label)
    assert r["map50_95"] == pytest.approx(0.5, abs=1e-12)
    assert r["ap"] == {"a": 1.0, "b": 0.0}


def test_empty_cases():
    # No label anywhere: undefined, NaN (not 0, not 1).
    r = score(rec([A], scores=[0.9]), rec([]))
    assert math.isnan(r["map50_95"]) and math.isnan(r["map50"])
    # Labels but no detection at all (loadRes cannot take an empty list): every labelled class AP 0.
    r = score(rec([], scores=[]), rec([A, B]))
    assert r["map50_95"] == 0.0 and r["map50"] == 0.0
    # Images only in the predictions are not scored; only those with labels count.
    r = coco_map({"x": rec([A], scores=[0.9]), "y": rec([B], scores=[0.9])}, {"x": rec([A])})
    assert r["images"] == 1 and r["map50_95"] == 1.0


def test_two_images_pool_detections_across_images():
    # img1: label A, detection A (0.6). img2: label B, detection C (0.9, FP) and B (0.5).
    # Pooled ranking: C(FP, .9) A(TP, .6) B(TP, .5): precision 0, 1/2, 2/3 at recall 0, .5, 1
    # -> p(r) = 2/3 everywhere -> AP = 2/3.
    preds = {"1": rec([A], scores=[0.6]), "2": rec([C, B], scores=[0.9, 0.5])}
    labels = {"1": rec([A]), "2": rec([B])}
    assert coco_map(preds, labels)["map50_95"] == pytest.approx(2 / 3, abs=1e-12)


def _square(rows, cols, h=20, w=20):
    m = np.zeros((h, w), bool)
    m[rows[0]:rows[1], cols[0]:cols[1]] = True
    return encode_mask(m)


M1 = _square((0, 10), (0, 10))          # 100 px
M2 = _square((12, 20), (12, 20))        # 64 px, disjoint from M1
BOX1, BOX2 = [0, 0, 10, 10], [12, 12, 20, 20]


def test_mask_rle_round_trip():
    m = np.zeros((7, 5), bool)
    m[2:5, 1:4] = True
    assert (decode_mask(json.loads(json.dumps(encode_mask(m)))) == m).all()


def test_masks_perfect_missed_false_positive():
    seg = lambda boxes, masks, scores=None: rec(boxes, scores=scores, masks=masks, h=20, w=20)  # noqa: E731
    label = seg([BOX1, BOX2], [M1, M2])
    assert score(seg([BOX1, BOX2], [M1, M2], [0.9, 0.8]), label, "segm")["map50_95"] == 1.0
    # one of two masks found: AP = 51/101 (as for boxes)
    assert score(seg([BOX1], [M1], [0.9]), label, "segm")["map50_95"] == pytest.approx(51 / 101, abs=1e-12)
    # one label M1; FP M2 (0.95) ranked before TP M1 (0.9): precision 0 then 1/2 at recall 1 -> AP = 1/2
    r = score(seg([BOX2, BOX1], [M2, M1], [0.95, 0.9]), seg([BOX1], [M1]), "segm")
    assert r["map50_95"] == pytest.approx(0.5, abs=1e-12)


def test_mislocalised_mask_uses_mask_iou_not_box_iou():
    # Label M1 (10x10 = 100 px). Prediction: 9 rows x 8 cols = 72 px inside M1 -> mask IoU 72/100 = 0.72.
    # TP at t = .50 .55 .60 .65 .70 (AP 1), FP at .75 ... .95 (AP 0) -> mAP50_95 = 5/10, mAP50 = 1.
    # The prediction's box is given as A exactly: a box-IoU scorer would have said 1.0.
    pred = rec([BOX1], scores=[0.9], masks=[_square((0, 9), (0, 8))], h=20, w=20)
    r = score(pred, rec([BOX1], masks=[M1], h=20, w=20), "segm")
    assert r["map50_95"] == pytest.approx(0.5, abs=1e-12) and r["map50"] == 1.0


def test_task_score_names_per_class_ap_and_proxies():
    task = HogPeople(TaskConfig("hog_people", "hog_people", "pseudo", {"pseudo_conf": 0.5, "proxy_conf": 0.5}))
    clean = {"i": {"height": 100, "width": 100, "boxes": [A, B], "classes": [0, 0], "scores": [0.9, 0.3],
                   "names": {"0": "person"}}}
    labels = {k: task.pseudo_labels(v) for k, v in clean.items()}
    assert labels["i"]["boxes"] == [A] and "scores" not in labels["i"]   # B is under pseudo_conf
    assert task.score(clean, labels) == {"hog_map50_95": 1.0, "hog_map50": 1.0, "hog_ap_person": 1.0}
    # a sample whose gt is in another format (gt_labels gave None) is left out, not a crash
    assert task.score({**clean, "j": clean["i"]}, {**labels, "j": None})["hog_map50_95"] == 1.0
    # label source none: proxies only. 1 detection >= 0.5 on one image; its mean score 0.9.
    assert task.score(clean, None) == {"hog_proxy_count": 1.0, "hog_proxy_conf": 0.9}
