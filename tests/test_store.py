"""The store's named operations (the rules both executors share), the output-PNG cache layout and
the migration from a frozen version-1 file."""
from __future__ import annotations

import ast
import hashlib
import os
import sqlite3
from pathlib import Path

import pytest

from bench.store import IMAGE_UNIT, SCHEMA, SCHEMA_VERSION, Store
from bench.store.cache import OutputCache
from bench.store.migrate import SCHEMA_V1, SCHEMA_V2

KEY, OTHER, FP = "prenet@Rain100H#127c0098787c~db1325cd", "rainy~015c8905", "7b09db53020d481d506ed26471"


def _put(st: Store, key: str, image_id: str, unit: str, fp: str = FP, **kw) -> None:
    st.put(model_key=key, model=key.split("@")[0].split("~")[0], variant="", dataset="rain100h",
           image_id=image_id, unit=unit, dataset_fp=fp, **kw)


def _records(st: Store) -> set[tuple]:
    return set(st.db.execute("SELECT model_key, dataset_fp, image_id, unit, error FROM records"))


def test_output_cache_paths_are_the_documented_layout(tmp_path):
    c = OutputCache(tmp_path)
    model_dir = tmp_path / "cache" / "prenet_Rain100H_127c0098787c~db1325cd"
    assert c.path(KEY, "rain100h", "7", FP) == model_dir / "rain100h" / FP[:16] / "7.png"
    assert c.path(KEY, "rain100h", "7", "") == model_dir / "rain100h" / "7.png"       # version-1 layout
    assert c.legacy_path(KEY, "rain100h", "7") == model_dir / "rain100h" / "7.png"
    odd = c.path(KEY, "my set/α", "7", FP).parent.parent.name      # names made safe, kept apart by a hash
    assert odd == "my_set-" + hashlib.sha1("my set/α".encode()).hexdigest()[:6]
    assert c.pair_dirs(KEY, "my set/α") == [model_dir / odd, model_dir / "my set/α"]   # what --fresh removes


def test_output_cache_newest_version_wins_else_legacy(tmp_path):
    c = OutputCache(tmp_path)
    assert c.newest(KEY, "rain100h", "1") == c.legacy_path(KEY, "rain100h", "1")
    old, new = c.path(KEY, "rain100h", "1", "a" * 16), c.path(KEY, "rain100h", "1", "b" * 16)
    for p, t in ((new, 2_000_000_000), (old, 1_000_000_000)):
        p.parent.mkdir(parents=True)
        p.write_bytes(b"png")
        os.utime(p, (t, t))
    assert c.newest(KEY, "rain100h", "1") == new
    assert set(c.files()) == {str(p.relative_to(tmp_path)) for p in (old, new)}


def test_forget_pair_removes_records_deviations_and_outputs_of_that_pair_only(tmp_path):
    st = Store(tmp_path / "store.sqlite")
    for key in (KEY, OTHER):
        _put(st, key, "1", "psnr_y", value=30.0)
        _put(st, key, "2", "psnr_y", fp="", value=31.0)                  # an older dataset version
        st.put_deviation(key, "rain100h", "1", "tiled", {"tile": 54}, "r", FP)
        png = st.outputs.path(key, "rain100h", "1", FP)
        png.parent.mkdir(parents=True)
        png.write_bytes(b"png")
    st.forget_pair(KEY, "rain100h")
    assert {r[0] for r in _records(st)} == {OTHER}
    assert set(st.deviations()["model_key"]) == {OTHER}
    assert not st.outputs.path(KEY, "rain100h", "1", FP).exists()
    assert st.outputs.path(OTHER, "rain100h", "1", FP).exists()
    st.close()


