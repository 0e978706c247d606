"""The statistics part of `bench report`: intervals and significance for the tables, and the
section "Does restoration predict utility?" (correlations, recovery shares, rankings).

Called from bench/report/build.py: ``analysis = compute(store, lb, settings)`` before the tables,
``add_to_report(analysis, lb, out, report, page)`` after the figures. Writes
``leaderboard_ci.csv`` (every metric with ``_lo`` / ``_hi``), ``comparisons.csv``,
``correlations.csv`` and ``recovery.csv``, and the figures ``correlation_<dataset>``,
``recovery_share`` and ``ranks_<dataset>`` under ``figures/``.
"""
from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from bench.report.figures import stats_kinds
from bench.report.stats import correlation, intervals, ranking, recovery
from bench.report.stats.analysis import Analysis, analyse, interval_frame
from bench.report.labels import dataset_label, metric_label, model_label


def _resamples(text: str) -> int:
    """argparse type: a bad value is a usage error (exit 2), not a traceback from scipy later."""
    import argparse

    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if n < 1000:
        raise argparse.ArgumentTypeError(f"{n} is too few: percentile and BCa intervals need at least 1000 resamples")
    return n


def add_arguments(p) -> None:
    p.add_argument("--ci", action="store_true", help="print ± interval half-widths in leaderboard.md/.tex")
    p.add_argument("--resamples", type=_resamples, default=intervals.N_RESAMPLES,
                   help=f"bootstrap resamples (default {intervals.N_RESAMPLES}, at least 1000)")
    p.add_argument("--seed", type=int, default=intervals.SEED, help=f"bootstrap seed (default {intervals.SEED})")
    p.add_argument("--no-stats", action="store_true", help="skip intervals, significance and correlations")


def settings_from(args) -> intervals.Settings | None:
    if getattr(args, "no_stats", False):
        return None
    return intervals.Settings(seed=getattr(args, "seed", intervals.SEED), n_resamples=getattr(args, "resamples", intervals.N_RESAMPLES))


def compute(store, lb, settings: intervals.Settings | None) -> Analysis | None:
    return None if settings is None else analyse(store, lb, settings)


def _csv(df: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, float_format="%.6g")
    return path


def _labels(analysis: Analysis) -> dict[str, str]:
    return {k: model_label(*d.rows[k]) for d in analysis.data.values() for k in d.rows}


