"""DRD-Net / Semi-DRDNet and RDMC against outputs of the official code (tests/reference/models/)."""
from pathlib import Path

import numpy as np
import pytest
import torch

from bench.models.base import IOPolicy
from bench.models.drdnet import DRDNET, SEMI_DRDNET, DRDNet
from bench.models.rdmc import IO_OFFICIAL_CROP, IO_PAD, RDMC, SPEC, SPEC_OFFICIAL_CROP
from bench.models.testing import deterministic_input, deterministic_state_dict
from bench.models.weights import WeightsMissing
from contexts import offline_ctx

REF = Path(__file__).parent / "reference" / "models"
TOL = 1e-5


@pytest.fixture(scope="module")
def rdmc_checkpoint(tmp_path_factory):
    """RDMC with deterministic weights, saved once (80 MB) for the derainer tests."""
    net = RDMC().eval()
    net.load_state_dict(deterministic_state_dict(official_shapes("rdmc"), seed=0), strict=True)
    path = tmp_path_factory.mktemp("rdmc") / "rdmc_det.pth"
    torch.save(net.state_dict(), path)
    return net, path


@pytest.fixture(scope="module")
def drd_state():
    return deterministic_state_dict(official_shapes("drdnet"), seed=0)


def official_keys(name):
    return [line.split()[0] for line in (REF / f"{name}_keys.txt").read_text().splitlines()]


def official_shapes(name):
    out = {}
    for line in (REF / f"{name}_keys.txt").read_text().splitlines():
        key, shape = line.split()
        out[key] = () if shape == "scalar" else tuple(int(s) for s in shape.split("x"))
    return out


@pytest.mark.parametrize("name,factory", [("drdnet", DRDNet), ("rdmc", RDMC)])
def test_state_dict_keys_and_shapes_match_official(name, factory):
    ours = factory().state_dict()
    assert list(ours) == official_keys(name)
    assert {k: tuple(v.shape) for k, v in ours.items()} == official_shapes(name)


def test_inputs_are_the_deterministic_ones():
    # The reference inputs were produced by the same function; a change to it would be caught here.
    assert np.array_equal(np.load(REF / "drdnet_input.npy"), deterministic_input((1, 3, 24, 40)).numpy())
    assert np.array_equal(np.load(REF / "rdmc_input.npy"), deterministic_input((1, 3, 32, 48)).numpy())


def test_drdnet_matches_official_outputs(drd_state):
    net = DRDNet().eval()
    net.load_state_dict(drd_state, strict=True)
    x = torch.from_numpy(np.load(REF / "drdnet_input.npy"))
    with torch.no_grad():
        parts = net.forward_parts(x)
    ref = torch.from_numpy(np.load(REF / "drdnet_official.npy"))
    ours = torch.cat([parts["rain_free"], parts["out"], parts["detail"]])
    assert ref.abs().max() > 1.0            # weights are not trivially zero
    # Outputs reach 5.8 here, so float32 summation order (which differs between CPU kernels)
    # alone moves them by ~1e-5: the tolerance is relative to the output's scale.
    assert (ours - ref).abs().max().item() <= TOL * float(ref.abs().max())


def test_rdmc_matches_official_output_default_configuration(rdmc_checkpoint):
    net = rdmc_checkpoint[0]
    x = torch.from_numpy(np.load(REF / "rdmc_input.npy"))
    with torch.no_grad():
        y = net(x)
    ref = torch.from_numpy(np.load(REF / "rdmc_official.npy"))
    assert (y - x).abs().max() > 0.05        # the network does something beyond the global skip
    assert (y - ref).abs().max().item() <= TOL


