"""Defects 4 and 5: --fresh recomputes (records, labels and cached outputs go); an error record
goes when its image later succeeds; tiled inference is recorded per image and footnoted."""
from __future__ import annotations

import pandas as pd
import torch

import bench.measures
from bench.cli import main
from bench.store import Store
from run_helpers import crop_pair, last_run, run


def test_fresh_recomputes_and_tiling_is_recorded(shared_data, shared_weights, tmp_path, monkeypatch):
    torch.set_num_threads(1)
    data = tmp_path / "data" / "rain100h"
    for i in (1, 2):
        crop_pair(shared_data, i, data)
    out = tmp_path / "res"
    monkeypatch.setenv("BENCH_MAX_PIXELS", "3000")        # 96×64 = 6144 px: PReNet runs in tiles
    args = ["--models", "prenet@Rain100H", "--datasets", "rain100h", "--measures", "psnr_y", "--tasks", "none",
            "--data-root", str(tmp_path / "data"), "--weights-dir", str(shared_weights), "--out", str(out)]
    assert run(*args) == 0
    cached = sorted((out / "cache").rglob("*.png"))
    assert len(cached) == 2
    devs = Store(out / "store.sqlite").deviations()
    assert sorted(devs["image_id"]) == ["1", "2"] and set(devs["kind"]) == {"tiled"}
    assert devs["detail"].iloc[0]["tile"] == 54 and devs["detail"].iloc[0]["overlap"] == 32
    assert main(["report", "--out", str(out)]) == 0
    md = (out / "leaderboard.md").read_text()
    assert "Deviation: PReNet (Rain100H) on Rain100H: 2 image(s) tiled (tile 54, overlap 32, oom_retries 0; 1, 2)." in md

    assert run(*args) == 0
    assert last_run(out)["work"]["forwards"] == 0           # a plain rerun reuses everything
    for p in cached:
        p.write_bytes(b"stale")                             # would be read (and fail) if --fresh kept it
    monkeypatch.delenv("BENCH_MAX_PIXELS")
    assert run(*args, "--fresh") == 0
    rec = last_run(out)
    assert rec["work"]["forwards"] == 2 and not rec["failures"]
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in cached)
    assert Store(out / "store.sqlite").deviations().empty     # run whole this time: no tiling recorded


class _Flaky:
    """psnr_y that fails on image 2 the first time it is asked."""

    def __init__(self, real, failures):
        self.real, self.info, self.failures = real, real.info, failures

    def __call__(self, out, clean):
        if self.failures and out.shape[-1] == 95:
            self.failures.pop()
            raise RuntimeError("transient failure")
        return self.real(out, clean)


def test_error_record_goes_when_the_image_later_succeeds(shared_data, tmp_path, monkeypatch):
    data = tmp_path / "data" / "rain100h"
    crop_pair(shared_data, 1, data)
    crop_pair(shared_data, 2, data, box=(0, 0, 95, 64))
    out = tmp_path / "res"
    real_build = bench.measures.build_measure
    failures = [1]
    monkeypatch.setattr(bench.measures, "build_measure", lambda n, ctx=None: _Flaky(real_build(n, ctx), failures))
    args = ["--models", "rainy", "--datasets", "rain100h", "--measures", "psnr_y", "--tasks", "none",
            "--data-root", str(tmp_path / "data"), "--out", str(out)]
    assert run(*args) == 1
    assert list(Store(out / "store.sqlite").errors()["image_id"]) == ["2"]
    assert run(*args) == 0
    assert Store(out / "store.sqlite").errors().empty
    per = pd.read_csv(out / "per_image.csv")
    assert per.psnr_y.notna().all() and ("error" not in per or per.error.isna().all())
