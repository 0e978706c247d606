"""Published figures next to measured ones (bench/report/tables/published.py), read from the weights
registry only, on a hand-made store: `bench report` writes "PSNR-Y (pub.)" and "Δ" columns into
the Markdown/LaTeX leaderboard and the per-dataset CSVs, with the source as a footnote."""
from __future__ import annotations

import pandas as pd
import pytest
from report_fixtures import hand_leaderboard
from store_fixtures import put_measure_units

from bench.cli import main
from bench.models.weights import registry
from bench.report.tables import published
from bench.report.tables.layouts import leaderboard_table
from bench.report.tables.render import to_markdown
from bench.store import Store

PROTOCOL = "hand-made test protocol"
SHA = {v: registry()["prenet"][v]["sha256"] for v in ("Rain100H", "Rain100L")}
H, L = f"prenet@Rain100H#{SHA['Rain100H'][:12]}", f"prenet@Rain100L#{SHA['Rain100L'][:12]}"
# dataset -> (model, variant, model_key) -> per-image (psnr_y, ssim_y); means chosen by hand
STORE = {
    "rain100h": {
        ("rainy", None, "rainy"): [(13.0, 0.30), (14.0, 0.40)],                   # 13.50 / 0.3500
        ("prenet", "Rain100H", H): [(29.0, 0.890), (30.0, 0.900)],                # 29.50 / 0.8950
        ("prenet", "Rain100L", L): [(15.0, 0.50), (16.0, 0.50)],                  # no rain100h figure for it
        ("prenet", "Rain100H", "prenet@Rain100H#0123456789ab"): [(20.0, 0.7)],   # another file: no figure
    },
    "rain100l": {
        ("rainy", None, "rainy"): [(26.9, 0.8384)],
        ("prenet", "Rain100L", L): [(37.0, 0.975), (37.5, 0.979)],               # 37.25 / 0.9770
    },
}


def test_registry_carries_prenet_readme_figures():
    figs = published.figures()
    assert figs["prenet", "Rain100H", "rain100h"].psnr == 29.46 and figs["prenet", "Rain100H", "rain100h"].ssim == 0.899
    assert figs["prenet", "Rain100L", "rain100l"].psnr == 37.48 and figs["prenet", "Rain100L", "rain100l"].ssim == 0.979
    assert figs["prenet", "Rain1400", "rain1400"].psnr == 32.60 and figs["prenet", "Rain1400", "rain1400"].ssim == 0.946
    for key, fig in figs.items():
        assert fig.channel in ("Y", "RGB") and fig.code and ("README" in fig.source or "paper" in fig.source.lower())
        assert fig.sha256 == registry()[fig.model][fig.variant]["sha256"]


def _frame() -> pd.DataFrame:
    rows = []
    for dataset, models in STORE.items():
        for (model, variant, key), vals in models.items():
            rows.append({"model": model, "variant": variant, "model_key": key, "dataset": dataset,
                         "psnr_y": sum(p for p, _ in vals) / len(vals), "ssim_y": sum(s for _, s in vals) / len(vals)})
    return pd.DataFrame(rows)


def test_published_frame_values_deltas_and_hash_check():
    frame = _frame()
    pub = published.published_frame(frame)
    by_key = {(r.dataset, r.model_key): p for (_, r), (_, p) in zip(frame.iterrows(), pub.iterrows())}
    h = by_key["rain100h", H]
    assert h["psnr_y_pub"] == 29.46 and h["ssim_y_pub"] == 0.899
    assert h["psnr_y_delta"] == pytest.approx(29.50 - 29.46) and h["ssim_y_delta"] == pytest.approx(0.895 - 0.899)
    assert h["published_ref"] == 1 and "PReNet README" in h["published_source"]
    low = by_key["rain100l", L]
    assert low["psnr_y_pub"] == 37.48 and low["psnr_y_delta"] == pytest.approx(37.25 - 37.48)
    assert low["published_ref"] == 2
    for key in (("rain100h", "rainy"), ("rain100h", L), ("rain100h", "prenet@Rain100H#0123456789ab")):
        assert pd.isna(by_key[key]["published_ref"]) and pd.isna(by_key[key]["psnr_y_pub"]), key
    assert published.footnotes(pub) == [f"[1] {h['published_source']}", f"[2] {low['published_source']}"]


