"""`bench data ls|verify|fetch|synth`: what is registered and found, is it intact, get it, make rain."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bench.data import DATASETS, resolve_dataset
from bench.data.base import DatasetNotFound
from bench.registry import UnknownName


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-root", default=os.environ.get("BENCH_DATA"),
                        help="folder holding the datasets (env BENCH_DATA)")
    sub = parser.add_subparsers(dest="data_command", required=True)
    sub.add_parser("ls", help="registered datasets and where each was found")
    v = sub.add_parser("verify", help="counts, pairs, unreadable files, sizes, checksums; non-zero exit on problems")
    v.add_argument("name", help="a registered name or folder:<path>")
    v.add_argument("--no-decode", action="store_true", help="only read headers (faster; misses damaged data)")
    f = sub.add_parser("fetch", help="download official direct files (sha256-checked) or say where to get them")
    f.add_argument("name")
    f.add_argument("--offline", action="store_true", default=os.environ.get("BENCH_OFFLINE", "0") in ("1", "true"))
    s = sub.add_parser("synth", help="render seeded synthetic rain on a (labelled) image set")
    s.add_argument("source", help="folder: YOLO images/+labels/, Cityscapes leftImg8bit/+gtFine/, "
                                  "images + annotations/*.json (COCO), or plain images")
    s.add_argument("out", help="new dataset folder (use it as folder:<out>)")
    s.add_argument("--preset", default="heavy", help="light (~Rain100L) or heavy (~Rain100H)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--limit", type=int)
    s.add_argument("--max-side", type=int, help="downscale longer side to this many pixels first")
    for k in ("density", "length", "angle", "width", "brightness", "haze"):
        s.add_argument(f"--{k}", type=float, help=f"fixed {k} (overrides the preset's range)")
    s.add_argument("--layers", type=int)


def run(args) -> int:
    return {"ls": _ls, "verify": _verify, "fetch": _fetch, "synth": _synth}[args.data_command](args)


def _root(args) -> Path | None:
    return Path(args.data_root).expanduser() if args.data_root else None


def _ls(args) -> int:
    print(f"data root: {args.data_root or '(not set: --data-root or BENCH_DATA)'}")
    for name in DATASETS.names():
        spec = DATASETS.load(name)
        if getattr(spec, "source_folder", "x") is None or (getattr(spec, "source_folder", None)
                                                            and not _root(args)):
            where = "built on first use (bench run / bench data verify)"
        else:
            try:
                ds = resolve_dataset(name, _root(args)) if not hasattr(spec, "source_folder") else None
                where = f"{ds.root} [{ds.layout}]" if ds else "built on first use from " + str(
                    _root(args) / spec.source_folder)
            except DatasetNotFound:
                where = "not found"
        print(f"  {name:16s} {spec.description}\n  {'':16s} -> {where}")
    print("  folder:<path>    any folder in a known layout, paired or not")
    return 0


def _verify(args) -> int:
    from bench.data.verify import verify

    try:
        ds = resolve_dataset(args.name, _root(args))
    except (DatasetNotFound, UnknownName) as e:
        print(e, file=sys.stderr)
        return 2
    rep = verify(ds, decode=not args.no_decode)
    common = sorted(rep.sizes.items(), key=lambda kv: -kv[1])
    sizes = ", ".join(f"{w}x{h}: {n}" for (w, h), n in common[:4])
    if len(common) > 4:
        sizes += f", and {len(common) - 4} other sizes ({sum(n for _, n in common[4:])} images)"
    print(f"{ds.name}: {ds.root} (layout {ds.layout}, {'paired' if ds.has_clean else 'no ground truth'}, "
          f"labels {ds.label_format or 'none'}, label source {ds.label_source})")
    print(f"  images: {rep.samples}" + (f" (expected {ds.expected_count})" if ds.expected_count else ""))
    print(f"  sizes: {sizes or '-'}")
    for note in rep.notes:
        print(f"  {note}")
    for p in rep.problems:
        print(f"  PROBLEM: {p}")
    print(f"  {'OK' if rep.ok else f'{len(rep.problems)} problem(s)'}")
    return 0 if rep.ok else 1


def _fetch(args) -> int:
    from bench.data.verify import fetch

    try:
        spec = DATASETS.load(args.name)
    except UnknownName as e:
        print(e, file=sys.stderr)
        return 2
    if hasattr(spec, "source_folder"):
        print(f"{args.name} is built at run time ({spec.source}); nothing to fetch")
        return 0
    root = _root(args) or Path("data")
    rc, lines = fetch(spec, root, args.offline)
    print("\n".join(lines))
    return rc


def _synth(args) -> int:
    from bench.data.generated import synthesize
    from bench.data.synth import PRESETS

    if args.preset not in PRESETS:
        print(f"unknown preset {args.preset!r}; use one of {', '.join(PRESETS)}", file=sys.stderr)
        return 2
    params = PRESETS[args.preset].with_overrides(**{k: getattr(args, k) for k in
                                                    ("density", "length", "angle", "width", "brightness",
                                                     "haze", "layers")})
    custom = params != PRESETS[args.preset]
    try:
        out = synthesize(Path(args.source), Path(args.out), params if custom else args.preset, args.seed,
                         max_side=args.max_side, limit=args.limit)
    except (DatasetNotFound, ValueError) as e:
        print(e, file=sys.stderr)
        return 2
    print(f"wrote {out}; run it with --datasets folder:{out}")
    return 0
