"""Rain100L as found in ../shared/data/rain100l: `bench data verify` passes with its checksum
manifest, and the rainy inputs score the published Rain100L input PSNR-Y (26.90 dB)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

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
    dataset = DATASETS.load("rain100l").find(shared_data)
    scores = []
    for sample in dataset.samples():
        rainy, clean = read_rgb(sample.rainy), read_rgb(sample.clean)
        scores.append(float(psnr_y(to_tensor(rainy.copy()), to_tensor(clean.copy()))[0]))
    assert len(scores) == 100
    assert abs(float(np.mean(scores)) - 26.90) <= 0.01, np.mean(scores)
