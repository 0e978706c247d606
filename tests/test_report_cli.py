"""`bench report` and `bench figures` on a small hand-made store with known values."""
import numpy as np
import pandas as pd
import pytest

from bench.cli import main
from bench.imageio import read_rgb, write_png
from bench.report.figures.plots import image_std
from bench.store import IMAGE_UNIT, Store
from bench.store.cache import OutputCache
from store_fixtures import put_hog_unit, put_measure_units

PROTOCOL = "hand-made test protocol"
RAIN100H = {  # model, variant, model_key -> {image id: (psnr_y, ssim_y)}
    ("rainy", None, "rainy"): {"1": (13.0, 0.30), "2": (14.0, 0.35), "3": (15.0, 0.40)},
    ("prenet", "Rain100H", "prenet@Rain100H#aaaaaaaaaaaa"):
        {"1": (29.0, 0.89), "2": (30.0, 0.90), "3": (31.0, 0.91)},
    ("sapnet", None, "sapnet#bbbbbbbbbbbb"): {"1": (29.5, 0.92), "2": (30.5, 0.92)},
    ("clean", None, "clean"): {"1": (100.0, 1.0), "2": (100.0, 1.0), "3": (100.0, 1.0)},
}


@pytest.fixture()
def results(tmp_path, shared_data):
    out = tmp_path / "results"
    store = Store(out / "store.sqlite")
    for (model, variant, key), per_image in RAIN100H.items():
        for image_id, (psnr, ssim) in per_image.items():
            for unit, v in (("psnr_y", psnr), ("ssim_y", ssim)):
                store.put(model_key=key, model=model, variant=variant, dataset="rain100h", image_id=image_id,
                          unit=unit, value=v, protocol=PROTOCOL, run_id="r1")
            if model == "prenet":  # a stand-in derained PNG in the runner's cache (the grid only shows it)
                rainy = read_rgb(shared_data / "rain100h" / "rain" / f"norain-{image_id}.png")
                write_png(OutputCache(out).legacy_path(key, "rain100h", image_id), (rainy // 2 + 64).astype(np.uint8))
    store.put(model_key="sapnet#bbbbbbbbbbbb", model="sapnet", variant=None, dataset="rain100h",
              image_id="3", unit=IMAGE_UNIT, error="RuntimeError: forward failed", run_id="r1")
    # RainCityscapes with a downstream task: HOG people boxes (x1, y1, x2, y2) stored per image, the
    # clean image's boxes as pseudo-labels; scored at report time by the real task (pycocotools)
    unit = "hog_people#0123abcd"
    person = {"height": 256, "width": 512, "boxes": [[200.0, 60.0, 260.0, 200.0]], "classes": [0],
              "scores": [0.9], "names": {"0": "person"}}
    nothing = {"height": 256, "width": 512, "boxes": [], "classes": [], "scores": [], "names": {}}
    ids = sorted(p.stem for p in (shared_data / "raincityscapes" / "norain").glob("*.png"))[:2]
    for model, key, psnr, pred in (("rainy", "rainy", 19.0, nothing), ("clean", "clean", 100.0, person),
                                   ("prenet", "prenet@Rain100H#aaaaaaaaaaaa", 21.0, person)):
        for image_id in ids:
            store.put(model_key=key, model=model, variant="Rain100H" if model == "prenet" else None,
                      dataset="raincityscapes", image_id=image_id, unit="psnr_y", value=psnr, protocol=PROTOCOL)
            store.put(model_key=key, model=model, variant="Rain100H" if model == "prenet" else None,
                      dataset="raincityscapes", image_id=image_id, unit=unit, payload=pred)
            if model == "prenet":
                rainy = read_rgb(shared_data / "raincityscapes" / "rain100mm" / f"{image_id}.png")
                write_png(OutputCache(out).legacy_path(key, "raincityscapes", image_id), (rainy // 2 + 64).astype(np.uint8))
    for image_id in ids:
        store.put_label("raincityscapes", unit, image_id, "pseudo", person)
    store.put_model("prenet@Rain100H#aaaaaaaaaaaa", "prenet", "Rain100H", "a" * 64, {"params": 168963})
    put_measure_units(store, ("psnr_y", "ssim_y"), PROTOCOL)
    put_hog_unit(store, unit, "raincityscapes")
    store.close()
    (out / "runs" / "r1").mkdir(parents=True)
    (out / "runs" / "r1" / "run.json").write_text('{"git": "cafe1234", "device": "cpu"}')
    return out


def test_bench_report_writes_every_output(results, shared_data, capsys):
    # --no-stats: the plain ranking at printed precision (significance marks: tests/test_stats_report.py)
    assert main(["report", "--out", str(results), "--data-root", str(shared_data), "--no-stats"]) == 0
    md = (results / "leaderboard.md").read_text().splitlines()
    assert md[2] == ("| Dataset | Model | Images | Errors | PSNR-Y ↑ | SSIM-Y ↑ | HOG mAP50-95 ↑ | HOG mAP50 ↑ "
                     "| Params (M) ↓ |")
    # means by hand: rainy 14.00/0.3500; prenet 30.00/0.9000; sapnet (2 images, 1 error) 30.00/0.9200.
    # SAPNet covers 2 of the 3 images PReNet covers: shown, marked incomplete (†), never ranked
    # against PReNet (defect 1: it used to be bold for SSIM over an easier subset).
    assert md[4:8] == [
        "| Rain100H | Rainy input | 3 | 0 | 14.00 | 0.3500 | – | – | – |",
        "| Rain100H | PReNet (Rain100H) | 3 | 0 | **30.00** (+16.00) | **0.9000** (+0.5500) | – | – | 0.169 |",
        "| Rain100H | SAPNet | 2 of 3† | 1 | 30.00 (+16.00) | 0.9200 (+0.5700) | – | – | – |",
        "| Rain100H | Ground truth | 3 | 0 | 100.00 (+86.00) | 1.0000 (+0.6500) | – | – | – |"]
    assert ("- † SAPNet on Rain100H: 1 of 3 images left out of the row (3: RuntimeError: forward failed).") in md
    # boxes identical to the pseudo-labels score 1, no boxes score 0 (pycocotools, at report time)
    assert md[8:11] == [
        "| RainCityscapes | Rainy input | 2 | 0 | 19.00 | – | 0.0000 | 0.0000 | – |",
        "| RainCityscapes | PReNet (Rain100H) | 2 | 0 | **21.00** (+2.00) | – | **1.0000** (+1.0000) "
        "| **1.0000** (+1.0000) | 0.169 |",
        "| RainCityscapes | Ground truth | 2 | 0 | 100.00 (+81.00) | – | 1.0000 (+1.0000) | 1.0000 (+1.0000) | – |"]
    assert "- PSNR-Y ↑: hand-made test protocol" in md
    assert r"\textbf{30.00}" in (results / "leaderboard.tex").read_text()
    csv = pd.read_csv(results / "leaderboard.csv")
    assert csv.set_index("model").loc["sapnet", "psnr_y"] == pytest.approx(30.0)
    assert (results / "leaderboard_rain100h.csv").is_file()
    for name in ("bars_psnr_y", "bars_ssim_y", "dist_psnr_y", "grid_rain100h", "grid_raincityscapes",
                 "grid_raincityscapes_hog_people", "quality_vs_hog_map50_95"):
        png = results / "figures" / f"{name}.png"
        assert png.is_file() and (results / "figures" / f"{name}.pdf").is_file()
        assert image_std(png) > 0.05, name
    page = (results / "report.html").read_text()
    assert "PReNet (Rain100H)" in page and "cafe1234" in page and "forward failed" in page
    # bars ×4, scatter ×2, distributions ×2, grids ×3 (rain100h, raincityscapes, + hog boxes); PNG only
    assert page.count("data:image/png;base64,") == 11
    plain = read_rgb(results / "figures" / "grid_raincityscapes.png")
    boxed = read_rgb(results / "figures" / "grid_raincityscapes_hog_people.png")
    assert plain.shape == boxed.shape and (plain != boxed).any()
    printed = capsys.readouterr().out
    # the grid reads the rainy input and ground truth from the dataset; only sapnet has no cached PNG
    notes = [l for l in printed.splitlines() if l.startswith("note:")]
    assert notes and all("sapnet#bbbbbbbbbbbb" in n for n in notes)


def test_bench_report_without_store_says_what_to_run(tmp_path):
    with pytest.raises(SystemExit, match="bench run --all"):
        main(["report", "--out", str(tmp_path / "none")])


def test_bench_figures_names_missing_runs_and_draws_the_rest(results, shared_data, capsys):
    assert main(["figures", "rain100_psnr_ssim", "--out", str(results)]) == 0
    out = capsys.readouterr().out
    assert "figure rain100_psnr_ssim: 11 of 14 needed model × dataset runs incomplete:" in out
    assert "  - rainy on rain100l: no records" in out and "  - rdmc on rain100h: no records" in out
    assert "  - prenet on rain100h" not in out
    assert (f"produce them with: bench run --models rainy,prenet,sapnet,nlcl,drdnet,semi-drdnet,rdmc "
            f"--datasets rain100l,rain100h --measures psnr_y,ssim_y --tasks none --out {results}") in out
    table = (results / "figures" / "rain100_psnr_ssim.md").read_text().splitlines()
    assert table[2] == "| Model | Rain100H PSNR-Y ↑ | Rain100H SSIM-Y ↑ |"
    assert table[4:7] == ["| Rainy input | 14.00 | 0.3500 |", "| PReNet | **30.00** | **0.9000** |",
                          "| SAPNet† | 30.00 | 0.9200 |"]   # 2 of 3 images: incomplete, not ranked
    assert table[7] == "| NLCL | – | – |"
    assert (results / "figures" / "rain100_psnr_ssim.tex").is_file()
    assert main(["figures", "rain100_psnr_ssim", "--out", str(results), "--strict"]) == 1


def test_bench_figures_list_and_unknown(capsys):
    assert main(["figures", "--list"]) == 0
    listed = capsys.readouterr().out.split()
    for name in ("rain100_psnr_ssim", "raincityscapes_detection", "raincityscapes_segmentation", "quality_vs_utility"):
        assert name in listed
    assert main(["figures", "rain100_psnr"]) == 2
    assert "did you mean 'rain100_psnr_ssim'" in capsys.readouterr().err.lower()


def test_figure_yaml_errors_name_the_file(tmp_path, capsys):
    (tmp_path / "bad.yaml").write_text("name: bad\nkind: pie_chart\n")
    assert main(["figures", "--figures-dir", str(tmp_path), "--list"]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "unknown figure kind 'pie_chart'" in err


def test_bench_figures_visual_comparison_with_task(results, shared_data, tmp_path, capsys):
    figs = tmp_path / "figs"
    figs.mkdir()
    (figs / "hog.yaml").write_text(
        "name: hog_grid\nkind: visual_comparison\nneeds:\n  models: [rainy, prenet, nlcl, clean]\n"
        "  datasets: [raincityscapes]\n  tasks: [hog_people]\nparams:\n  dataset: raincityscapes\n"
        "  task: hog_people\n  images: 1\n")
    (figs / "qvu.yaml").write_text(
        "name: qvu\nkind: quality_vs_utility\nneeds:\n  models: [rainy, prenet, clean]\n"
        "  datasets: [raincityscapes]\n  measures: [psnr_y]\n  tasks: [hog_people]\n"
        "params:\n  x: psnr_y\n  y: [hog_map50_95]\n")
    assert main(["figures", "--figures-dir", str(figs), "--out", str(results), "--data-root", str(shared_data)]) == 0
    out = capsys.readouterr().out
    assert "figure hog_grid: 1 of 4 needed model × dataset runs incomplete:\n  - nlcl on raincityscapes: no records" in out
    assert "figure hog_grid: note: nlcl has no records on raincityscapes: its column is left out" in out
    assert "figure qvu (complete)" in out and "figure hog_grid (partial)" in out
    for name in ("hog_grid", "qvu_hog_map50_95"):
        assert image_std(results / "figures" / f"{name}.png") > 0.05


def test_too_few_resamples_is_a_usage_error_not_a_traceback(tmp_path, capsys):
    import pytest as _pytest

    from bench.cli import main as _main

    with _pytest.raises(SystemExit) as e:
        _main(["report", "--out", str(tmp_path), "--resamples", "500"])
    assert e.value.code == 2
    assert "at least 1000" in capsys.readouterr().err
