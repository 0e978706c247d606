"""Figures exist, are PNG+PDF, and are not blank; comparison grids read cached outputs and draw
predictions; the zoom window lands where the images differ."""
import numpy as np
import pytest
from report_fixtures import hand_leaderboard, hand_per_image

from bench.imageio import read_rgb, write_png
from bench.report.figures import grids, plots

NON_BLANK = 0.05   # pixel std of a white page with a few lines is ~0.02; real plots are > 0.1


def check_figure(paths):
    png, pdf = paths
    assert png.suffix == ".png" and pdf.suffix == ".pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    std = plots.image_std(png)
    assert std > NON_BLANK, f"{png} looks blank (pixel std {std:.3f})"


def test_bars_scatter_distributions(tmp_path):
    lb = hand_leaderboard()
    paths = plots.all_bars(lb, tmp_path)
    assert sorted(p.name for p in paths if p.suffix == ".png") == \
        ["bars_det_map50_95.png", "bars_niqe.png", "bars_psnr_y.png", "bars_ssim_y.png"]
    for i in range(0, len(paths), 2):
        check_figure(paths[i:i + 2])
    assert plots.utility_pairs(lb) == [("psnr_y", "det_map50_95")]
    check_figure(plots.quality_vs_utility(lb, "psnr_y", "det_map50_95", tmp_path / "qvu"))
    dist = plots.all_distributions(hand_per_image(), lb, tmp_path)
    assert [p.name for p in dist] == ["dist_psnr_y.png", "dist_psnr_y.pdf", "dist_ssim_y.png", "dist_ssim_y.pdf"]
    check_figure(dist[:2])
    with pytest.raises(KeyError, match="seg_miou"):
        plots.quality_vs_utility(lb, "psnr_y", "seg_miou", tmp_path / "x")


def test_wide_per_image_from_store_records():
    wide = plots.wide_per_image(hand_per_image())
    row = wide[(wide.model_key == "sapnet#cccccccccccc") & (wide.dataset == "rain100h") & (wide.image_id == "img4")]
    assert row.psnr_y.item() == pytest.approx(29.4612 + 3.0) and row.ssim_y.item() == pytest.approx(0.95)


def test_auto_crop_finds_the_differing_window():
    a = np.zeros((100, 200, 3), np.uint8)
    b = a.copy()
    b[60:90, 120:180] = 255            # the only difference: a 60×30 block
    x, y, w, h = grids.auto_crop([a, b], frac=0.3)
    assert (w, h) == (60, 30) and (x, y) == (120, 60)
    assert grids.auto_crop([a, None]) == (70, 35, 60, 30)   # centre when a pair is missing
    # fine streaks beat a smooth offset (the haze rendered rain adds to the sky)
    b = a.copy()
    b[:40] = 80
    b[60:90:3, 120:180] = 255
    x, y, w, h = grids.auto_crop([a, b], frac=0.3)
    assert abs(x - 120) <= 7 and abs(y - 60) <= 7


def test_fallback_draw_boxes_and_threshold():
    img = np.zeros((50, 80, 3), np.uint8)
    out = grids._fallback_draw(img, {"boxes": [[10, 5, 30, 20], [40, 30, 70, 45]], "scores": [0.9, 0.1]})
    assert (out[5, 10:31] == (255, 255, 0)).all() and (out[5:21, 30] == (255, 255, 0)).all()
    assert out[12, 20].sum() == 0                      # inside the box untouched
    assert out[30, 40:71].sum() == 0                   # score 0.1 < 0.25: not drawn
    assert img.sum() == 0                              # the input is not modified


def test_comparison_grid_reads_cache_and_draws(shared_data, tmp_path):
    src = shared_data / "raincityscapes"
    ids = sorted(p.stem for p in (src / "norain").glob("*.png"))[:2]
    output_path = grids.cache_output_path(tmp_path)
    for i in ids:   # a stand-in derained output: the rainy image, smoothed (the grid only displays it)
        rainy = read_rgb(src / "rain100mm" / f"{i}.png")
        smooth = ((rainy[:-1, :-1].astype(int) + rainy[1:, 1:]) // 2).astype(np.uint8)
        write_png(output_path("prenet@Rain100H#abc", "raincityscapes", i), np.pad(smooth, ((0, 1), (0, 1), (0, 0)), "edge"))

    def fallback(key, dataset, image_id):   # the rainy input and ground truth from the dataset
        return read_rgb(src / ("rain100mm" if key == "rainy" else "norain") / f"{image_id}.png") \
            if key in ("rainy", "clean") else None

    cols = [grids.GridColumn("Rainy", "rainy"), grids.GridColumn("PReNet", "prenet@Rain100H#abc"),
            grids.GridColumn("NLCL", "nlcl"), grids.GridColumn("Ground truth", "clean")]
    samples = [("raincityscapes", i) for i in ids]
    plain, missing = grids.comparison_grid(samples, cols, output_path, tmp_path / "plain", fallback=fallback)
    check_figure(plain)
    assert len(missing) == 2 and all(m.startswith("nlcl on raincityscapes/") for m in missing)
    boxes = {"boxes": [[40, 40, 200, 160]], "classes": [2], "scores": [0.9], "names": {"2": "car"},
             "height": 256, "width": 512}
    drawn, _ = grids.comparison_grid(samples, cols, output_path, tmp_path / "drawn", fallback=fallback,
                                     prediction=lambda k, d, i: boxes)
    check_figure(drawn)
    a, b = read_rgb(plain[0]), read_rgb(drawn[0])
    assert a.shape == b.shape and np.abs(a.astype(int) - b).sum() > 0   # the boxes changed the picture
    with pytest.raises(FileNotFoundError, match="no image of the grid"):
        grids.comparison_grid(samples, cols[2:3], output_path, tmp_path / "none")
