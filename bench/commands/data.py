"""`bench data ls | dir | add | verify | fetch | synth`: find, describe, check, obtain and
manufacture datasets.

Each subcommand is one entry of SUBCOMMANDS: name -> (help, add_arguments, run). Adding one is a
function pair and one line in the table.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _args_ls(s) -> None:
    s.add_argument("--data-root")


def _args_dir(s) -> None:
    pass


def _args_add(s) -> None:
    s.add_argument("name", help="a new dataset name (lowercase letters, digits, . _ -)")
    s.add_argument("path", help="the dataset folder (stored as an absolute path)")
    s.add_argument("--rainy", required=True, help="glob of the rainy images, relative to PATH (e.g. 'input_val/*.png')")
    s.add_argument("--clean", help="glob of the clean images, relative to PATH; omit for a no-reference set")
    s.add_argument("--pair", help=r"pairing rule: REGEX (searched in both file stems) or RAINY_REGEX->CLEAN_REGEX "
                                  r"(e.g. 'input(\d+)->norain(\d+)'); equal groups pair. Default: equal stems")
    s.add_argument("--labels", metavar="DIR", help="folder of YOLO label txt files matched to the rainy images by file "
                                                  "stem (boxes 'cls cx cy w h' or polygons 'cls x1 y1 ...', "
                                                  "normalised, COCO's 80 classes; a missing txt = no objects); "
                                                  "relative to the working directory or PATH. The set is then "
                                                  "scored against these labels, with or without --clean")
    s.add_argument("--description", default="")
    s.add_argument("--force", action="store_true", help="replace an existing dataset of that name")


def _args_verify(v) -> None:
    v.add_argument("name", help="registered name, a name from `bench data add`, or folder:<path>")
    v.add_argument("--data-root")
    v.add_argument("--headers-only", action="store_true", help="read image headers instead of decoding")
    v.add_argument("--write-manifest", action="store_true",
                   help="record the sha256 of every file as this dataset's checksum manifest")


def _args_fetch(f) -> None:
    f.add_argument("name", nargs="?", help="a dataset: one with a public plain-file copy is downloaded and "
                                            "checked file by file; for the others this says where to get it")
    f.add_argument("--all", action="store_true", help="every dataset that has a public plain-file copy")
    f.add_argument("--test-assets", nargs="?", const="", metavar="DIR", type=str,
                   help="every file the test suite reads, into DIR/data and DIR/weights "
                        "(default: the folder above the user data folder, where the tests look)")
    f.add_argument("--mirror", metavar="BASE", help="download from BASE/<path> (a copy laid out like the "
                                                    "shared folder: data/..., weights/...) instead of the public URLs")
    f.add_argument("--data-root")
    f.add_argument("--offline", action="store_true", default=None)


def _args_synth(s) -> None:
    s.add_argument("source", help="folder: YOLO (images/ + labels/), Cityscapes (leftImg8bit/ + gtFine/) or images")
    s.add_argument("out", help="output folder (rain/, norain/, labels or gtFine/, synth.json)")
    s.add_argument("--preset", default="light", help="light (~Rain100L) | heavy (~Rain100H)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--kind", choices=["auto", "yolo", "cityscapes", "images"], default="auto")
    s.add_argument("--max-side", type=int, help="downscale larger images (not allowed with label maps)")
    for knob in ("density", "length", "angle", "width", "brightness", "haze", "haze_light", "strength_jitter"):
        s.add_argument(f"--{knob.replace('_', '-')}", type=float, help=f"override the preset's {knob}")
    s.add_argument("--layers", type=int, help="override the preset's number of streak layers")


def _args_leakage(lk) -> None:
    lk.add_argument("train", help="training folder or dataset (its clean images, else its rainy ones)")
    lk.add_argument("--against", nargs="+", required=True, help="test datasets or folders")
    lk.add_argument("--data-root")
    lk.add_argument("--csv", type=Path, metavar="FILE", help="write every match (the terminal shows the first 10)")


def _leakage(args) -> int:
    from bench.data.leakage import cli_leakage

    return cli_leakage(args.train, args.against, _context(args), args.csv)


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="data_command", required=True)
    for name, (help_text, add, _) in SUBCOMMANDS.items():
        add(sub.add_parser(name, help=help_text, description=help_text))


def run(args) -> int:
    return SUBCOMMANDS[args.data_command][2](args)


def _root(args):
    return _context(args).data_root


def _context(args):
    from bench.config import RunContext

    return RunContext.from_env(device="cpu", offline=getattr(args, "offline", None),
                               data_root=getattr(args, "data_root", None))


def _ls(args) -> int:
    from bench.data import dataset_names, dataset_spec, resolve_dataset

    root = _root(args)
    print(f"data root: {root}")
    for name in dataset_names():
        try:
            spec = dataset_spec(name)
            ds = resolve_dataset(name, _context(args))
            where = (f"found at {ds.root} (layout {ds.layout}, {'paired' if ds.has_clean else 'no GT'}, "
                     f"labels {ds.label_source}, expected {ds.expected_count or '?'} images)")
        except (LookupError, ValueError) as e:
            spec, where = None, f"missing: {str(e).split('. Put it')[0]}"
        print(f"{name:<23} {getattr(spec, 'description', '') or ''}\n{'':23} {where}")
    print("folder:<path>           any folder, paired (rain/+norain/, input/+target/, ...) or flat (no GT)")
    return 0


def _verify(args) -> int:
    from bench.data import resolve_dataset
    from bench.data.verify import format_report, verify, write_manifest

    try:
        ds = resolve_dataset(args.name, _context(args))
    except (LookupError, ValueError) as e:
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
    from bench.data.assets import DATASET_FOLDERS, default_assets_root
    from bench.data.fetch import fetch_test_assets

    if sum((args.name is not None, args.all, args.test_assets is not None)) != 1:
        print("bench data fetch: give one of NAME, --all or --test-assets [DIR]", file=sys.stderr)
        return 2
    ctx = _context(args)
    if args.test_assets is not None:
        dest = Path(args.test_assets).expanduser() if args.test_assets else default_assets_root()
        return fetch_test_assets(dest, ctx, args.mirror)
    names = _fetchable() if args.all else [args.name]
    codes = [_fetch_dataset(name, ctx, args.mirror) for name in names]
    if args.all:
        from bench.data import DATASETS

        others = [n for n in DATASETS.names() if n not in names]
        print(f"not fetched (no public plain-file copy, or generated from the sets above on first use): "
              f"{', '.join(others)}; `bench data fetch NAME` says where to get each")
    return max(codes)


def _fetchable() -> list[str]:
    """Sets with a public plain-file copy, then registered sets with an official archive (one per archive)."""
    from bench.data import DATASETS, dataset_spec
    from bench.data.assets import DATASET_FOLDERS

    names, archives = list(DATASET_FOLDERS), set()
    for n in DATASETS.names():
        downloads = getattr(dataset_spec(n), "downloads", ())
        if n not in names and downloads and downloads not in archives:
            names.append(n)
            archives.add(downloads)
    return names


def _fetch_dataset(name: str, ctx, mirror: str | None) -> int:
    from bench.data import DATASETS, dataset_spec, resolve_dataset
    from bench.data.assets import DATASET_FOLDERS
    from bench.data.fetch import fetch, fetch_manifest_set

    if name not in DATASETS and name not in DATASET_FOLDERS:
        known = sorted(set(DATASETS.names()) | set(DATASET_FOLDERS))
        print(f"bench data fetch: unknown dataset {name!r}; known: {', '.join(known)}", file=sys.stderr)
        return 2
    if name in DATASET_FOLDERS and (Path(ctx.data_root) / DATASET_FOLDERS[name]).is_dir():
        return fetch_manifest_set(name, ctx.data_root, ctx, mirror)      # completes a partial copy
    if name in DATASETS:
        try:
            ds = resolve_dataset(name, ctx)
            print(f"{name}: already present at {ds.root} (layout {ds.layout}); `bench data verify {name}` checks it")
            return 0
        except LookupError as e:
            missing = str(e)
    if name in DATASET_FOLDERS:
        return fetch_manifest_set(name, ctx.data_root, ctx, mirror)
    return fetch(dataset_spec(name), ctx.data_root, ctx.offline, missing)


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


def _dir(args) -> int:
    """The data root: --data-root is per command; this prints the default and where it comes from."""
    from bench.config import default_user_data_dir, settings

    env = settings()
    print(env.data_root or default_user_data_dir())
    how = "from $BENCH_DATA" if env.data_root else "the per-user default; set $BENCH_DATA to use another folder"
    print(f"({how})", file=sys.stderr)
    return 0


def _add(args) -> int:
    from bench.config import config_dir
    from bench.data import DATASETS
    from bench.data.user import NAME_RX, DatasetSpecError, UserDataset, user_dataset_files

    if not NAME_RX.fullmatch(args.name):
        print(f"bench data add: {args.name!r} is not a valid name (lowercase letters, digits, '.', '_', '-'; "
              "starting with a letter or digit)", file=sys.stderr)
        return 2
    if args.name in DATASETS:
        print(f"bench data add: {args.name!r} is a registered dataset; choose another name", file=sys.stderr)
        return 2
    target = config_dir() / "datasets" / f"{args.name}.yaml"
    if args.name in user_dataset_files() and not args.force:
        print(f"bench data add: {target} exists; pass --force to replace it", file=sys.stderr)
        return 2
    path = Path(args.path).expanduser().resolve()
    labels = None
    if args.labels:
        lab = Path(args.labels).expanduser()
        if not lab.is_absolute() and not lab.is_dir():
            lab = path / lab                     # not a folder from here: relative to the dataset folder
        labels = str(lab.resolve())
    try:
        spec = UserDataset(name=args.name, path=str(path), rainy=args.rainy, clean=args.clean or None,
                           pair=args.pair or None, description=args.description, source=str(target),
                           labels=labels)
        ds = spec.find(_context(args))
    except (DatasetSpecError, LookupError) as e:
        print(f"bench data add: {e}", file=sys.stderr)
        return 2
    samples = list(ds.samples())
    bad = [s for s in samples if s.error]
    if spec.clean and samples and not any(s.clean for s in samples):
        clean = sorted(p.name for p in ds.root.glob(spec.clean))[:1]
        print(f"bench data add: no rainy image found a clean twin (e.g. {samples[0].rainy.name} vs "
              f"{clean[0] if clean else 'no clean file at all'}); state how names correspond with "
              "--pair RAINY_REGEX->CLEAN_REGEX (e.g. 'input(\\d+)->norain(\\d+)'). Nothing written.", file=sys.stderr)
        return 2
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(spec.to_yaml(), encoding="utf-8")
    paired = sum(1 for s in samples if s.clean is not None)
    print(f"wrote {target}: {len(samples)} rainy images, {paired} paired" + (f", {len(bad)} with problems" if bad else ""))
    for s in bad[:5]:
        print(f"  - {s.error}")
    if len(bad) > 5:
        print(f"  ... {len(bad) - 5} more; `bench data verify {args.name}` lists them")
    label_problems = _report_labels(samples) if labels else []
    print(f"run it: bench run --datasets {args.name} --models rainy")
    return 1 if bad or label_problems else 0


def _report_labels(samples) -> list[str]:
    """Print what the labels hold (read, unlabelled images, orphans) and each malformed file."""
    from bench.data.verify import check_labels

    notes, problems = check_labels(samples)
    for line in notes:
        print(f"  labels: {line}" if not line.startswith("labels:") else f"  {line}")
    for line in problems:
        print(f"  - {line}")
    if problems:
        print("  a malformed label file is one error record for its image when the set runs; the rest is scored")
    return problems


SUBCOMMANDS = {
    "ls": ("registered and user datasets and where each was found", _args_ls, _ls),
    "dir": ("print the default data root ($BENCH_DATA, else the per-user folder)", _args_dir, _dir),
    "add": ("describe a folder (globs + pairing rule) as a named dataset in the user config folder",
            _args_add, _add),
    "verify": ("counts, pairs, unreadable files, sizes, checksums (exit 1 on problems)", _args_verify, _verify),
    "fetch": ("download a dataset or the test assets from public plain-file copies, sha256-checked; "
              "else say where to get it", _args_fetch, _fetch),
    "synth": ("render seeded synthetic rain onto an image set, labels unchanged", _args_synth, _synth),
    "leakage": ("find test images (rotated, flipped, cropped, rain-covered) in a training set", _args_leakage,
                _leakage),
}
