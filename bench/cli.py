"""`bench <command>`: thin argument parsing; each command lives in bench/commands/<name>.py
(or the module named below) and exposes ``add_arguments(parser)`` and ``run(args) -> int``.

Exit codes (every command):
  0  everything that could run succeeded; the only skips were missing optional assets
     (data, weights, optional packages), each printed with its fix
  1  something failed: an image, a model, a measure or a task (see the run summary / run.json)
  2  usage error: bad arguments, unknown names (models, datasets, measures, tasks), bad config files
"""
from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "run": ("bench.commands.run", "derain datasets, measure, run downstream tasks, write results"),
    "ls": ("bench.commands.ls", "list registered models, datasets, measures, tasks"),
    "data": ("bench.commands.data", "find, verify, fetch and synthesise datasets"),
    "report": ("bench.commands.report", "tables, plots and HTML from the results store"),
    "figures": ("bench.commands.figures", "regenerate named paper figures (configs/figures/)"),
    "perf": ("bench.commands.perf", "benchmarks that print timings (measures, models)"),
    "doctor": ("bench.commands.doctor", "check this machine: Python, torch, CUDA, weights, data, network, cache"),
    "train": ("bench.commands.train", "train a derainer on paired or synthesised data; register the checkpoint"),
}

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A command line that cannot run as given; printed as one line, exit code 2."""


def build_parser(only: str | None = None) -> tuple[argparse.ArgumentParser, dict]:
    """The whole command line; with ``only``, the other commands' modules are not imported (their
    parsers exist but take no flags): start-up time is part of every run. Also used by the tests
    that check every command quoted in README.md and docs/ against these definitions."""
    parser = argparse.ArgumentParser(prog="bench", description="derain-bench: a deraining benchmark harness")
    sub = parser.add_subparsers(dest="command", required=True)
    modules = {}
    for name, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if only in COMMANDS and name != only:
            continue
        try:
            modules[name] = importlib.import_module(module_name)
        except ImportError as e:  # a command whose module is missing must not break the others
            p.set_defaults(_broken=f"command {name!r} unavailable: {e}")
            continue
        modules[name].add_arguments(p)
    return parser, modules


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser, modules = build_parser(only=next((a for a in argv if not a.startswith("-")), None))
    args = parser.parse_args(argv)           # argparse exits with 2 on its own errors
    if getattr(args, "_broken", None):
        print(args._broken, file=sys.stderr)
        return EXIT_USAGE
    from bench.registry import UnknownName

    try:
        return int(modules[args.command].run(args) or 0)
    except (UsageError, UnknownName) as e:
        print(f"bench {args.command}: {e}", file=sys.stderr)
        return EXIT_USAGE