def test_rdmc_matches_official_with_cross_level_skips_and_alphas():
    net = RDMC(skip_index=((1, 1, 1, 1), (1, 1, 1, 1))).eval()
    state = deterministic_state_dict(official_shapes("rdmc"), seed=0)
    # Architecture tensors travel as optional checkpoint extras (not in the official state_dict).
    state.update(alphas_upsample=torch.tensor([[0.3, -0.2]]), alphas_skipup=torch.tensor([0.5, -0.25, 0.75, 0.1]),
                 alphas_skipdown=torch.tensor([0.2, 0.4, -0.3, 0.6]))
    net.load_state_dict(state, strict=True)
    x = torch.from_numpy(np.load(REF / "rdmc_input.npy"))
    with torch.no_grad():
        y = net(x)
    ref = torch.from_numpy(np.load(REF / "rdmc_skips_official.npy"))
    assert (y - ref).abs().max().item() <= TOL
    assert (ref - torch.from_numpy(np.load(REF / "rdmc_official.npy"))).abs().max() > 1e-3  # skips matter


def test_rdmc_rejects_sides_not_divisible_by_16():
    with pytest.raises(ValueError, match="divisible by 16"):
        RDMC()(torch.zeros(1, 3, 40, 48))


def test_rdmc_size_policies_pad_and_official_centred_crop():
    assert SPEC.io == IO_PAD and IO_PAD.size_policy == "pad" and IO_PAD.multiple == 16
    assert SPEC_OFFICIAL_CROP.io == IO_OFFICIAL_CROP and SPEC_OFFICIAL_CROP.name == "rdmc-crop"
    # Official crop_torch_image(d=32): keep h - h%32, offset (h%32)//2 (Rain100H 321×481 → 320×480 at 0,0).
    assert IO_OFFICIAL_CROP.crop_box(321, 481) == (0, 0, 320, 480)
    assert IO_OFFICIAL_CROP.crop_box(100, 70) == (2, 3, 96, 64)
    assert IOPolicy().crop_box(100, 70) == (0, 0, 100, 70)


def test_rdmc_derainer_pads_and_crops(rdmc_checkpoint):
    net, ckpt = rdmc_checkpoint
    ctx = offline_ctx()
    x = deterministic_input((1, 3, 37, 50))
    padded = SPEC.build(str(ckpt), ctx).restore(x)
    assert tuple(padded.shape[-2:]) == (37, 50) and 0 <= padded.min() and padded.max() <= 1
    cropper = SPEC_OFFICIAL_CROP.build(str(ckpt), ctx)
    assert cropper.describe()["io"]["size_policy"] == "crop"
    # The crop derainer sees exactly the centred 32×32 crop: compare with the bare network.
    top, left, h, w = IO_OFFICIAL_CROP.crop_box(37, 50)
    with torch.no_grad():
        want = net(x[..., top: top + h, left: left + w]).clamp(0, 1)
    got = cropper.restore(x)
    assert got.shape == want.shape == (1, 3, 32, 32)
    assert torch.allclose(got, want, atol=1e-6)


@pytest.mark.parametrize("spec", [DRDNET, SEMI_DRDNET, SPEC])
def test_models_without_published_weights(spec, tmp_path):
    assert spec.published_weights is False and spec.weights == ()
    with pytest.raises(WeightsMissing, match="no published weights"):
        spec.build(None, offline_ctx(cache_dir=tmp_path))   # no own-trained runs here either


def test_semi_drdnet_runs_from_an_explicit_checkpoint(tmp_path, drd_state):
    net = DRDNet()
    net.load_state_dict(drd_state)
    ckpt = tmp_path / "semi.pth"
    torch.save({f"module.{k}": v for k, v in drd_state.items()}, ckpt)  # DataParallel-style keys
    d = SEMI_DRDNET.build(str(ckpt), offline_ctx())
    assert d.name == "semi-drdnet" and d.key.startswith("semi-drdnet@semi#")
    x = deterministic_input((1, 3, 20, 28))
    with torch.no_grad():
        want = net.eval()(x).clamp(0, 1)
    assert torch.equal(d.restore(x), want)


def test_checkpoint_with_wrong_keys_is_refused(tmp_path, drd_state):
    state = dict(drd_state)
    state.pop("back_net.0.tail.0.bias")
    ckpt = tmp_path / "broken.pth"
    torch.save(state, ckpt)
    with pytest.raises(RuntimeError, match="back_net.0.tail.0.bias"):
        DRDNET.build(str(ckpt), offline_ctx())
