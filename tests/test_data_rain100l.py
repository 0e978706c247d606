"""Rain100L as found in ../shared/data/rain100l: `bench data verify` passes with its checksum
manifest, and the rainy inputs score the published Rain100L input PSNR-Y (26.90 dB)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from contexts import offline_ctx
from reference_cases import assert_expected_cases

from bench.cli import main as bench_main
from bench.data import DATASETS
from bench.imageio import read_rgb, to_tensor
from bench.measures import build_measure

MANIFESTS = Path(__file__).resolve().parents[1] / "bench" / "data" / "manifests"


def test_verify_passes_on_shared_rain100l(shared_data, capsys):
    assert bench_main(["data", "verify", "rain100l", "--data-root", str(shared_data)]) == 0
    text = capsys.readouterr().out
    assert "OK" in text and "checksums: all" in text
    assert "images 100, paired 100" in text and "481x321 x66" in text and "321x481 x34" in text


def test_rain100l_shares_rain100h_backgrounds_byte_for_byte():
    """shared/README.md: Rain100L's norain/ is Rain100H's ground truth; the manifests must agree."""
    def clean(name):
        lines = (MANIFESTS / f"{name}.sha256").read_text().splitlines()
        return {ln.split()[1]: ln.split()[0] for ln in lines if ln.split()[-1].startswith("clean/")}
    low, high = clean("rain100l"), clean("rain100h")
    assert len(low) == 100 and low == high
    rainy = [ln.split()[0] for ln in (MANIFESTS / "rain100l.sha256").read_text().splitlines()
             if ln.endswith(tuple(f"rainy/{i}" for i in range(1, 101)))]
    assert len(set(rainy)) == 100 and not set(rainy) & set(high.values())


def test_rain100l_rainy_input_psnr_y_is_the_published_figure(shared_data):
    """Published Rain100L input: 26.90 dB PSNR-Y (PReNet-protocol tables; shared/README.md)."""
    psnr_y = build_measure("psnr_y")
    dataset = DATASETS.load("rain100l").find(offline_ctx(data_root=shared_data))
    scores = []
    for sample in dataset.samples():
        rainy, clean = read_rgb(sample.rainy), read_rgb(sample.clean)
        scores.append(float(psnr_y(to_tensor(rainy.copy()), to_tensor(clean.copy()))[0]))
    assert len(scores) == 100
    assert abs(float(np.mean(scores)) - 26.90) <= 0.01, np.mean(scores)


# --------------------------------------------------------------------------- DPENet, Rain O'er Me
import json  # noqa: E402
import math  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

from bench.imageio import to_uint8  # noqa: E402
from bench.models import MODELS  # noqa: E402
from bench.models.base import Batch  # noqa: E402
from bench.models.dpenet import SPEC_AS_RELEASED  # noqa: E402
from bench.models.rain_over_me import options_from_state  # noqa: E402
from bench.models.weights import load_state_dict, registry, resolver as weights_resolver  # noqa: E402

REF = Path(__file__).parent / "reference" / "models"
CHECKPOINTS = [("dpenet", v) for v in ("Rain100L", "Rain1400")] + \
              [("rain_over_me", v) for v in ("DID_data", "Rain1400", "Rain200L")]


@pytest.fixture(scope="module")
def ctx(shared_weights):
    torch.set_num_threads(1)
    return offline_ctx(weights_dir=shared_weights)


@pytest.fixture(scope="module")
def resolver(ctx):
    return weights_resolver(ctx)


def _reference_cases(model: str):
    meta = json.loads((REF / model / "reference.json").read_text())
    for variant, runs in meta["runs"].items():
        for run in runs:
            what, _, crop = run.rpartition(":")
            stem = f"{model}-{variant}{'-' + what if what else ''}_{crop}"
            yield pytest.param(model, variant, what, meta["image"], meta["crops"][crop], stem, id=stem)


@pytest.mark.parametrize("model,variant", CHECKPOINTS)
def test_every_checkpoint_loads_strictly_through_the_spec(ctx, resolver, model, variant):
    derainer = MODELS.load(model).build(variant, ctx)     # strict=True inside; sha256 verified
    entry, path = resolver.resolve(variant, model=model)
    state = load_state_dict(path, strip_prefix=entry.get("strip_prefix", "module."))
    assert len(state) == entry["keys"] == len(derainer.net.state_dict())
    assert derainer.variant == variant and derainer.weights_sha256 == entry["sha256"]
    assert derainer.key == f"{model}@{variant}#{entry['sha256'][:12]}"


REFERENCE_CASES = [c for m in ("dpenet", "rain_over_me") for c in _reference_cases(m)]
EXPECTED_REFERENCES = ("dpenet-Rain100L-plain_96x128", "dpenet-Rain100L-plain_57x83", "dpenet-Rain100L-released_21x29",
                       "dpenet-Rain1400-plain_57x83", "rain_over_me-Rain200L_96x128", "rain_over_me-Rain200L_57x83",
                       "rain_over_me-Rain200L-output2_21x29", "rain_over_me-Rain1400_21x29",
                       "rain_over_me-DID_data_57x83", "rain_over_me-DID_data-output2_21x29")


def test_every_reference_is_a_case():
    assert_expected_cases([p.id for p in REFERENCE_CASES], EXPECTED_REFERENCES,
                          "tests/reference/models/{dpenet,rain_over_me}/reference.json runs")


@pytest.mark.parametrize("model,variant,what,image,crop,stem", REFERENCE_CASES)
def test_output_equals_the_official_network(ctx, resolver, shared_data, model, variant, what, image, crop, stem):
    t, l, h, w = crop
    rgb = read_rgb(shared_data / image)[t:t + h, l:l + w].copy()
    spec = SPEC_AS_RELEASED if what == "released" else MODELS.load(model)
    derainer = spec.build(variant, ctx)
    if what == "output2":     # the out2 head: official output2, clipped like tensor2im
        with torch.no_grad():
            out = derainer.net.detail_output(to_tensor(rgb)).clamp(0, 1)[0].numpy()
    else:
        out = derainer.restore(to_tensor(rgb))[0].numpy()
    ref = np.load(REF / model / f"{stem}.npy")
    assert out.shape == ref.shape == (3, h, w)
    diff = float(np.abs(out - ref).max())
    assert diff <= 1e-5, f"{stem}: max abs diff {diff:.3g}"


def test_dpenet_default_drops_the_released_output_relus_and_that_matters(ctx, resolver, shared_data):
    """NetModel.py as released (ReLU after both output convs) is near-identity with these weights;
    the ReLU-free form reproduces the authors' committed result (see dpenet.py, reference.json)."""
    meta = json.loads((REF / "dpenet" / "reference.json").read_text())
    assert meta["history_check"]["plain"]["max_abs_levels"] <= 1
    assert meta["history_check"]["released"]["mean_abs_levels"] > 50
    rainy = read_rgb(shared_data / "rain100l" / "rain" / "norain-1.png")[:96, :128].copy()
    clean = read_rgb(shared_data / "rain100l" / "norain" / "norain-1.png")[:96, :128].copy()
    ours = to_uint8(MODELS.load("dpenet").build("Rain100L", ctx).restore(to_tensor(rainy)), "round")[0]
    literal = to_uint8(SPEC_AS_RELEASED.build("Rain100L", ctx).restore(to_tensor(rainy)), "round")[0]
    assert _psnr_y(literal, clean) < _psnr_y(rainy, clean) + 0.1 < _psnr_y(ours, clean) - 3.0
    assert not any(isinstance(m, torch.nn.ReLU) for m in MODELS.load("dpenet").build_network().outconv1)


