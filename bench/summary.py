"""What a run did: per-stage timings, work done vs skipped, skips with reasons, failures.

Written to results/runs/<run_id>/run.json (config, git hash, package versions, device) and
printed as the closing summary of `bench run`.
"""
from __future__ import annotations

import json
import platform
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.config import RunConfig

REPO = Path(__file__).resolve().parents[1]   # the checkout, when run from one (git state)

PACKAGES = ("derain-bench", "torch", "torchvision", "numpy", "pillow", "ultralytics", "pycocotools",
            "opencv-python", "opencv-python-headless", "scikit-image", "scipy", "pandas", "matplotlib", "pyiqa")


def package_versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def git_state() -> dict[str, Any]:
    """The checkout's commit; None when installed from a wheel (site-packages may sit inside some
    other repository, whose commit is not ours)."""
    if not (REPO / "pyproject.toml").is_file() or not (REPO / "bench").is_dir():
        return {"commit": None, "dirty": None}
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=REPO, capture_output=True, text=True,
                             timeout=10).stdout.strip()
        if not top or Path(top).resolve() != REPO:
            return {"commit": None, "dirty": None}
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                                    capture_output=True, text=True, timeout=10).stdout.strip())
        return {"commit": head or None, "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


class RunLog:
    def __init__(self, cfg: RunConfig):
        self.cfg = cfg
        self.started = time.time()
        self.run_id = time.strftime("%Y%m%d-%H%M%S", time.gmtime(self.started)) + "-" + uuid.uuid4().hex[:6]
        self._lock = threading.Lock()
        self.timings: dict[str, float] = defaultdict(float)
        self.skips: list[dict[str, str]] = []
        self.failures: list[dict[str, str]] = []
        self.pairs: dict[tuple[str, str], dict[str, float]] = {}
        self.traces: list[str] = []
        self.finished: float | None = None

    @contextmanager
    def stage(self, name: str):
        """Time spent in a stage. Stages run on several threads at once (bench/engine/threads.py), so
        their sum can exceed the run's wall time."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            with self._lock:
                self.timings[name] += time.perf_counter() - t0

    def skip(self, kind: str, name: str, reason: str) -> None:
        entry = {"kind": kind, "name": name, "reason": reason}
        with self._lock:
            if entry not in self.skips:
                self.skips.append(entry)

    def fail(self, model: str, dataset: str, image_id: str, message: str) -> None:
        self.failures.append({"model": model, "dataset": dataset, "image": image_id, "error": message})

    def fail_setup(self, kind: str, name: str, message: str) -> None:
        """A measure or task that broke while being set up (not a missing asset): exit code 1."""
        self.failures.append({"model": f"{kind} {name}", "dataset": "", "image": "", "error": message})

    def progress(self, line: str) -> None:
        """One line per finished (model, dataset), so a long run shows it is moving."""
        print(f"  [{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)

    def trace(self, text: str) -> None:
        self.traces.append(text)

    def pair(self, model_key: str, dataset: str) -> dict[str, float]:
        return self.pairs.setdefault((model_key, dataset), defaultdict(float))

    @property
    def run_dir(self) -> Path:
        return Path(self.cfg.out) / "runs" / self.run_id

    @property
    def forwards(self) -> int:
        return int(sum(c["forwards"] for c in self.pairs.values()))

    def exit_code(self) -> int:
        """0: all that could run succeeded (skips are missing optional assets, each with its fix);
        1: an image, a model, a measure or a task failed. (2, usage errors, never gets this far.)"""
        return 1 if self.failures else 0

    def record(self) -> dict[str, Any]:
        import torch

        device = self.cfg.context.device
        return {
            "run_id": self.run_id,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            "wall_s": round((self.finished or time.time()) - self.started, 3),
            "config": self.cfg.as_dict(),
            "git": git_state(),
            "packages": package_versions(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "device": {"name": device, "torch_threads": torch.get_num_threads(),
                       "cuda": torch.cuda.get_device_name(0) if device.startswith("cuda") else None},
            "timings_s": {k: round(v, 3) for k, v in sorted(self.timings.items())},
            "work": {
                "forwards": self.forwards,
                "pairs": [{"model": m, "dataset": d, **{k: (round(v, 3) if isinstance(v, float) else v)
                                                         for k, v in c.items()}}
                          for (m, d), c in self.pairs.items()],
            },
            "notices": list(self.cfg.context.notices),
            "skipped": self.skips,
            "failures": self.failures,
        }

    def finish(self, store) -> None:
        self.finished = time.time()
        self.write(store)

    def write(self, store=None) -> Path:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        rec = self.record()
        path = self.run_dir / "run.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(rec, indent=2))
        tmp.replace(path)
        if self.traces:
            (self.run_dir / "tracebacks.txt").write_text("\n".join(self.traces))
        if store is not None:
            store.put_run(self.run_id, self.started, self.finished, rec)
        return path

    def summary_text(self) -> str:
        lines = [f"run {self.run_id}: {self.forwards} forward passes, "
                 f"{(self.finished or time.time()) - self.started:.1f} s"]
        if self.pairs:
            lines.append("  work (model × dataset): images / computed / reused-from-store / errors")
            for (m, d), c in self.pairs.items():
                lines.append(f"    {m:<34} {d:<16} {int(c['images']):>5} / {int(c['forwards']):>4} fwd "
                             f"/ {int(c['skipped']):>4} done / {int(c['errors']):>3}")
        for n in self.cfg.context.notices:
            lines.append(f"  note: {n}")
        if self.skips:
            lines.append(f"  skipped ({len(self.skips)}):")
            for s in self.skips:
                lines.append(f"    - {s['kind']} {s['name']}: {s['reason']}")
        if self.failures:
            lines.append(f"  FAILED ({len(self.failures)}):")
            for f in self.failures[:20]:
                where = " / ".join(v for v in (f["model"], f["dataset"], f["image"]) if v)
                lines.append(f"    - {where}: {f['error']}")
            if len(self.failures) > 20:
                lines.append(f"    ... {len(self.failures) - 20} more in {self.run_dir / 'run.json'}")
        lines.append(f"  record: {self.run_dir / 'run.json'}")
        return "\n".join(lines)
