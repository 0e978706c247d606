"""FastestDet against the official code (tests/reference/downstream/fastestdet/, made by running the
official test.py from a git archive of dog-qiuqiu/FastestDet @ 50473cd): raw 85×22×22 outputs to
1e-5, decoded boxes identical, boxes scaled to the image as eval.py does."""
import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import yaml

from bench.downstream.fastestdet import COCO_NAMES
from bench.downstream.fastestdet_net import decode
from bench.downstream.tasks import build_task
from contexts import offline_ctx

REF = np.load(Path(__file__).parent / "reference" / "downstream" / "fastestdet" / "fastestdet_reference.npz")
IMAGES = range(3)


@pytest.fixture(scope="module")
def task(shared_weights):
    torch.set_num_threads(1)          # as the reference was made: then the outputs agree bit for bit
    t = build_task("fastestdet_coco", offline_ctx(weights_dir=shared_weights))
    t.ensure_ready()
    return t


def _official_input(shared, n) -> np.ndarray:
    """The pixels the official script saw (cv2.imread, BGR), handed to the harness as RGB."""
    bgr = cv2.imread(str(shared / str(REF[f"image_{n}"])))
    assert hashlib.sha256(bgr.tobytes()).hexdigest() == str(REF[f"bgr_sha256_{n}"]), "image decodes differently"
    return np.ascontiguousarray(bgr[:, :, ::-1])


@pytest.mark.parametrize("n", IMAGES)
def test_raw_output_matches_official(task, shared, n):
    raw = task.raw_output(_official_input(shared, n))[0].cpu().numpy()
    assert raw.shape == (85, 22, 22)
    assert np.abs(raw - REF[f"raw_{n}"]).max() <= 1e-5


@pytest.mark.parametrize("n", IMAGES)
def test_decoding_of_the_official_output_is_identical(n):
    """Our decode on the official network output gives handle_preds' boxes exactly (same order)."""
    boxes = decode(torch.from_numpy(REF[f"raw_{n}"]), 0.001, 0.45).numpy()
    assert len(REF[f"boxes_{n}"]) > 100
    assert np.array_equal(boxes, REF[f"boxes_{n}"])


@pytest.mark.parametrize("n", IMAGES)
def test_pipeline_boxes_identical_and_scaled_to_the_image(task, shared, n):
    rgb = _official_input(shared, n)
    assert np.array_equal(task.decoded(rgb).numpy(), REF[f"boxes_{n}"])
    rec = task.predict([rgb])[0]
    ref = REF[f"boxes_{n}"]
    h, w = (int(v) for v in REF[f"shape_{n}"])
    assert (rec["height"], rec["width"]) == (h, w) == rgb.shape[:2]
    want = np.round(ref[:, :4].astype(np.float64) * [w, h, w, h], 3)
    assert np.array_equal(np.array(rec["boxes"]), want)
    assert rec["classes"] == ref[:, 5].astype(int).tolist()
    assert rec["scores"] == [float(s) for s in ref[:, 4]]
    assert min(rec["scores"]) > 0.001


def test_input_is_bgr(task, shared):
    """The network sees BGR: the same pixels with the channels swapped give another output."""
    rgb = _official_input(shared, 0)
    swapped = task.raw_output(np.ascontiguousarray(rgb[:, :, ::-1]))[0].cpu().numpy()
    assert np.abs(swapped - REF["raw_0"]).max() > 1e-2


def test_class_names_follow_the_yolo_ids(shared_weights, shared_data):
    darknet = [x.strip() for x in (shared_weights / "fastestdet" / "coco.names").read_text().splitlines() if x.strip()]
    coco = yaml.safe_load((shared_data / "coco-val128" / "object_detection" / "config.yaml").read_text())["names"]
    assert len(darknet) == len(COCO_NAMES) == 80
    assert list(COCO_NAMES) == [coco[i] for i in range(80)]
    assert sum(a == b for a, b in zip(darknet, COCO_NAMES)) == 74    # six darknet spellings (sofa, tvmonitor, ...)


def test_scores_against_real_coco_boxes(task, shared_data):
    """gt labels (YOLO txt of coco-val128): a real detector scores well above zero, below 1."""
    from bench.data.base import Sample

    root = shared_data / "coco-val128"
    preds, labels = {}, {}
    for img in sorted((root / "images" / "val2017").glob("*.jpg"))[:6]:
        rgb = np.ascontiguousarray(cv2.imread(str(img))[:, :, ::-1])
        preds[img.stem] = task.predict([rgb])[0]
        sample = Sample(id=img.stem, rainy=img, labels=root / "object_detection" / "labels" / "val2017" /
                        f"{img.stem}.txt", label_format="yolo")
        labels[img.stem] = task.gt_labels(sample, rgb.shape[:2])
    scores = task.score(preds, labels)
    assert 0.05 < scores["fdet_map50"] < 1.0 and 0.0 < scores["fdet_map50_95"] < scores["fdet_map50"]
    assert "fdet_ap_person" in scores
    own = task.score(preds, {k: task.pseudo_labels(v) for k, v in preds.items()})
    assert own["fdet_map50_95"] == 1.0
