"""Defect 1: a row's columns average the same images, and rows are ranked only against rows that
cover the same image set (hand-made stores, and one real run over a folder of awkward files)."""
from __future__ import annotations

import pandas as pd
import pytest

from bench.cli import main
from bench.report.tables.leaderboard import build
from bench.report.tables.layouts import leaderboard_table
from bench.report.tables.render import to_markdown
from bench.store import IMAGE_UNIT, Store
from store_fixtures import put_measure_units
from run_helpers import crop_pair, run, tiny_pair

P = "hand-made"


def _put(store, key, model, image, unit, value=None, error=None, ds="set"):
    store.put(model_key=key, model=model, variant=None, dataset=ds, image_id=image, unit=unit, value=value,
              error=error, protocol=P)


@pytest.fixture()
def store(tmp_path):
    s = Store(tmp_path / "store.sqlite")
    put_measure_units(s, ("psnr_y", "ssim_y"), P)
    return s


def test_columns_of_a_row_cover_the_same_images(store):
    # "a" has psnr_y on 3 images but ssim_y failed on image 3 (recorded as that unit's error)
    for i, (p, q) in enumerate([(20.0, 0.5), (22.0, 0.6), (100.0, None)], 1):
        _put(store, "a", "a", str(i), "psnr_y", p)
        if q is None:
            _put(store, "a", "a", str(i), "ssim_y", error="ValueError: image smaller than the SSIM window")
        else:
            _put(store, "a", "a", str(i), "ssim_y", q)
    lb = build(store)
    row = lb.table.set_index("model").loc["a"]
    assert row["images"] == 2 and row["left_out"] == 1
    assert row["psnr_y"] == pytest.approx(21.0)        # not (20 + 22 + 100) / 3 = 47.33
    assert row["ssim_y"] == pytest.approx(0.55)
    why = lb.left_out.set_index("image_id").loc["3", "reason"]
    assert "ssim_y" in why and "SSIM window" in why


def test_incomplete_row_is_marked_and_not_ranked(store):
    for i, v in enumerate([25.0, 26.0, 27.0], 1):   # "full" covers all 3 images
        for u in ("psnr_y", "ssim_y"):
            _put(store, "full", "full", str(i), u, v if u == "psnr_y" else v / 100)
    for i, v in enumerate([40.0, 41.0], 1):          # "easy" failed on its hardest image
        for u in ("psnr_y", "ssim_y"):
            _put(store, "easy", "easy", str(i), u, v if u == "psnr_y" else v / 100)
    _put(store, "easy", "easy", "3", IMAGE_UNIT, error="RuntimeError: forward failed")
    lb = build(store)
    t = lb.table.set_index("model")
    assert bool(t.loc["full", "complete"]) and not bool(t.loc["easy", "complete"])
    md = to_markdown(leaderboard_table(lb, deltas=False)).splitlines()
    assert "| set | easy | 2 of 3† | 1 | 40.50 | 0.4050 |" in md      # higher, but never bold
    assert "| set | full | 3 | 0 | **26.00** | **0.2600** |" in md
    assert any(line.startswith("- † easy on set: 1 of 3 images left out") and "forward failed" in line
               for line in md)


def test_common_subset_ranks_rows_on_the_images_all_cover(store):
    vals = {"a": {"1": 30.0, "2": 10.0}, "b": {"1": 20.0, "3": 50.0}}
    for key, per in vals.items():
        for i in ("1", "2", "3"):
            if i in per:
                _put(store, key, key, i, "psnr_y", per[i])
            else:
                _put(store, key, key, i, IMAGE_UNIT, error="failed")
    default = build(store)
    assert not default.table["complete"].any()       # different image sets: nobody ranked
    common = build(store, common_subset=True)
    t = common.table.set_index("model")
    assert list(t["images"]) == [1, 1] and t["complete"].all()
    assert t.loc["a", "psnr_y"] == 30.0 and t.loc["b", "psnr_y"] == 20.0
    md = to_markdown(leaderboard_table(common, deltas=False))
    assert "| set | a | 1 | 1 | **30.00** |" in md and "| set | b | 1 | 1 | <ins>20.00</ins> |" in md
    assert "--common-subset" in md


def test_awkward_folder_run_rows_cover_the_same_images(shared_data, tmp_path, capsys):
    """The issue's case: a 1×1 pair (PSNR capped at 100, SSIM undefined, the uint8 PSNR never
    computed) must not enter a row's means; the report says which image was left out."""
    ds = tmp_path / "awkward"
    for i in (1, 2, 3):
        crop_pair(shared_data, i, ds)
    tiny_pair(ds, "norain-4.png")
    out = tmp_path / "res"
    assert run("--models", "rainy,clean", "--datasets", f"folder:{ds}", "--measures", "psnr_y,ssim_y,psnr_y_uint8",
               "--tasks", "none", "--out", str(out)) == 1          # image 4 failed: exit code says so
    lb = pd.read_csv(out / "leaderboard.csv").set_index("model")
    per = pd.read_csv(out / "per_image.csv", dtype={"image_id": str})
    rainy = per[(per.model == "rainy") & (per.image_id != "4")]
    assert lb.loc["rainy", "images"] == 3 and lb.loc["rainy", "left_out"] == 1
    assert lb.loc["rainy", "psnr_y"] == pytest.approx(rainy.psnr_y.mean(), abs=1e-9)
    assert lb.loc["rainy", "psnr_y_uint8"] == pytest.approx(rainy.psnr_y_uint8.mean(), abs=1e-9)
    assert per.set_index(["model", "image_id"]).loc[("rainy", "4"), "left_out"]
    assert main(["report", "--out", str(out)]) == 0
    md = (out / "leaderboard.md").read_text()
    assert "Rainy input on folder:" in md and "1 of 4 images left out of the row (4: " in md


def test_significance_marks_never_rank_an_incomplete_row(store):
    """The statistics' marks (bench/report/stats/analysis.py) go through tables.column_marks too."""
    from bench.report.stats.analysis import analyse

    for i in range(12):
        _put(store, "full", "full", f"{i:02d}", "psnr_y", 25.0 + 0.01 * i)
        _put(store, "other", "other", f"{i:02d}", "psnr_y", 20.0 + 0.01 * i)
        if i < 11:
            _put(store, "easy", "easy", f"{i:02d}", "psnr_y", 40.0 + 0.01 * i)
        else:
            _put(store, "easy", "easy", f"{i:02d}", IMAGE_UNIT, error="failed")
    lb = build(store)
    md = to_markdown(leaderboard_table(lb, deltas=False, stats=analyse(store, lb))).splitlines()
    assert "| set | easy | 11 of 12† | 1 | 40.05 |" in md
    assert "| set | full | 12 | 0 | **25.06** |" in md
