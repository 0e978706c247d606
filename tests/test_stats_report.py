"""`bench report` and `bench figures` with statistics on a hand-made store."""
from __future__ import annotations

import pandas as pd
import pytest

from bench.cli import main

import stats_store


def _store(tmp_path, leads):
    out = tmp_path / "results"
    stats_store.build(out / "store.sqlite", n=30, psnr_noise=1.0, seed=1, leads=leads).close()
    return out


def _row(md: str, label: str) -> list[str]:
    line = next(ln for ln in md.splitlines() if ln.startswith(f"| ds | {label} |"))
    return [c.strip() for c in line.strip("|").split("|")]


@pytest.mark.slow  # two report builds with 2000 resamples
def test_tiny_lead_not_bold_clear_lead_bold(tmp_path, capsys):
    # psnr_y means: a 20, b 25, c 30 (+ noise sd 1). Tiny: c drops to b + 0.02 -> tied, not bold.
    out = _store(tmp_path, {"c": -4.98})
    assert main(["report", "--out", str(out), "--resamples", "1000", "--ci"]) == 0
    md = (out / "leaderboard.md").read_text()
    psnr_col = 4        # Dataset, Model, Images, NIQE, PSNR-Y
    b, c = _row(md, "b")[psnr_col], _row(md, "c")[psnr_col]
    assert b.startswith("*") and not b.startswith("**") and c.startswith("*") and not c.startswith("**"), (b, c)
    assert "±" in c and "italic: tied for best" in md
    # the clear lead (5 dB) is bold, the runner-up underlined
    out2 = _store(tmp_path / "clear", {})
    assert main(["report", "--out", str(out2), "--resamples", "1000"]) == 0
    md2 = (out2 / "leaderboard.md").read_text()
    assert _row(md2, "c")[psnr_col].startswith("**") and _row(md2, "b")[psnr_col].startswith("<ins>")
    assert "±" not in _row(md2, "c")[psnr_col]          # no --ci: no ± in Markdown
    # CSV carries full intervals, HTML the section with one sentence per dataset
    ci = pd.read_csv(out2 / "leaderboard_ci.csv")
    row = ci[ci["model"] == "c"].iloc[0]
    assert row["psnr_y_lo"] < row["psnr_y"] < row["psnr_y_hi"]
    assert "2000" not in row["interval_method"] and "1000 resamples" in row["interval_method"]
    page = (out2 / "report.html").read_text()
    assert "Does restoration predict utility?" in page and "ds: across 4 models, PSNR-Y predicts well the ranking" in page
    assert (out2 / "figures" / "correlation_ds.png").is_file() and (out2 / "figures" / "recovery_share.png").is_file()
    cors = pd.read_csv(out2 / "correlations.csv")
    assert cors.loc[(cors["level"] == "models") & (cors["x"] == "psnr_y"), "spearman"].iloc[0] == 1.0
    rec = pd.read_csv(out2 / "recovery.csv")
    assert rec.loc[(rec["model_key"] == "b#000000000000") & (rec["metric"] == "hog_map50_95"), "share"].iloc[0] == 0.7


def test_bench_figures_stats_kinds(tmp_path, capsys):
    out = _store(tmp_path, {})
    fig_dir = tmp_path / "figs"
    fig_dir.mkdir()
    (fig_dir / "cor.yaml").write_text("kind: correlation_scatter\nneeds: {datasets: [ds]}\n"
                                      "params: {x: psnr_y, y: hog_map50_95, resamples: 1000}\n")
    (fig_dir / "rec.yaml").write_text("kind: recovery_share\nneeds: {datasets: [ds]}\n"
                                      "params: {metric: hog_map50_95, resamples: 1000}\n")
    (fig_dir / "cd.yaml").write_text("kind: critical_difference\nparams: {metric: psnr_y}\n")
    assert main(["figures", "--out", str(out), "--figures-dir", str(fig_dir)]) == 0
    text = capsys.readouterr().out
    assert (out / "figures" / "cor_ds.png").is_file() and (out / "figures" / "rec.png").is_file()
    assert (out / "figures" / "cd_ds.png").is_file()
    assert "ds models: Spearman 1.000 [1.000, 1.000]" in text
    assert "b: 0.700 [0.700, 0.700]" in text
    assert "Friedman" in text
