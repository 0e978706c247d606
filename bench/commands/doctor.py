"""`bench doctor`: what this machine can run, and the fix for each thing that is missing.

Checks Python, torch, CUDA, the config folder, the data root and the datasets found there, the
checkpoints found, whether the weights host answers (one HEAD request, skipped with --offline),
Chromium (the HTML report test), a writable cache, and telemetry. Each line is
``ok`` / ``miss`` (optional: runs skip what needs it) / ``FAIL`` (nothing will run); a miss is
followed by its fix. Exit code 1 only when something FAILs.
"""
from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

WEIGHTS_HOST = "https://github.com"     # where the registered checkpoints' URLs point


@dataclass
class Check:
    status: str          # ok | miss | FAIL
    what: str
    detail: str
    fix: str = ""


def add_arguments(p) -> None:
    p.add_argument("--offline", action="store_true", default=None, help="skip the network check")
    p.add_argument("--data-root", help="default: $BENCH_DATA, else the per-user folder (`bench data dir`)")
    p.add_argument("--weights-dir", help="default: $BENCH_WEIGHTS")


def run(args) -> int:
    from bench.config import RunContext

    from bench.offline import configure

    ctx = RunContext.from_env(device="cpu", offline=args.offline, data_root=args.data_root,
                              weights_dir=args.weights_dir)
    configure(True)      # Ultralytics settings in the cache, no probes: doctor itself never downloads
    failed = False
    for check in checks(ctx):
        print(f"  {check.status:<4}  {check.what:<14} {check.detail}")
        if check.status != "ok" and check.fix:
            print(f"  {'':4}  {'':14} fix: {check.fix}")
        failed |= check.status == "FAIL"
    return 1 if failed else 0


def checks(ctx):
    yield from _python()
    yield from _torch()
    yield from _config()
    yield from _cache(ctx)
    yield from _data(ctx)
    yield from _weights(ctx)
    yield from _task_weights(ctx)
    yield _network(ctx)
    yield _chromium()
    yield _telemetry()


def _python():
    import bench

    v = sys.version_info
    where = Path(bench.__file__).resolve().parent
    if v < (3, 10):
        yield Check("FAIL", "python", f"{sys.version.split()[0]} ({sys.executable})", "Python 3.10 or newer is needed")
    else:
        yield Check("ok", "python", f"{sys.version.split()[0]} ({sys.executable})")
    yield Check("ok", "derain-bench", f"{_version('derain-bench')} from {where}")


