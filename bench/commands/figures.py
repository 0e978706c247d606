"""`bench figures [NAME ...] [--list]`: regenerate the named figures of configs/figures/
(specs and what is missing: bench/report/figures/specs.py; drawing: bench/report/figures/kinds.py and
stats_kinds.py)."""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.registry import Registry
from bench.report.figures.specs import (FIGURE_KINDS, FigureConfigError, describe_missing,  # noqa: F401
                                        drawing_task, figure_model_keys, load_specs, missing_runs, resolved_tasks, run_command,
                                        task_choices,
                                        task_model)


# --- CLI ----------------------------------------------------------------------------------------

def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("names", nargs="*", metavar="NAME", help="figures to build (default: all)")
    p.add_argument("--list", action="store_true",
                   help="list the figures, what each needs and, against the store in --out, what is still missing; then exit")
    p.add_argument("--out", default="results", help="results folder holding store.sqlite (default: results/)")
    p.add_argument("--store", help="results store (default: <out>/store.sqlite)")
    p.add_argument("--data-root", help="datasets, for rainy/ground-truth panels (default: $BENCH_DATA)")
    p.add_argument("--figures-dir", help="a folder of figure YAML files (default: packaged + user config folder)")
    p.add_argument("--strict", action="store_true", help="exit 1 when any needed run is missing")


@dataclass
class Context:
    lb: Any
    store: Any
    out: Path
    figures_dir: Path
    data_root: Path | None


def run(args) -> int:
    try:
        specs = load_specs(Path(args.figures_dir) if args.figures_dir else None)
    except FigureConfigError as e:
        print(f"bench figures: {e}", file=sys.stderr)
        return 2
    if args.list:
        return _list(specs.values(), args)
    unknown = [n for n in args.names if n not in specs]
    if unknown:
        reg = Registry("figure", {n: "" for n in specs})
        for n in unknown:
            try:
                reg.check(n)
            except KeyError as e:
                print(f"bench figures: {e}", file=sys.stderr)
        return 2
    chosen = [specs[n] for n in (args.names or specs)]
    ctx = _context(args)
    incomplete = failed = 0
    for spec in chosen:
        missing = missing_runs(spec, ctx.lb, ctx.store)
        if missing:
            incomplete += 1
            print(describe_missing(spec, missing, ctx.out, resolved_tasks(spec, ctx.lb, ctx.store)))
        if ctx.lb is None or ctx.lb.table.empty:
            failed += 1
            print(f"figure {spec.name}: not drawn (the store holds no records)")
            continue
        try:
            paths, notes = FIGURE_KINDS.load(spec.kind)(spec, ctx)
        except (KeyError, ValueError, FileNotFoundError) as e:
            failed += 1
            print(f"figure {spec.name}: not drawn: {e}")
            continue
        for n in notes:
            print(f"figure {spec.name}: note: {n}")
        state = "partial" if missing else "complete"
        print(f"figure {spec.name} ({state}): " + ", ".join(str(p) for p in paths))
    return 1 if failed or (args.strict and incomplete) else 0


def _list(specs, args) -> int:
    """Each figure with its needs; with a store, whether it is ready or the command that completes it."""
    store_path = Path(args.store) if args.store else Path(args.out) / "store.sqlite"
    ctx = _context(args) if store_path.is_file() else None
    for s in specs:
        n = s.needs
        print(f"{s.name:32s} {s.kind:20s} {s.title}")
        print(f"{'':32s} needs models {','.join(n.models) or '-'}; datasets {','.join(n.datasets) or '-'}"
              + (f"; measures {','.join(n.measures)}" if n.measures else "")
              + (f"; tasks {','.join(n.tasks)}" if n.tasks else ""))
        choices = task_choices(s)
        if len(choices) > 1:
            print(f"{'':32s} drawn by the first of {', '.join(choices)} with stored predictions")
        if ctx is None:
            continue
        drawn = {d: drawing_task(s, ctx.store, d, figure_model_keys(s, ctx.lb.table, d))
                 for d in n.datasets} if choices else {}
        for d, t in drawn.items():
            print(f"{'':32s} on {d}: " + (f"drawn by {task_model(ctx.store, t, d)} ({t})" if t else
                                          f"no stored predictions of {', '.join(choices)} yet"))
        missing = missing_runs(s, ctx.lb, ctx.store)
        if missing:
            print(f"{'':32s} still needs {len(missing)} piece(s): "
                  f"{run_command(s, missing, ctx.out, resolved_tasks(s, ctx.lb, ctx.store))}")
        else:
            print(f"{'':32s} ready: every needed run is in {store_path}")
    if ctx is None:
        print(f"(no results store at {store_path}: every figure still needs all of the above)")
    return 0


def _context(args) -> Context:
    from bench.config import default_data_root

    out = Path(args.out)
    store_path = Path(args.store) if args.store else out / "store.sqlite"
    lb = store = None
    if store_path.is_file():
        from bench.report.tables.leaderboard import build
        from bench.store import Store

        store = Store(store_path)
        lb = build(store)
    else:
        print(f"bench figures: no results store at {store_path}; every needed run is missing.")
    data_root = Path(args.data_root) if args.data_root else default_data_root()
    return Context(lb, store, out, out / "figures", data_root)
