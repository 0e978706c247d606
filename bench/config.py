"""Run settings, in one place: the environment, packaged configs and the RunContext.

This is the only module that reads environment variables. Every plug-in factory (models,
datasets, measures, tasks) receives the same ``RunContext``; none reads the environment itself.

Configs (the suite, checkpoint registry, figure YAMLs) live in the repository's top-level
``configs/`` and task YAMLs in ``tasks/``; the wheel ships them as ``bench/configs`` and
``bench/tasks``. Both are read through ``resource_files``; a user config folder (``$BENCH_CONFIG``,
default ``~/.config/derain-bench``) with the same ``configs/`` and ``tasks/`` folders may add files
or override shipped ones of the same name.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import yaml

# --- the environment (read here and nowhere else) ---------------------------------------------
@dataclass(frozen=True)
class Environment:
    data_root: Path | None
    weights_dir: Path | None
    cache_root: Path
    config_dir: Path
    offline: bool
    max_pixels: int | None
    shared: Path | None           # developers' test material (tests and perf scripts only)
    telemetry: bool = False       # third-party usage events; off unless BENCH_TELEMETRY=1
    include: tuple[Path, ...] = ()  # plug-in folders (BENCH_INCLUDE, os.pathsep-separated), as --include
    yolo_config_dir: Path | None = None   # $YOLO_CONFIG_DIR (bench.offline.configure sets it)
    world_size: int = 1           # torchrun's WORLD_SIZE / LOCAL_RANK (bench train, several GPUs)
    local_rank: int = 0

    @classmethod
    def read(cls, environ: Mapping[str, str] | None = None) -> "Environment":
        env = os.environ if environ is None else environ

        def path(var: str) -> Path | None:
            v = env.get(var)
            return Path(v).expanduser() if v else None

        home = Path.home()
        xdg = path("XDG_CACHE_HOME")
        cache = path("BENCH_CACHE") or (xdg / "derain-bench" if xdg else None)
        return cls(
            data_root=path("BENCH_DATA"),
            weights_dir=path("BENCH_WEIGHTS"),
            cache_root=cache or home / ".cache" / "derain-bench",
            config_dir=path("BENCH_CONFIG") or home / ".config" / "derain-bench",
            offline=env.get("BENCH_OFFLINE", "0").lower() in ("1", "true", "yes"),
            max_pixels=int(env["BENCH_MAX_PIXELS"]) if env.get("BENCH_MAX_PIXELS") else None,
            shared=path("BENCH_SHARED"),
            telemetry=env.get("BENCH_TELEMETRY", "0").lower() in ("1", "true", "yes"),
            include=tuple(Path(p).expanduser() for p in env.get("BENCH_INCLUDE", "").split(os.pathsep) if p),
            yolo_config_dir=path("YOLO_CONFIG_DIR"),
            world_size=int(env.get("WORLD_SIZE") or 1),
            local_rank=int(env.get("LOCAL_RANK") or 0),
        )


def settings() -> Environment:
    """The environment's settings, read now (not cached: a test or a command may change them)."""
    return Environment.read()


def set_env(values: Mapping[str, str], override: bool = True) -> None:
    """Environment variables for third-party libraries (offline switches, telemetry), set here."""
    for k, v in values.items():
        if override or k not in os.environ:
            os.environ[k] = v


def yolo_config_dir() -> Path:
    """Where Ultralytics keeps settings and fonts ($YOLO_CONFIG_DIR, set by bench.offline.configure)."""
    env = settings()
    return env.yolo_config_dir or env.cache_root / "yolo-config"


def default_data_root() -> Path:
    """$BENCH_DATA, else the documented per-user folder (``bench data dir`` prints it); never a guess."""
    env = settings()
    return env.data_root or default_user_data_dir()


def default_user_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "derain-bench" / "data"


# --- packaged resources (configs/, tasks/) with user overrides ----------------------------------
RESOURCE_KINDS = ("configs", "tasks")


def config_dir() -> Path:
    return settings().config_dir


