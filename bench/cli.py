"""`bench <command>`: thin argument parsing; each command lives in bench/commands/<name>.py
(or the module named below) and exposes ``add_arguments(parser)`` and ``run(args) -> int``."""
from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "run": ("bench.commands.run", "derain datasets, measure, run downstream tasks, write results"),
    "ls": ("bench.commands.ls", "list registered models, datasets, measures, tasks"),
    "data": ("bench.commands.data", "find, verify, fetch and synthesise datasets"),
    "report": ("bench.report.cli", "tables, plots and HTML from the results store"),
    "figures": ("bench.report.figures", "regenerate named paper figures (configs/figures/)"),
    "perf": ("bench.commands.perf", "benchmarks that print timings (measures, models)"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description="derain-bench: a deraining benchmark harness")
    sub = parser.add_subparsers(dest="command", required=True)
    modules = {}
    for name, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        try:
            modules[name] = importlib.import_module(module_name)
        except ImportError as e:  # a command whose module is missing must not break the others
            p.set_defaults(_broken=f"command {name!r} unavailable: {e}")
            continue
        modules[name].add_arguments(p)
    args = parser.parse_args(argv)
    if getattr(args, "_broken", None):
        print(args._broken, file=sys.stderr)
        return 2
    return int(modules[args.command].run(args) or 0)
