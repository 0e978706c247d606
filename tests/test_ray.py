"""`bench run --ray`: a local Ray cluster gives the serial run's tables, even when a worker is
SIGKILLed mid-shard (Ray retries the shard; the driver merges only finished shards)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

ray = pytest.importorskip("ray")
psutil = pytest.importorskip("psutil")

REPO = Path(__file__).resolve().parents[1]
# ms_per_image is a wall-clock measurement: it differs between any two runs, serial ones included.
TIMING = ["ms_per_image"]


def _run(out: Path, shared: Path, *extra: str, background: bool = False):
    cmd = [sys.executable, "-m", "bench", "run", "--models", "rainy,prenet", "--datasets", "rain100h",
           "--limit", "4", "--measures", "psnr_y,ssim_y", "--tasks", "none", "--out", str(out), *extra]
    env = {**os.environ, "BENCH_DATA": str(shared / "data"), "BENCH_WEIGHTS": str(shared / "weights"),
           "BENCH_OFFLINE": "1", "PYTHONPATH": str(REPO), "RAY_DISABLE_USAGE_STATS": "1"}
    if background:
        return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)


def _tables(out: Path) -> pd.DataFrame:
    lb = pd.read_csv(out / "leaderboard.csv")
    return lb.drop(columns=[c for c in TIMING if c in lb.columns])


def _shard_workers() -> list:
    return [p for p in psutil.process_iter(["name", "cmdline"])
            if "run_shard" in (p.info["name"] or "") or "run_shard" in " ".join(p.info["cmdline"] or [])]


@pytest.fixture(scope="module")
def serial(tmp_path_factory, shared):
    out = tmp_path_factory.mktemp("serial")
    r = _run(out, shared)
    assert r.returncode == 0, r.stdout + r.stderr
    return out


@pytest.mark.slow
def test_ray_run_equals_serial_run_with_a_worker_killed(tmp_path, shared, serial):
    proc = _run(tmp_path, shared, "--ray", "--shards", "2", background=True)
    killed = None
    deadline = time.time() + 600
    while killed is None and proc.poll() is None and time.time() < deadline:
        workers = _shard_workers()
        if workers:
            time.sleep(1.0)                       # let it get into its shard
            try:
                workers[0].send_signal(signal.SIGKILL)
                killed = workers[0].pid
            except psutil.NoSuchProcess:
                pass
        time.sleep(0.2)
    output, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, output
    assert killed is not None, "no Ray shard worker was seen running; the kill did not happen\n" + output
    got, want = _tables(tmp_path), _tables(serial)
    pd.testing.assert_frame_equal(got, want)
    assert (tmp_path / "leaderboard.csv").read_text().count("\n") == (serial / "leaderboard.csv").read_text().count("\n")
    per_image = pd.read_csv(tmp_path / "per_image.csv")
    assert len(per_image) == len(pd.read_csv(serial / "per_image.csv")) == 8   # 2 models × 4 images
    # A finished Ray run, rerun, does no forward pass: workers start from a snapshot of the store.
    again = _run(tmp_path, shared, "--ray", "--shards", "2")
    assert again.returncode == 0, again.stdout + again.stderr
    assert ": 0 forward passes" in again.stdout, again.stdout
    pd.testing.assert_frame_equal(_tables(tmp_path), want)