def packaged_dir(top: str) -> Path:
    """The shipped ``configs/`` or ``tasks/`` folder.

    A wheel carries them inside the package as ``bench/configs`` and ``bench/tasks`` (setuptools
    package-dir mapping, see pyproject.toml); a source checkout or an editable install keeps them
    at the top of the repository, next to ``bench/``.
    """
    if top not in RESOURCE_KINDS:
        raise ValueError(f"unknown resource folder {top!r}: expected one of {', '.join(RESOURCE_KINDS)}")
    installed = resources.files("bench") / top
    if installed.is_dir():
        return Path(str(installed))          # installed packages are plain folders
    return Path(__file__).resolve().parent.parent / top


def resource_files(kind: str, pattern: str = "*.yaml") -> dict[str, Path]:
    """File name -> path for ``kind`` (``configs``, ``configs/weights``, ``configs/figures``, ``tasks``):
    the shipped files, with the user config folder's files of the same relative folder on top
    (``$BENCH_CONFIG/configs/weights/x.yaml`` overrides the shipped ``configs/weights/x.yaml``)."""
    top, *rest = [part for part in kind.split("/") if part]
    found: dict[str, Path] = {}
    for base in (packaged_dir(top).joinpath(*rest), config_dir().joinpath(top, *rest)):
        if base.is_dir():
            for p in sorted(base.glob(pattern)):
                found[p.name] = p
    return found


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def load_suite(name: str = "suite") -> dict[str, list[str]]:
    files = resource_files("configs", f"{name}.yaml")
    if f"{name}.yaml" not in files:
        raise ValueError(f"no suite {name!r}: expected {name}.yaml in {packaged_dir('configs')} "
                         f"or in {config_dir() / 'configs'}")
    entry = files[f"{name}.yaml"]
    suite = read_yaml(entry) or {}
    for key in ("models", "datasets", "measures", "tasks"):
        if not isinstance(suite.get(key, []), list):
            raise ValueError(f"{entry}: `{key}` must be a list of names")
    return suite


# --- what to run, and the context every plug-in receives ---------------------------------------
def resolve_device(device: str) -> str:
    if device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


@dataclass
class RunContext:
    """Settings every plug-in factory receives, built once per command: plain data.

    Services that use it are functions of their own modules: ``bench.models.weights.resolver(ctx)``
    finds checkpoints, ``bench.offline.go_offline(ctx, reason)`` switches the run offline."""

    device: str = "cpu"
    offline: bool = False
    data_root: Path | None = None
    weights_dir: Path | None = None
    cache_dir: Path = field(default_factory=lambda: settings().cache_root)
    max_pixels: int | None = None
    notices: list[str] = field(default_factory=list)   # one-line notices for the run summary

    @classmethod
    def from_env(cls, device: str = "auto", offline: bool | None = None, data_root: Path | str | None = None,
                 weights_dir: Path | str | None = None) -> "RunContext":
        env = settings()
        return cls(device=resolve_device(device),
                   offline=env.offline if offline is None else bool(offline),
                   data_root=Path(data_root) if data_root else (env.data_root or default_user_data_dir()),
                   weights_dir=Path(weights_dir) if weights_dir else env.weights_dir,
                   cache_dir=env.cache_root, max_pixels=env.max_pixels)

    def as_dict(self) -> dict[str, Any]:
        return {"device": self.device, "offline": self.offline,
                "data_root": str(self.data_root) if self.data_root else None,
                "weights_dir": str(self.weights_dir) if self.weights_dir else None,
                "cache_dir": str(self.cache_dir), "max_pixels": self.max_pixels}


@dataclass
class RunConfig:
    """What a run selects (models × datasets × measures × tasks) and how; ``context`` is shared."""

    models: list[str]
    datasets: list[str]
    measures: list[str]
    tasks: list[str]
    out: Path = Path("results")
    context: RunContext = field(default_factory=RunContext)
    limit: int | None = None
    batch_size: int = 1
    fresh: bool = False
    shard: tuple[int, int] | None = None   # (index, count): every count-th image from index (Ray)
    include: tuple[str, ...] = ()          # plug-in folders (--include/BENCH_INCLUDE): Ray workers load them too

    def in_shard(self, position: int) -> bool:
        return self.shard is None or position % self.shard[1] == self.shard[0]

    def as_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k != "context"}
        d["out"] = str(self.out)
        d.update(self.context.as_dict())
        return d
