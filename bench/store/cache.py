"""The derained-PNG cache beside the results store: the one place that knows its layout.

    <out>/cache/<model key, made safe>/<dataset, made safe>/<dataset fingerprint[:16]>/<image id>.png

A version-1 store (no dataset fingerprints) kept ``<out>/cache/<model key>/<dataset>/<image id>.png``;
that layout is still read (the report) and removed (``--fresh``).
"""
from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path


def _safe(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9._=-]+", "_", text).strip("_") or "_"
    return s if s == text else f"{s[:60]}-{hashlib.sha1(text.encode()).hexdigest()[:6]}"


class OutputCache:
    """Cached outputs of every (model identity, dataset version) under ``<out>/cache``."""

    def __init__(self, out: str | Path):
        self.out = Path(out)
        self.root = self.out / "cache"

    def _model_dir(self, model_key: str) -> Path:
        return self.root / model_key.replace("#", "_").replace("@", "_").replace("/", "_")

    def path(self, model_key: str, dataset: str, image_id: str, dataset_fp: str) -> Path:
        """Where the output of one image of one dataset version lives (no fingerprint: version 1)."""
        if not dataset_fp:
            return self.legacy_path(model_key, dataset, image_id)
        return self._model_dir(model_key) / _safe(dataset) / dataset_fp[:16] / f"{image_id}.png"

    def legacy_path(self, model_key: str, dataset: str, image_id: str) -> Path:
        """The version-1 location (no dataset fingerprint)."""
        return self._model_dir(model_key) / dataset / f"{image_id}.png"

    def pair_dirs(self, model_key: str, dataset: str) -> list[Path]:
        """Every folder holding outputs of a (model, dataset) pair: all versions and the version-1 layout."""
        return [self._model_dir(model_key) / _safe(dataset), self._model_dir(model_key) / dataset]

    def newest(self, model_key: str, dataset: str, image_id: str) -> Path:
        """The output of the newest dataset version that has one, else the version-1 path."""
        versions = self.pair_dirs(model_key, dataset)[0]
        found = sorted(versions.glob(f"*/{image_id}.png"), key=lambda p: p.stat().st_mtime) \
            if versions.is_dir() else []
        return found[-1] if found else self.legacy_path(model_key, dataset, image_id)

    def forget_pair(self, model_key: str, dataset: str) -> None:
        """--fresh: the pair's cached outputs go, every dataset version."""
        for folder in self.pair_dirs(model_key, dataset):
            shutil.rmtree(folder, ignore_errors=True)

    def files(self) -> dict[str, Path]:
        """Every cached PNG, by its path relative to ``out`` (what a Ray shard sends back)."""
        return {str(p.relative_to(self.out)): p for p in sorted(self.root.rglob("*.png"))}
