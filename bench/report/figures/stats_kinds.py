"""Statistics figures: restoration-vs-utility scatter with rank labels and correlation intervals,
recovery-share bars with intervals, critical-difference diagram; and their `bench figures` kinds
(registered in bench/report/figures/specs.py FIGURE_KINDS)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bench.report.stats import intervals
from bench.report.labels import dataset_label, metric_label, model_label


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(fig, stem: Path) -> list[Path]:
    from bench.report.figures.plots import save

    return save(fig, stem)


def _ranks(values: pd.Series, higher_is_better: bool) -> pd.Series:
    from scipy.stats import rankdata

    return pd.Series(rankdata(-values if higher_is_better else values, method="min").astype(int), index=values.index)


def correlation_scatter(models_c, images_c, label_of, higher: dict[str, bool], stem: Path,
                        interval_of=None) -> list[Path]:
    """Left: one point per model (error bars: each row's interval), labelled "name (#x-rank/#y-rank)";
    right: one point per (model, image). Titles carry ρ and τ with their bootstrap intervals."""
    plt = _plt()
    c = models_c or images_c
    panels = [p for p in (models_c, images_c) if p is not None]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.6 * len(panels), 4.4), squeeze=False)
    for ax, cor in zip(axes[0], panels):
        pts = cor.points
        if cor.level == "models":
            rx = _ranks(pts.set_index("model_key")["x"], higher.get(cor.x, True))
            ry = _ranks(pts.set_index("model_key")["y"], higher.get(cor.y, True))
            # alternate label offsets along x so that neighbouring points keep readable labels
            offset = {k: (6, 6) if j % 2 == 0 else (6, -13) for j, k in enumerate(pts.sort_values("x")["model_key"])}
            for _, r in pts.iterrows():
                xerr = yerr = None
                if interval_of is not None:
                    ix, iy = interval_of(r["model_key"], cor.x), interval_of(r["model_key"], cor.y)
                    xerr = [[r["x"] - ix.lo], [ix.hi - r["x"]]] if ix is not None and np.isfinite(ix.lo) else None
                    yerr = [[r["y"] - iy.lo], [iy.hi - r["y"]]] if iy is not None and np.isfinite(iy.lo) else None
                ax.errorbar(r["x"], r["y"], xerr=xerr, yerr=yerr, fmt="o", ms=7, capsize=3)
                ax.annotate(f"{label_of(r['model_key'])} (#{rx[r['model_key']]}/#{ry[r['model_key']]})",
                            (r["x"], r["y"]), textcoords="offset points", xytext=offset[r["model_key"]], fontsize=8)
            where = "across models (label: rank by x / rank by y)"
        else:
            for key, g in pts.groupby("model_key", sort=False):
                ax.scatter(g["x"], g["y"], s=14, alpha=0.6, label=label_of(key))
            ax.legend(fontsize=7, loc="best")
            where = f"per image ({cor.n_images} images)"
        ax.set_xlabel(f"{metric_label(cor.x)} {'↑' if higher.get(cor.x, True) else '↓'}")
        ax.set_ylabel(f"{metric_label(cor.y)} {'↑' if higher.get(cor.y, True) else '↓'}")
        ax.set_title(f"{where}\nρ = {cor.spearman:.2f} [{cor.spearman_lo:.2f}, {cor.spearman_hi:.2f}], "
                     f"τ = {cor.kendall:.2f} [{cor.kendall_lo:.2f}, {cor.kendall_hi:.2f}]", fontsize=9)
        ax.grid(alpha=0.3)
    fig.suptitle(f"{dataset_label(c.dataset)}: does {metric_label(c.x)} predict {metric_label(c.y)}?", fontsize=11)
    fig.text(0.01, -0.02, c.method + " (correlations oriented: +1 = better restored, better downstream)",
             fontsize=6.5, color="#555")
    fig.tight_layout()
    return _save(fig, stem)


def recovery_bars(frame: pd.DataFrame, metric: str, label_of, stem: Path) -> list[Path]:
    """One group per dataset, one bar per derainer: share of the rain-induced drop recovered."""
    plt = _plt()
    df = frame[frame["metric"] == metric]
    if df.empty:
        raise ValueError(f"no recovery shares for {metric!r}")
    datasets = list(dict.fromkeys(df["dataset"]))
    keys = list(dict.fromkeys(df["model_key"]))
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * len(datasets) * max(len(keys), 1) / 2, 4))
    width = 0.8 / len(keys)
    for j, key in enumerate(keys):
        sub = df[df["model_key"] == key].set_index("dataset").reindex(datasets)
        x = np.arange(len(datasets)) + (j - (len(keys) - 1) / 2) * width
        err = np.vstack([sub["share"] - sub["lo"], sub["hi"] - sub["share"]]).clip(min=0)
        ax.bar(x, sub["share"], width, yerr=np.nan_to_num(err), capsize=3, label=label_of(key))
        for xi, v in zip(x, sub["share"]):
            if np.isfinite(v):
                ax.text(xi, v, f"{v:.2f}", ha="center", va="bottom" if v >= 0 else "top", fontsize=7)
    ax.axhline(0, color="k", lw=0.8)
    ax.axhline(1, color="k", lw=0.8, ls="--")
    ax.set_xticks(np.arange(len(datasets)), [dataset_label(d) for d in datasets])
    ax.set_ylabel(f"recovery share of {metric_label(metric)}")
    ax.set_title(f"Share of the rain-induced drop in {metric_label(metric)} recovered\n"
                 "(model − rainy) / (clean − rainy); 0 = rainy input, 1 = clean image", fontsize=9)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=min(len(keys), 4), frameon=False)
    fig.text(0.01, -0.05, df["method"].iloc[0], fontsize=6.5, color="#555")
    fig.tight_layout()
    return _save(fig, stem)


# --- bench figures kinds ------------------------------------------------------------------------

def _settings(spec) -> intervals.Settings:
    return intervals.Settings(seed=int(spec.params.get("seed", intervals.SEED)),
                          n_resamples=int(spec.params.get("resamples", intervals.N_RESAMPLES)))


def _data(spec, ctx):
    from bench.report.stats.analysis import collect

    data = collect(ctx.store, ctx.lb)
    wanted = spec.needs.datasets or list(data)
    data = {d: v for d, v in data.items() if d in wanted}
    if not data:
        raise ValueError(f"none of the datasets {wanted} has records in the store")
    return data


def _label_of(d):
    return lambda key: model_label(*d.rows[key])


def _interval_of(d, settings):
    def f(key, metric):
        if metric in d.measures and key in d.measures[metric]:
            return intervals.mean_interval(d.measures[metric][key].to_numpy(), settings)
        if metric in d.scorers and key in d.scorers[metric]:
            sc = d.scorers[metric][key]
            return intervals.resampled_interval(sc.n, lambda w: sc.values(w)[metric], settings)
        return None
    return f


def correlation_kind(spec, ctx) -> tuple[list[Path], list[str]]:
    """params: x (restoration measure, default psnr_y), y (downstream score), seed, resamples."""
    from bench.report.stats import correlation

    x, y = str(spec.params.get("x", "psnr_y")), spec.params.get("y")
    settings, higher = _settings(spec), {m: i.higher_is_better for m, i in ctx.lb.columns.items()}
    paths, notes = [], []
    for dataset, d in _data(spec, ctx).items():
        ys = [y] if y else [m for m in d.scorers if m.endswith(correlation.PRIMARY)][:1]
        if x not in d.measures or not ys or ys[0] not in d.scorers:
            notes.append(f"{dataset}: needs {x} and {ys[0] if ys else 'a downstream score'} in the store")
            continue
        mc = correlation.across_models(d, [x], ys, higher, settings)
        ic = correlation.per_image(d, [x], ys, higher, settings)
        if not mc and not ic:
            notes.append(f"{dataset}: too few models (< 3) or images for a correlation")
            continue
        paths += correlation_scatter(mc[0] if mc else None, ic[0] if ic else None, _label_of(d), higher,
                                     ctx.figures_dir / f"{spec.name}_{dataset}", _interval_of(d, settings))
        for c in mc + ic:
            notes.append(f"{dataset} {c.level}: Spearman {c.spearman:.3f} [{c.spearman_lo:.3f}, {c.spearman_hi:.3f}], "
                         f"Kendall {c.kendall:.3f} [{c.kendall_lo:.3f}, {c.kendall_hi:.3f}] "
                         f"({c.n_models} models, {c.n_images} images)")
    if not paths:
        raise ValueError("; ".join(notes) or "nothing to draw")
    return paths, notes


def recovery_kind(spec, ctx) -> tuple[list[Path], list[str]]:
    """params: metric (default: the first downstream score found), seed, resamples."""
    from bench.report.stats import recovery

    data, settings = _data(spec, ctx), _settings(spec)
    metric = spec.params.get("metric") or next((m for d in data.values() for m in d.scorers
                                                if m.endswith(("_map50_95", "_miou"))), None)
    if metric is None:
        raise ValueError("no downstream score in the store; name one in params.metric")
    frame = recovery.frame(recovery.all_recoveries(data, settings, [metric]))
    if frame.empty:
        raise ValueError(f"no recovery share for {metric}: needs rainy, clean and a derainer on a dataset")
    labels = {k: model_label(*d.rows[k]) for d in data.values() for k in d.rows}
    notes = [f"{r.dataset} {labels[r.model_key]}: {r.share:.3f} [{r.lo:.3f}, {r.hi:.3f}] "
             f"(model {r.model_value:.4f}, rainy {r.rainy_value:.4f}, clean {r.clean_value:.4f}, {r.n} images)"
             for r in frame.itertuples()]
    return recovery_bars(frame, metric, labels.get, ctx.figures_dir / spec.name), notes


def critical_difference_kind(spec, ctx) -> tuple[list[Path], list[str]]:
    """params: metric (default psnr_y). ≥ 3 datasets: blocks = datasets; else blocks = the images
    of each dataset (one diagram per dataset, said in the title)."""
    from bench.report.stats import ranking

    metric = str(spec.params.get("metric", "psnr_y"))
    info = ctx.lb.columns.get(metric)
    if info is None:
        raise ValueError(f"no column {metric!r} in the store")
    datasets = [d for d in (spec.needs.datasets or list(dict.fromkeys(ctx.lb.table["dataset"])))
                if d in set(ctx.lb.table["dataset"])]
    paths, notes = [], []
    if len(datasets) >= 3:
        res = ranking.friedman(ranking.dataset_matrix(ctx.lb, metric).loc[datasets], info.higher_is_better)
        paths += ranking.cd_diagram(res, ctx.figures_dir / spec.name, f"{metric_label(metric)} over datasets")
        notes.append(res.text())
        return paths, notes
    notes.append(f"{len(datasets)} dataset(s) (< 3): ranking over the images of each dataset instead")
    for dataset, d in _data(spec, ctx).items():
        if metric not in d.measures:
            continue
        try:
            res = ranking.friedman(ranking.image_matrix(d, metric), info.higher_is_better,
                                   blocks=f"images of {dataset_label(dataset)}")
        except ValueError as e:
            notes.append(f"{dataset}: {e}")
            continue
        paths += ranking.cd_diagram(res, ctx.figures_dir / f"{spec.name}_{dataset}",
                                    f"{metric_label(metric)} on {dataset_label(dataset)}, blocks = images")
        notes.append(f"{dataset}: {res.text()}; average ranks "
                     + ", ".join(f"{k} {v:.2f}" for k, v in res.ranks.items()))
    if not paths:
        raise ValueError("; ".join(notes))
    return paths, notes
