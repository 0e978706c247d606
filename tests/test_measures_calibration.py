"""PSNR/SSIM calibration against Octave running MATLAB scripts (tests/reference/measures/).

References: make_fr_reference.m (our transcription of PReNet's statistic scripts and of
MPRNet's evaluate_PSNR_SSIM.m; checked equal to PReNet's own psnr.m/ssim.m, see README.md),
run in Octave 7.3 + image 2.14 on the shared Rain100H images and on the official PReNet outputs
committed in prenet_outputs/.
"""
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from bench.imageio import read_rgb, to_tensor
from bench.measures import build_measure

REF = Path(__file__).parent / "reference" / "measures"
PRESETS = {  # Octave column suffix -> (psnr measure, ssim measure)
    "prenet": ("psnr_y", "ssim_y"),
    "mprnet": ("psnr_y_uint8", "ssim_y_uint8"),
}


def _measure_pairs(pairs, names, batch=16):
    """{measure: {image: value}} computing in same-size batches (as the runner does)."""
    by_shape = defaultdict(list)
    for key, out_path, clean_path in pairs:
        o, c = read_rgb(out_path), read_rgb(clean_path)
        by_shape[o.shape].append((key, o, c))
    measures = {n: build_measure(n) for n in names}
    values = {n: {} for n in names}
    for items in by_shape.values():
        for i in range(0, len(items), batch):
            chunk = items[i:i + batch]
            x = torch.cat([to_tensor(o) for _, o, _ in chunk])
            y = torch.cat([to_tensor(c) for _, _, c in chunk])
            for n, m in measures.items():
                for (key, _, _), v in zip(chunk, m(x, y).tolist()):
                    values[n][key] = v
    return values


def _check_against_octave(ref: pd.DataFrame, values: dict) -> None:
    for preset, (psnr_name, ssim_name) in PRESETS.items():
        for row in ref.itertuples():
            assert abs(values[psnr_name][row.image] - getattr(row, f"psnr_y_{preset}")) < 1e-4, (preset, row.image)
            assert abs(values[ssim_name][row.image] - getattr(row, f"ssim_y_{preset}")) < 1e-5, (preset, row.image)


@pytest.mark.slow  # a full-set reproduction (100 pairs)
def test_rain100h_rainy_all_100_match_octave(shared_data):
    ref = pd.read_csv(REF / "octave_rain100h_rainy.csv")
    assert len(ref) == 100
    root = shared_data / "rain100h"
    pairs = [(n, root / "rain" / n, root / "norain" / n) for n in ref.image]
    values = _measure_pairs(pairs, ["psnr_y", "ssim_y", "psnr_y_uint8", "ssim_y_uint8"])
    _check_against_octave(ref, values)
    mean_psnr = np.mean(list(values["psnr_y"].values()))
    assert abs(mean_psnr - 13.556) < 1e-3             # PReNet scripts in Octave: 13.5559
    assert abs(np.mean(list(values["ssim_y"].values())) - 0.3787) < 1e-4
    assert abs(np.mean(list(values["psnr_y_uint8"].values())) - 13.5555) < 1e-4


def test_official_prenet_outputs_match_octave(shared_data):
    """The official PReNet code's own truncated PNGs (Rain100H checkpoint) vs ground truth."""
    ref = pd.read_csv(REF / "octave_prenet_outputs.csv")
    assert len(ref) >= 4
    pairs = [(n, REF / "prenet_outputs" / n, shared_data / "rain100h" / "norain" / n) for n in ref.image]
    values = _measure_pairs(pairs, ["psnr_y", "ssim_y", "psnr_y_uint8", "ssim_y_uint8"], batch=2)
    _check_against_octave(ref, values)
    assert all(v > 26 for v in values["psnr_y"].values())  # a derained output, not the rainy input


def test_ssim_autodown_matches_octave(shared_data):
    """PReNet's ssim.m downsamples by round(min(H,W)/256): 2 on these 512×384 images."""
    ref = pd.read_csv(REF / "octave_ssim_autodown.csv")
    root = shared_data / "iqa-calibration"
    pairs = [(n, root / "dist" / n, root / "ref" / n) for n in ref.image]
    values = _measure_pairs(pairs, ["ssim_y_autodown", "ssim_y"])
    for row in ref.itertuples():
        assert abs(values["ssim_y_autodown"][row.image] - row.ssim_y_autodown) < 1e-5
        assert abs(values["ssim_y"][row.image] - row.ssim_y_prenet) < 1e-5
    assert abs(values["ssim_y_autodown"]["I03.bmp"] - values["ssim_y"]["I03.bmp"]) > 0.01


def _skimage_rgb(o, c):
    of, cf = o.astype(np.float64), c.astype(np.float64)
    psnr = peak_signal_noise_ratio(cf, of, data_range=255)
    ssim = structural_similarity(of, cf, data_range=255, channel_axis=-1, gaussian_weights=True,
                                 sigma=1.5, use_sample_covariance=False)
    return psnr, ssim


def test_rgb_matches_scikit_image_as_wang_and_published_psnr(shared_data):
    official = pd.read_csv(shared_data / "iqa-calibration" / "official_values.csv").set_index("measure")
    psnr, ssim = build_measure("psnr_rgb"), build_measure("ssim_rgb")
    cases = [(shared_data / "iqa-calibration" / "dist" / n, shared_data / "iqa-calibration" / "ref" / n)
             for n in ("I03.bmp", "I04.bmp", "I06.bmp", "I08.bmp", "I19.bmp")]
    cases += [(shared_data / "rain100h" / "rain" / n, shared_data / "rain100h" / "norain" / n)
              for n in ("norain-1.png", "norain-2.png")]
    for out_path, clean_path in cases:
        o, c = read_rgb(out_path), read_rgb(clean_path)
        want_psnr, want_ssim = _skimage_rgb(o, c)
        got_psnr = float(psnr(to_tensor(o), to_tensor(c))[0])
        got_ssim = float(ssim(to_tensor(o), to_tensor(c))[0])
        assert abs(got_psnr - want_psnr) < 1e-6
        assert abs(got_ssim - want_ssim) < 1e-6
        if out_path.parent.name == "dist":  # published MATLAB RGB PSNR, 2 decimals
            assert abs(got_psnr - float(official.loc["psnr_rgb", out_path.name])) < 0.006
