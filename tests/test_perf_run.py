"""`bench perf run` end to end on one Rain100H pair: it prints every ratio the README quotes, and
each is a finite positive number (the figures themselves are benchmarks, not tested)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_perf_run_prints_its_ratios(shared_data, shared_weights, tmp_path):
    env = {**os.environ, "BENCH_OFFLINE": "1", "PYTHONPATH": str(REPO), "BENCH_CACHE": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, "-m", "bench", "perf", "run", "--model", "prenet", "--dataset", "rain100h",
                          "--limit", "1", "--tasks", "none", "--rainy-images", "2", "--rss", "2,3",
                          "--data-root", str(shared_data), "--weights-dir", str(shared_weights)],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    text = out.stdout
    figures = {name: float(re.search(pattern, text).group(1)) for name, pattern in {
        "b_over_a": r"\(b\)/\(a\) = ([0-9.]+)",
        "warm_over_cold": r"warm rerun ÷ cold = [0-9.]+ / [0-9.]+ = ([0-9.]+)",
        "startup": r"start-up \(1-image rainy run, median of 3\):\s+([0-9.]+) s",
        "rss_ratio": r"RSS 3 ÷ 2 images = ([0-9.]+)",
    }.items()}
    assert all(0 < v < 1e4 for v in figures.values()), figures
    assert figures["warm_over_cold"] < 1   # a rerun reuses the store: it cannot cost what the cold run did
