"""RunContexts for tests: CPU, offline, pointed at the shared material or a temporary folder."""
from __future__ import annotations

from pathlib import Path

from bench.config import RunContext


def offline_ctx(weights_dir: Path | None = None, data_root: Path | None = None, cache_dir: Path | None = None,
                **kw) -> RunContext:
    extra = {"cache_dir": Path(cache_dir)} if cache_dir else {}
    return RunContext(device="cpu", offline=True, weights_dir=weights_dir, data_root=data_root, **extra, **kw)
