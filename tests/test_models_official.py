"""PReNet, SAPNet and NLCL against their official checkpoints and official implementations.

References in tests/reference/models/ were produced by running the official code (see
make_reference.py there); they are not produced by anything in this repository.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from bench.imageio import read_rgb, to_tensor, to_uint8
from bench.models import MODELS
from bench.models.nlcl import RAIN_LAYER_SPEC
from bench.models.weights import WeightsResolver, load_state_dict, resolver as weights_resolver
from contexts import offline_ctx
from reference_cases import assert_expected_cases

REF = Path(__file__).parent / "reference" / "models"
META = json.loads((REF / "reference.json").read_text())

# (registry name, weights variant, reference file stem, the crops make_reference.py ran it on)
OFFICIAL = [
    ("prenet", "Rain100H", "prenet-Rain100H", ("96x128", "57x83")),
    ("prenet", "real", "prenet-real", ("57x83",)),
    ("sapnet", "Rain100H", "sapnet-Rain100H", ("96x128", "57x83")),
    ("nlcl", "RealRain", "nlcl-RealRain", ("96x128", "57x83")),
]
CHECKPOINTS = [("prenet", v) for v in ("Rain100H", "Rain100L", "Rain1400", "real")] + \
              [("sapnet", "Rain100H"), ("nlcl", "RealRain"), ("nlcl", "RealRain-rain-layer")]


@pytest.fixture(scope="module")
def ctx(shared_weights):
    torch.set_num_threads(min(2, torch.get_num_threads()))
    return offline_ctx(weights_dir=shared_weights)


@pytest.fixture(scope="module")
def resolver(ctx) -> WeightsResolver:
    return weights_resolver(ctx)


def _spec(model: str, variant: str):
    return RAIN_LAYER_SPEC if variant == "RealRain-rain-layer" else MODELS.load(model)


@pytest.mark.parametrize("model,variant", CHECKPOINTS)
def test_official_checkpoint_keys_match_exactly(resolver, model, variant):
    spec = _spec(model, variant)
    entry, path = resolver.resolve(variant, model=model)      # also verifies the registered sha256
    net = spec.network_for_weights.get(variant, spec.build_network)() \
        if hasattr(spec, "network_for_weights") else spec.build_network()
    state = load_state_dict(path, strip_prefix=entry.get("strip_prefix", "module."))
    result = net.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert len(state) == entry["keys"], "key count differs from configs/weights/<model>.yaml"


def test_wrong_key_fails_loudly_naming_it(resolver):
    entry, path = resolver.resolve("Rain100H", model="prenet")
    state = load_state_dict(path)
    state["conv_x.0.weight"] = state.pop("conv_i.0.weight")
    net = MODELS.load("prenet").build_network()
    with pytest.raises(RuntimeError) as err:
        net.load_state_dict(state, strict=True)
    assert "conv_x.0.weight" in str(err.value) and "conv_i.0.weight" in str(err.value)


def test_module_prefixed_sapnet_checkpoint_is_stripped(resolver):
    _, path = resolver.resolve("Rain100H", model="sapnet")
    raw = torch.load(path, map_location="cpu", weights_only=True)
    assert all(k.startswith("module.") for k in raw)           # as saved from nn.DataParallel
    assert not any(k.startswith("module.") for k in load_state_dict(path))


def _crop(shared_data, crop):
    t, l, h, w = crop
    return read_rgb(shared_data / META["image"])[t:t + h, l:l + w].copy()


def test_our_rgb_input_is_what_the_official_scripts_feed(shared_data):
    """Official scripts read BGR with cv2 and flip to RGB; make_reference.py stored that array."""
    inputs = np.load(REF / "inputs.npz")
    for name, crop in META["crops"].items():
        assert np.array_equal(_crop(shared_data, crop), inputs[name])
        # a BGR-fed pipeline would fail here (the crop is not grey)
        assert not np.array_equal(_crop(shared_data, crop)[..., ::-1], inputs[name])


def test_every_reference_is_a_case():
    """reference.json's outputs (the rain layer has its own test) are exactly OFFICIAL's, all on disk."""
    listed = [f"{stem}_{name}" for _, _, stem, crops in OFFICIAL for name in crops]
    written = [k for k in META["outputs"] if "rain-layer" not in k]
    assert_expected_cases(written, listed, "tests/reference/models/reference.json outputs")
    missing = [f"{s}.npy" for s in listed if not (REF / f"{s}.npy").exists()]
    assert not missing, f"tests/reference/models/: reference files missing: {missing}"


@pytest.mark.parametrize("model,variant,stem,crops", OFFICIAL, ids=[o[2] for o in OFFICIAL])
def test_output_matches_official_implementation(ctx, shared_data, model, variant, stem, crops):
    derainer = MODELS.load(model).build(variant, ctx)
    for name in crops:
        ref = np.load(REF / f"{stem}_{name}.npy")
        out = derainer.restore(to_tensor(_crop(shared_data, META["crops"][name])))[0].numpy()
        assert out.shape == ref.shape
        assert np.abs(out - ref).max() <= 1e-5, f"{stem} {name}: max abs diff {np.abs(out - ref).max():.3g}"


def test_nlcl_rain_layer_matches_official(ctx, resolver, shared_data):
    rain = RAIN_LAYER_SPEC.build(None, ctx)
    ref = np.load(REF / "nlcl-RealRain-rain-layer_57x83.npy")  # raw generator output, [-1,1] units
    with torch.no_grad():
        out = rain.net(to_tensor(_crop(shared_data, META["crops"]["57x83"])) * 2 - 1)[0].numpy()
    assert np.abs(out - ref).max() <= 1e-5


def test_io_policies_follow_the_official_scripts():
    for name in ("prenet", "sapnet"):
        io = MODELS.load(name).io
        assert io.input_range == (0.0, 1.0) and io.quantise == "trunc" and io.size_policy == "any"
    io = MODELS.load("nlcl").io
    assert io.input_range == (-1.0, 1.0) and io.clamp_output and io.size_policy == "any"


def test_prenet_picks_weights_by_dataset():
    spec = MODELS.load("prenet")
    assert spec.pick_weights(None, "rain100l") == "Rain100L"
    assert spec.pick_weights(None, "real-internet147") == "real"
    assert spec.pick_weights(None, "raincityscapes") == "Rain100H"
    assert spec.pick_weights("Rain1400", "rain100h") == "Rain1400"


def _y_psnr_by_hand(out_u8: np.ndarray, gt_u8: np.ndarray) -> float:
    """PReNet's statistic scripts written out: MATLAB rgb2ycbcr on doubles, Y unrounded, PSNR on Y/255, peak 1."""
    def y(a):
        a = a.astype(np.float64) / 255.0
        return (16.0 + 65.481 * a[..., 0] + 128.553 * a[..., 1] + 24.966 * a[..., 2]) / 255.0
    mse = np.mean((y(out_u8) - y(gt_u8)) ** 2)
    return 10.0 * math.log10(1.0 / mse)


@pytest.mark.slow
def test_prenet_rain100h_full_set_y_psnr(ctx, resolver, shared_data):
    """The README's 29.46 dB; Octave on the official truncated PNGs gives 29.4647 (REFERENCE.md)."""
    from bench.data import DATASETS
    from bench.measures import build_measure

    psnr_y = build_measure("psnr_y")
    dataset = DATASETS.load("rain100h").find(offline_ctx(data_root=shared_data))
    derainer = MODELS.load("prenet").build(None, ctx, dataset="rain100h")
    assert derainer.variant == "Rain100H"
    scores, by_hand = [], []
    for sample in dataset.samples():
        rainy = to_tensor(read_rgb(sample.rainy).copy())
        out = to_uint8(derainer.restore(rainy), derainer.io.quantise)   # the PNG the official script saves
        clean = read_rgb(sample.clean)
        scores.append(float(psnr_y(to_tensor(out[0].copy()), to_tensor(clean.copy()))[0]))
        by_hand.append(_y_psnr_by_hand(out[0], clean))
    assert len(scores) == 100
    mean = float(np.mean(scores))
    assert abs(mean - float(np.mean(by_hand))) < 1e-6
    assert mean >= 29.40
    assert abs(mean - 29.4647) < 0.01, mean
