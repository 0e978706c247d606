"""Intervals, p-values and marks against scipy called here on the same numbers with the same seed."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from bench.report.stats import comparisons, intervals
from bench.report.stats.analysis import analyse
from bench.report.tables.leaderboard import build

import stats_store

S = intervals.Settings(seed=7, n_resamples=1000)


def _scipy_mean_ci(x, seed=7, n=1000):
    r = scipy.stats.bootstrap((x,), np.mean, n_resamples=n, method="BCa", confidence_level=0.95,
                              rng=np.random.default_rng(seed))
    return r.confidence_interval.low, r.confidence_interval.high


def test_mean_interval_equals_scipy_bootstrap():
    x = np.random.default_rng(1).normal(28, 2, 40)
    iv = intervals.mean_interval(x, S)
    lo, hi = _scipy_mean_ci(x)
    assert (iv.lo, iv.hi) == (pytest.approx(lo, abs=1e-12), pytest.approx(hi, abs=1e-12))
    assert iv.lo < x.mean() < iv.hi and iv.n == 40 and iv.method == "BCa"


def test_paired_comparison_equals_scipy():
    rng = np.random.default_rng(2)
    a = rng.normal(30, 1, 30)
    b = a - 0.3 + rng.normal(0, 0.5, 30)
    c = comparisons.paired_comparison(a, b, S)
    ref = scipy.stats.bootstrap((a, b), lambda u, v, axis: u.mean(axis) - v.mean(axis), paired=True,
                                n_resamples=1000, method="BCa", rng=np.random.default_rng(7))
    assert c.lo == pytest.approx(ref.confidence_interval.low, abs=1e-12)
    assert c.hi == pytest.approx(ref.confidence_interval.high, abs=1e-12)
    assert c.p_wilcoxon == pytest.approx(scipy.stats.wilcoxon(a, b).pvalue, abs=1e-15)
    d = ref.bootstrap_distribution
    assert c.p_boot == pytest.approx(min(1, 2 * min((np.sum(d <= 0) + 1) / 1001, (np.sum(d >= 0) + 1) / 1001)))


def test_holm_by_hand():
    # sorted p: 0.01 (×3 = 0.03), 0.03 (×2 = 0.06), 0.04 (×1 = 0.04 -> monotone 0.06)
    assert np.allclose(comparisons.holm([0.04, 0.01, 0.03]), [0.06, 0.03, 0.06])
    out = comparisons.holm([0.2, np.nan, 0.5])
    assert np.isnan(out[1]) and np.allclose(out[[0, 2]], [0.4, 0.5])


def test_settings_refuse_few_resamples():
    with pytest.raises(ValueError):
        intervals.Settings(n_resamples=500)
    assert "2000 resamples" in intervals.DEFAULT.text() and "seed 0" in intervals.DEFAULT.text()


def test_tiny_lead_is_tied_clear_lead_is_best():
    rng = np.random.default_rng(3)
    base = rng.normal(29, 2, 50)
    tiny = {"x": base + rng.normal(0, 1, 50) + 0.02, "y": base + rng.normal(0, 1, 50), "z": base - 3}
    marks = comparisons.significance_marks(tiny, True, S)
    assert marks["x"] == marks["y"] == "tied" and marks["z"] == ""
    clear = {"x": base + 2 + rng.normal(0, 0.3, 50), "y": base + rng.normal(0, 0.3, 50), "z": base - 3}
    marks = comparisons.significance_marks(clear, True, S)
    assert marks == {"x": "best", "y": "second", "z": ""}
    # lower is better flips the order
    assert comparisons.significance_marks(clear, False, S)["z"] == "best"


def test_store_intervals_equal_scipy_on_the_stored_numbers(tmp_path):
    store = stats_store.build(tmp_path / "store.sqlite", psnr_noise=1.0, seed=4)
    lb = build(store)
    an = analyse(store, lb, S)
    raw = store.per_image()
    x = raw[(raw["model"] == "b") & (raw["unit"] == "psnr_y")].sort_values("image_id")["value"].to_numpy()
    iv = an.interval("ds", "b#000000000000", "psnr_y")
    lo, hi = _scipy_mean_ci(x)
    assert (iv.lo, iv.hi) == (pytest.approx(lo, abs=1e-9), pytest.approx(hi, abs=1e-9))
    # the leaderboard's own point values are the intervals' centres
    row = lb.table[lb.table["model_key"] == "b#000000000000"].iloc[0]
    assert iv.value == pytest.approx(row["psnr_y"], abs=1e-12)
    assert an.interval("ds", "b#000000000000", "hog_map50_95").value == pytest.approx(row["hog_map50_95"], abs=1e-12)
    assert an.marks["ds", "psnr_y"] == {"a#000000000000": "", "b#000000000000": "second", "c#000000000000": "best"}


def test_map_interval_equals_scipy_over_cocoeval_on_resampled_sets(tmp_path):
    """The mAP interval equals scipy.stats.bootstrap whose statistic runs pycocotools on each
    physically resampled image set (independent of the cached-match shortcut)."""
    from bench.downstream.coco_eval import coco_map

    rng = np.random.default_rng(5)
    store = stats_store.build(tmp_path / "store.sqlite", n=6)
    # vary the boxes per image so that the per-image AP differs
    for i in range(6):
        dx = float(rng.choice([0.0, 4.0, 8.0, 14.0]))
        store.put(model_key="a#000000000000", model="a", variant=None, dataset="ds", image_id=f"img{i:02d}",
                  unit=stats_store.UNIT, payload=stats_store.record(dx))
    lb = build(store)
    an = analyse(store, lb, S)
    preds = store.predictions("a#000000000000", "ds", stats_store.UNIT)
    labels = store.labels("ds", stats_store.UNIT)
    ids = sorted(labels)

    def resampled_map(idx):
        p = {f"r{j}": preds[ids[i]] for j, i in enumerate(np.sort(idx))}
        lab = {f"r{j}": labels[ids[i]] for j, i in enumerate(np.sort(idx))}
        return coco_map(p, lab)["map50_95"]
    ref = scipy.stats.bootstrap((np.arange(6),), resampled_map, vectorized=False, n_resamples=1000, method="BCa",
                                rng=np.random.default_rng(7))
    iv = an.interval("ds", "a#000000000000", "hog_map50_95")
    assert iv.lo == pytest.approx(ref.confidence_interval.low, abs=1e-9)
    assert iv.hi == pytest.approx(ref.confidence_interval.high, abs=1e-9)
    assert iv.lo < iv.value < iv.hi
