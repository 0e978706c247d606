"""Defects 7 and 8: paths the run does not evaluate are listed once in the run summary, with the
reason (dangling link, directory named like an image, unsupported extension, a file outside the
detected layout's naming, ground truth without a rainy twin)."""
from __future__ import annotations

import os

from run_helpers import crop_pair, last_run, run, tiny_pair


def test_skipped_paths_are_listed_once_with_the_reason(shared_data, tmp_path, capsys):
    ds = tmp_path / "awkward"
    for i in (1, 2):
        crop_pair(shared_data, i, ds)
    tiny_pair(ds, "tiny.png")                              # outside the rain/norain-N.png naming
    # a clean twin under another name: no layout pairs it, so the rain/norain-N.png layout stays chosen
    (ds / "norain" / "tiny.png").rename(ds / "norain" / "tiny-clean.png")
    os.symlink(tmp_path / "gone.png", ds / "rain" / "norain-3.png")
    (ds / "rain" / "norain-4.png").mkdir()
    (ds / "rain" / "notes.txt").write_text("not an image")
    out = tmp_path / "res"
    assert run("--models", "rainy", "--datasets", f"folder:{ds}", "--measures", "psnr_y", "--tasks", "none",
               "--out", str(out)) == 0
    printed = capsys.readouterr().out
    name = f"folder:{ds}"
    expected = {
        "rain/norain-3.png": "dangling symbolic link",
        "rain/norain-4.png": "a directory named like an image",
        "rain/notes.txt": "unsupported extension '.txt'",
        "rain/tiny.png": "name outside the detected layout's naming (jorder: rain/norain-N.png + norain/norain-N.png)",
        "norain/tiny-clean.png": "no rainy image pairs with it",
    }
    skipped = {s["name"].removeprefix(f"{name}: "): s["reason"] for s in last_run(out)["skipped"] if s["kind"] == "path"}
    assert set(skipped) == set(expected)
    for path, why in expected.items():
        assert why in skipped[path]
        assert sum(f"- path {name}: {path}:" in line for line in printed.splitlines()) == 1
    assert last_run(out)["work"]["pairs"][0]["images"] == 2