def test_io_policies_follow_the_official_test_paths():
    dpenet, rom = MODELS.load("dpenet").io, MODELS.load("rain_over_me").io
    assert dpenet.input_range == (0.0, 1.0) and dpenet.quantise == "round" and dpenet.size_policy == "any"
    assert rom.input_range == (0.0, 1.0) and rom.quantise == "trunc" and rom.size_policy == "any"
    assert dpenet.clamp_output and rom.clamp_output


def test_weights_picked_by_dataset():
    dpenet, rom = MODELS.load("dpenet"), MODELS.load("rain_over_me")
    assert dpenet.pick_weights(None, "rain100l") == "Rain100L"
    assert dpenet.pick_weights(None, "rain1400") == "Rain1400"
    assert rom.pick_weights(None, "rain1400") == "Rain1400"
    assert rom.pick_weights(None, "test1200") == "DID_data"
    assert rom.pick_weights(None, "rain100l") == "Rain200L"       # no Rain100L model: the light-rain one
    assert rom.pick_weights("DID_data", "rain1400") == "DID_data"  # an explicit choice wins


def _opt_txt(path: Path) -> dict[str, str]:
    opts = {}
    for line in path.read_text().splitlines():
        if ":" in line and not line.startswith("-"):
            key, _, value = line.partition(":")
            opts[key.strip()] = value.split("[default")[0].strip()
    return opts


