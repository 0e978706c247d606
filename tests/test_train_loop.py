"""`bench train` loop: resume is bitwise on CPU, checkpoints land in the local registry with their
provenance and `bench run` resolves MODEL@NAME; unpublished models' skip messages name the train
command; the perceptual ablation is labelled; missing feature nets name the file to place."""
from __future__ import annotations

import json

import pytest
import torch

from bench.models import MODELS
from bench.models.weights import WeightsMismatch, WeightsMissing
from bench.train.features import resolve_feature_weights
from bench.train.loop import TrainConfig, train
from bench.train.recipes import recipe
from tests.contexts import offline_ctx
from tests.train_helpers import tiny_pairs


def _cfg(data, **kw) -> TrainConfig:
    base = dict(model="prenet", data=f"folder:{data}", steps=4, batch=2, patch=32, val_patch=32, every=2,
                val_count=1, against=(), seed=3, progress=False)
    return TrainConfig(**{**base, **kw})


@pytest.fixture(scope="module")
def trained(shared_data, tmp_path_factory):
    torch.set_num_threads(1)
    data = tiny_pairs(shared_data, tmp_path_factory.mktemp("pairs"))
    cache = tmp_path_factory.mktemp("cache")
    ctx = offline_ctx(cache_dir=cache)
    straight = train(_cfg(data, name="straight"), ctx)
    train(_cfg(data, name="resumed", stop_at=2), ctx)
    resumed = train(_cfg(data, name="resumed", resume=True), ctx)
    return ctx, cache, straight, resumed


def test_resume_continues_bit_identically(trained):
    _, cache, straight, resumed = trained
    a = torch.load(cache / "trained/prenet/straight/checkpoint.pth", weights_only=True)
    b = torch.load(cache / "trained/prenet/resumed/checkpoint.pth", weights_only=True)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert straight["history"]["loss"] == resumed["history"]["loss"] and len(resumed["history"]["loss"]) == 4
    fresh = MODELS.load("prenet").build_network()
    assert not all(torch.equal(a[k], fresh.state_dict()[k]) for k in a)   # it did train


def test_checkpoint_is_registered_with_provenance(trained):
    ctx, cache, _, _ = trained
    d = cache / "trained/prenet/straight"
    prov = json.loads((d / "provenance.json").read_text())
    for key in ("model", "data", "losses", "steps", "seed", "git_commit", "wall_time_s", "device"):
        assert key in prov
    assert prov["losses"] == {"neg_ssim": 1.0} and prov["steps_done"] == 4 and prov["seed"] == 3
    assert len(prov["data"]["fingerprint"]["sha256"]) == 64 and "leakage" in prov["data"]
    assert (d / "loss_curve.png").stat().st_size > 1000
    der = MODELS.load("prenet").build("straight", ctx)
    assert der.weights_sha256 == prov["checkpoint_sha256"] and der.label == "prenet@straight"
    out = der.restore(torch.rand(1, 3, 24, 24))
    assert out.shape == (1, 3, 24, 24)
    prov["checkpoint_sha256"] = "0" * 64
    (d / "provenance.json").write_text(json.dumps(prov))
    with pytest.raises(WeightsMismatch):
        MODELS.load("prenet").build("straight", offline_ctx(cache_dir=cache))


@pytest.mark.parametrize("model", ["drdnet", "semi-drdnet", "rdmc"])
def test_skip_message_names_the_train_command(model, tmp_path):
    with pytest.raises(WeightsMissing, match=rf"python -m bench train {model} --data bsds500-heavy"):
        MODELS.load(model).build(None, offline_ctx(cache_dir=tmp_path))


def test_without_perceptual_is_a_labelled_ablation_and_missing_vgg_names_the_file(tmp_path):
    assert "ratio" not in recipe("rdmc", without_perceptual=True).terms
    assert TrainConfig(model="rdmc", data="x", name="a", without_perceptual=True).run_name() == "a-noperc"
    ctx = offline_ctx(weights_dir=tmp_path / "w", cache_dir=tmp_path / "c")
    with pytest.raises(WeightsMissing, match=r"vgg19-dcbb9e9d\.pth.*--without-perceptual"):
        resolve_feature_weights("vgg19", ctx)


def test_semi_drdnet_needs_a_real_rain_folder(tmp_path):
    with pytest.raises(ValueError, match="--real"):
        train(TrainConfig(model="semi-drdnet", data="x", progress=False), offline_ctx(cache_dir=tmp_path))


def test_own_trained_rows_carry_their_budget_into_the_report(trained, shared_data, tmp_path, monkeypatch):
    from bench.cli import main

    ctx, cache, _, _ = trained
    der = MODELS.load("prenet").build("resumed", ctx)
    prov = der.describe()["weights_provenance"]
    assert prov["source"] == "own-trained" and prov["budget"].startswith("4 steps × batch 2 × 32 px")
    monkeypatch.setenv("BENCH_CACHE", str(cache))
    data, out = tiny_pairs(shared_data, tmp_path / "eval"), tmp_path / "res"
    assert main(["run", "--models", "rainy,prenet@resumed", "--datasets", f"folder:{data}", "--measures",
                 "psnr_y", "--tasks", "none", "--out", str(out), "--offline"]) == 0
    assert main(["report", "--out", str(out), "--no-stats"]) == 0
    md = (out / "leaderboard.md").read_text()
    assert "Weights of" in md and "own-trained: 4 steps × batch 2 × 32 px" in md
