"""ESPNet against the official code (tests/reference/downstream/espnet/, made by running the official
test/VisualizeResults.py from a git archive of sacmehta/ESPNet @ afe71c3): logits to 1e-5, argmax
maps identical; the map back to the image size by cv2.INTER_NEAREST's rule; void (19) ignored in
pseudo-labels and a false negative in predictions."""
import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from bench.downstream.espnet import VOID, nearest_resize
from bench.downstream.semantic import decode_label_map, encode_label_map
from bench.downstream.tasks import build_task
from contexts import offline_ctx

REF = np.load(Path(__file__).parent / "reference" / "downstream" / "espnet" / "espnet_reference.npz")
BLOCK = (slice(None), slice(240, 272), slice(480, 512))


@pytest.fixture(scope="module")
def task(shared_weights):
    torch.set_num_threads(min(2, torch.get_num_threads()))
    t = build_task("espnet_cityscapes", offline_ctx(weights_dir=shared_weights))
    t.ensure_ready()
    return t


def _official_input(shared, n) -> np.ndarray:
    bgr = cv2.imread(str(shared / str(REF[f"image_{n}"])))
    assert hashlib.sha256(bgr.tobytes()).hexdigest() == str(REF[f"bgr_sha256_{n}"]), "image decodes differently"
    return np.ascontiguousarray(bgr[:, :, ::-1])          # the harness hands tasks RGB


@pytest.fixture(scope="module")
def outputs(task, shared):
    out = {}
    for n in range(2):
        rgb = _official_input(shared, n)
        with torch.inference_mode():
            logits = task.backend.model()(task.backend.input_tensor(rgb))[0].numpy()
        out[n] = rgb, logits
    return out


@pytest.mark.parametrize("n", range(2))
@pytest.mark.slow  # ESPNet at 1024×512 on CPU: seconds per image
def test_logits_and_argmax_match_official(outputs, n):
    _, logits = outputs[n]
    assert logits.shape == (20, 512, 1024)
    assert np.abs(logits[:, 8::16, 8::16] - REF[f"logits_strided_{n}"]).max() <= 1e-5
    assert np.abs(logits[BLOCK] - REF[f"logits_block_{n}"]).max() <= 1e-5
    assert np.allclose(logits.astype(np.float64).sum((1, 2)), REF[f"logit_sums_{n}"], rtol=1e-5, atol=1.0)
    assert np.array_equal(logits.argmax(0), REF[f"argmax_{n}"])


@pytest.mark.slow  # ESPNet at 1024×512 on CPU: seconds per image
def test_prediction_is_the_official_map_at_the_image_size(task, outputs):
    rgb, _ = outputs[0]
    rec = task.predict([rgb])[0]
    classes = decode_label_map(rec)
    assert classes.shape == rgb.shape[:2] == (256, 512)
    assert np.array_equal(classes, REF["argmax_0"][::2, ::2])   # 1024x512 -> 512x256: every second pixel
    assert len(np.unique(classes)) >= 10                        # a street scene, not a constant map


def test_nearest_resize_is_cv2_inter_nearest():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 20, (512, 1024)).astype(np.uint8)
    for h, w in ((256, 512), (426, 640), (321, 481), (700, 1500), (1, 1)):
        want = cv2.resize(labels, (w, h), interpolation=cv2.INTER_NEAREST)
        assert np.array_equal(nearest_resize(labels, h, w), want), (h, w)
    # by hand: 4 -> 3 columns, scale 4/3: source columns floor(0), floor(1.33), floor(2.67) = 0, 1, 2
    assert nearest_resize(np.array([[10, 11, 12, 13]]), 1, 3).tolist() == [[10, 11, 12]]


def test_void_ignored_in_pseudo_labels_and_wrong_in_predictions(task):
    clean = np.array([[0, 0, VOID, 1]], dtype=np.uint8)
    labels = task.pseudo_labels({"height": 1, "width": 4, "png": encode_label_map(clean)})
    assert decode_label_map(labels).tolist() == [[0, 0, 255, 1]]
    # label: road road sky sky; prediction: road VOID sky car
    label = {"png": encode_label_map(np.array([[0, 0, 10, 10]], dtype=np.uint8))}
    pred = {"png": encode_label_map(np.array([[0, VOID, 10, 13]], dtype=np.uint8))}
    s = task.score({"a": pred}, {"a": label})
    # road: TP 1, FN 1 (the void pixel) -> 1/2; sky: TP 1, FN 1 -> 1/2; car: FP 1 -> 0
    assert s["cseg_iou_road"] == 0.5 and s["cseg_iou_sky"] == 0.5 and s["cseg_iou_car"] == 0.0
    assert s["cseg_miou"] == pytest.approx(1 / 3)
    assert s["cseg_pixel_acc"] == 0.5                 # 2 of 4 labelled pixels right; void is not right
    assert "cseg_iou_sidewalk" not in s               # in neither labels nor predictions: left out


@pytest.mark.slow  # ESPNet at 1024×512 on CPU: seconds per image
def test_clean_scores_one_against_its_pseudo_labels(task, outputs):
    rgb, _ = outputs[1]
    pred = task.predict([rgb])[0]
    assert (decode_label_map(pred) == VOID).any()     # the rainy image has void pixels: they stay ignored
    s = task.score({"x": pred}, {"x": task.pseudo_labels(pred)})
    assert s["cseg_miou"] == 1.0 and s["cseg_pixel_acc"] == 1.0


def test_protocol_states_the_official_pipeline(task):
    text = task.protocol("pseudo")
    for needed in ("ESPNet", "1024x512", "BGR", "INTER_NEAREST", "void", "sha256 343b0e77e854"):
        assert needed in text
