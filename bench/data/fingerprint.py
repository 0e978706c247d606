"""A dataset's identity by content: sha256 over the sorted manifest (relative path, size, sha256)
of every file its samples use (rainy, clean, labels).

File hashes are cached by (size, mtime) in ``<cache dir>/fingerprints/<root hash>.json``, so a
rerun re-reads only files that changed. Two copies of one dataset under different roots get the
same fingerprint; a changed, added or removed file gives a new one, and ``diff`` says which.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from bench.hashing import sha256_file


@dataclass
class Fingerprint:
    digest: str                                      # 64 hex
    manifest: dict[str, tuple[int, str]] = field(default_factory=dict)   # relpath -> (size, sha256)

    @property
    def short(self) -> str:
        return self.digest[:16]


def _files(dataset) -> list[Path]:
    seen: dict[str, Path] = {}
    for s in dataset.samples():
        for p in (s.rainy, s.clean, s.labels):
            if p is not None:
                seen.setdefault(str(p), Path(p))
    return list(seen.values())


def _rel(path: Path, root: Path) -> str:
    return Path(os.path.relpath(path, root)).as_posix()


def fingerprint(dataset, cache_dir: Path | None = None) -> Fingerprint:
    """Content fingerprint of a located dataset (``Dataset`` with ``root`` and ``samples()``)."""
    root = Path(dataset.root)
    cache_path = None
    cache: dict[str, list] = {}
    if cache_dir is not None:
        key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:24]
        cache_path = Path(cache_dir) / "fingerprints" / f"{key}.json"
        try:
            cache = json.loads(cache_path.read_text())
        except (OSError, ValueError):
            cache = {}
    manifest: dict[str, tuple[int, str]] = {}
    fresh: dict[str, list] = {}
    for path in _files(dataset):
        rel = _rel(path, root)
        try:
            st = path.stat()
        except OSError:              # a listed file that is gone (dangling link): part of the identity
            manifest[rel] = (-1, "missing")
            continue
        hit = cache.get(rel)
        if hit and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
            sha = hit[2]
        else:
            sha = sha256_file(path)
        fresh[rel] = [st.st_size, st.st_mtime_ns, sha]
        manifest[rel] = (st.st_size, sha)
    h = hashlib.sha256()
    for rel in sorted(manifest):
        size, sha = manifest[rel]
        h.update(f"{rel}\t{size}\t{sha}\n".encode())
    if cache_path is not None and fresh != cache:
        try:
            cache_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache_path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(fresh))
            os.replace(tmp, cache_path)
        except OSError:
            pass
    return Fingerprint(h.hexdigest(), manifest)


def diff(old: dict[str, tuple[int, str]], new: dict[str, tuple[int, str]], limit: int = 5) -> str:
    """What changed between two manifests, in one line."""
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    changed = sorted(k for k in set(old) & set(new) if tuple(old[k]) != tuple(new[k]))
    parts = []
    for word, items in (("changed", changed), ("added", added), ("removed", removed)):
        if items:
            shown = ", ".join(items[:limit]) + (f", … {len(items) - limit} more" if len(items) > limit else "")
            parts.append(f"{len(items)} {word} ({shown})")
    return "; ".join(parts) or "no file differs"
