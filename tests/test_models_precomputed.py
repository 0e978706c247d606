"""precomputed:<dir> — pairing released outputs with dataset samples by id (real Rain100H files)."""
import shutil

import numpy as np
import pytest
import torch

from bench.data.base import Sample
from bench.imageio import read_rgb, to_tensor, write_png
from bench.models import MODELS
from bench.models import split_model_arg
from bench.models.base import Batch
from bench.models.precomputed import PrecomputedDerainer, PrecomputedMissing


@pytest.fixture()
def rain100h_samples(shared_data):
    root = shared_data / "rain100h"
    return [Sample(i, root / "rain" / f"norain-{i}.png", root / "norain" / f"norain-{i}.png") for i in ("1", "2", "17")]


def test_pairs_by_rainy_stem_and_returns_the_file_pixels(tmp_path, rain100h_samples):
    for s in rain100h_samples:  # released outputs named like the rainy inputs
        shutil.copy(s.clean, tmp_path / s.rainy.name)
    d = PrecomputedDerainer(tmp_path)
    for s in rain100h_samples:
        y = d.output_for(s)
        assert torch.equal(y, to_tensor(read_rgb(s.clean)))
    rainy = torch.cat([to_tensor(read_rgb(s.rainy)) for s in rain100h_samples[:1]])
    assert d.derain_ids(rain100h_samples[:1], rainy).shape == rainy.shape


def test_zero_padded_and_trailing_number_names(tmp_path, rain100h_samples):
    rgb = read_rgb(rain100h_samples[0].clean)
    write_png(tmp_path / "001.png", rgb)                 # id 1, zero padded
    write_png(tmp_path / "rain-002_derained.png", rgb)   # id 2 through its trailing number
    d = PrecomputedDerainer(tmp_path)
    assert d.output_path(Sample("1", tmp_path / "x.png")).name == "001.png"
    assert d.output_path(Sample("2", tmp_path / "x.png")).name == "rain-002_derained.png"


def test_missing_file_names_id_folder_and_tried_names(tmp_path, rain100h_samples):
    write_png(tmp_path / "norain-1.png", read_rgb(rain100h_samples[0].clean))
    d = PrecomputedDerainer(tmp_path)
    with pytest.raises(PrecomputedMissing) as e:
        d.output_for(rain100h_samples[2])
    msg = str(e.value)
    assert "'17'" in msg and str(tmp_path) in msg and "norain-17" in msg and "017" in msg


def test_pattern_and_registry_entry(tmp_path, rain100h_samples):
    rgb = read_rgb(rain100h_samples[1].clean)
    write_png(tmp_path / "out_2.png", rgb)
    name, variant = split_model_arg(f"precomputed:{tmp_path}?pattern=out_{{id}}.png")
    assert name == "precomputed"
    d = MODELS.load(name).build(variant)
    assert np.array_equal((d.output_for("2")[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8), rgb)
    assert d.key.startswith(f"precomputed@{tmp_path.name}#")
    assert split_model_arg("rdmc@/a/b.pth") == ("rdmc", "/a/b.pth")


def test_size_mismatch_and_tensor_call_are_refused(tmp_path, rain100h_samples):
    write_png(tmp_path / "norain-1.png", np.zeros((10, 12, 3), np.uint8))
    d = PrecomputedDerainer(tmp_path)
    rainy = to_tensor(read_rgb(rain100h_samples[0].rainy))
    with pytest.raises(ValueError, match="must keep the input size"):
        d.derain_ids(rain100h_samples[:1], rainy)
    with pytest.raises(TypeError, match="sample id"):
        d.derain(Batch.of(rainy))       # a batch without its samples cannot be looked up


def test_empty_or_absent_folder(tmp_path):
    with pytest.raises(PrecomputedMissing, match="does not exist"):
        PrecomputedDerainer(tmp_path / "nope")
    with pytest.raises(PrecomputedMissing, match="no images"):
        PrecomputedDerainer(tmp_path)
