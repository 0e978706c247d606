"""What produced a column: the units table's row type, and the one task-unit key.

A *unit* is one thing computed per image: a measure (key = the measure name) or a downstream task
(key = ``<task name>#<8 hex>``, a hash of the task type, its parameters and its vision model's
weights). ``UnitInfo`` is written to the store when a run is planned and is all a report needs:
columns with direction, range and protocol, and for a task the type and parameters its scoring
code is rebuilt from. ``task_unit_key`` / ``split_unit`` are the only places the key is built
and parsed.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from bench.columns import ColumnInfo

CODE_VERSION = "bench " + __import__("bench").__version__


def task_unit_key(name: str, type_: str, params: dict[str, Any], weights_sha256: str | None = None) -> str:
    """Store key of a task unit. Changed settings (or weights) never reuse old predictions.
    Without weights sha256 the key is the one older stores used (name + hash of params and type)."""
    blob: dict[str, Any] = {"params": params, "type": type_}
    if weights_sha256:
        blob["weights_sha256"] = weights_sha256
    digest = hashlib.sha1(json.dumps(blob, sort_keys=True, default=str).encode()).hexdigest()[:8]
    return f"{name}#{digest}"


def split_unit(key: str) -> tuple[str, str | None]:
    """``"yolo_detect#0123abcd"`` -> ("yolo_detect", "0123abcd"); a measure key -> (key, None)."""
    name, _, digest = key.partition("#")
    return name, (digest or None)


def is_task_unit(key: str) -> bool:
    return split_unit(key)[1] is not None


@dataclass
class UnitInfo:
    """One row of the units table."""

    unit: str                                  # store key
    kind: str                                  # "measure" | "task"
    type: str = ""                             # measure name / registered task type
    params: dict[str, Any] = field(default_factory=dict)
    weights_sha256: str | None = None
    protocol: str = ""                         # for tasks: without the label source (see bindings)
    columns: list[ColumnInfo] = field(default_factory=list)
    code_version: str = CODE_VERSION

    @property
    def name(self) -> str:
        return split_unit(self.unit)[0]

    def row(self) -> tuple:
        return (self.unit, self.name, self.kind, self.type, json.dumps(self.params, sort_keys=True, default=str),
                self.weights_sha256, self.protocol, json.dumps([c.to_dict() for c in self.columns]),
                self.code_version)

    @classmethod
    def from_row(cls, row) -> "UnitInfo":
        unit, _name, kind, type_, params, sha, protocol, columns, code = row
        return cls(unit=unit, kind=kind, type=type_ or "", params=json.loads(params or "{}"), weights_sha256=sha,
                   protocol=protocol or "", columns=[ColumnInfo.from_dict(c) for c in json.loads(columns or "[]")],
                   code_version=code or "")


def measure_unit(name: str, measure) -> UnitInfo:
    info = measure.info
    params = info.protocol.as_dict() if hasattr(info.protocol, "as_dict") else {}
    return UnitInfo(unit=name, kind="measure", type=name, params=params, protocol=info.protocol_text(),
                    columns=[ColumnInfo.from_dict({**info.to_dict(), "name": name, "kind": "measure"})])


def task_weights_sha256(task) -> str | None:
    """The sha256 of a task's vision-model weights, where the task type exposes it (YOLO)."""
    weights = getattr(task, "weights", None)
    if callable(weights):
        try:
            w = weights()
            return w[2] if isinstance(w, tuple) and len(w) == 3 else None
        except Exception:
            return None
    return None


def task_unit(task) -> UnitInfo:
    """The unit of a built task (after ``ensure_ready``): key, type, params, columns."""
    sha = task_weights_sha256(task)
    cfg = task.config
    return UnitInfo(unit=task_unit_key(task.name, cfg.type, cfg.params, sha), kind="task", type=cfg.type,
                    params=dict(cfg.params), weights_sha256=sha, protocol=cfg.description,
                    columns=list(task.metrics))
