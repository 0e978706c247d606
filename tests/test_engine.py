"""The engine's seams: a PairRun works with the collaborators it is given (no runner), the runner
holds no store connection of its own, and skip versus fail follows the exception's type."""
from __future__ import annotations

import ast
import inspect
import math
import sqlite3
from pathlib import Path

import pytest

from bench.config import RunConfig, RunContext
from bench.engine import pair_run, runner
from bench.engine.labels import LabelIndex
from bench.engine.pair_run import PairRun
from bench.engine.plan import Pair, plan_pair
from bench.engine.runner import Runner
from bench.engine.threads import ScoringPool, Writer
from bench.errors import NotApplicable, WeightsMissing
from bench.store import Store, model_key_for
from bench.store.cache import OutputCache
from bench.summary import RunLog
from run_helpers import crop_pair


def _imports(module) -> set[str]:
    tree = ast.parse(Path(module.__file__).read_text())
    return {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | \
        {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}


def test_pair_run_runs_with_the_collaborators_it_is_given(shared_data, tmp_path):
    from bench.data import resolve_dataset
    from bench.measures import build_measure
    from bench.models import MODELS

    for i in (1, 2):
        crop_pair(shared_data, i, tmp_path / "data" / "rain100h")
    ctx = RunContext(data_root=tmp_path / "data", cache_dir=tmp_path / "cache_dir")
    cfg = RunConfig(models=["rainy"], datasets=["rain100h"], measures=["psnr_rgb"], tasks=[], out=tmp_path / "out",
                    context=ctx)
    dataset = resolve_dataset("rain100h", ctx)
    derainer = MODELS.load("rainy").build(None, ctx, dataset)
    pair = Pair(derainer, dataset, model_key_for(derainer), "f" * 64)
    measures = {"psnr_rgb": build_measure("psnr_rgb", ctx)}
    plan = plan_pair(dataset.samples(), {}, measures, [], None, None)
    assert len(plan.todo) == 2

    log, writer, scoring = RunLog(cfg), Writer(tmp_path / "out" / "store.sqlite"), ScoringPool()
    counts = log.pair(pair.key, pair.ds)
    PairRun(pair, log=log, scoring=scoring, writer=writer, labels=LabelIndex(writer),
            outputs=OutputCache(tmp_path / "out"), counts=counts).run(plan.todo)
    scoring.close()
    writer.close()
    assert counts["forwards"] == 2 and counts["errors"] == 0
    st = Store(tmp_path / "out" / "store.sqlite")
    got = dict(st.db.execute("SELECT image_id, value FROM records WHERE unit='psnr_rgb' AND dataset_fp=?", (pair.fp,)))
    st.close()
    # the rainy input against its ground truth, computed here independently (RGB, peak 255)
    import numpy as np
    from PIL import Image
    for i in ("1", "2"):
        rainy = np.asarray(Image.open(tmp_path / "data" / "rain100h" / "rain" / f"norain-{i}.png").convert("RGB"), float)
        clean = np.asarray(Image.open(tmp_path / "data" / "rain100h" / "norain" / f"norain-{i}.png").convert("RGB"), float)
        assert got[i] == pytest.approx(10 * math.log10(255 ** 2 / np.mean((rainy - clean) ** 2)), abs=1e-3)

    assert "runner" not in inspect.signature(PairRun).parameters
    assert not any(m.startswith("bench.engine.runner") for m in _imports(pair_run))


def test_the_runner_holds_no_store_connection_and_writes_through_the_writer(tmp_path):
    cfg = RunConfig(models=[], datasets=[], measures=[], tasks=[], out=tmp_path, context=RunContext())
    r = Runner(cfg)
    assert not any(isinstance(v, (sqlite3.Connection, Store)) for v in vars(r).values())
    assert "sqlite3" not in _imports(runner)
    log = r.run()
    st = Store(tmp_path / "store.sqlite")
    assert [rid for (rid,) in st.db.execute("SELECT run_id FROM runs")] == [log.run_id]   # finished via the writer
    st.close()


class _Spec:
    def __init__(self, error: Exception):
        self.error = error

    def build(self, variant, ctx, dataset):
        raise self.error


@pytest.mark.parametrize("error, skipped_as", [
    (WeightsMissing("place net.pth in weights/x"), "x"),
    (NotApplicable("no ground truth"), "x on rain100h"),
    (FileNotFoundError("some other file"), None),          # not an Unavailable: a failure, whatever its base
    (RuntimeError("boom"), None),
])
def test_skip_or_fail_follows_the_exception_type(tmp_path, monkeypatch, error, skipped_as):
    from bench.models import MODELS

    class _Dataset:
        name = "rain100h"

    monkeypatch.setattr(MODELS, "load", lambda name: _Spec(error))
    cfg = RunConfig(models=["x"], datasets=[], measures=[], tasks=[], out=tmp_path, context=RunContext())
    r = Runner(cfg)
    try:
        assert r.build_pair("x", _Dataset(), "fp") is None
    finally:
        r.run()            # closes the writer and the scoring pool
    if skipped_as:
        assert [s["name"] for s in r.log.skips] == [skipped_as] and not r.log.failures
    else:
        assert not r.log.skips and len(r.log.failures) == 1 and str(error) in r.log.failures[0]["error"]
