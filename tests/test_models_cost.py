"""Cost columns: parameter counts from the official code, FLOPs by hand, timing and the perf table."""
import pytest
import torch
from torch import nn

from bench.models.base import NetworkDerainer
from bench.commands.perf_models import main as perf_main
from bench.models.cost import cost_columns, count_flops, count_params, time_derainer
from bench.models.drdnet import DRDNet
from bench.models.precomputed import PrecomputedDerainer
from bench.models.rdmc import IO_PAD, RDMC
from bench.models.testing import fill_deterministic


def test_parameter_counts_equal_the_official_networks():
    # sum(p.numel()) of the official DRDNetwork() and UNet() (tests/reference/models/README.md)
    assert count_params(DRDNet()) == 5_221_766
    assert count_params(RDMC()) == 19_809_990


def test_drdnet_flops_match_a_hand_count():
    h = w = 16
    px = h * w
    conv = lambda cin, cout, k=3: 2 * px * cout * cin * k * k  # noqa: E731 - 2 FLOPs per MAC
    se = 2 * (64 * 4 + 4 * 64)                                  # two bias-free linears per block
    rain = conv(3, 64) + 16 * (2 * conv(64, 64) + se) + conv(64, 64) + conv(64, 3)
    ca = 3 * conv(64, 64) + conv(192, 64, 1)
    back = conv(3, 64) + 16 * 2 * ca + conv(64, 64) + conv(64, 3)
    assert count_flops(DRDNet(), torch.zeros(1, 3, h, w)) == rain + back


def test_cost_columns_use_the_size_policy_and_skip_non_networks(tmp_path):
    d = NetworkDerainer("rdmc", RDMC(), IO_PAD)
    c = cost_columns(d, size=(40, 50))
    assert c["params"] == 19_809_990 and c["gflops_at"] == "1x3x40x50 (network input 48x64)"
    assert c["gmacs"] == pytest.approx(c["gflops"] / 2, abs=1e-3) and c["gflops"] > 0
    (tmp_path / "1.png").write_bytes(b"")
    assert cost_columns(PrecomputedDerainer(tmp_path))["params"] is None


@pytest.mark.slow
def test_timing_is_positive_and_perf_table_lists_models(capsys):
    net = fill_deterministic(nn.Sequential(nn.Conv2d(3, 3, 3, padding=1)))
    assert time_derainer(NetworkDerainer("t", net, IO_PAD), size=(32, 32), reps=2, warmup=0) > 0
    assert perf_main(["--models", "drdnet", "--size", "16x24", "--reps", "1", "--warmup", "0"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("drdnet"))
    assert "deterministic" in row and "5,221,766" in row and "16x24" in row
