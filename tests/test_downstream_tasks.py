"""tasks/ YAML loader, label sources, semantic segmentation (untrained, offline) and drawing."""
import json
import math
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from bench.data.base import Sample
from bench.downstream import TASK_TYPES
from bench.downstream.base import TaskConfig, TaskUnavailable
from bench.downstream.draw import draw_prediction
from bench.downstream.params import TaskConfigError
from bench.downstream.semantic import encode_label_map
from bench.downstream.tasks import build_task, label_source_for, load_task_configs, read_task_config
from bench.imageio import read_rgb
from contexts import offline_ctx


def test_every_task_yaml_loads_and_builds_without_weights():
    configs = load_task_configs()
    assert {"yolo_detect", "yolo_segment", "semseg_cityscapes", "hog_people"} <= set(configs)
    for name, cfg in configs.items():
        assert cfg.type in TASK_TYPES
        task = build_task(name, offline_ctx())
        assert task.metrics and all(m.name for m in task.metrics)
        for source in ("gt", "pseudo", "none"):
            assert task.protocol(source)           # never needs weights, never downloads


def test_yaml_errors_name_file_and_key(tmp_path):
    bad = tmp_path / "x.yaml"
    bad.write_text("type: yolo_detect\nconff: 0.3\n")
    with pytest.raises(TaskConfigError, match=r"x.*'conff'.*Did you mean 'conf'"):
        build_task(read_task_config(bad), offline_ctx())
    bad.write_text("type: yolo_detec\n")
    with pytest.raises(TaskConfigError, match=r"x\.yaml.*Did you mean 'yolo_detect'"):
        read_task_config(bad)
    bad.write_text("type: yolo_detect\nlabel_source: pseudo-labels\n")
    with pytest.raises(TaskConfigError, match="label_source"):
        read_task_config(bad)
    bad.write_text("type: yolo_detect\nconf: high\n")
    with pytest.raises(TaskConfigError, match="expected float"):
        build_task(read_task_config(bad), offline_ctx())
    bad.write_text("!!python/object/apply:os.system ['echo no']\n")
    with pytest.raises(TaskConfigError, match="not valid YAML"):   # safe_load: never executes
        read_task_config(bad)


def test_label_source_for():
    cfg = load_task_configs()["yolo_detect"]
    assert cfg.label_source == "auto"
    assert label_source_for(cfg, SimpleNamespace(label_source="gt", has_clean=True)) == "gt"
    assert label_source_for(cfg, SimpleNamespace(label_source="pseudo", has_clean=True)) == "pseudo"
    assert label_source_for(cfg, SimpleNamespace(label_source="pseudo", has_clean=False)) == "none"
    hog = load_task_configs()["hog_people"]      # auto since issue 20: true person boxes where the set has them
    assert hog.label_source == "auto"
    assert label_source_for(hog, SimpleNamespace(label_source="gt", has_clean=True)) == "gt"
    assert label_source_for(hog, SimpleNamespace(label_source="pseudo", has_clean=True)) == "pseudo"


def test_proxies_are_named_as_proxies():
    task = build_task("yolo_detect", offline_ctx())
    text = task.protocol("none")
    assert "NO mAP" in text and "PROXIES" in text and "det_proxy_count" in text
    assert all("PROXY" in m.description for m in task.metrics if "proxy" in m.name)


def semantic(label_set="cityscapes19", backend="segformer", **extra):
    params = {"backend": backend, "label_set": label_set, "untrained": True, "seed": 0, **extra}
    return build_task(TaskConfig("s", "semantic_segment", "auto", params), offline_ctx())


@pytest.mark.parametrize("backend,label_set", [("segformer", "cityscapes19"), ("torchvision", "voc21")])
def test_semantic_untrained_offline_pseudo_clean_is_one(shared_data, backend, label_set):
    task = semantic(label_set, backend, scale=0.5)      # half size: the mechanics, at a quarter of the cost
    assert "UNTRAINED" in task.protocol("pseudo")
    root = shared_data / "raincityscapes"
    names = sorted(p.name for p in (root / "norain").glob("*.png"))[:2]
    clean = {n: json.loads(json.dumps(r)) for n, r in
             zip(names, task.predict([read_rgb(root / "norain" / n) for n in names]))}
    rainy = dict(zip(names, task.predict([read_rgb(root / "rain100mm" / n) for n in names])))
    labels = {k: task.pseudo_labels(v) for k, v in clean.items()}
    prefix = task.params.metric_prefix
    good = task.score(clean, labels)
    assert good[f"{prefix}_miou"] == 1.0 and good[f"{prefix}_pixel_acc"] == 1.0
    if backend == "segformer":       # its random net answers the pixels; torchvision's LR-ASPP head is
        assert task.score(rainy, labels)[f"{prefix}_miou"] < 1.0   # near-constant untrained


