"""Defect 6: the label source is chosen per task from the label *format* a dataset carries; where
none fits, pseudo-labels, and the protocol says so."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from bench.data.base import Sample
from bench.downstream.tasks import build_task, label_choice, label_source_for
from contexts import offline_ctx


def _dataset(tmp_path: Path, fmt: str | None, lines: list[str], source="gt", has_clean=True):
    (tmp_path / "labels").mkdir(exist_ok=True)
    lab = tmp_path / "labels" / "1.txt"
    lab.write_text("\n".join(lines))
    samples = [Sample("1", tmp_path / "1.png", tmp_path / "c1.png", lab if fmt else None, fmt)]
    return SimpleNamespace(name="ds", label_source=source, has_clean=has_clean, samples=lambda: iter(samples))


def test_yolo_boxes_do_not_label_semantic_segmentation(tmp_path):
    """coco8-rain carries YOLO boxes (dataset default gt): they fit detection, not class maps."""
    ds = _dataset(tmp_path, "yolo", ["0 0.5 0.5 0.2 0.3"])
    ctx = offline_ctx()
    seg = build_task("semseg_cityscapes", ctx)
    det = build_task("yolo_detect_untrained", ctx)
    segm = build_task("yolo_segment", ctx)
    assert label_source_for(det.config, ds, det) == "gt"
    source, note = label_choice(seg.config, ds, seg)
    assert source == "pseudo" and "yolo" in note and "do not fit" in note
    assert label_source_for(segm.config, ds, segm) == "pseudo"        # boxes cannot score masks
    poly = _dataset(tmp_path, "yolo", ["0 0.1 0.1 0.5 0.1 0.5 0.5"])
    assert label_source_for(segm.config, poly, segm) == "gt"


def test_cityscapes_labels_fit_cityscapes_segmentation_only(tmp_path):
    ds = _dataset(tmp_path, "cityscapes", [])
    ctx = offline_ctx()
    assert label_source_for(build_task("semseg_cityscapes", ctx).config, ds, build_task("semseg_cityscapes", ctx)) == "gt"
    voc = build_task("semseg_voc", ctx)
    assert label_source_for(voc.config, ds, voc) == "pseudo"
    det = build_task("yolo_detect_untrained", ctx)
    assert label_source_for(det.config, ds, det) == "pseudo"


def test_no_labels_no_clean_means_none(tmp_path):
    ds = _dataset(tmp_path, None, [], source="none", has_clean=False)
    det = build_task("yolo_detect_untrained", offline_ctx())
    assert label_source_for(det.config, ds, det) == "none"
