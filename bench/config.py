"""Run configuration: CLI flags + environment + configs/suite.yaml, as one dataclass."""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"
TASKS_DIR = REPO / "tasks"


@dataclass
class RunConfig:
    models: list[str]
    datasets: list[str]
    measures: list[str]
    tasks: list[str]
    out: Path = Path("results")
    data_root: Path | None = None
    weights_dir: Path | None = None
    device: str = "auto"
    limit: int | None = None
    batch_size: int = 1
    offline: bool = False
    fresh: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("out", "data_root", "weights_dir"):
            d[k] = str(d[k]) if d[k] is not None else None
        return d


def load_suite(name: str = "suite") -> dict[str, list[str]]:
    path = CONFIGS / f"{name}.yaml"
    with open(path) as f:
        suite = yaml.safe_load(f) or {}
    for key in ("models", "datasets", "measures", "tasks"):
        if not isinstance(suite.get(key, []), list):
            raise ValueError(f"{path}: `{key}` must be a list of names")
    return suite


def env_path(var: str) -> Path | None:
    v = os.environ.get(var)
    return Path(v).expanduser() if v else None


def default_data_root() -> Path | None:
    """$BENCH_DATA, else ../shared/data beside a checkout (the developers' layout), else None."""
    explicit = env_path("BENCH_DATA")
    if explicit:
        return explicit
    guess = REPO.parent / "shared" / "data"
    return guess if guess.is_dir() else None


def default_weights_dir() -> Path | None:
    explicit = env_path("BENCH_WEIGHTS")
    if explicit:
        return explicit
    guess = REPO.parent / "shared" / "weights"
    return guess if guess.is_dir() else None


def resolve_device(device: str) -> str:
    if device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return device
