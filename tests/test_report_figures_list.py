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
