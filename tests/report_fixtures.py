"""A small hand-made leaderboard with known values, for the report tests (the real
``Leaderboard``/``ColumnInfo`` (bench/columns.py) classes, filled by hand; the store-backed path is tested in
test_report_cli.py)."""
from __future__ import annotations

import pandas as pd

from bench.columns import ColumnInfo
from bench.report.tables.leaderboard import Leaderboard


COLUMNS = ["model", "variant", "model_key", "dataset", "images", "errors",
           "psnr_y", "ssim_y", "niqe", "det_map50_95", "params", "gflops", "ms_per_image"]

# Known values chosen to exercise the marking rules:
#  rain100h psnr_y: sapnet and prenet@Rain100H tie at 29.46 (both bold), drdnet 28.00 underlined;
#    clean (100) would be best but is a reference row, never marked.
#  rain100h ssim_y: sapnet 0.9100 best, prenet 0.8990 second.
#  niqe is lower-is-better: drdnet 3.10 best, prenet 3.50 second.
ROWS = [
    ("rainy", None, "rainy", "rain100h", 100, 0, 13.5560, 0.3787, 5.00, 0.10, None, None, None),
    ("prenet", "Rain100H", "prenet@Rain100H#aaaaaaaaaaaa", "rain100h", 100, 0,
     29.4647, 0.8990, 3.50, 0.50, 168963, 66.6, 120.0),
    ("prenet", "Rain100L", "prenet@Rain100L#bbbbbbbbbbbb", "rain100h", 100, 0,
     15.0000, 0.5000, 4.00, 0.20, 168963, 66.6, 120.0),
    ("sapnet", None, "sapnet#cccccccccccc", "rain100h", 100, 2,
     29.4612, 0.9100, 3.90, 0.40, 180000, 70.1, 150.0),
    ("drdnet", None, "drdnet", "rain100h", 100, 0, 28.0000, 0.8800, 3.10, 0.45, 5200000, 700.0, 900.0),
    ("clean", None, "clean", "rain100h", 100, 0, 100.0000, 1.0000, 3.00, 1.00, None, None, None),
    ("rainy", None, "rainy", "rain100l", 100, 0, 26.9000, 0.8384, 4.00, None, None, None, None),
    ("prenet", "Rain100L", "prenet@Rain100L#bbbbbbbbbbbb", "rain100l", 100, 0,
     37.4800, 0.9790, 3.00, None, 168963, 66.6, 120.0),
    ("sapnet", None, "sapnet#cccccccccccc", "rain100l", 100, 0, 37.0000, 0.9800, 3.20, None, 180000, 70.1, 150.0),
    ("drdnet", None, "drdnet", "rain100l", 100, 0, 37.0000, 0.9700, 3.40, None, 5200000, 700.0, 900.0),
]


def hand_leaderboard() -> Leaderboard:
    table = pd.DataFrame(ROWS, columns=COLUMNS)
    def Col(name, hib, rng, protocol, kind):
        return ColumnInfo(name, higher_is_better=hib, value_range=rng, protocol=protocol, kind=kind)

    cols = {
        "psnr_y": Col("psnr_y", True, (0.0, 100.0), "prenet-matlab: Y float, PSNR cap 100 dB", "measure"),
        "ssim_y": Col("ssim_y", True, (0.0, 1.0), "prenet-matlab: Y float, SSIM wang2004", "measure"),
        "niqe": Col("niqe", False, (0.0, 100.0), "niqe-original: 96×96 blocks", "measure"),
        "det_map50_95": Col("det_map50_95", True, (0.0, 1.0), "yolo11n conf 0.25, pseudo labels", "task"),
        "params": Col("params", False, (0.0, float("inf")), "parameters of the deraining network", "cost"),
    }
    return Leaderboard(table, cols, per_image=hand_per_image())


def hand_per_image() -> pd.DataFrame:
    """Long records like ``Store.per_image()``: 5 images per model × dataset, psnr_y and ssim_y."""
    rows = []
    for r in ROWS:
        model, variant, key, dataset = r[:4]
        for i in range(5):
            for unit, mean, spread in (("psnr_y", r[6], 1.5), ("ssim_y", r[7], 0.02)):
                rows.append((key, model, variant, dataset, f"img{i}", unit, mean + spread * (i - 2), None, None))
    return pd.DataFrame(rows, columns=["model_key", "model", "variant", "dataset", "image_id", "unit",
                                       "value", "protocol", "error"])
