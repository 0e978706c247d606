"""Per-class AP / IoU: computed by the task's own scoring, written by `bench report` as per_class.csv
(long format), and consistent with the leaderboard's mAP / mIoU over the same images."""
import numpy as np
import pandas as pd
import pytest

from bench.cli import main
from bench.downstream.base import TaskConfig
from bench.downstream.fastestdet import COCO_NAMES
from bench.downstream.labels import CITYSCAPES_TRAIN_NAMES
from bench.downstream.semantic import encode_label_map
from bench.downstream.tasks import build_task
from contexts import offline_ctx
from run_helpers import run


def test_semantic_per_class_rows_by_hand():
    # label [[0,0,1],[1,2,255]]  pred [[0,1,1],[1,19,0]]: 19 = ESPNet's void, 255 ignored.
    # road (0): TP 1, FN 1 -> 1/2, 2 label pixels; sidewalk (1): TP 2, FP 1 -> 2/3, 2 pixels;
    # building (2): predicted void -> FN only -> 0, 1 pixel. Other classes: empty union, no row.
    task = build_task("espnet_cityscapes", offline_ctx())
    rec = lambda m: {"height": 2, "width": 3, "label_set": "cityscapes19", "png": encode_label_map(m)}  # noqa
    label = rec(np.array([[0, 0, 1], [1, 2, 255]], np.uint8))
    scores, rows = task.score_per_class({"a": rec(np.array([[0, 1, 1], [1, 19, 0]], np.uint8))}, {"a": label})
    got = {(r["class_id"], r["class_name"], r["metric"]): (r["value"], r["n_labels"]) for r in rows}
    assert got == {(0, "road", "iou"): (0.5, 2), (1, "sidewalk", "iou"): (pytest.approx(2 / 3), 2),
                   (2, "building", "iou"): (0.0, 1)}
    assert scores["cseg_miou"] == pytest.approx((0.5 + 2 / 3 + 0) / 3, abs=1e-12)
    assert task.score_per_class({"a": label}, None) == ({}, [])


def test_instance_per_class_rows_by_hand():
    # person: 2 labels, one found exactly -> AP 51/101 at every IoU; car: 1 label found -> 1.
    # dog: predicted only, never labelled -> no AP, no row (COCO leaves it out of the mean).
    task = build_task(TaskConfig("fdet", "fastestdet_detect", "gt", {}), offline_ctx())
    a, b, c = [0, 0, 10, 10], [20, 20, 40, 40], [50, 50, 70, 60]
    pred = {"height": 100, "width": 100, "boxes": [a, c, b], "classes": [0, 2, 16], "scores": [0.9, 0.8, 0.7]}
    label = {"height": 100, "width": 100, "boxes": [a, b, c], "classes": [0, 0, 2]}
    scores, rows = task.score_per_class({"i": pred}, {"i": label})
    got = {(r["class_id"], r["class_name"], r["metric"]): (r["value"], r["n_labels"]) for r in rows}
    assert got == {(0, "0", "ap50_95"): (pytest.approx(51 / 101), 2), (0, "0", "ap50"): (pytest.approx(51 / 101), 2),
                   (2, "2", "ap50_95"): (1.0, 1), (2, "2", "ap50"): (1.0, 1)}
    assert scores["fdet_map50_95"] == pytest.approx((51 / 101 + 1) / 2, abs=1e-12)


@pytest.mark.slow
def test_bench_report_writes_per_class_matching_the_leaderboard(shared_data, shared_weights, tmp_path):
    """A real run (FastestDet + ESPNet, RainCityscapes, pseudo-labels), then `bench report`."""
    out = tmp_path / "res"
    assert run("--models", "rainy,clean", "--datasets", "raincityscapes", "--tasks", "fastestdet_coco,espnet_cityscapes",
               "--measures", "psnr_y", "--limit", "2", "--offline", "--data-root", str(shared_data),
               "--weights-dir", str(shared_weights), "--out", str(out)) == 0
    assert main(["report", "--out", str(out), "--no-stats", "--samples", "0"]) == 0
    lb = pd.read_csv(out / "leaderboard.csv").set_index("model")
    pc = pd.read_csv(out / "per_class.csv")
    assert list(pc.columns) == ["model", "variant", "dataset", "task", "class_id", "class_name", "metric", "value",
                                "n_labels", "images", "label_source", "protocol"]
    assert set(pc["label_source"]) == {"pseudo"} and (pc["images"] == 2).all()
    # a class only predicted (no label pixel) is in the mIoU with IoU 0; AP rows need labels (COCO)
    assert (pc.loc[pc["n_labels"] == 0, "value"] == 0).all() and (pc.loc[pc["metric"] != "iou", "n_labels"] > 0).all()
    for model in ("rainy", "clean"):
        mine = pc[pc["model"] == model]
        seg, det = mine[mine["task"] == "espnet_cityscapes"], mine[mine["task"] == "fastestdet_coco"]
        assert set(seg["metric"]) == {"iou"} and set(det["metric"]) == {"ap50_95", "ap50"}
        assert seg["value"].mean() == pytest.approx(lb.loc[model, "cseg_miou"], abs=1e-12)
        for metric, col in (("ap50_95", "fdet_map50_95"), ("ap50", "fdet_map50")):
            assert det.loc[det["metric"] == metric, "value"].mean() == pytest.approx(lb.loc[model, col], abs=1e-9)
        assert all(CITYSCAPES_TRAIN_NAMES[i] == n for i, n in zip(seg["class_id"], seg["class_name"]))
        assert all(COCO_NAMES[i] == n for i, n in zip(det["class_id"], det["class_name"]))
        assert seg["protocol"].str.startswith("espnet_cityscapes: ESPNet").all()
    assert (pc.loc[pc["model"] == "clean", "value"] == 1.0).all()          # pseudo-labels: clean is exact
    rainy = pc[pc["model"] == "rainy"]
    assert (rainy["value"] < 1.0).any()
    # the label pixels of a class are the same for every model (one label set)
    both = pc[pc["task"] == "espnet_cityscapes"].pivot_table(index="class_id", columns="model", values="n_labels")
    assert (both.dropna()["rainy"] == both.dropna()["clean"]).all()
