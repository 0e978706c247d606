"""Correlation, recovery share and Friedman ranking on constructed data with known answers."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from bench.report.stats import correlation, intervals, ranking, recovery
from bench.report.stats.analysis import collect
from bench.report.tables.leaderboard import build

import stats_store

S = intervals.Settings(seed=0, n_resamples=1000)


@pytest.fixture()
def data(tmp_path):
    store = stats_store.build(tmp_path / "store.sqlite", n=8)
    lb = build(store)
    return collect(store, lb)["ds"], {m: i.higher_is_better for m, i in lb.columns.items()}


def test_known_monotone_relation_gives_one(data):
    d, higher = data
    # psnr_y rises with quality, HOG AP rises with quality: rank agreement is perfect
    (m,) = correlation.across_models(d, ["psnr_y"], ["hog_map50_95"], higher, S)
    assert (m.spearman, m.kendall) == (pytest.approx(1.0), pytest.approx(1.0))
    assert (m.spearman_lo, m.spearman_hi) == (pytest.approx(1.0), pytest.approx(1.0))
    assert m.n_models == 4 and m.n_images == 8          # rainy + a, b, c; the ground truth left out
    # NIQE is lower-is-better: oriented, its perfect inverse relation also reads +1
    (n,) = correlation.across_models(d, ["niqe"], ["hog_map50_95"], higher, S)
    assert n.spearman == pytest.approx(1.0)
    (i,) = correlation.per_image(d, ["psnr_y"], ["hog_map50_95"], higher, S)
    assert i.spearman == pytest.approx(1.0) and i.n_images == 8 and len(i.points) == 32
    assert "seed 0" in i.method and "1000 resamples" in i.method


def test_correlations_match_scipy_on_the_points(data):
    d, higher = data
    (m,) = correlation.across_models(d, ["psnr_y"], ["hog_map50_95"], higher, S)
    ref = scipy.stats.spearmanr(m.points["x"], m.points["y"]).statistic
    assert m.spearman == pytest.approx(ref)


def test_kendall_tau_b_equals_scipy_with_ties():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 4, (20, 15)).astype(float)
    y = x + rng.integers(0, 3, (20, 15))
    got = correlation.kendall_tau_b(x, y)
    ref = [scipy.stats.kendalltau(a, b).statistic for a, b in zip(x, y)]
    assert np.allclose(got, ref, atol=1e-12)


def test_recovery_share_by_hand(data):
    d, _ = data
    # HOG AP: rainy 0, clean 1, model b 0.7 -> 0.7; NIQE: rainy 8, clean 4, b 6 -> (6-8)/(4-8) = 0.5
    r = recovery.recovery(d, "b#000000000000", "hog_map50_95", S)
    assert (r.share, r.model_value, r.rainy_value, r.clean_value) == (pytest.approx(0.7), 0.7, 0.0, 1.0)
    assert recovery.recovery(d, "b#000000000000", "niqe", S).share == pytest.approx(0.5)
    assert recovery.recovery(d, "a#000000000000", "niqe", S).share == pytest.approx(0.25)
    assert math.isnan(float(recovery.share(1.0, 2.0, 2.0)))
    # PSNR is full-reference: not a default recovery metric
    assert "psnr_y" not in recovery.default_metrics(d)


def test_recovery_interval_equals_scipy_paired_bootstrap():
    """Per-image measure: the interval equals scipy.stats.bootstrap(paired=True) of the ratio of means."""
    rng = np.random.default_rng(1)
    n = 25
    rainy, clean = rng.normal(8, 0.5, n), rng.normal(4, 0.5, n)
    model = rng.normal(6, 0.5, n)

    def f(w, v):
        w = np.atleast_2d(w)
        return w @ v / w.sum(1)
    iv = intervals.resampled_interval(n, lambda w: recovery.share(f(w, model), f(w, rainy), f(w, clean)), S)
    ref = scipy.stats.bootstrap((model, rainy, clean),
                                lambda m, r, c, axis: (m.mean(axis) - r.mean(axis)) / (c.mean(axis) - r.mean(axis)),
                                paired=True, n_resamples=1000, method="BCa", rng=np.random.default_rng(0))
    assert iv.lo == pytest.approx(ref.confidence_interval.low, abs=1e-9)
    assert iv.hi == pytest.approx(ref.confidence_interval.high, abs=1e-9)


def test_friedman_against_scipy_and_hand_ranks():
    m = pd.DataFrame({"A": [30.0, 28.0, 35.0, 31.0], "B": [29.0, 27.5, 36.0, 30.0], "C": [25.0, 27.0, 30.0, 26.0]},
                     index=["d1", "d2", "d3", "d4"])
    res = ranking.friedman(m, higher_is_better=True)
    ref = scipy.stats.friedmanchisquare(m["A"], m["B"], m["C"])
    assert res.statistic == pytest.approx(ref.statistic) and res.p == pytest.approx(ref.pvalue)
    # ranks per dataset (1 = best): A 1,1,2,1 -> 1.25; B 2,2,1,2 -> 1.75; C 3,3,3,3 -> 3
    assert res.ranks.to_dict() == {"A": 1.25, "B": 1.75, "C": 3.0}
    # Demšar (2006) table: q_0.05 = 2.343 for k = 3; CD = 2.343 · √(3·4 / (6·4))
    assert res.cd == pytest.approx(2.343 * math.sqrt(12 / 24), abs=2e-3)
    with pytest.raises(ValueError):
        ranking.friedman(m[["A", "B"]], True)


def test_cd_diagram_writes_png(tmp_path):
    m = pd.DataFrame(np.random.default_rng(0).normal(size=(6, 4)), columns=list("ABCD"))
    paths = ranking.cd_diagram(ranking.friedman(m, True), tmp_path / "cd")
    assert paths[0].is_file() and paths[0].stat().st_size > 1000


def test_recovery_verdict_against_rainy(data):
    d, higher = data
    rows = recovery.all_recoveries({"ds": d}, S, metrics=["niqe", "hog_map50_95"], higher=higher)
    # every model is better than the rainy input on every image (NIQE lower, HOG AP higher): the
    # bootstrap distribution of model − rainy never crosses 0, p = 2/(B+1), Holm ×3 < 0.05
    assert len(rows) == 6 and {r.verdict for r in rows} == {"better"}
    assert all(r.p_boot == pytest.approx(2 / 1001) for r in rows)
    assert sorted(r.p_holm for r in rows if r.metric == "niqe") == pytest.approx([2 / 1001 * k for k in (3, 3, 3)])
    # the same numbers read with the direction flipped are "worse"
    flipped = recovery.all_recoveries({"ds": d}, S, metrics=["niqe"], higher={"niqe": True})
    assert {r.verdict for r in flipped} == {"worse"}


def test_recovery_verdict_holm_by_hand():
    def row(diff, p):
        return recovery.Recovery("ds", "k", "m", 0.0, 0.0, 0.0, 10, 0.0, 0.0, 1.0, "", diff=diff, p_boot=p)
    rows = [row(+1.0, 0.01), row(-1.0, 0.04), row(+1.0, 0.03)]
    recovery.judge(rows, higher_is_better=True, alpha=0.05)
    # Holm: 0.01·3 = 0.03; 0.03·2 = 0.06; max(0.06, 0.04·1) = 0.06
    assert [r.p_holm for r in rows] == pytest.approx([0.03, 0.06, 0.06])
    assert [r.verdict for r in rows] == ["better", "no significant difference", "no significant difference"]
