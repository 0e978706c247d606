"""Model zoo II, group a: PReNet_r, PRN, PRN_r, VRGNet's derainer, BRN and DRN against their
official checkpoints and official implementations.

References in tests/reference/models/<method>/ come from the official code run separately
(each folder's make_reference.py, or for PRN/PRN_r ../prenet_r/make_reference.py), plus a crop
of the VRGNet authors' own released output PNG; nothing in them is produced by this repository.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from bench.imageio import read_rgb, to_tensor, to_uint8
from bench.models import MODELS
from bench.models.base import Batch
from bench.models.weights import load_state_dict, registry, resolver
from reference_cases import assert_expected_cases

REF = Path(__file__).parent / "reference" / "models"
METHODS = ("prenet_r", "prn", "prn_r", "vrgnet", "brn", "drn")
CHECKPOINTS = [(m, v) for m in METHODS for v in MODELS.load(m).weights]


def _references():
    """(method, variant, crop name, reference file) for every committed reference output."""
    out = []
    for m in METHODS:
        meta = json.loads((REF / m / "reference.json").read_text())
        for key, o in meta["outputs"].items():
            stem = Path(o["file"]).stem
            variant, _, crop = stem.rpartition("_")
            if variant.endswith("-rain-layer"):
                continue
            out.append((m, variant, o.get("crop", key), o["file"]))
    return out


REFERENCES = _references()
EXPECTED_REFERENCES = tuple(f"{m}/{v}_{c}.npy" for m, v, c in [
    ("prenet_r", "Rain100H", "96x128"), ("prenet_r", "Rain100H", "57x83"),
    ("prn", "Rain100H", "96x128"), ("prn", "Rain100H", "57x83"),
    ("prn_r", "Rain100H", "96x128"), ("prn_r", "Rain100H", "57x83"),
    ("vrgnet", "Rain100H", "96x128"), ("vrgnet", "Rain100H", "57x83"), ("vrgnet", "SPA", "57x83"),
    ("brn", "Rain100H", "96x128"), ("brn", "Rain100H", "57x83"),
    ("drn", "Rain100H", "96x128"), ("drn", "Rain100H", "57x83"), ("drn", "Rain100L", "57x83")])
EXPECTED_CHECKPOINTS = 18     # configs/weights/<method>.yaml: 3 each, vrgnet 4, drn 2


def test_every_reference_and_checkpoint_is_a_case():
    assert_expected_cases([f"{m}/{f}" for m, _, _, f in REFERENCES], EXPECTED_REFERENCES,
                          "tests/reference/models/<method>/reference.json outputs")
    assert len(CHECKPOINTS) == EXPECTED_CHECKPOINTS, \
        f"configs/weights/{{{','.join(METHODS)}}}.yaml list {len(CHECKPOINTS)} checkpoints: {CHECKPOINTS}"


@pytest.fixture(scope="module")
def ctx(shared_weights):
    torch.set_num_threads(min(2, torch.get_num_threads()))
    from bench.config import RunContext

    return RunContext(device="cpu", offline=True, weights_dir=shared_weights)


def _build(model: str, variant: str | None, ctx, dataset: str | None = None):
    return MODELS.load(model).build(variant, ctx, dataset=dataset)


def _restore(derainer, rgb: np.ndarray) -> np.ndarray:
    return derainer.restore(to_tensor(rgb.copy()))[0].numpy()


def _derain_u8(derainer, rgb: np.ndarray) -> np.ndarray:
    """The full derainer on one image, then the uint8 file its I/O policy says the official script saves."""
    out = derainer.derain(Batch.of(to_tensor(rgb.copy())))
    return to_uint8(out, derainer.io.quantise)[0]


def _crop(shared_data, meta, crop_name):
    t, l, h, w = meta["crops"][crop_name]
    return read_rgb(shared_data / meta["image"])[t:t + h, l:l + w].copy()


def test_registry_names_match_specs():
    for m in METHODS:
        assert MODELS.load(m).name == m


@pytest.mark.parametrize("model,variant", CHECKPOINTS)
def test_official_checkpoint_loads_strictly(ctx, model, variant):
    entry, path = resolver(ctx).resolve(variant, model=model)      # verifies the registered sha256
    assert entry.get("sha256") and resolver(ctx).sha256(path) == entry["sha256"]
    state = load_state_dict(path, strip_prefix=entry.get("strip_prefix", "module."))
    net = MODELS.load(model).build_network()
    result = net.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert len(state) == entry["keys"], "key count differs from the weights YAML"
    assert set(state) == set(net.state_dict())


def test_prefixed_checkpoints_are_stripped(ctx):
    for model, prefix in (("vrgnet", "derainet."), ("brn", "module.")):
        _, path = resolver(ctx).resolve("Rain100H", model=model)
        raw = torch.load(path, map_location="cpu", weights_only=True)
        assert all(k.startswith(prefix) for k in raw)
        assert not any(k.startswith(prefix) for k in load_state_dict(path, strip_prefix=prefix))


@pytest.mark.parametrize("model,variant,crop_name,ref_file", REFERENCES)
def test_restore_matches_official(ctx, shared_data, model, variant, crop_name, ref_file):
    meta = json.loads((REF / model / "reference.json").read_text())
    rgb = _crop(shared_data, meta, crop_name)
    ref_md5 = meta["outputs"].get(crop_name, meta["outputs"].get(Path(ref_file).stem, {})).get("input_md5")
    assert ref_md5 == hashlib.md5(rgb.tobytes()).hexdigest(), "our RGB crop is not what the official script fed"
    derainer = _build(model, variant, ctx)
    ref = np.load(REF / model / ref_file)
    out = _restore(derainer, rgb)
    assert out.shape == ref.shape
    diff = float(np.abs(out - ref).max())
    assert diff <= 1e-5, f"{model}@{variant} {crop_name}: max abs diff {diff:.3g}"


def test_brn_rain_layer_matches_official(ctx, shared_data):
    meta = json.loads((REF / "brn" / "reference.json").read_text())
    ref = np.load(REF / "brn" / "Rain100H-rain-layer_57x83.npy")
    net = _build("brn", "Rain100H", ctx).net
    with torch.no_grad():
        background, rain = net.layers(to_tensor(_crop(shared_data, meta, "57x83")))
    assert np.abs(rain[0].numpy() - ref).max() <= 1e-5
    # the derainer's output is the background branch, not input minus rain
    assert np.abs(background[0].clamp(0, 1).numpy() - np.load(REF / "brn" / "Rain100H_57x83.npy")).max() <= 1e-5


def test_vrgnet_reproduces_the_authors_released_png(ctx, shared_data):
    """for_syn/derained_results/rain100L/norain-1.png, saved by the authors' test script."""
    meta = json.loads((REF / "vrgnet" / "reference.json").read_text())["official_png"]
    derainer = _build("vrgnet", None, ctx, dataset="rain100l")
    assert derainer.variant == "Rain100L"
    rainy = read_rgb(shared_data / meta["input"]).copy()
    out = _derain_u8(derainer, rainy)
    (r0, r1), (c0, c1) = meta["rows"], meta["cols"]
    official = read_rgb(REF / "vrgnet" / meta["file"])
    assert np.array_equal(out[r0:r1, c0:c1], official)