def _version(dist: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "(not installed as a package)"


def _torch():
    try:
        import torch
    except Exception as e:  # noqa: BLE001 (a broken install raises anything)
        yield Check("FAIL", "torch", f"cannot import: {e}", "pip install torch torchvision (https://pytorch.org)")
        return
    yield Check("ok", "torch", f"{torch.__version__}, {torch.get_num_threads()} CPU threads")
    if torch.cuda.is_available():
        names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
        yield Check("ok", "cuda", f"CUDA {torch.version.cuda}: {names}")
    else:
        why = "torch built without CUDA" if torch.version.cuda is None else f"CUDA {torch.version.cuda} build, no GPU visible"
        yield Check("miss", "cuda", f"none ({why}); runs use the CPU (slower)",
                    "for a GPU: a CUDA build of torch (https://pytorch.org/get-started) and an NVIDIA driver")


def _config():
    from bench.config import config_dir
    from bench.data.user import user_dataset_files

    d = config_dir()
    if d.is_dir():
        files = sorted(str(p.relative_to(d)) for p in d.rglob("*.yaml"))
        yield Check("ok", "config", f"{d}: {len(files)} user file(s)" + (f" ({', '.join(files[:6])})" if files else ""))
    else:
        yield Check("ok", "config", f"{d} (absent: packaged configs only; `bench data add` creates it)")
    for name, path in user_dataset_files().items():
        from bench.data.user import DatasetSpecError, UserDataset

        try:
            UserDataset.from_yaml(path)
        except DatasetSpecError as e:
            yield Check("miss", "config", str(e), f"fix or delete {path}")


def _cache(ctx):
    root = Path(ctx.cache_dir)
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / ".doctor-write-test"
        probe.write_text("ok")
        probe.unlink()
        yield Check("ok", "cache", f"{root} (writable)")
    except OSError as e:
        yield Check("FAIL", "cache", f"{root} not writable: {e}",
                    "set $BENCH_CACHE (or $XDG_CACHE_HOME) to a writable folder")


def _data(ctx):
    from bench.data import DATASETS, dataset_names, dataset_spec
    from bench.data.generated import GeneratedDataset

    root = ctx.data_root
    how = "--data-root / $BENCH_DATA" if root != _default_root() else "per-user default; $BENCH_DATA overrides"
    if root.is_dir():
        yield Check("ok", "data root", f"{root} ({how})")
    else:
        yield Check("miss", "data root", f"{root} does not exist ({how})",
                    f"mkdir -p {root} and put datasets there (`bench data fetch NAME` says where to get each), "
                    "or set $BENCH_DATA")
    found, missing = [], []
    for name in dataset_names():
        try:
            spec = dataset_spec(name)
            if isinstance(spec, GeneratedDataset):
                spec.items(root)            # sources present; built on first use, not here
                found.append(name)
            else:
                where = spec.find(ctx).root
                found.append(name if name in DATASETS else f"{name} ({where})")
        except (LookupError, ValueError):
            missing.append(name)
    yield Check("ok", "datasets", f"{len(found)} usable: {', '.join(found)}")
    if missing:
        yield Check("miss", "datasets", f"{len(missing)} not found: {', '.join(missing)}",
                    "`bench data fetch NAME` prints where to get one and the folder to put it in; "
                    "`bench data add` describes any other folder")


def _default_root():
    from bench.config import default_user_data_dir

    return default_user_data_dir()


def _weights(ctx):
    from bench.models.weights import registry, resolver as weights_resolver

    resolver = weights_resolver(ctx)
    offline, ctx.offline = ctx.offline, True          # look only; never download from doctor
    found, missing, bad = [], [], []
    try:
        for model, entries in registry().items():
            for variant in entries:
                try:
                    resolver.resolve(variant, model=model)
                    found.append(f"{model}@{variant}")
                except FileNotFoundError:
                    missing.append(f"{model}@{variant}")
                except ValueError as e:
                    bad.append(str(e))
    finally:
        ctx.offline = offline
    where = " or ".join(str(d) for d in (ctx.weights_dir, resolver.cache_dir) if d)
    yield Check("ok" if found else "miss", "weights", f"{len(found)} found in {where}: {', '.join(found) or 'none'}",
                "" if found else "pass --weights-dir (or set $BENCH_WEIGHTS) to a folder of checkpoints")
    if missing:
        yield Check("miss", "weights", f"{len(missing)} missing: {', '.join(missing)}",
                    "online, `bench run` downloads registered checkpoints into the cache; offline, "
                    "`bench ls models` prints each URL and the path to place it at")
    for message in bad:
        yield Check("miss", "weights", message, "delete the file and download it again")


def _task_weights(ctx):
    """Segmentation tasks' checkpoints outside the weights registry (YOLO's, FastestDet's and ESPNet's
    are registry entries, checked above)."""
    from bench.downstream.tasks import build_task, load_task_configs

    found, missing = [], []
    for name, cfg in load_task_configs().items():
        if cfg.params.get("untrained"):
            continue
        try:
            backend = getattr(build_task(cfg, ctx), "backend", None)
            if backend is None or not hasattr(backend, "local_dir") and not hasattr(backend, "_file"):
                continue
            have = backend.local_dir() if hasattr(backend, "local_dir") else backend._file()[0]
        except Exception as e:  # noqa: BLE001 (a broken task config is reported, not fatal)
            missing.append(f"{name} ({e})")
            continue
        (found if have else missing).append(f"{name} ({have})" if have else f"{name} ({cfg.params.get('weights')})")
    if found:
        yield Check("ok", "task weights", ", ".join(found))
    if missing:
        yield Check("miss", "task weights", f"not found: {', '.join(missing)}",
                    "online, the first run downloads them; offline, `bench run` prints the file and folder for each")


def _network(ctx) -> Check:
    from bench.net import reachable

    if ctx.offline:
        return Check("ok", "network", "not checked (--offline / $BENCH_OFFLINE)")
    ok, why = reachable(WEIGHTS_HOST)
    if ok:
        return Check("ok", "network", f"{WEIGHTS_HOST} answers ({why})")
    return Check("miss", "network", f"{WEIGHTS_HOST} unreachable ({why})",
                 "run with --offline (or BENCH_OFFLINE=1); place checkpoints by hand (`bench ls models` says where)")


def _chromium() -> Check:
    for exe in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(exe)
        if path:
            return Check("ok", "chromium", f"{path} (HTML report test)")
    return Check("miss", "chromium", "not found; only the HTML report's screenshot test needs it (it skips)",
                 "Debian/Ubuntu: apt-get install -y chromium chromium-driver")


def _telemetry() -> Check:
    from bench.config import settings

    if settings().telemetry:
        return Check("ok", "telemetry", "on ($BENCH_TELEMETRY=1): Ultralytics / Hugging Face may send usage events")
    return Check("ok", "telemetry", "off (Ultralytics sync and Hugging Face telemetry disabled; $BENCH_TELEMETRY=1 enables)")
