"""`bench figures --list` says what each figure needs and, against a store, what is still missing,
with a `bench run` command that produces it (the README promises both)."""
from __future__ import annotations

import shlex

from bench.cli import build_parser, main
from bench.report.figures.specs import load_specs
from run_helpers import crop_pair, run


def test_list_without_a_store_names_every_figure_and_its_needs(tmp_path, capsys):
    assert main(["figures", "--list", "--out", str(tmp_path / "none")]) == 0
    printed = capsys.readouterr().out
    specs = load_specs(None)
    assert len(specs) >= 5
    for name, spec in specs.items():
        block = printed.split(name, 1)[1].splitlines()[1]
        assert f"needs models {','.join(spec.needs.models)}" in block
    assert "no results store" in printed


def test_list_against_a_store_gives_the_command_that_completes_each_figure(shared_data, tmp_path, capsys):
    ds = tmp_path / "pairs"
    crop_pair(shared_data, 1, ds)
    out = tmp_path / "res"
    assert run("--models", "rainy", "--datasets", f"folder:{ds}", "--measures", "psnr_y", "--tasks", "none",
               "--out", str(out)) == 0
    capsys.readouterr()
    assert main(["figures", "--list", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    needs = [line.split("still needs", 1)[1] for line in lines if "still needs" in line]
    assert len(needs) == len(load_specs(None))      # no figure is complete from one folder pair
    parser = build_parser()[0]
    for line in needs:
        cmd = line.split(": ", 1)[1]
        assert cmd.startswith("bench run ")
        args = parser.parse_args(shlex.split(cmd)[1:])      # the printed command is a valid command line
        assert args.out == str(out)


def test_detection_figure_falls_back_to_fastestdet_and_names_it(shared_data, shared_weights, tmp_path, capsys):
    """No yolo_detect in the store (it needs a download): the detection figure is drawn by the
    offline FastestDet, and both --list and the figure's notes say so; the run command asks for it."""
    out = tmp_path / "res"
    assert run("--models", "rainy,clean", "--datasets", "raincityscapes", "--tasks", "fastestdet_coco",
               "--measures", "psnr_y", "--limit", "1", "--offline", "--data-root", str(shared_data),
               "--weights-dir", str(shared_weights), "--out", str(out)) == 0
    capsys.readouterr()
    assert main(["figures", "--list", "--out", str(out)]) == 0
    listed = capsys.readouterr().out
    block = listed.split("raincityscapes_detection", 1)[1].split("raincityscapes_segmentation", 1)[0]
    assert "drawn by the first of yolo_detect, fastestdet_coco" in block
    assert "on raincityscapes: drawn by FastestDet coco_352 (fastestdet_coco)" in block
    assert "--tasks fastestdet_coco" in block and "yolo_detect --out" not in block
    seg = listed.split("raincityscapes_segmentation", 1)[1].splitlines()[:5]
    assert any("no stored predictions of semseg_cityscapes, espnet_cityscapes yet" in line for line in seg)
    assert main(["figures", "raincityscapes_detection", "--out", str(out), "--data-root", str(shared_data)]) == 0
    printed = capsys.readouterr().out
    assert ("note: drawn with fastestdet_coco (FastestDet coco_352): yolo_detect has no stored predictions "
            "on raincityscapes") in printed
    assert (out / "figures" / "raincityscapes_detection.png").is_file()
    assert "- prenet on raincityscapes: no records" in printed
    assert "- rainy on raincityscapes" not in printed and "- clean on raincityscapes" not in printed  # met by fdet


def test_a_preference_list_and_a_single_task_are_not_both_allowed(tmp_path):
    import pytest

    from bench.report.figures.specs import FigureConfigError, load_spec

    path = tmp_path / "f.yaml"
    path.write_text("kind: visual_comparison\nparams: {task: yolo_detect, tasks: [fastestdet_coco]}\n")
    with pytest.raises(FigureConfigError, match="not both"):
        load_spec(path)
    path.write_text("kind: visual_comparison\nparams: {tasks: [3]}\n")
    with pytest.raises(FigureConfigError, match="list of task names"):
        load_spec(path)
