"""The HTML report is one self-contained page: it loads offline in headless Chromium, the
leaderboard rows are in the DOM, and a screenshot shows the figures rendered."""
import re
import shutil
import subprocess

import numpy as np
import pytest
from report_fixtures import hand_leaderboard

from bench.imageio import read_rgb
from bench.report.figures import plots
from bench.report.tables.layouts import leaderboard_table
from bench.report.tables.render import to_html
from bench.report.html import Page, load_runs, runs_html

CHROMIUM = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars"]


def build_page(tmp_path):
    lb = hand_leaderboard()
    (tmp_path / "runs" / "20260101-000000-abc").mkdir(parents=True)
    (tmp_path / "runs" / "20260101-000000-abc" / "run.json").write_text(
        '{"git": "deadbeef", "device": "cpu", "config": {"models": ["rainy", "prenet"]}}')
    bars = plots.bars(lb, "psnr_y", tmp_path / "figures" / "bars_psnr_y")
    page = Page(subtitle="test page")
    page.add_html("Leaderboard", to_html(leaderboard_table(lb), "leaderboard"))
    page.add_figures("Figures", [("PSNR-Y per dataset", bars[0])])
    page.add_html("Runs", runs_html(load_runs(tmp_path)))
    return page.write(tmp_path / "report.html")


def test_page_is_self_contained(tmp_path):
    text = build_page(tmp_path).read_text()
    assert re.findall(r'(?:src|href)="(?!data:)', text) == []      # nothing loaded from elsewhere
    assert "<script" not in text and "http://" not in text and "https://" not in text
    assert text.count('src="data:image/png;base64,') == 1
    assert "deadbeef" in text and "20260101-000000-abc" in text      # run metadata
    assert "<td class=\"num\"><b>29.46</b> <small class=\"delta\">(+15.91)</small></td>" in text


def chromium(tmp_path, *args, timeout=90):
    profile = tmp_path / "chrome-profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian: apt-get install -y chromium "
                                             "chromium-driver; .ci/run installs it)")
def test_page_renders_in_headless_chromium(tmp_path):
    page = build_page(tmp_path)
    url = page.resolve().as_uri()
    dom = chromium(tmp_path, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", dom.stdout, re.S)
    cells = [re.sub(r"<[^>]+>", "", r) for r in rows]
    assert sum(c.startswith("Rain100H") for c in cells) == 6 and sum(c.startswith("Rain100L") for c in cells) == 4
    assert any("SAPNet" in c and "29.46" in c for c in cells)
    shot = tmp_path / "screenshot.png"
    res = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1400,2400", url)
    assert res.returncode == 0 and shot.is_file(), res.stderr[-2000:]
    img = read_rgb(shot)
    assert img.std() > 10, "the screenshot is blank"
    # the bar chart is only in the embedded PNG: its tab10 blue bars must show on screen
    blue = np.all(np.abs(img.astype(int) - (31, 119, 180)) < 12, axis=2)
    assert blue.sum() > 2000, f"figure not rendered ({blue.sum()} bar pixels)"
    shutil.copy(shot, tmp_path.parent / "report_screenshot.png")
