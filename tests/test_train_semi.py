"""Semi-DRDNet's real-rain branch: real photos that belong to a test set are refused unless
--allow-leakage, and a checkpoint trained on them is never evaluated on that set; offline, the
VGG19 of its contrastive terms can be seeded random weights, a labelled ablation. The leakage
check does not confuse unrelated real photographs with Rain100H backgrounds."""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
import torch

from bench.data import leakage as L
from bench.models import MODELS
from bench.models.base import ModelNotApplicable
from bench.train.leakage import LeakageRefused
from bench.train.loop import TrainConfig, train
from bench.train.registry import run_dir
from tests.contexts import offline_ctx
from tests.train_helpers import tiny_pairs

CACHE = Path(tempfile.gettempdir()) / "derain-bench-test-leakage"   # thumbnails survive between runs
# Internet-Data photos an earlier detector matched with Rain100H backgrounds (smooth sky or fog
# gradients; one with the same bright-over-dark layout as norain-45). Looked at: none shows one.
UNRELATED = ("103", "125", "128", "138", "65", "78", "83", "86", "91", "95")


@pytest.mark.slow
def test_unrelated_real_photos_do_not_match_rain100h_backgrounds(shared_data):
    real = L.signatures([shared_data / "real-internet147" / f"{n}.jpg" for n in UNRELATED], CACHE)
    backgrounds = L.signatures(L.image_files(shared_data / "rain100h" / "norain"), CACHE)
    assert L.find_leaks(real, backgrounds) == []


@pytest.fixture(scope="module")
def semi(shared_data, tmp_path_factory):
    torch.set_num_threads(1)
    data = tiny_pairs(shared_data, tmp_path_factory.mktemp("pairs"))
    real = tmp_path_factory.mktemp("real")
    for n in ("1", "2"):   # two Internet-Data photos: a test set's images
        shutil.copy(shared_data / "real-internet147" / f"{n}.jpg", real / f"{n}.jpg")
    ctx = offline_ctx(data_root=shared_data, cache_dir=tmp_path_factory.mktemp("cache"))
    base = dict(model="semi-drdnet", data=f"folder:{data}", steps=2, batch=1, patch=32, val_patch=32, every=2,
                val_count=1, against=(), seed=1, progress=False, real=str(real), random_features=True, name="t")
    return ctx, base


def test_real_photos_from_a_test_set_are_refused(semi):
    ctx, base = semi
    with pytest.raises(LeakageRefused, match="internet-data"):
        train(TrainConfig(**base), ctx)


def test_a_checkpoint_is_not_evaluated_on_the_test_set_it_saw(semi):
    ctx, base = semi
    train(TrainConfig(**{**base, "allow_leakage": True}), ctx)
    name = "t-randvgg"
    prov = json.loads((run_dir(ctx.cache_dir, "semi-drdnet", name) / "provenance.json").read_text())
    assert prov["data"]["leakage"]["seen_test_sets"] == ["internet-data"]
    assert prov["data"]["leakage"]["policy"] == "allowed"
    assert "random weights (seed 1)" in prov["ablation"] and "contrast_background" in prov["ablation"]
    assert prov["feature_net"] == {"net": "vgg19", "weights": "random (torchvision init, seed 1)"}
    assert set(prov["losses"]) >= {"contrast_background", "contrast_rain"}   # the real-rain branch ran
    spec = MODELS.load("semi-drdnet")
    with pytest.raises(ModelNotApplicable, match="internet-data"):
        spec.build(name, ctx, "internet-data")
    assert spec.build(name, ctx, "rain100h").variant == name


def test_the_real_rain_branch_leaves_batch_norm_running_statistics_alone(shared_data):
    from bench.train.recipes import objective, recipe
    from bench.train.features import feature_taps
    from tests.train_helpers import tiny_batch

    torch.manual_seed(0)
    rainy, clean = tiny_batch(shared_data)
    real = torch.rand(2, 3, 32, 32)
    net = MODELS.load("semi-drdnet").build_network().train()
    start = {k: v.clone() for k, v in net.state_dict().items()}
    net.forward_parts(rainy)
    supervised_only = {k: v.clone() for k, v in net.state_dict().items() if "running" in k}
    net.load_state_dict(start)
    fn = objective(recipe("semi-drdnet"), feature_taps("vgg19", pretrained=False))
    terms = fn(net, rainy, clean, real=real, unpaired_clean=clean.flip(0))
    assert terms["contrast_background"].requires_grad
    after = {k: v for k, v in net.state_dict().items() if "running" in k}
    assert all(torch.equal(after[k], supervised_only[k]) for k in after)
    assert any(not torch.equal(after[k], start[k]) for k in after)   # the supervised pass did move them
