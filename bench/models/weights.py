"""Checkpoint registry (configs/weights/<model>.yaml, one file per model) and resolution.

Order: explicit path -> --weights-dir / $BENCH_WEIGHTS -> cache -> download (online only).
Checkpoints are loaded with ``weights_only=True`` and verified against sha256 where known.
``resolver(ctx)`` gives the resolver for a RunContext (its folders and its offline switch);
``download_checkpoint`` is the one way a checkpoint is fetched.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch

from bench.config import read_yaml, resource_files, settings
from bench.errors import BadInput, ChecksumMismatch, WeightsMissing
from bench.hashing import sha256_file
from bench.net import DownloadFailed, download

__all__ = ["WeightsMissing", "WeightsMismatch", "WeightsResolver", "download_checkpoint", "load_state_dict",
           "registry", "resolver"]


class WeightsMismatch(ChecksumMismatch):
    """A checkpoint whose sha256 or key layout is not what the registry says."""


_SHA_CACHE: dict[tuple[str, int, int], str] = {}   # (path, size, mtime) -> sha256: hash each file once


@lru_cache(maxsize=1)
def registry() -> dict[str, dict[str, dict[str, Any]]]:
    """model -> weights id -> entry, merged from every weights/*.yaml (packaged, then user)."""
    merged: dict[str, dict[str, dict[str, Any]]] = {}
    for name, entry in resource_files("configs/weights").items():
        data = read_yaml(entry) or {}
        if not isinstance(data, dict):
            raise BadInput(f"{entry}: expected a mapping model -> weights id -> entry")
        for model, entries in data.items():
            merged.setdefault(model, {}).update(entries or {})
    return merged


def default_cache_dir() -> Path:
    return settings().cache_root / "weights"


def resolver(ctx) -> "WeightsResolver":
    """The resolver for a RunContext: its --weights-dir, its cache, and its (shared) offline switch."""
    return WeightsResolver(ctx.weights_dir, Path(ctx.cache_dir) / "weights", context=ctx)


def download_checkpoint(url: str, path: Path, sha256: str | None, ctx=None, sha256_prefix: str | None = None) -> None:
    """Fetch a checkpoint to ``path``. A wrong file raises WeightsMismatch (a failure, both hashes
    named); an unreachable one WeightsMissing (a skip) and, through ``ctx``, the run goes offline."""
    try:
        download(url, path, sha256, ctx=ctx, sha256_prefix=sha256_prefix)
    except ChecksumMismatch as e:
        raise WeightsMismatch(str(e)) from e
    except DownloadFailed as e:
        raise WeightsMissing(f"{e}, or run with --offline to skip it") from e


class WeightsResolver:
    def __init__(self, weights_dir: str | os.PathLike | None = None, cache_dir: str | os.PathLike | None = None,
                 offline: bool = False, context=None):
        self.weights_dir = Path(weights_dir) if weights_dir else None
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self._offline = offline
        self.context = context      # a RunContext: shares the run's offline switch

    @property
    def offline(self) -> bool:
        return self.context.offline if self.context is not None else self._offline

    def entry(self, model: str, variant: str) -> dict[str, Any]:
        entries = registry().get(model, {})
        if variant not in entries:
            known = ", ".join(entries) or "none registered"
            raise WeightsMissing(f"{model}: unknown weights {variant!r} (registered: {known}); "
                                 f"or pass a file as {model}@/path/to/checkpoint.pth")
        return {"variant": variant, **entries[variant]}

    def resolve(self, variant: str, model: str) -> tuple[dict[str, Any], Path]:
        explicit = Path(variant).expanduser()
        if explicit.suffix in (".pth", ".pt", ".ckpt", ".onnx") and explicit.exists():
            return {"variant": explicit.stem, "file": str(explicit)}, explicit
        trained = None if variant in registry().get(model, {}) else self._trained(model, variant)
        if trained is not None:   # published ids win: an own-trained run never shadows one
            return trained
        entry = self.entry(model, variant)
        rel = Path(entry["file"])
        candidates = [d / rel for d in (self.weights_dir, self.cache_dir) if d is not None]
        for path in candidates:
            if path.is_file():
                self.verify(path, entry)
                return entry, path
        if entry.get("url") and not self.offline:
            path = self.cache_dir / rel
            download_checkpoint(entry["url"], path, entry.get("sha256"), ctx=self.context)
            return entry, path
        target = candidates[0] if candidates else self.cache_dir / rel
        how = (f"download {entry['url']}" if entry.get("url")
               else f"get it from {entry.get('source', 'the authors')}")
        why = "offline mode" if self.offline and entry.get("url") else "not found"
        raise WeightsMissing(f"{model}@{variant}: checkpoint {why}; {how} and place it at {target}"
                             + (f" (sha256 {entry['sha256']})" if entry.get("sha256") else ""))

    def _trained(self, model: str, name: str) -> tuple[dict[str, Any], Path] | None:
        """An own-trained checkpoint of `bench train` (<cache>/trained/<model>/<name>/), sha256-checked."""
        from bench.train.registry import lookup

        found = lookup(self.cache_dir.parent, model, name)
        if found is not None:
            self.verify(found[1], found[0])
        return found

    @staticmethod
    def sha256(path: Path) -> str:
        stat = Path(path).stat()
        key = (str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)
        if key not in _SHA_CACHE:
            _SHA_CACHE[key] = sha256_file(path)
        return _SHA_CACHE[key]

    def verify(self, path: Path, entry: dict[str, Any]) -> None:
        want = entry.get("sha256")
        if want and self.sha256(path) != want:
            raise WeightsMismatch(f"{path}: sha256 {self.sha256(path)} does not match the registry's {want}; "
                                  "the file is corrupt or a different checkpoint. Re-download it.")


def load_state_dict(path: str | os.PathLike, strip_prefix: str | None = "module.") -> dict[str, torch.Tensor]:
    """Load a plain state_dict safely; unwrap {'state_dict': ...} and strip DataParallel prefixes."""
    obj = torch.load(path, map_location="cpu", weights_only=True)
    for k in ("state_dict", "model", "params", "net"):
        if isinstance(obj, dict) and k in obj and isinstance(obj[k], dict):
            obj = obj[k]
            break
    if not isinstance(obj, dict):
        raise WeightsMismatch(f"{path}: expected a state_dict, found {type(obj).__name__}")
    if strip_prefix:
        obj = {(k[len(strip_prefix):] if k.startswith(strip_prefix) else k): v for k, v in obj.items()}
    return obj
