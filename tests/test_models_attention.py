"""RESCAN, SPANet and JORDER-E against their official checkpoints and official implementations.

References under tests/reference/models/<method>/ were produced by running the official code
(each folder's make_reference.py; SPANet's CUDA IRNN replaced there by a numpy transcription of
the kernel); nothing in this repository produced them.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from bench.config import RunContext
from bench.imageio import read_rgb, to_tensor, to_uint8
from bench.measures import build_measure
from bench.models import MODELS
from bench.models.base import Batch, NetworkDerainer
from bench.models.spanet import irnn
from bench.models.weights import load_state_dict, registry, resolver
from reference_cases import assert_expected_cases

REF = Path(__file__).parent / "reference" / "models"
METHODS = ("rescan", "spanet", "jorder_e")
CHECKPOINTS = [("rescan", "RainHeavy"), ("rescan", "RainLight"), ("spanet", "SPA"), ("jorder_e", "practical")]


def _references():
    for method in METHODS:
        meta = json.loads((REF / method / "reference.json").read_text())
        for stem in meta["outputs"]:
            variant, crop = stem.split("-", 1)[1].rsplit("_", 1)
            yield pytest.param(method, variant, crop, stem, meta, id=stem)


@pytest.fixture(scope="module")
def ctx(shared_weights) -> RunContext:
    torch.set_num_threads(1)
    return RunContext(device="cpu", offline=True, weights_dir=shared_weights)


@pytest.fixture(scope="module")
def build(ctx):
    def _build(model: str, variant: str | None, dataset: str | None = None) -> NetworkDerainer:
        return MODELS.load(model).build(variant, ctx, dataset=dataset)

    return _build


def _crop(shared_data: Path, meta: dict, crop: str) -> torch.Tensor:
    t, l, h, w = meta["crops"][crop]
    return to_tensor(read_rgb(shared_data / meta["image"])[t:t + h, l:l + w].copy())


@pytest.mark.parametrize("model,variant", CHECKPOINTS)
def test_checkpoint_loads_strictly_with_registered_sha256(ctx, model, variant):
    entry, path = resolver(ctx).resolve(variant, model=model)         # also checks the registered sha256
    state = load_state_dict(path, strip_prefix=entry.get("strip_prefix", "module."))
    result = MODELS.load(model).build_network().load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert len(state) == entry["keys"]


EXPECTED_REFERENCES = ("rescan-RainHeavy_96x128", "rescan-RainHeavy_57x83", "rescan-RainLight_57x83",
                       "spanet-SPA_96x128", "spanet-SPA_57x83", "jorder_e-practical_96x128", "jorder_e-practical_57x83")


def test_every_reference_is_a_case():
    assert_expected_cases([p.id for p in _references()], EXPECTED_REFERENCES,
                          "tests/reference/models/{rescan,spanet,jorder_e}/reference.json")


@pytest.mark.parametrize("method,variant,crop,stem,meta", list(_references()))
def test_restore_equals_official_code(build, shared_data, method, variant, crop, stem, meta):
    ref = np.load(REF / method / f"{stem}.npy")
    out = build(method, variant).restore(_crop(shared_data, meta, crop))[0].numpy()
    assert out.shape == ref.shape
    diff = np.abs(out - ref).max()
    assert diff <= 1e-5, f"{stem}: max abs diff {diff:.3g}"


@pytest.mark.parametrize("method,stem", [("rescan", "rescan-RainHeavy_57x83"), ("spanet", "spanet-SPA_57x83")])
def test_bgr_policy_is_what_the_official_scripts_feed(build, shared_data, method, stem):
    """RESCAN's show.py and SPANet's main.py feed cv2.imread's BGR unconverted: an RGB-fed network
    is measurably off the official output (so the equivalence above does test the channel order)."""
    meta = json.loads((REF / method / "reference.json").read_text())
    d = build(method, stem.split("-", 1)[1].rsplit("_", 1)[0])
    d.io = dataclasses.replace(d.io, channel_order="RGB")
    out = d.restore(_crop(shared_data, meta, "57x83"))[0].numpy()
    assert np.abs(out - np.load(REF / method / f"{stem}.npy")).max() > 1e-3


def _kernel_scalar(x: np.ndarray, w: dict, b: dict) -> dict:
    """IRNN_Forward_cuda.cu, one thread per element, in plain Python float32 (tiny inputs only)."""
    f32 = np.float32
    _, channels, height, width = x.shape
    out = {d: np.zeros_like(x) for d in ("up", "right", "down", "left")}
    for n, c, h, col in np.ndindex(*x.shape):
        def run(d, start, steps, at):
            o = max(x[at(start)], f32(0))
            for i in steps:
                o = max(f32(f32(o * w[d][c]) + b[d][c]) + x[at(i)], f32(0))
            out[d][n, c, h, col] = o
        run("left", width - 1, range(width - 2, col - 1, -1), lambda i: (n, c, h, i))
        run("right", 0, range(1, col + 1), lambda i: (n, c, h, i))
        run("up", height - 1, range(height - 2, h - 1, -1), lambda i: (n, c, i, col))
        run("down", 0, range(1, h + 1), lambda i: (n, c, i, col))
    return out


def test_irnn_in_pytorch_equals_the_cuda_kernel_recurrence():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 5, 7)).astype(np.float32)
    dirs = ("up", "right", "down", "left")
    w = {d: rng.uniform(-1, 1.2, 3).astype(np.float32) for d in dirs}
    b = {d: rng.uniform(-0.3, 0.3, 3).astype(np.float32) for d in dirs}
    want = _kernel_scalar(x, w, b)
    got = irnn(torch.from_numpy(x), {d: torch.from_numpy(w[d]).view(3, 1, 1, 1) for d in dirs},
               {d: torch.from_numpy(b[d]) for d in dirs})
    for d, g in zip(dirs, got):
        assert np.array_equal(g.numpy(), want[d]), d


def test_io_policies_follow_the_official_test_scripts():
    assert [MODELS.load(m).name for m in METHODS] == list(METHODS)
    rescan, spanet, jorder = (MODELS.load(m).io for m in METHODS)
    for io in (rescan, spanet):
        assert io.channel_order == "BGR" and io.input_range == (0.0, 1.0) and io.quantise == "round"
    assert jorder.channel_order == "RGB" and jorder.input_range == (0.0, 255.0) and jorder.quantise == "round"
    assert all(io.size_policy == "any" and io.clamp_output for io in (rescan, spanet, jorder))


def test_rescan_weights_by_dataset_and_provenance():
    spec = MODELS.load("rescan")
    assert spec.name == "rescan"
    assert [spec.pick_weights(None, d) for d in ("rain200h", "rain100h", "rain200l", "rain100l")] == \
        ["RainHeavy", "RainHeavy", "RainLight", "RainLight"]
    assert "mismatch" in spec.notes
    for entry in registry()["rescan"].values():
        assert "retrained by the BRN authors" in entry["provenance"]
        assert "not on the old Rain100H/L" in entry["provenance"]


# (model, dataset, image): the full derainer on one real 481×321 test image, quantised as its I/O
# policy states, must beat the rainy input on PSNR-Y.
SANITY = [("rescan", "rain100h", "norain-1.png"), ("spanet", "rain100l", "norain-1.png"),
          ("jorder_e", "rain100h", "norain-1.png")]


@pytest.mark.parametrize("model,dataset,image", SANITY)
def test_derained_image_beats_the_rainy_input(build, shared_data, model, dataset, image):
    rainy = to_tensor(read_rgb(shared_data / dataset / "rain" / image))
    clean = to_tensor(read_rgb(shared_data / dataset / "norain" / image))
    d = build(model, None, dataset=dataset)
    out = torch.from_numpy(to_uint8(d.derain(Batch.of(rainy)), d.io.quantise)).permute(0, 3, 1, 2).float() / 255
    psnr = build_measure("psnr_y")
    assert float(psnr(out, clean)[0]) > float(psnr(rainy, clean)[0]) + 0.5