def _psnr_y(a_u8: np.ndarray, b_u8: np.ndarray) -> float:
    from bench.measures import build_measure

    return float(build_measure("psnr_y")(to_tensor(a_u8.copy()), to_tensor(b_u8.copy()))[0])


# (model, dataset, image): one real test image per method, weights picked by the dataset.
SANITY = [("prenet_r", "rain100h", "norain-2.png"), ("prn", "rain100h", "norain-3.png"),
          ("prn_r", "rain100l", "norain-2.png"), ("brn", "rain100h", "norain-4.png"),
          ("drn", "rain100l", "norain-3.png"), ("vrgnet", "rain100h", "norain-5.png")]


@pytest.mark.parametrize("model,dataset,image", SANITY)
def test_derained_beats_rainy_on_psnr_y(ctx, shared_data, model, dataset, image):
    derainer = _build(model, None, ctx, dataset=dataset)
    assert derainer.variant == {"rain100h": "Rain100H", "rain100l": "Rain100L"}[dataset]
    rainy = read_rgb(shared_data / dataset / "rain" / image).copy()
    clean = read_rgb(shared_data / dataset / "norain" / image).copy()
    out = _derain_u8(derainer, rainy)
    before, after = _psnr_y(rainy, clean), _psnr_y(out, clean)
    assert after > before + 3.0, f"{model}: {before:.2f} -> {after:.2f} dB"


def test_io_policies_follow_the_official_test_scripts():
    for m in METHODS:
        io = MODELS.load(m).io
        assert io.input_range == (0.0, 1.0) and io.clamp_output and io.quantise == "trunc"
        assert io.size_policy == "any"


def test_weights_picked_by_dataset():
    assert MODELS.load("vrgnet").pick_weights(None, "spa-data") == "SPA"
    assert MODELS.load("brn").pick_weights(None, "rain1400") == "Rain1400"
    assert MODELS.load("drn").pick_weights(None, "rain100l") == "Rain100L"
    assert MODELS.load("prn_r").pick_weights(None, "rain100l") == "Rain100L"
    assert MODELS.load("drn").pick_weights(None, "raincityscapes") == "Rain100H"


def test_published_entries_are_complete():
    reg = registry()
    for m in METHODS:
        for variant, entry in reg[m].items():
            for p in entry.get("published", []):
                assert set(p) >= {"dataset", "psnr", "ssim", "channel", "code", "source"}, (m, variant)
                assert p["channel"] in ("Y", "RGB") and p["code"] in ("MATLAB", "Python")
                assert 20 < p["psnr"] < 50 and 0.5 < p["ssim"] <= 1
    # what the PReNet README and the other authors' tables state (REFERENCE.md)
    assert reg["prenet_r"]["Rain100H"]["published"][0]["psnr"] == 28.98
    assert reg["prn"]["Rain100L"]["published"][0]["psnr"] == 36.99
    assert reg["prn_r"]["Rain1400"]["published"][0]["psnr"] == 31.31
    assert {v for v in reg["drn"] if reg["drn"][v].get("published")} == set()   # none found
