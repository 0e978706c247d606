"""End-to-end `bench run` on real data: values, resumability, failure isolation, offline reruns."""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from bench.cli import main

REPO = Path(__file__).resolve().parents[1]
REF = REPO / "tests" / "reference" / "measures"


def run_cli(*args) -> int:
    return main(["run", *args])


def last_run(out: Path) -> dict:
    runs = sorted((out / "runs").iterdir(), key=lambda p: p.stat().st_mtime)
    return json.loads((runs[-1] / "run.json").read_text())


def test_rainy_rain100h_matches_matlab_reference(shared_data, tmp_path):
    """Mean Y-PSNR of the rainy input on all 100 Rain100H pairs: 13.556 dB (PReNet's MATLAB
    scripts run in Octave; per-image values and the script in tests/reference/measures/)."""
    out = tmp_path / "res"
    assert run_cli("--models", "rainy", "--datasets", "rain100h", "--measures", "psnr_y,ssim_y",
                   "--tasks", "none", "--data-root", str(shared_data), "--out", str(out)) == 0
    lb = pd.read_csv(out / "leaderboard.csv")
    row = lb[(lb.model == "rainy") & (lb.dataset == "rain100h")].iloc[0]
    assert row.images == 100
    assert abs(row.psnr_y - 13.556) < 1e-3
    assert "prenet" in row.protocol and "psnr_y" in row.protocol
    ref_csv = REF / "octave_rain100h_rainy.csv"
    if ref_csv.exists():  # per-image agreement with Octave (the measures suite checks this in depth)
        ref = pd.read_csv(ref_csv)
        per = pd.read_csv(out / "per_image.csv")
        assert abs(per.psnr_y.mean() - ref.filter(like="psnr").iloc[:, 0].mean()) < 1e-4


def _copy_pairs(shared_data: Path, root: Path, ids) -> Path:
    ds = root / "rain100h"
    for sub in ("rain", "norain"):
        (ds / sub).mkdir(parents=True)
        for i in ids:
            shutil.copy(shared_data / "rain100h" / sub / f"norain-{i}.png", ds / sub / f"norain-{i}.png")
    return ds


def test_corrupt_image_is_recorded_and_run_finishes(shared_data, tmp_path):
    ds = _copy_pairs(shared_data, tmp_path / "data", [1, 2, 3])
    bad = ds / "rain" / "norain-2.png"
    bad.write_bytes(bad.read_bytes()[:200])  # truncated PNG
    out = tmp_path / "res"
    code = run_cli("--models", "rainy", "--datasets", "rain100h", "--measures", "psnr_y", "--tasks", "none",
                   "--data-root", str(tmp_path / "data"), "--out", str(out))
    assert code == 1  # the run finished but says something failed
    per = pd.read_csv(out / "per_image.csv")
    assert set(per.image_id.astype(str)) == {"1", "2", "3"}
    err = per[per.image_id.astype(str) == "2"].error.iloc[0]
    assert str(bad) in err and "damaged" in err
    assert per[per.image_id.astype(str) != "2"].psnr_y.notna().all()
    assert last_run(out)["failures"][0]["image"] == "2"


def _bench(args, **kw):
    env = {**os.environ, "BENCH_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "bench", "run", *args], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)


@pytest.mark.slow
def test_kill_and_resume_gives_identical_tables(shared_data, shared_weights, tmp_path):
    data = tmp_path / "data"
    _copy_pairs(shared_data, data, [1, 2, 3, 4])
    args = ["--models", "rainy,prenet", "--datasets", "rain100h", "--measures", "psnr_y,ssim_y", "--tasks", "none",
            "--data-root", str(data), "--weights-dir", str(shared_weights)]
    full = tmp_path / "full"
    assert _bench(args + ["--out", str(full)]).wait(timeout=600) == 0

    killed = tmp_path / "killed"
    proc = _bench(args + ["--out", str(killed)])
    db = killed / "store.sqlite"
    deadline = time.time() + 300
    while time.time() < deadline:  # kill once PReNet has written some but not all of its records
        time.sleep(0.2)
        if db.exists():
            try:
                n = sqlite3.connect(db).execute(
                    "SELECT COUNT(*) FROM records WHERE model='prenet'").fetchone()[0]
            except sqlite3.OperationalError:
                continue
            if n >= 2:
                break
    assert proc.poll() is None, "the run finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _bench(args + ["--out", str(killed)]).wait(timeout=600) == 0
    resumed = last_run(killed)
    assert resumed["work"]["forwards"] < 4 + 4  # it did not start over
    for name in ("leaderboard.csv", "per_image.csv"):
        a = pd.read_csv(full / name).drop(columns=["ms_per_image"], errors="ignore")
        b = pd.read_csv(killed / name).drop(columns=["ms_per_image"], errors="ignore")
        pd.testing.assert_frame_equal(a, b)

    # A finished run repeated does no forward pass and is quick.
    assert _bench(args + ["--out", str(full)]).wait(timeout=600) == 0
    rerun = last_run(full)
    assert rerun["work"]["forwards"] == 0
    assert all(p["skipped"] == p["images"] for p in rerun["work"]["pairs"])


def test_pseudo_label_detection_through_bench_run(shared_data, tmp_path):
    """Under pseudo-labels (the detector's own boxes on the clean image), `clean` scores mAP 1.0
    and `rainy` less. The detector is an untrained, seeded YOLO11n (mechanics only, offline);
    its columns are named det_untrained_* so they are never mistaken for real detection scores."""
    out = tmp_path / "res"
    assert run_cli("--models", "rainy,clean", "--datasets", "raincityscapes", "--measures", "psnr_y",
                   "--tasks", "yolo_detect_untrained", "--limit", "4",
                   "--data-root", str(shared_data), "--out", str(out)) == 0
    lb = pd.read_csv(out / "leaderboard.csv").set_index("model")
    assert lb.loc["clean", "det_untrained_map50_95"] == 1.0
    assert lb.loc["clean", "det_untrained_map50"] == 1.0
    assert lb.loc["rainy", "det_untrained_map50_95"] < 1.0
    assert "pseudo" in lb.loc["rainy", "protocol"] and "pycocotools" in lb.loc["rainy", "protocol"]
