"""Checkpoints of the downstream networks written in this repository (FastestDet, ESPNet).

The card (configs/weights/<model>.yaml) names the file, its sha256 and its source. The
file is looked for under --weights-dir / $BENCH_WEIGHTS, then the cache, then downloaded (online
only, sha256-checked). A file whose sha256 differs from the card's is refused with both hashes
(ChecksumMismatch: a failure); a missing file makes the task unavailable (a skip) with the path
to place it at. Loading is ``weights_only=True`` into the network with ``strict=True``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.downstream.base import TaskUnavailable
from bench.errors import ChecksumMismatch


def verify_sha256(path: Path, want: str | None, what: str) -> str:
    """The file's sha256; ChecksumMismatch naming both hashes when it is not the card's."""
    from bench.hashing import sha256_file

    got = sha256_file(path)
    if want and got != want:
        raise ChecksumMismatch(f"{what}: {path} has sha256 {got}, its card says {want}; the file is damaged or "
                               "another checkpoint. Replace it with the file the card names (see its url).")
    return got


def resolve_checkpoint(task, model: str, variant: str) -> tuple[dict[str, Any], Path, str]:
    """(card entry, local path, sha256) of a registered checkpoint, verified."""
    from bench.errors import Unavailable
    from bench.models.weights import WeightsMismatch, WeightsMissing

    resolver = task.resolver
    what = f"task {task.name!r} checkpoint {model}@{variant}"
    try:
        entry = resolver.entry(model, variant)
    except (WeightsMissing, Unavailable) as e:
        raise TaskUnavailable(f"task {task.name!r}: {e}") from e
    rel = Path(entry["file"])
    for root in (resolver.weights_dir, resolver.cache_dir):
        if root is not None and (root / rel).is_file():
            return entry, root / rel, verify_sha256(root / rel, entry.get("sha256"), what)
    try:
        _, path = resolver.resolve(variant, model)      # download (online only), sha256-checked
    except WeightsMismatch as e:
        raise ChecksumMismatch(f"{what}: {e}") from e
    except (WeightsMissing, Unavailable, FileNotFoundError) as e:
        raise TaskUnavailable(f"task {task.name!r}: {e}") from e
    return entry, path, verify_sha256(path, entry.get("sha256"), what)


def load_network(net, path: Path):
    """``weights_only=True`` and ``strict=True``: every key of the network, nothing else."""
    import torch

    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        raise ChecksumMismatch(f"{path}: expected a plain state_dict, found {type(state).__name__}")
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise ChecksumMismatch(f"{path}: its keys or shapes do not fit {type(net).__name__} ({e})") from e
    return net.eval()
