"""`bench train` objectives: every recipe's loss goes down on a fixed batch; RDMC's contrastive
ratio alone sends gradient to every trainable parameter (the released code detaches it)."""
from __future__ import annotations

import pytest
import torch

from bench.models.drdnet import DRDNet
from bench.models.prenet import PReNet, PReNetConfig
from bench.models.rdmc import RDMC
from bench.train.features import feature_taps
from bench.train.recipes import objective, recipe, trainable_parameters
from tests.train_helpers import tiny_batch

STEPS = 30


@pytest.fixture(scope="module")
def vgg19_random():
    # ImageNet weights are not available offline; gradient flow and loss mechanics do not need them.
    torch.manual_seed(0)
    return feature_taps("vgg19", pretrained=False)


def _small(model: str) -> torch.nn.Module:
    # Smaller variants of the same classes keep 30 steps within seconds on a shared CPU.
    if model == "prenet":
        return PReNet(PReNetConfig(stages=2))
    if model in ("drdnet", "semi-drdnet"):
        return DRDNet(n_blocks=1)
    return RDMC(stages=1)


@pytest.mark.parametrize("model", ["prenet", "drdnet", "semi-drdnet", "rdmc"])
def test_every_recipe_loss_decreases(model, shared_data, vgg19_random):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    rec = recipe(model)
    net = _small(model).train()
    fn = objective(rec, vgg19_random if rec.feature_net else None)
    rainy, clean = tiny_batch(shared_data)
    extra = {}
    if rec.needs_real:  # stand-ins for the unlabelled real-rain branch (mechanics only)
        extra = {"real": rainy.flip(-1), "unpaired_clean": clean.flip(-2)}
    opt = torch.optim.Adam(trainable_parameters(model, net), lr=1e-3 if model != "rdmc" else 2e-4)
    totals = []
    for _ in range(STEPS):
        opt.zero_grad()
        terms = fn(net, rainy, clean, **extra)
        assert set(rec.terms) <= set(terms), f"{model}: missing terms"
        terms["total"].backward()
        opt.step()
        totals.append(float(terms["total"].detach()))
    first, last = sum(totals[:5]) / 5, sum(totals[-5:]) / 5
    assert last < first - 0.01 * abs(first), f"{model}: loss {first:.4f} -> {last:.4f}"


def test_every_trainable_rdmc_parameter_gets_gradient_from_the_ratio_alone(shared_data, vgg19_random):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    net = RDMC().train()          # the full 3-stage network
    params = trainable_parameters("rdmc", net)
    names = {id(p): n for n, p in net.named_parameters()}
    frozen = [n for n, p in net.named_parameters() if not p.requires_grad]
    assert frozen and all(n.startswith("skip_") for n in frozen)   # only the switched-off skip paths
    rainy, clean = tiny_batch(shared_data, side=32, n=1)
    rec = recipe("rdmc")
    objective(rec, vgg19_random)  # the recipe builds; now the ratio term on its own:
    from bench.models.losses import ContrastiveRatio

    ratio = ContrastiveRatio(vgg19_random)(net(rainy), clean, rainy)
    ratio.backward()
    dead = [names[id(p)] for p in params if p.grad is None or not torch.any(p.grad != 0)]
    assert not dead, f"no gradient from the contrastive term: {dead[:5]} ({len(dead)} of {len(params)})"
    assert len(params) > 100
