"""Defect 3: identity by content. Dataset fingerprints hash file content; a changed dataset is a
new one (nothing reused, the run says what changed); model keys carry code version and I/O policy."""
from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pandas as pd
from PIL import Image

from bench.config import RunContext
from bench.data import resolve_dataset
from bench.data.fingerprint import diff, fingerprint
from bench.models.base import Derainer, IOPolicy
from bench.store import Store, model_key_for
from run_helpers import crop_pair, last_run, run


def _flip_pixel(path: Path) -> None:
    """Same size, same name, different content."""
    img = Image.open(path).convert("RGB")
    px = img.load()
    r, g, b = px[0, 0]
    px[0, 0] = ((r + 128) % 256, g, b)
    img.save(path)


def test_fingerprint_is_by_content_not_by_name_or_place(shared_data, tmp_path):
    a, b = tmp_path / "a" / "set", tmp_path / "b" / "set"
    for i in (1, 2):
        crop_pair(shared_data, i, a)
    shutil.copytree(a, b)
    ctx = RunContext(cache_dir=tmp_path / "cache")
    fa = fingerprint(resolve_dataset(f"folder:{a}", ctx), ctx.cache_dir)
    fb = fingerprint(resolve_dataset(f"folder:{b}", ctx), ctx.cache_dir)
    assert fa.digest == fb.digest and len(fa.manifest) == 4       # another copy, same content
    size = (b / "rain" / "norain-2.png").stat().st_size
    _flip_pixel(b / "rain" / "norain-2.png")
    fc = fingerprint(resolve_dataset(f"folder:{b}", ctx), ctx.cache_dir)
    assert fc.digest != fa.digest
    assert "1 changed (rain/norain-2.png)" in diff(fa.manifest, fc.manifest)
    assert size > 0


def test_changed_dataset_is_a_new_one_and_the_run_says_so(shared_data, tmp_path, capsys):
    data = tmp_path / "data" / "rain100h"
    for i in (1, 2):
        crop_pair(shared_data, i, data)
    out = tmp_path / "res"
    args = ("--models", "rainy", "--datasets", "rain100h", "--measures", "psnr_y", "--tasks", "none",
            "--data-root", str(tmp_path / "data"), "--out", str(out))
    assert run(*args) == 0
    first = pd.read_csv(out / "per_image.csv", dtype={"image_id": str}).set_index("image_id").psnr_y
    _flip_pixel(data / "rain" / "norain-2.png")         # same name, same size: used to reuse old scores
    capsys.readouterr()
    assert run(*args) == 0
    printed = capsys.readouterr().out
    assert "dataset rain100h changed since it was last run" in printed and "1 changed (rain/norain-2.png)" in printed
    assert last_run(out)["work"]["pairs"][0]["skipped"] == 0          # nothing reused from the old version
    second = pd.read_csv(out / "per_image.csv", dtype={"image_id": str}).set_index("image_id").psnr_y
    assert second["1"] == first["1"] and second["2"] != first["2"]
    s = Store(out / "store.sqlite")
    assert len(s.dataset_versions("rain100h")) == 2
    assert len({fp for *_, fp in s.rows()}) == 2                       # both versions kept apart


class _Net(Derainer):
    name = "net"
    weights_sha256 = "ab" * 32


def test_model_key_names_weights_code_version_and_io_policy():
    base = _Net()
    newer = _Net()
    newer.code_version = "2"
    padded = _Net()
    padded.io = replace(IOPolicy(), size_policy="pad", multiple=8)
    keys = {model_key_for(base), model_key_for(newer), model_key_for(padded)}
    assert len(keys) == 3 and all(k.startswith("net#abababababab~") for k in keys)
    assert model_key_for(_Net()) == model_key_for(base)


def test_a_record_made_under_another_protocol_is_not_reused(shared_data, tmp_path):
    data = tmp_path / "data" / "rain100h"
    crop_pair(shared_data, 1, data)
    out = tmp_path / "res"
    args = ("--models", "rainy", "--datasets", "rain100h", "--measures", "psnr_y", "--tasks", "none",
            "--data-root", str(tmp_path / "data"), "--out", str(out))
    assert run(*args) == 0
    assert run(*args) == 0
    assert last_run(out)["work"]["pairs"][0]["skipped"] == 1
    s = Store(out / "store.sqlite")
    s.db.execute("UPDATE records SET protocol='psnr under an older protocol' WHERE unit='psnr_y'")
    s.close()
    assert run(*args) == 0
    pair = last_run(out)["work"]["pairs"][0]
    assert pair["skipped"] == 0 and pair["measured"] == 1
    proto = Store(out / "store.sqlite").db.execute("SELECT protocol FROM records WHERE unit='psnr_y'").fetchone()[0]
    assert proto.startswith("prenet: Y")


def test_weights_hash_is_read_from_old_and_new_model_keys():
    from bench.store import weights_hash

    assert weights_hash("prenet@Rain100H#127c0098787c") == "127c0098787c"
    assert weights_hash("prenet@Rain100H#127c0098787c~0a1b2c3d") == "127c0098787c"
    assert weights_hash("rainy~0a1b2c3d") is None
