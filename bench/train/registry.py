"""Local registry of own-trained checkpoints: ``<cache>/trained/<model>/<name>/``.

Each folder holds ``checkpoint.pth`` (a plain state_dict, what `bench run` loads),
``train_state.pth`` (model + optimiser + step + history, what ``--resume`` reads),
``provenance.json`` (model, data fingerprint and leakage report, losses and weights, steps, seed,
git commit, wall time, device, and the checkpoint's sha256) and, at the end, ``loss_curve.png``.
``bench run --models rdmc@<name>`` finds it through WeightsResolver like any published checkpoint.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

DEFAULT_NAME = "bsds500-heavy"
# The recipe each unpublished model's skip message names (README "Training" has its figures).
TRAIN_COMMANDS = {
    "drdnet": "python -m bench train drdnet --data bsds500-heavy --drop-leaked --name bsds500-heavy",
    "rdmc": "python -m bench train rdmc --data bsds500-heavy --drop-leaked --name bsds500-heavy",
    "semi-drdnet": ("python -m bench train semi-drdnet --data bsds500-heavy --drop-leaked --name bsds500-heavy "
                    "--real <folder of real rainy photos that are in no test set>"),
}
ALIASES = {"rdmc-crop": "rdmc"}


def trained_root(cache_root: Path) -> Path:
    return Path(cache_root) / "trained"


def run_dir(cache_root: Path, model: str, name: str) -> Path:
    return trained_root(cache_root) / ALIASES.get(model, model) / name


def train_hint(model: str) -> str:
    cmd = TRAIN_COMMANDS.get(ALIASES.get(model, model))
    tail = f"; make one with `{cmd}`, then run {model}@bsds500-heavy" if cmd else ""
    return f"{model}: no published weights{tail}; or pass a checkpoint as {model}@/path/to/file.pth"


def lookup(cache_root: Path, model: str, name: str) -> tuple[dict[str, Any], Path] | None:
    """(weights entry, checkpoint path) of an own-trained checkpoint, or None."""
    if not name or "/" in name or name.startswith("."):
        return None
    d = run_dir(cache_root, model, name)
    ckpt, prov = d / "checkpoint.pth", d / "provenance.json"
    if not (ckpt.is_file() and prov.is_file()):
        return None
    p = json.loads(prov.read_text())
    entry = {"variant": name, "file": str(ckpt), "sha256": p.get("checkpoint_sha256"), "source": "own-trained",
             "trained_on": p.get("data", {}).get("name"), "provenance": str(prov),
             "budget": f"{p.get('steps_done')} steps × batch {p.get('batch')} × {p.get('patch')} px, "
                       f"{p.get('wall_time_s', 0):.0f} s on {p.get('device')}",
             "ablation": p.get("ablation"),
             "seen_test_sets": (p.get("data", {}).get("leakage") or {}).get("seen_test_sets", [])}
    return entry, ckpt


def default_trained(cache_root: Path, model: str) -> str | None:
    """The name `bench run` uses when none is given: ``bsds500-heavy`` if trained, else the newest."""
    root = trained_root(cache_root) / ALIASES.get(model, model)
    if lookup(cache_root, model, DEFAULT_NAME):
        return DEFAULT_NAME
    runs = sorted((p for p in root.glob("*/checkpoint.pth")), key=lambda p: p.stat().st_mtime) if root.is_dir() else []
    return runs[-1].parent.name if runs else None


def atomic_save(obj: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write_text(text: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)
