"""`bench perf <target>`: benchmark scripts that print figures (never timed unit tests)."""
from __future__ import annotations

import argparse
import importlib

TARGETS = {
    "measures": "bench.measures.perf:main",   # PSNR/SSIM/NIQE vs scikit-image + NumPy reference
    "models": "bench.models.cost:perf_main",  # params, GFLOPs, ms/image per model
}


def add_arguments(p):
    p.add_argument("target", choices=sorted(TARGETS))
    p.add_argument("rest", nargs=argparse.REMAINDER, help="passed to the target (e.g. --threads 2)")


def run(args) -> int:
    module, _, fn = TARGETS[args.target].partition(":")
    return int(getattr(importlib.import_module(module), fn)(args.rest) or 0)
