"""The runner's plumbing: ordered prefetch with per-item errors, bounded scoring, batch commits."""
from __future__ import annotations

import sqlite3
import threading
import time

import numpy as np
import pytest

from bench.imageio import read_rgb
from bench.engine.threads import ScoringPool, Writer, prefetch


def test_prefetch_keeps_order_reports_errors_and_stays_bounded():
    running = []
    peak = [0]
    lock = threading.Lock()

    def work(i):
        with lock:
            running.append(i)
            peak[0] = max(peak[0], len(running))
        time.sleep(0.01)
        with lock:
            running.remove(i)
        if i == 3:
            raise ValueError("bad image 3")
        return i * i

    seen = []
    for item, value, err in prefetch(range(10), work, workers=2, depth=4):
        seen.append((item, value, None if err is None else str(err)))
    assert [s[0] for s in seen] == list(range(10))
    assert seen[3] == (3, None, "bad image 3")
    assert all(v == i * i for i, v, e in seen if i != 3)
    assert peak[0] <= 2


def test_prefetch_is_lazy_about_its_input():
    pulled = []

    def items():
        for i in range(100):
            pulled.append(i)
            yield i

    gen = prefetch(items(), lambda i: i, workers=1, depth=3)
    next(gen)
    assert len(pulled) <= 4          # depth ahead, not the whole dataset


def test_scoring_pool_bounds_jobs_in_flight():
    active, peak, lock = [0], [0], threading.Lock()

    def job():
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.02)
        with lock:
            active[0] -= 1

    pool = ScoringPool(workers=2, bound=2)
    for _ in range(8):
        pool.submit(job)
    pool.close()
    assert peak[0] <= 2 and active[0] == 0


def test_writer_writes_pngs_before_rows_and_commits_per_batch(tmp_path):
    rgb = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    w = Writer(tmp_path / "store.sqlite")
    png = tmp_path / "cache" / "a.png"

    def op(store):
        assert png.is_file()             # the output exists before its record
        store.db.execute("CREATE TABLE IF NOT EXISTS t (v INTEGER)")
        store.db.execute("INSERT INTO t VALUES (1)")

    w.submit([(png, rgb)], [op, op])
    w.drain()
    assert np.array_equal(read_rgb(png), rgb)
    assert sqlite3.connect(tmp_path / "store.sqlite").execute("SELECT COUNT(*) FROM t").fetchone()[0] == 2

    def boom(store):
        store.db.execute("INSERT INTO t VALUES (2)")
        raise OSError("disk full")

    w.submit([], [boom])
    with pytest.raises(RuntimeError, match="disk full"):
        w.drain()
    w.close()
    # the failed batch was rolled back as a whole
    assert sqlite3.connect(tmp_path / "store.sqlite").execute("SELECT COUNT(*) FROM t").fetchone()[0] == 2


def test_progress_prints_plain_lines_when_not_a_terminal():
    import io

    from bench.progress import Progress

    out = io.StringIO()
    p = Progress(3, "prenet on rain100h", stream=out, interval=3600)
    for _ in range(3):
        p.update()
    p.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and "prenet on rain100h: 3/3 images" in lines[0] and "images/s" in lines[0]

