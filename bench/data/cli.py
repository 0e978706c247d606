"""`bench data ls | verify | fetch | synth`: find, check, obtain and manufacture datasets."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="data_command", required=True)
    ls = sub.add_parser("ls", help="registered datasets and where each was found")
    ls.add_argument("--data-root")
    v = sub.add_parser("verify", help="counts, pairs, unreadable files, sizes, checksums (exit 1 on problems)")
    v.add_argument("name", help="registered name or folder:<path>")
    v.add_argument("--data-root")
    v.add_argument("--headers-only", action="store_true", help="read image headers instead of decoding")
    v.add_argument("--write-manifest", action="store_true",
                   help="record the sha256 of every file as this dataset's checksum manifest")
    f = sub.add_parser("fetch", help="download where an official direct URL exists; else say where to get it")
    f.add_argument("name")
    f.add_argument("--data-root")
    f.add_argument("--offline", action="store_true", default=None)
    s = sub.add_parser("synth", help="render seeded synthetic rain onto an image set, labels unchanged")
    s.add_argument("source", help="folder: YOLO (images/ + labels/), Cityscapes (leftImg8bit/ + gtFine/) or images")
    s.add_argument("out", help="output folder (rain/, norain/, labels or gtFine/, synth.json)")
    s.add_argument("--preset", default="light", help="light (~Rain100L) | heavy (~Rain100H)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--kind", choices=["auto", "yolo", "cityscapes", "images"], default="auto")
    s.add_argument("--max-side", type=int, help="downscale larger images (not allowed with label maps)")
    for knob in ("density", "length", "angle", "width", "brightness", "haze", "haze_light", "strength_jitter"):
        s.add_argument(f"--{knob.replace('_', '-')}", type=float, help=f"override the preset's {knob}")
    s.add_argument("--layers", type=int, help="override the preset's number of streak layers")


def run(args) -> int:
    return {"ls": _ls, "verify": _verify, "fetch": _fetch, "synth": _synth}[args.data_command](args)


def _root(args):
    return _context(args).data_root


def _context(args):
    from bench.config import RunContext

    return RunContext.from_env(device="cpu", offline=getattr(args, "offline", None),
                               data_root=getattr(args, "data_root", None))


def _ls(args) -> int:
    from bench.data import DATASETS, dataset_spec, resolve_dataset

    root = _root(args)
    print(f"data root: {root or '(none: set --data-root or $BENCH_DATA)'}")
    for name in DATASETS.names():
        spec = dataset_spec(name)
        try:
            ds = resolve_dataset(name, _context(args))
            where = (f"found at {ds.root} (layout {ds.layout}, {'paired' if ds.has_clean else 'no GT'}, "
                     f"labels {ds.label_source}, expected {ds.expected_count or '?'} images)")
        except LookupError as e:
            where = f"missing: {str(e).split('. Put it')[0]}"
        print(f"{name:<23} {spec.description}\n{'':23} {where}")
    print("folder:<path>           any folder, paired (rain/+norain/, input/+target/, ...) or flat (no GT)")
    return 0


def _verify(args) -> int:
    from bench.data import resolve_dataset
    from bench.data.verify import format_report, verify, write_manifest

    try:
        ds = resolve_dataset(args.name, _context(args))
    except LookupError as e:
        print(f"bench data verify: {e}", file=sys.stderr)
        return 2
    rep = verify(ds, decode=not args.headers_only)
    print(format_report(rep))
    if args.write_manifest:
        if not rep.ok:
            print("not writing a manifest for a dataset with problems", file=sys.stderr)
            return 1
        print(f"wrote {write_manifest(ds.name, rep)}")
    return 0 if rep.ok else 1


def _fetch(args) -> int:
    from bench.data import dataset_spec, resolve_dataset
    from bench.data.fetch import fetch
    from bench.offline import is_offline

    root = _root(args)
    try:
        ds = resolve_dataset(args.name, _context(args))
        print(f"{args.name}: already present at {ds.root} (layout {ds.layout}); `bench data verify {args.name}` checks it")
        return 0
    except LookupError as e:
        missing = str(e)
    return fetch(dataset_spec(args.name), root, is_offline(args.offline), missing)


def _synth(args) -> int:
    from bench.data.synth import SOURCES, detect_source, preset, write_rainy_set

    src = Path(args.source)
    if not src.is_dir():
        print(f"bench data synth: {src} is not a folder", file=sys.stderr)
        return 2
    kind = detect_source(src) if args.kind == "auto" else args.kind
    params = preset(args.preset)
    overrides = {k: getattr(args, k) for k in ("density", "length", "angle", "width", "brightness", "haze",
                                                 "haze_light", "strength_jitter", "layers")
                 if getattr(args, k) is not None}
    params = params.replace(**overrides)
    make, label_format = SOURCES[kind]
    items = make(src)
    m = write_rainy_set(items, Path(args.out), params, args.seed, label_format, str(src), args.max_side)
    labelled = sum(1 for it in items if it.labels)
    print(f"wrote {m['count']} rainy/clean pairs to {args.out} ({kind}, preset {args.preset}, seed {args.seed}; "
          f"{labelled} with labels copied unchanged). Run it with --datasets folder:{args.out}")
    return 0
