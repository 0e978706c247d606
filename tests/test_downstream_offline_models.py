"""The offline downstream models (FastestDet, ESPNet): checkpoint cards, refusal of a checkpoint whose
sha256 differs, a skip when one is missing, `--all`, and a real `bench run` end to end."""
import shutil

import pandas as pd
import pytest
import yaml

from bench.config import load_suite
from bench.downstream.base import TaskUnavailable
from bench.downstream.tasks import build_task
from bench.errors import ChecksumMismatch, is_skip
from bench.hashing import sha256_file
from bench.models.weights import registry
from contexts import offline_ctx
from run_helpers import run

CARDS = {"fastestdet": ("coco_352", "fastestdet_coco", 420), "espnet": ("cityscapes_p2_q8", "espnet_cityscapes", 189)}


@pytest.mark.parametrize("model", CARDS)
def test_card_matches_the_shared_checkpoint(model, shared_weights):
    import torch

    variant, _, keys = CARDS[model]
    card = registry()[model][variant]
    assert sha256_file(shared_weights / card["file"]) == card["sha256"]
    assert len(torch.load(shared_weights / card["file"], map_location="cpu", weights_only=True)) == card["keys"] == keys
    commit = {"fastestdet": "50473cd155cb088aa4a99e64ff6a4b3c24fa07e1",
              "espnet": "afe71c38edaee3514ca44e0adcafdf36109bf437"}[model]
    assert f"/raw/{commit}/" in card["url"]
    assert card["licence"].startswith({"fastestdet": "BSD-3", "espnet": "MIT"}[model])


def test_fastestdet_card_has_the_published_figures():
    (fig,) = registry()["fastestdet"]["coco_352"]["published_scores"]
    assert (fig["map50"], fig["map50_95"], fig["resolution"]) == (0.253, 0.130, "352x352")


@pytest.mark.parametrize("model", CARDS)
def test_checkpoint_with_another_sha256_is_refused_with_both_hashes(model, shared_weights, tmp_path):
    variant, task_name, _ = CARDS[model]
    card = registry()[model][variant]
    bad = tmp_path / card["file"]
    bad.parent.mkdir(parents=True)
    shutil.copyfile(shared_weights / card["file"], bad)
    with open(bad, "ab") as f:
        f.write(b"\0")                               # still loads as a zip; only the hash tells
    task = build_task(task_name, offline_ctx(weights_dir=tmp_path, cache_dir=tmp_path / "cache"))
    with pytest.raises(ChecksumMismatch) as err:
        task.ensure_ready()
    assert card["sha256"] in str(err.value) and sha256_file(bad) in str(err.value)
    assert not is_skip(err.value)                    # a failure, not a skip


@pytest.mark.parametrize("model", CARDS)
def test_missing_checkpoint_offline_is_a_skip_naming_the_file(model, tmp_path):
    variant, task_name, _ = CARDS[model]
    task = build_task(task_name, offline_ctx(weights_dir=tmp_path, cache_dir=tmp_path / "cache"))
    with pytest.raises(TaskUnavailable) as err:
        task.ensure_ready()
    assert registry()[model][variant]["file"] in str(err.value)


def test_both_join_all_next_to_hog():
    tasks = load_suite()["tasks"]
    assert {"hog_people", "fastestdet_coco", "espnet_cityscapes", "yolo_detect", "semseg_cityscapes"} <= set(tasks)


# (task, its leaderboard columns, its protocol texts, one stored parameter); ESPNet runs at 1024×512
# (~8 s an image on CPU), so its run is in the slow set; FastestDet's keeps the path in the quick one.
RUNS = [
    pytest.param("fastestdet_coco", ("fdet_map50_95", "fdet_map50"), ("FastestDet coco_352 sha256 7f688d478ee4", "maxDets=100"),
                 ("conf", 0.001), id="fastestdet"),
    pytest.param("espnet_cityscapes", ("cseg_miou", "cseg_pixel_acc"), ("ESPNet cityscapes_p2_q8 sha256 343b0e77e854",),
                 ("backend", "espnet"), id="espnet", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("task, columns, protocol_parts, param", RUNS)
def test_bench_run_offline_clean_is_one_rainy_less(task, columns, protocol_parts, param, shared_data, shared_weights, tmp_path):
    """Real trained models, offline, RainCityscapes (no gtFine, no boxes here: pseudo-labels)."""
    out = tmp_path / "res"
    assert run("--models", "rainy,clean", "--datasets", "raincityscapes", "--tasks", task,
               "--measures", "psnr_y", "--limit", "3", "--offline", "--data-root", str(shared_data),
               "--weights-dir", str(shared_weights), "--out", str(out)) == 0
    lb = pd.read_csv(out / "leaderboard.csv").set_index("model")
    for col in columns:
        assert lb.loc["clean", col] == 1.0
        assert 0.0 < lb.loc["rainy", col] < 1.0
    protocol = lb.loc["rainy", "protocol"]
    for needed in (*protocol_parts, "label source pseudo"):
        assert needed in protocol
    import sqlite3

    with sqlite3.connect(out / "store.sqlite") as db:     # the store keeps each task's parameters and protocol
        units = {r[0]: r[1] for r in db.execute("SELECT name, params FROM units WHERE kind = 'task'")}
    assert yaml.safe_load(units[task])[param[0]] == param[1]