def test_semantic_miou_by_hand():
    # 3 used classes of cityscapes19; label 255 ignored.
    # label [[0,0,1],[1,2,255]]   pred [[0,1,1],[1,2,0]]  -> pairs (label,pred):
    # (0,0) (0,1) (1,1) (1,1) (2,2); the (255,0) pixel is ignored.
    # class 0: TP 1, FN 1, FP 0 -> IoU 1/2; class 1: TP 2, FP 1 -> 2/3; class 2: TP 1 -> 1.
    # classes 3..18: empty union -> NaN, out of the mean. mIoU = (1/2 + 2/3 + 1) / 3 = 13/18.
    # pixel accuracy = 4 right / 5 labelled = 0.8.
    task = semantic()
    label = np.array([[0, 0, 1], [1, 2, 255]], np.uint8)
    pred = np.array([[0, 1, 1], [1, 2, 0]], np.uint8)
    rec = lambda m: {"height": 2, "width": 3, "label_set": "cityscapes19", "png": encode_label_map(m)}  # noqa
    s = task.score({"a": rec(pred)}, {"a": rec(label)})
    assert s["seg_miou"] == pytest.approx(13 / 18, abs=1e-12)
    assert s["seg_pixel_acc"] == pytest.approx(0.8, abs=1e-12)
    assert s["seg_iou_road"] == 0.5 and s["seg_iou_sidewalk"] == pytest.approx(2 / 3) and s["seg_iou_building"] == 1
    assert "seg_iou_wall" not in s
    assert task.score({"a": rec(pred)}, None) == {}


def test_semantic_gt_labels_from_cityscapes_label_ids(shared_data):
    folder = shared_data / "cityscapes-sample"
    sample = Sample("f", folder / "leftImg8bit/val/frankfurt/frankfurt_000000_000294_leftImg8bit.png",
                    labels=folder / "gtFine/val/frankfurt/frankfurt_000000_000294_gtFine_labelIds.png",
                    label_format="cityscapes")
    task = semantic(scale=1.0)
    labels = task.gt_labels(sample, (128, 256))
    assert labels["height"] == 128
    # the labels scored against themselves: perfect
    assert task.score({"f": labels}, {"f": labels})["seg_miou"] == 1.0
    with pytest.raises(ValueError, match="does not match"):
        task.gt_labels(sample, (256, 512))


def test_semantic_missing_weights_offline_names_folder(tmp_path):
    from bench.models.weights import WeightsResolver

    resolver = WeightsResolver(weights_dir=tmp_path, offline=True)
    for name, where in (("semseg_cityscapes", tmp_path / "segformer" / "segformer-b0-finetuned-cityscapes-1024-1024"),
                        ("semseg_voc", tmp_path / "torchvision")):
        task = build_task(name, offline_ctx(weights_dir=resolver.weights_dir, cache_dir=resolver.cache_dir.parent))
        with pytest.raises(TaskUnavailable, match=str(where)):
            task.predict([np.zeros((32, 32, 3), np.uint8)])


def test_draw_boxes_masks_and_class_maps():
    from bench.downstream.coco_eval import encode_mask

    img = np.full((40, 60, 3), 128, np.uint8)
    mask = np.zeros((40, 60), bool)
    mask[5:15, 5:25] = True
    rec = {"height": 40, "width": 60, "boxes": [[5, 5, 25, 15]], "classes": [0], "scores": [0.9],
           "names": {"0": "person"}, "masks": [encode_mask(mask)]}
    out = draw_prediction(img, rec)
    assert out.dtype == np.uint8 and out.shape == img.shape and img.max() == 128   # input untouched
    assert (out[10, 15] != 128).any() and (out[30, 50] == 128).all()               # inside mask / far away
    assert tuple(out[25, 10]) == (128, 128, 128)                                    # below the box
    assert tuple(out[15, 5]) == (31, 119, 180)                                      # box edge, RGB colour 0
    hidden = draw_prediction(img, {**rec, "scores": [0.1]})                           # under min_score
    assert (hidden == img).all()
    cmap = np.zeros((40, 60), np.uint8)
    cmap[:, 30:] = 255
    drawn = draw_prediction(img, {"height": 40, "width": 60, "png": encode_label_map(cmap)})
    assert (drawn[:, 30:] == 128).all() and (drawn[:, :30] != 128).any()            # 255 = not drawn
    with pytest.raises(ValueError, match="40×60"):
        draw_prediction(np.zeros((10, 10, 3), np.uint8), rec)


def test_nan_when_nothing_to_score():
    task = build_task("hog_people", offline_ctx())
    empty = {"height": 10, "width": 10, "boxes": [], "classes": [], "scores": []}
    s = task.score({"a": empty}, {"a": task.pseudo_labels(empty)})
    assert math.isnan(s["hog_map50_95"])
    assert math.isnan(task.score({}, None)["hog_proxy_count"])
    assert replace(load_task_configs()["hog_people"]).type == "hog_people"