@pytest.mark.parametrize("variant", ["DID_data", "Rain1400", "Rain200L"])
def test_rain_over_me_build_options_against_opt_txt_and_checkpoint(ctx, resolver, shared_weights, variant):
    """The entry records opt.txt faithfully, yet builds from `build:`: opt.txt names a U-Net-256
    with BatchNorm that define_G never builds, and the checkpoint holds derainnet's keys."""
    entry = registry()["rain_over_me"][variant]
    opts = _opt_txt(shared_weights / entry["opt_txt"]["file"])
    for key, value in entry["opt_txt"].items():
        if key != "file":
            assert opts[key] == str(value), key
    assert opts["netG"] == "unet_256" and opts["norm"] == "batch"
    _, path = resolver.resolve(variant, model="rain_over_me")
    state = load_state_dict(path)
    assert "inc.0.weight" in state and not any("running_mean" in k for k in state)   # no BatchNorm at all
    inferred = options_from_state(state)
    assert list(inferred["detail_channels"]) == entry["build"]["detail_channels"]
    net = MODELS.load("rain_over_me").build(variant, ctx).net
    assert isinstance(net.out2[-1], torch.nn.ReLU) == entry["build"]["detail_final_relu"]


def test_rain_over_me_checkpoint_given_by_path_builds_its_own_head(ctx, resolver, shared_weights):
    did = MODELS.load("rain_over_me").build(str(shared_weights / "rain_over_me/DID_data/latest_net_G.pth"), ctx)
    assert len(did.net.out2) == 3 and did.net.out2[2].out_channels == 3


def _psnr_y(a: np.ndarray, b: np.ndarray) -> float:
    def y(x):
        x = x.astype(np.float64) / 255.0
        return (16.0 + 65.481 * x[..., 0] + 128.553 * x[..., 1] + 24.966 * x[..., 2]) / 255.0
    return 10.0 * math.log10(1.0 / np.mean((y(a) - y(b)) ** 2))


@pytest.mark.parametrize("model", ["dpenet", "rain_over_me"])
def test_full_derainer_beats_the_rainy_input_on_a_rain100l_image(ctx, resolver, shared_data, model):
    rainy = read_rgb(shared_data / "rain100l" / "rain" / "norain-1.png")
    clean = read_rgb(shared_data / "rain100l" / "norain" / "norain-1.png")
    derainer = MODELS.load(model).build(None, ctx, dataset="rain100l")
    out = to_uint8(derainer.derain(Batch.of(to_tensor(rainy.copy()))), derainer.io.quantise)[0]   # the runner's path
    assert out.shape == rainy.shape
    assert _psnr_y(out, clean) > _psnr_y(rainy, clean) + 1.0