def test_rgb_figure_is_shown_without_delta():
    figs = {("m", "v", "rain100h"): published.Published("m", "v", "rain100h", 30.0, 0.9, "RGB", "Python", "paper Table 2")}
    frame = pd.DataFrame([{"model": "m", "variant": "v", "model_key": "m@v#abc", "dataset": "rain100h",
                           "psnr_y": 31.0, "ssim_y": 0.91}])
    pub = published.published_frame(frame, figs)
    assert pub.loc[0, "psnr_y_pub"] == 30.0 and pd.isna(pub.loc[0, "psnr_y_delta"])
    assert "not comparable" in pub.loc[0, "published_source"]


def test_tables_unchanged_when_no_row_has_a_figure():
    """The report fixtures' keys carry made-up hashes: no published column may appear."""
    md = to_markdown(leaderboard_table(hand_leaderboard()))
    assert "(pub.)" not in md and "Δ" not in md


@pytest.fixture()
def results(tmp_path):
    out = tmp_path / "results"
    store = Store(out / "store.sqlite")
    for dataset, models in STORE.items():
        for (model, variant, key), vals in models.items():
            for i, (psnr, ssim) in enumerate(vals, 1):
                for unit, v in (("psnr_y", psnr), ("ssim_y", ssim)):
                    store.put(model_key=key, model=model, variant=variant, dataset=dataset, image_id=str(i),
                              unit=unit, value=v, protocol=PROTOCOL, run_id="r1")
    put_measure_units(store, ("psnr_y", "ssim_y"), PROTOCOL)     # what `bench run` records when it plans
    store.close()
    (out / "runs" / "r1").mkdir(parents=True)
    (out / "runs" / "r1" / "run.json").write_text('{"git": "cafe1234", "device": "cpu"}')
    return out


def test_bench_report_writes_published_columns(results, tmp_path):
    # --no-stats: the plain ranking (2 images cannot separate rows significantly; see test_stats_report.py)
    assert main(["report", "--out", str(results), "--data-root", str(tmp_path), "--no-stats"]) == 0
    md = (results / "leaderboard.md").read_text().splitlines()
    assert md[2] == "| Dataset | Model | Images | PSNR-Y ↑ | SSIM-Y ↑ | PSNR-Y (pub.) | Δ |"
    rows = [ln for ln in md if ln.startswith("| Rain")]
    assert "| Rain100H | PReNet (Rain100H) | 2 | **29.50** (+16.00) | **0.8950** (+0.5450) | 29.46 [1] | +0.04 |" in rows
    # the same name and variant with another file's hash gets no figure (and, on 1 of the 2 images
    # the others cover, it is incomplete: marked †, not ranked)
    assert "| Rain100H | PReNet (Rain100H) | 1 of 2† | 20.00 (+6.50) | 0.7000 (+0.3500) | – | – |" in rows
    assert "| Rain100L | PReNet (Rain100L) | 2 | **37.25** (+10.35) | **0.9770** (+0.1386) | 37.48 [2] | -0.23 |" in rows
    assert "| Rain100H | Rainy input | 2 | 13.50 | 0.3500 | – | – |" in rows
    assert len([r for r in rows if r.endswith("| – | – |")]) == 4     # rainy ×2, Rain100L model on H, foreign file
    notes = [ln for ln in md if ln.startswith("- [")]
    assert notes[0].startswith("- [1] prenet@Rain100H on rain100h: 29.46/0.899 (Y, MATLAB) — PReNet README")
    assert notes[1].startswith("- [2] prenet@Rain100L on rain100l: 37.48/0.979 (Y, MATLAB)")
    tex = (results / "leaderboard.tex").read_text()
    assert "PSNR-Y (pub.) & $\\Delta$" in tex or "PSNR-Y (pub.) & Δ" in tex
    assert "29.46 [1] & +0.04" in tex
    per_dataset = pd.read_csv(results / "leaderboard_rain100h.csv")
    row = per_dataset[per_dataset["model_key"] == H].iloc[0]
    assert row["psnr_y_pub"] == 29.46 and row["psnr_y_delta"] == pytest.approx(0.04)
    assert row["ssim_y_delta"] == pytest.approx(-0.004) and "PReNet README" in row["published_source"]
    assert per_dataset[per_dataset["model_key"] == L]["psnr_y_pub"].isna().all()
    # leaderboard.csv stays what `bench run` writes (tables.csv_frame's contract)
    assert "psnr_y_pub" not in pd.read_csv(results / "leaderboard.csv").columns