def add_to_report(analysis: Analysis | None, lb, out: Path, report, page) -> None:
    if analysis is None:
        return
    out, figs, s = Path(out), Path(out) / "figures", analysis.settings
    labels = _labels(analysis)
    report.files.append(_csv(interval_frame(lb, analysis), out / "leaderboard_ci.csv"))
    if not analysis.comparisons.empty:
        report.files.append(_csv(analysis.comparisons.assign(method=s.text()), out / "comparisons.csv"))
    cors = correlation.all_correlations(analysis.data, analysis.higher, s)
    recs = recovery.all_recoveries(analysis.data, s, higher=analysis.higher)
    sentences, blocks = [], []
    if cors:
        report.files.append(_csv(correlation.frame(cors), out / "correlations.csv"))
    for dataset, d in analysis.data.items():
        mine = [c for c in cors if c.dataset == dataset]
        if not mine:
            continue
        x = "psnr_y" if any(c.x == "psnr_y" for c in mine) else mine[0].x
        y = mine[0].y
        mc = next((c for c in mine if c.level == "models" and c.x == x and c.y == y), None)
        ic = next((c for c in mine if c.level == "images" and c.x == x and c.y == y), None)
        sentences.append(correlation.sentence(mc, ic, (dataset_label, metric_label)))
        paths = stats_kinds.correlation_scatter(
            mc, ic, lambda k: labels.get(k, k), analysis.higher, figs / f"correlation_{dataset}",
            lambda k, m, ds=dataset: analysis.interval(ds, k, m))
        report.files += paths
        report.figures.append((f"{dataset_label(dataset)}: {metric_label(x)} vs {metric_label(y)} "
                               "across models and per image", paths[0]))
    if sentences:
        blocks.append("<p>" + "</p><p>".join(html.escape(t) for t in sentences) + "</p>")
        blocks.append(_table(correlation.frame(cors), ["dataset", "x", "y", "level", "n_models", "n_images",
                                                       "spearman", "spearman_lo", "spearman_hi", "kendall",
                                                       "kendall_lo", "kendall_hi"]))
        blocks.append(f"<p class=\"meta\">{html.escape(correlation.method_text(s))}. Correlations are oriented "
                      "(+1 = the better-restored also does better downstream); the ground truth is left out, "
                      "the rainy input kept. With few models ρ takes few values: the interval reflects image "
                      "sampling only.</p>")
    if recs:
        rf = recovery.frame(recs)
        report.files.append(_csv(rf, out / "recovery.csv"))
        shown = rf.assign(model=[labels.get(k, k) for k in rf["model_key"]])
        blocks.append("<h3>Recovery share: (model − rainy) / (clean − rainy)</h3>" + _table(
            shown, ["dataset", "model", "metric", "share", "lo", "hi", "model_value", "rainy_value", "clean_value", "n",
                    "p_holm", "verdict"]))
        blocks.append(f"<p class=\"meta\">{html.escape(rf['method'].iloc[0])}</p>")
        for metric in dict.fromkeys(m for m in rf["metric"] if m.endswith(("_map50_95", "_miou"))):
            stem = figs / ("recovery_share" if metric == rf["metric"].iloc[0] else f"recovery_share_{metric}")
            paths = stats_kinds.recovery_bars(rf, metric, lambda k: labels.get(k, k), stem)
            report.files += paths
            report.figures.append((f"Recovery share of {metric_label(metric)}", paths[0]))
    blocks += _rankings(analysis, lb, figs, report)
    if blocks:
        page.add_html("Does restoration predict utility?", "\n".join(blocks))


def _rankings(analysis: Analysis, lb, figs: Path, report) -> list[str]:
    out = []
    for metric in ("psnr_y",) if "psnr_y" in lb.columns else ():
        hib = analysis.higher.get(metric, True)
        datasets = list(dict.fromkeys(lb.table["dataset"]))
        if len(datasets) >= 3:
            try:
                res = ranking.friedman(ranking.dataset_matrix(lb, metric), hib)
            except ValueError as e:
                out.append(f"<p class=\"missing\">Ranking over datasets: {html.escape(str(e))}</p>")
                continue
            paths = ranking.cd_diagram(res, figs / f"ranks_{metric}", f"{metric_label(metric)} over datasets")
            report.files += paths
            report.figures.append((f"Average ranks over datasets ({metric_label(metric)})", paths[0]))
            out.append(f"<p>{html.escape(res.text())}</p>")
            continue
        out.append(f"<p>Friedman over datasets needs ≥ 3 datasets (have {len(datasets)}); "
                   "ranks below use the images of each dataset as blocks.</p>")
        for dataset, d in analysis.data.items():
            try:
                res = ranking.friedman(ranking.image_matrix(d, metric), hib, blocks=f"images of {dataset_label(dataset)}")
            except (ValueError, KeyError):
                continue
            paths = ranking.cd_diagram(res, figs / f"ranks_{dataset}", f"{metric_label(metric)} on {dataset_label(dataset)}")
            report.files += paths
            report.figures.append((f"Average ranks on {dataset_label(dataset)} ({metric_label(metric)}, blocks = images)",
                                   paths[0]))
            out.append(f"<p>{html.escape(dataset_label(dataset))}: {html.escape(res.text())}; average ranks "
                       + html.escape(", ".join(f"{k} {v:.2f}" for k, v in res.ranks.items())) + "</p>")
    return out


def _table(df: pd.DataFrame, cols: list[str]) -> str:
    cols = [c for c in cols if c in df.columns]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    rows = []
    for _, r in df.iterrows():
        cells = []
        for c in cols:
            v = r[c]
            text = f"{v:.3f}" if isinstance(v, float) else str(v)
            cells.append(f"<td>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="lb"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