def test_forget_image_error_and_deviations_touch_one_image_and_keep_crops(tmp_path):
    st = Store(tmp_path / "store.sqlite")
    for i in ("1", "2"):
        _put(st, KEY, i, IMAGE_UNIT, error="deraining failed")
        st.put_deviation(KEY, "rain100h", i, "tiled", {"tile": 54}, "r", FP)
        st.put_deviation(KEY, "rain100h", i, "crop", {"box": [0, 0, 4, 4]}, "r", FP)
    st.forget_image_error(KEY, "rain100h", "1", FP)
    st.forget_deviations(KEY, "rain100h", "1", FP)
    assert _records(st) == {(KEY, FP, "2", IMAGE_UNIT, "deraining failed")}
    devs = {(r.image_id, r.kind) for r in st.deviations().itertuples()}
    assert devs == {("1", "crop"), ("2", "crop"), ("2", "tiled")}
    st.close()


def test_merge_shard_applies_the_finished_image_rule_in_one_go(tmp_path):
    main = Store(tmp_path / "main.sqlite")
    for i in ("1", "2"):                     # both images failed earlier and were tiled
        _put(main, KEY, i, IMAGE_UNIT, error="old failure")
        main.put_deviation(KEY, "rain100h", i, "tiled", {"tile": 54}, "old", FP)
    main.put_run("old", 1.0, 2.0, {})
    shard = Store(tmp_path / "shard.sqlite")
    _put(shard, KEY, "1", "psnr_y", value=30.5, run_id="new")       # image 1 finished
    _put(shard, KEY, "2", "psnr_y", value=29.0, run_id="new")       # image 2 scored, then failed again
    _put(shard, KEY, "2", IMAGE_UNIT, error="new failure", run_id="new")
    shard.put_run("new", 3.0, 4.0, {})
    shard.close()
    rows = main.merge_shard(tmp_path / "shard.sqlite")
    assert rows >= 3
    assert _records(main) == {(KEY, FP, "1", "psnr_y", None), (KEY, FP, "2", "psnr_y", None),
                              (KEY, FP, "2", IMAGE_UNIT, "new failure")}
    assert {(r.image_id, r.kind) for r in main.deviations().itertuples()} == {("2", "tiled")}
    assert [r for (r,) in main.db.execute("SELECT run_id FROM runs")] == ["old"]   # the driver records its own
    main.close()


def test_migration_from_a_frozen_version_1_file(tmp_path):
    path = tmp_path / "store.sqlite"
    db = sqlite3.connect(path)
    db.executescript(SCHEMA_V1)
    db.execute("INSERT INTO records VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
               (KEY, "prenet", "Rain100H", "rain100h", "1", "psnr_y", 30.25, None, "Y, float", None, "r1", 1.0))
    db.execute("INSERT INTO labels VALUES (?,?,?,?,?,?)", ("rain100h", "hog_people", "1", "gt", "[]", None))
    db.commit()
    db.close()
    st = Store(path)
    assert st.migrated_from == 1 and st.schema_version == SCHEMA_VERSION == 2
    assert _records(st) == {(KEY, "", "1", "psnr_y", None)}
    assert st.labels("rain100h", "hog_people", "") == {"1": []}
    assert st.units()["psnr_y"].protocol == "Y, float"
    cols = {t: [c[1] for c in st.db.execute(f"PRAGMA table_info({t})")] for t in ("records", "labels", "deviations")}
    fresh = sqlite3.connect(":memory:")
    fresh.executescript(SCHEMA_V2)
    assert cols == {t: [c[1] for c in fresh.execute(f"PRAGMA table_info({t})")] for t in cols}
    st.close()


def test_migration_uses_its_frozen_schemas_and_does_not_import_the_store():
    source = Path(__import__("bench.store.migrate", fromlist=["x"]).__file__).read_text()
    imported = {n.module for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ImportFrom)}
    assert not any(m == "bench.store" for m in imported)
    if SCHEMA_VERSION == 2:        # today's schema is version 2; a version 3 gets its own frozen copy
        assert SCHEMA.strip() == SCHEMA_V2.strip()


def test_a_transaction_rolls_back_as_a_whole(tmp_path):
    st = Store(tmp_path / "store.sqlite")
    with pytest.raises(RuntimeError):
        with st.transaction():
            _put(st, KEY, "1", "psnr_y", value=1.0)
            raise RuntimeError("stop")
    assert _records(st) == set()
    st.close()
