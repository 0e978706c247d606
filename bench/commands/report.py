"""`bench report`: every table, figure and the HTML page, from the results store alone
(bench/report/build.py does the work; nothing here runs a model)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.report.build import build_report, open_store


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="results", help="results folder holding store.sqlite (default: results/)")
    p.add_argument("--store", help="results store (default: <out>/store.sqlite)")
    p.add_argument("--data-root", help="datasets, for the rainy/ground-truth panels of the grids "
                                       "(default: $BENCH_DATA)")
    p.add_argument("--samples", type=int, default=2, help="images per comparison grid (default 2)")
    p.add_argument("--common-subset", action="store_true",
                   help="compare the rows of each dataset on the images all of them cover (default: every row "
                        "over its own images; rows covering other images are marked incomplete and not ranked)")
    from bench.report import stats_report

    stats_report.add_arguments(p)


def run(args) -> int:
    from bench.config import default_data_root
    from bench.report.tables.leaderboard import build

    out = Path(args.out)
    store = open_store(out, args.store)
    lb = build(store, common_subset=getattr(args, "common_subset", False))
    if lb.table.empty:
        print(f"bench report: the store {store.path} holds no records yet; run `bench run --all --out {out}`",
              file=sys.stderr)
        return 2
    data_root = Path(args.data_root) if args.data_root else default_data_root()
    from bench.report import stats_report

    settings = stats_report.settings_from(args)
    report = build_report(store, lb, out, data_root, args.samples, settings, getattr(args, "ci", False))
    print((out / "leaderboard.md").read_text(encoding="utf-8"))
    for w in report.warnings[:20]:
        print(f"note: {w}")
    if len(report.warnings) > 20:
        print(f"note: … {len(report.warnings) - 20} more in {out / 'report.html'}")
    print(f"wrote {len(report.files)} files under {out}/ (report: {out / 'report.html'})")
    store.close()
    return 0
