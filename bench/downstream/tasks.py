"""tasks/*.yaml -> TaskConfig -> DownstreamTask. The runner's entry points are here.

One flat YAML per task:
    name: yolo_detect            # defaults to the file stem; must be unique
    type: yolo_detect            # a registered task type (bench.downstream.TASK_TYPES); no code from configs
    label_source: auto           # gt | pseudo | none | auto (= the dataset's default)
    description: ...
    weights: yolo11n.pt          # every other key is a parameter of that type (or put them under params:)
    conf: 0.001
"""
from __future__ import annotations

from pathlib import Path

import yaml

from bench.downstream import TASK_TYPES
from bench.downstream.base import DownstreamTask, TaskConfig
from bench.downstream.instances import LABEL_SOURCES
from bench.downstream.labels import dataset_label_formats
from bench.downstream.params import TaskConfigError
from bench.registry import UnknownName

RESERVED = ("name", "type", "label_source", "description", "params")


def read_task_config(path: str | Path) -> TaskConfig:
    path = Path(path)
    try:
        with open(path) as f:
            data = yaml.safe_load(f)
    except yaml.YAMLError as e:
        raise TaskConfigError(f"{path}: not valid YAML ({e})") from e
    if not isinstance(data, dict):
        raise TaskConfigError(f"{path}: expected a mapping with at least 'type:', got {type(data).__name__}")
    if "type" not in data:
        raise TaskConfigError(f"{path}: missing 'type:' (one of {', '.join(TASK_TYPES.names())})")
    try:
        TASK_TYPES.check(str(data["type"]))
    except UnknownName as e:
        raise TaskConfigError(f"{path}: {e}") from e
    source = str(data.get("label_source", "auto"))
    if source not in (*LABEL_SOURCES, "auto"):
        raise TaskConfigError(f"{path}: label_source {source!r} must be one of {', '.join(LABEL_SOURCES)} or auto")
    params = {k: v for k, v in data.items() if k not in RESERVED}
    nested = data.get("params") or {}
    if not isinstance(nested, dict):
        raise TaskConfigError(f"{path}: 'params:' must be a mapping")
    clash = set(params) & set(nested)
    if clash:
        raise TaskConfigError(f"{path}: {sorted(clash)} given both at top level and under params:")
    return TaskConfig(name=str(data.get("name", path.stem)), type=str(data["type"]), label_source=source,
                      params={**params, **nested}, description=str(data.get("description", "")))


def load_task_configs(tasks_dir: str | Path | None = None) -> dict[str, TaskConfig]:
    """Every tasks/*.yaml (sorted by file name), keyed by task name."""
    from bench.config import resource_files

    if tasks_dir is not None:
        tasks_dir = Path(tasks_dir)
        if not tasks_dir.is_dir():
            raise TaskConfigError(f"{tasks_dir}: no tasks folder")
        paths = sorted(tasks_dir.glob("*.y*ml"))
    else:
        paths = list(resource_files("tasks", "*.y*ml").values())
    configs: dict[str, TaskConfig] = {}
    for path in paths:
        cfg = read_task_config(path)
        if cfg.name in configs:
            raise TaskConfigError(f"{path}: task name {cfg.name!r} already defined by another file in {tasks_dir}")
        configs[cfg.name] = cfg
    return configs


def build_task(name: str | TaskConfig, ctx=None, tasks_dir: str | Path | None = None) -> DownstreamTask:
    """A ready task; cheap (the vision model loads on the first predict). Parameter errors raise
    TaskConfigError; missing weights surface as TaskUnavailable from protocol()/predict()."""
    if isinstance(name, TaskConfig):
        config = name
    else:
        configs = load_task_configs(tasks_dir)
        if name not in configs:
            import difflib

            close = difflib.get_close_matches(name, configs, n=3, cutoff=0.5)
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            raise UnknownName(f"unknown task {name!r}.{hint} Defined in tasks/: {', '.join(configs)}.")
        config = configs[name]
    cls = TASK_TYPES.load(config.type)
    return cls(config, ctx)


def label_choice(config: TaskConfig, dataset, task=None) -> tuple[str, str]:
    """(label source, note) for a (task, dataset) pair. With ``task`` given, ``gt`` (asked for, or
    by ``auto`` on a dataset whose default is gt) is used only where the dataset carries a label
    format the task reads; otherwise pseudo-labels (or none without clean images), and the note
    says why, for the protocol."""
    has_clean = getattr(dataset, "has_clean", True)
    source = config.label_source if config.label_source != "auto" else getattr(dataset, "label_source", "pseudo")
    note = ""
    if task is not None and (config.label_source == "auto" or source == "gt"):
        offered = dataset_label_formats(dataset)
        if offered & set(task.label_formats()):
            source = "gt"
        elif source == "gt" or offered:
            source = "pseudo"
            note = (f"the dataset's labels ({', '.join(sorted(offered)) or 'none'}) do not fit this task (it reads "
                    f"{', '.join(task.label_formats()) or 'no label format'}), so pseudo-labels")
    if source == "pseudo" and not has_clean:
        source = "none"
        if note:
            note += "; no clean images for pseudo-labels either, so label source none"
    return source, note


def label_source_for(config: TaskConfig, dataset, task=None) -> str:
    """The label source a (task, dataset) pair uses: the task's own unless 'auto', then the
    dataset's default (``Dataset.label_source``), but gt only where the dataset's label format fits
    the task (when ``task`` is given); 'pseudo' on a dataset without clean images becomes 'none'."""
    return label_choice(config, dataset, task)[0]
