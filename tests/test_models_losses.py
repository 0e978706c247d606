"""Training losses: RDMC's VGG taps and ratio term (without the detach bug), SSIM vs the official
SSIM.py, DRD-Net's loss by hand, Semi-DRDNet's dual contrastive objective trains both branches."""
from pathlib import Path

import pytest
import torch
from torchvision.models.vgg import cfgs, make_layers

from bench.models.drdnet import DRDNet
from bench.models.losses import (ContrastiveRatio, DRDNetLoss, DualContrastiveRegulariser, RDMCLoss,
                                 SemiDRDNetObjective, VGGTaps, ssim)
from bench.models.testing import deterministic_input, fill_deterministic

REF = Path(__file__).parent / "reference" / "models"


def vgg19_front():
    """VGG19 feature layers 0..12 (as torchvision builds them, in-place ReLUs) with seeded weights."""
    return fill_deterministic(make_layers(cfgs["E"])[:13], seed=11)


def test_vgg_taps_reproduce_the_official_inplace_loop():
    features, x = vgg19_front(), deterministic_input((1, 3, 32, 32))
    official, h = [], x.clone()
    with torch.no_grad():
        for i in range(13):                 # RDMC's Vgg19.forward with indices [1, 3, 5, 9, 13]
            h = features[i](h)
            if i + 1 in (1, 3, 5, 9, 13):
                official.append(h)
        ours = VGGTaps(features)(x)
    assert len(ours) == 5
    for a, b in zip(ours, official):
        assert torch.equal(a, b)
    assert (official[0] >= 0).all() and (official[4] < 0).any()  # relu1_1 ... conv3_2 pre-ReLU


def test_ratio_value_by_hand_and_gradient_reaches_the_output():
    identity = lambda t: [t]  # noqa: E731
    out = deterministic_input((1, 3, 8, 8), seed=1).requires_grad_()
    gt, rainy = deterministic_input((1, 3, 8, 8), seed=2), deterministic_input((1, 3, 8, 8), seed=3)
    loss = ContrastiveRatio(identity, weights=(1.0,))(out, gt, rainy)
    want = (gt - out).abs().mean() / (rainy - out).abs().mean()
    assert loss.item() == pytest.approx(want.item(), rel=1e-6)
    loss.backward()
    assert out.grad.abs().sum() > 0   # the released code detaches here, so its gradient is zero


def test_ssim_matches_the_official_ssim_py():
    a, b = deterministic_input((1, 3, 24, 40), seed=7), deterministic_input((1, 3, 24, 40), seed=8)
    assert ssim(a, b).item() == pytest.approx(float((REF / "ssim_official.txt").read_text()), abs=1e-6)
    assert ssim(a, a).item() == pytest.approx(1.0, abs=1e-6)


def test_drdnet_and_rdmc_supervised_losses():
    gt = deterministic_input((1, 3, 16, 16), seed=4)
    parts = {"rain_free": gt + 0.2, "out": gt - 0.05}
    assert DRDNetLoss()(parts, gt).item() == pytest.approx(0.1 * 0.2 + 0.05, rel=1e-5)
    out = (gt + 0.1).requires_grad_()
    rainy = (gt + 0.5).clamp(0, 1)
    loss = RDMCLoss(VGGTaps(vgg19_front()))(out, gt, rainy)
    assert loss.item() > 0.1 * 0.01 and torch.isfinite(loss)
    loss.backward()
    assert out.grad.abs().sum() > 0


def test_dual_regulariser_vanishes_when_every_positive_is_the_anchor():
    reg = DualContrastiveRegulariser(VGGTaps(vgg19_front()))
    a = deterministic_input((1, 3, 16, 16), seed=5)
    negatives = deterministic_input((2, 3, 16, 16), seed=6)
    others = deterministic_input((3, 3, 16, 16), seed=7)
    assert reg(a, others, negatives).item() > 0.1
    # Batched vs single-image convolutions differ in the last bits only.
    assert reg(a, a.repeat(2, 1, 1, 1), negatives).item() == pytest.approx(0.0, abs=1e-4)


def test_semi_drdnet_objective_trains_both_branches():
    net = fill_deterministic(DRDNet(n_blocks=1), seed=2).train()
    objective = SemiDRDNetObjective(VGGTaps(vgg19_front()))
    clean = deterministic_input((2, 3, 16, 16), seed=20)
    rainy = (clean + 0.3 * deterministic_input((2, 3, 16, 16), seed=21)).clamp(0, 1)
    terms = objective(net, rainy, clean, real_rainy=deterministic_input((2, 3, 16, 16), seed=22),
                      unpaired_clean=deterministic_input((3, 3, 16, 16), seed=23))
    assert all(torch.isfinite(v) for v in terms.values())
    assert terms["total"].item() == pytest.approx(
        (terms["supervised"] + 0.1 * terms["background"] + 0.1 * terms["rain"]).item(), rel=1e-6)
    terms["background"].backward(retain_graph=True)
    assert net.back_net[0].tail[0].weight.grad.abs().sum() > 0
    net.zero_grad()
    terms["rain"].backward()
    assert net.rain_net[0].tail[0].weight.grad.abs().sum() > 0
    assert net.back_net[0].tail[0].weight.grad is None or net.back_net[0].tail[0].weight.grad.abs().sum() == 0
