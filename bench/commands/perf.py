"""`bench perf <target>`: benchmark scripts that print figures (never timed unit tests).

`bench perf run` (bench/commands/perf_run.py) has its own flags; the other targets take theirs
after the target name."""
from __future__ import annotations

import argparse
import importlib

TARGETS = {
    "measures": "bench.measures.perf:main",   # PSNR/SSIM/NIQE vs scikit-image + NumPy reference
    "models": "bench.commands.perf_models:main",  # params, GFLOPs, ms/image per model
    "run": "bench.commands.perf_run:main",    # harness overhead vs forwards, warm/cold, start-up, RSS
}


def add_arguments(p):
    p.add_argument("target", choices=sorted(TARGETS))
    p.add_argument("rest", nargs=argparse.REMAINDER, help="passed to the target (its own options: bench perf TARGET -h)")


def run(args) -> int:
    module, _, fn = TARGETS[args.target].partition(":")
    return int(getattr(importlib.import_module(module), fn)(args.rest) or 0)
