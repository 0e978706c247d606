"""Each offline task's protocol string states what its code does: the threshold with the code's
comparison, the classes kept, the label source, the per-class file."""
import torch

from bench.downstream.fastestdet_net import decode
from bench.downstream.tasks import build_task
from contexts import offline_ctx


def _one_cell(obj: float, cls: float) -> torch.Tensor:
    pred = torch.zeros(85, 1, 1)
    pred[0], pred[5] = obj, cls                       # objectness, class 0 (person); box centre 0, size 0.5
    return pred


def test_fastestdet_keeps_score_strictly_above_conf_as_its_protocol_says():
    task = build_task("fastestdet_coco", offline_ctx())
    score = float((torch.tensor(0.5) ** 0.6) * (torch.tensor(0.7) ** 0.4))
    assert len(decode(_one_cell(0.5, 0.7), conf_thresh=score)) == 0            # equal: dropped
    assert len(decode(_one_cell(0.5, 0.7), conf_thresh=score - 1e-6)) == 1
    text = task.protocol("gt")
    assert f"score > {task.params.conf}," in text and f"score >= {task.params.conf}" not in text
    assert "352x352 INTER_LINEAR" in text and f"NMS IoU {task.params.nms_iou}" in text
    assert "label source gt: the dataset's YOLO-format labels as boxes" in text and "per_class.csv" in text
    assert f"kept at score >= {task.params.pseudo_conf}" in task.protocol("pseudo")     # pseudo_labels' >=


def test_hog_protocol_says_person_only_and_the_inclusive_margin():
    task = build_task("hog_people", offline_ctx())
    text = task.protocol("gt")
    assert "all classes" not in text and "person only (class 0" in text
    assert f"kept at margin >= {task.params.conf}" in text and "hitThreshold 0" in text
    assert task._class_ok(0) and not task._class_ok(2)       # what "person only" means for labels


def test_espnet_protocol_names_input_size_void_and_label_sources():
    task = build_task("espnet_cityscapes", offline_ctx())
    gt, pseudo = task.protocol("gt"), task.protocol("pseudo")
    assert "1024x512" in gt and "output 19 = void" in gt and "per_class.csv" in gt
    assert "gtFine labelIds -> 19 trainIds" in gt and "other labelIds ignored (255)" in gt
    assert "every pixel but void (19) ones" in pseudo
