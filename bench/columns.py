"""The one description of a result column: measures, task metrics and cost columns alike.

``ColumnInfo`` keeps the fields a measure declares (name, FR/NR, direction, range, protocol, unit,
description) plus ``kind``. It is written to the store's units table when a run is planned and read
back from there by the reports (``to_dict`` / ``from_dict``), so a report never needs the code or
the YAML that produced a number.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

KINDS = ("measure", "task", "cost")


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    reference: str = "FR"                    # "FR" (needs ground truth) | "NR" | "" (task metrics, costs)
    higher_is_better: bool = True
    value_range: tuple[float, float] = (0.0, 1.0)
    protocol: Any = None                     # a measures.base.Protocol, or its text once stored
    unit: str = ""
    description: str = ""
    kind: str = "measure"                    # "measure" | "task" | "cost"

    @property
    def arrow(self) -> str:
        return "↑" if self.higher_is_better else "↓"

    def protocol_text(self) -> str:
        """The protocol as one line: a Protocol's summary, stored text, else the description."""
        p = self.protocol
        if p is None or p == "":
            return self.description
        return p.summary() if hasattr(p, "summary") else str(p)

    def to_dict(self) -> dict[str, Any]:
        lo, hi = self.value_range
        return {"name": self.name, "reference": self.reference, "higher_is_better": bool(self.higher_is_better),
                "value_range": [_num(lo), _num(hi)], "protocol": self.protocol_text(), "unit": self.unit,
                "description": self.description, "kind": self.kind}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ColumnInfo":
        lo, hi = d.get("value_range") or (None, None)
        return cls(name=d["name"], reference=d.get("reference", ""),
                   higher_is_better=bool(d.get("higher_is_better", True)),
                   value_range=(_unnum(lo, -math.inf), _unnum(hi, math.inf)), protocol=d.get("protocol") or "",
                   unit=d.get("unit", ""), description=d.get("description", ""), kind=d.get("kind", "measure"))

    def with_protocol(self, text: str) -> "ColumnInfo":
        from dataclasses import replace

        return replace(self, protocol=text)


def _num(v: float) -> float | None:
    return None if v is None or not math.isfinite(float(v)) else float(v)


def _unnum(v, default: float) -> float:
    return default if v is None else float(v)
