"""Measure behaviour: metadata, batching, the PSNR cap, input errors, devices, optional pyiqa."""
import math

import numpy as np
import pytest
import torch

from bench.imageio import read_rgb, to_tensor
from bench.measures import MEASURES, build_measure
from bench.measures.niqe import NIQE
from bench.measures.protocols import PROTOCOLS


def _rain100h(shared_data, ids):
    root = shared_data / "rain100h"
    x = torch.cat([to_tensor(read_rgb(root / "rain" / f"norain-{i}.png")) for i in ids])
    y = torch.cat([to_tensor(read_rgb(root / "norain" / f"norain-{i}.png")) for i in ids])
    return x, y


def test_every_measure_declares_metadata_and_protocol():
    for name in MEASURES.names():
        info = build_measure(name).info
        assert info.name == name
        assert info.reference in ("FR", "NR")
        lo, hi = info.value_range
        assert lo < hi
        assert info.protocol_text()
    assert build_measure("niqe").info.higher_is_better is False
    assert "original LIVE" in build_measure("niqe").info.description
    assert build_measure("psnr_y").info.protocol is PROTOCOLS["prenet"]
    assert build_measure("ssim_y_uint8").info.protocol.y_rounded is True
    assert build_measure("psnr_rgb").info.protocol.channel == "rgb"


def test_batch_equals_one_at_a_time(shared_data, shared_weights):
    ids = [1, 2, 3, 4]  # all 481×321
    x, y = _rain100h(shared_data, ids)
    for name in ("psnr_y", "ssim_y", "psnr_y_uint8", "ssim_y_uint8", "psnr_rgb", "ssim_rgb"):
        m = build_measure(name)
        batch = m(x, y)
        single = torch.cat([m(x[i:i + 1], y[i:i + 1]) for i in range(len(ids))])
        assert batch.dtype == torch.float64 and batch.shape == (len(ids),)
        assert torch.allclose(batch, single, rtol=0, atol=1e-12), name
    niqe = NIQE()
    batch = niqe(x)
    single = torch.cat([niqe(x[i:i + 1]) for i in range(len(ids))])
    assert torch.allclose(batch, single, rtol=1e-12, atol=0)


def test_identical_images_give_the_documented_cap(shared_data):
    x, _ = _rain100h(shared_data, [5])
    for name in ("psnr_y", "psnr_y_uint8", "psnr_rgb"):
        m = build_measure(name)
        assert float(m(x, x.clone())[0]) == m.info.protocol.psnr_cap_db == 100.0
        assert math.isfinite(float(m(x, x)[0]))
    assert float(build_measure("ssim_y")(x, x)[0]) == pytest.approx(1.0, abs=1e-12)


def test_bad_inputs_get_clear_errors(shared_data):
    x, y = _rain100h(shared_data, [1])
    psnr = build_measure("psnr_y")
    with pytest.raises(ValueError, match="full-reference"):
        psnr(x, None)
    with pytest.raises(ValueError, match="differ in size"):
        psnr(x, y[..., :-1])
    with pytest.raises(ValueError, match="N×3×H×W"):
        psnr(x[:, :1], y[:, :1])
    with pytest.raises(ValueError, match="smaller than one 96×96 block"):
        build_measure("niqe")(x[..., :64, :64])


def test_niqe_parameters_ship_with_the_package_and_bad_ones_are_refused(tmp_path, shared_data):
    x, _ = _rain100h(shared_data, [1])
    assert float(NIQE()(x)[0]) > 0          # works with no weights dir at all
    bad = tmp_path / "params.npz"
    np.savez(bad, something=np.zeros(3))
    with pytest.raises(ValueError, match="not a NIQE pristine model"):
        NIQE(params_path=bad)(torch.zeros(1, 3, 96, 96))


def test_pyiqa_names_route_to_the_optional_adapter():
    try:
        import pyiqa  # noqa: F401
    except ImportError:
        from bench.measures.pyiqa_adapter import MeasureUnavailable

        with pytest.raises(MeasureUnavailable, match=r"pip install 'derain-bench\[pyiqa\]'"):
            build_measure("pyiqa:lpips")
    else:
        m = build_measure("pyiqa:psnr")
        assert m.info.reference == "FR" and "not comparable" in m.info.description
    with pytest.raises(KeyError, match="did you mean|Did you mean"):
        build_measure("psnr_yy")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_cuda_equals_cpu(shared_data, shared_weights):
    x, y = _rain100h(shared_data, [1, 2])
    for name in ("psnr_y", "ssim_y", "psnr_y_uint8", "ssim_y_uint8", "psnr_rgb", "ssim_rgb"):
        m = build_measure(name)
        assert torch.allclose(m(x, y), m(x.cuda(), y.cuda()).cpu(), rtol=0, atol=1e-5), name
    niqe = NIQE()
    assert torch.allclose(niqe(x), niqe(x.cuda()).cpu(), rtol=1e-3, atol=0)


def test_bench_ls_measures_lists_protocol_direction_range(capsys):
    from bench.cli import main

    assert main(["ls", "measures"]) == 0
    out = capsys.readouterr().out
    for name in MEASURES.names():
        assert name in out
    assert "psnr_y" in out and "prenet" in out and "mprnet" in out and "↓" in out and "↑" in out
