"""Defect 2: reports read what produced each column from the store (units table), never today's
task YAML; two settings of one task are never merged. Also: a schema-1 store is migrated."""
from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import bench.config
from bench.cli import main
from bench.report.tables.leaderboard import build
from bench.store import Store
from store_fixtures import hog_params, put_hog_unit, put_measure_units

REPO = Path(__file__).resolve().parents[1]
BOX = {"height": 64, "width": 96, "boxes": [[10.0, 10.0, 40.0, 60.0]], "classes": [0], "names": {"0": "person"}}


def _pred(*scores):
    return {**BOX, "boxes": [[10.0 + i, 10.0, 40.0, 60.0] for i in range(len(scores))],
            "classes": [0] * len(scores), "scores": list(scores)}


def test_report_from_a_store_alone_matches_with_the_task_yamls_hidden(shared_data, tmp_path, monkeypatch):
    out = tmp_path / "res"
    assert main(["run", "--models", "rainy,clean", "--datasets", "raincityscapes", "--measures", "psnr_y",
                 "--tasks", "hog_people", "--limit", "2", "--data-root", str(shared_data), "--out", str(out)]) == 0
    assert main(["report", "--out", str(out)]) == 0
    before = (out / "leaderboard.md").read_text()
    assert "HOG mAP50-95" in before and "1.0000" in before      # clean scores 1 against its own boxes
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    shutil.copy(out / "store.sqlite", moved / "store.sqlite")
    empty = tmp_path / "no-configs"
    (empty / "tasks").mkdir(parents=True)
    monkeypatch.setattr(bench.config, "packaged_dir", lambda top: empty / top)   # no tasks/ folder here
    monkeypatch.setenv("BENCH_CONFIG", str(empty))

    def refuse(*a, **k):
        raise AssertionError("a report must not build tasks or measures from today's configs")
    monkeypatch.setattr("bench.downstream.tasks.build_task", refuse)
    monkeypatch.setattr("bench.measures.build_measure", refuse)
    assert main(["report", "--out", str(moved)]) == 0
    assert (moved / "leaderboard.md").read_text() == before


def test_report_modules_do_not_import_the_runner():
    code = ("import sys, bench.report.build, bench.commands.report, bench.commands.figures, bench.report.tables.leaderboard, bench.report.outputs, bench.report.tables.layouts, "
            "bench.report.figures.specs; print(any(m.startswith('bench.engine') for m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert done.stdout.strip() == "False", done.stderr


def test_task_scores_use_the_recorded_params_not_todays_yaml(tmp_path):
    """Label source none: the proxy counts boxes with score >= proxy_conf. Today's YAML says 0.5;
    the predictions were made (and the unit recorded) with 0.95: one box per image, not two."""
    assert hog_params()["proxy_conf"] == 0.5
    s = Store(tmp_path / "store.sqlite")
    put_hog_unit(s, "hog_people#11111111", "real", source="none", params={**hog_params(), "proxy_conf": 0.95})
    for i in ("1", "2"):
        s.put(model_key="m", model="m", variant=None, dataset="real", image_id=i, unit="hog_people#11111111",
              payload=_pred(0.9, 0.99))
    row = build(s).table.iloc[0]
    assert row["hog_proxy_count"] == 1.0


def test_two_settings_of_one_task_get_separate_columns(tmp_path):
    s = Store(tmp_path / "store.sqlite")
    put_measure_units(s, ("psnr_y",), "p")
    for unit, conf in (("hog_people#aaaaaaaa", 0.5), ("hog_people#bbbbbbbb", 0.95)):
        put_hog_unit(s, unit, "real", source="none", params={**hog_params(), "proxy_conf": conf})
        for i in ("1", "2"):
            s.put(model_key="m", model="m", variant=None, dataset="real", image_id=i, unit=unit,
                  payload=_pred(0.9, 0.99))
    lb = build(s)
    row = lb.table.iloc[0]
    assert row["hog_proxy_count#aaaaaaaa"] == 2.0 and row["hog_proxy_count#bbbbbbbb"] == 1.0
    assert "hog_proxy_count" not in lb.table.columns
    assert any("2 settings" in w for w in lb.warnings)


V1_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    model_key TEXT NOT NULL, model TEXT NOT NULL, variant TEXT, dataset TEXT NOT NULL,
    image_id TEXT NOT NULL, unit TEXT NOT NULL, value REAL, payload TEXT, protocol TEXT,
    error TEXT, run_id TEXT, created REAL,
    PRIMARY KEY (model_key, dataset, image_id, unit)
);
CREATE TABLE IF NOT EXISTS labels (
    dataset TEXT NOT NULL, task TEXT NOT NULL, image_id TEXT NOT NULL, source TEXT,
    payload TEXT, error TEXT,
    PRIMARY KEY (dataset, task, image_id)
);
CREATE TABLE IF NOT EXISTS models (
    model_key TEXT PRIMARY KEY, model TEXT, variant TEXT, weights_sha256 TEXT, info TEXT
);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, started REAL, finished REAL, record TEXT
);
"""


def test_schema_1_store_is_migrated_and_reports(tmp_path):
    """A store as the code before schema versions wrote it (its SQL above): values, task
    predictions and labels survive; the task's settings are taken from today's YAML only because
    its settings hash (the old rule: sha1 of {params, type}) equals the one in the unit key."""
    params = hog_params()
    digest = hashlib.sha1(json.dumps({"params": params, "type": "hog_people"}, sort_keys=True,
                                     default=str).encode()).hexdigest()[:8]
    unit = f"hog_people#{digest}"
    out = tmp_path / "results"
    out.mkdir()
    db = sqlite3.connect(out / "store.sqlite")
    db.executescript(V1_SCHEMA)
    rec = "INSERT INTO records VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
    for key, v, pred in (("rainy", 19.0, _pred()), ("clean", 100.0, _pred(0.9))):
        for i in ("a", "b"):
            db.execute(rec, (key, key, "", "rcs", i, "psnr_y", v, None, "old psnr protocol", None, "r0", 0.0))
            db.execute(rec, (key, key, "", "rcs", i, unit, None, json.dumps(pred), "old hog protocol", None, "r0", 0.0))
    label = {k: v for k, v in _pred(0.9).items() if k != "scores"}
    for i in ("a", "b"):
        db.execute("INSERT INTO labels VALUES (?,?,?,?,?,?)", ("rcs", unit, i, "pseudo", json.dumps(label), None))
    db.commit()
    db.close()
    s = Store(out / "store.sqlite")
    assert s.migrated_from == 1 and s.schema_version == 2
    assert s.units()[unit].type == "hog_people" and s.units()[unit].params == params
    t = build(s).table.set_index("model")
    assert t.loc["rainy", "psnr_y"] == 19.0 and t.loc["rainy", "hog_map50_95"] == 0.0
    assert t.loc["clean", "hog_map50_95"] == pytest.approx(1.0)
    assert "old hog protocol" in t.loc["clean", "protocol"]
    s.close()
    assert main(["report", "--out", str(out)]) == 0
    assert Store(out / "store.sqlite").schema_version == 2     # reopening does not migrate twice
