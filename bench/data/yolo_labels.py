"""YOLO-format label files: one object per line, normalised to the image (0..1).

    cls cx cy w h                 a box (centre, width, height)
    cls x1 y1 x2 y2 x3 y3 ...     a polygon (YOLO-seg), at least 3 points

A malformed file (a line with the wrong number of columns, a coordinate outside [0, 1], a class
the dataset does not name) raises LabelFileError (a BadInput: the run records it for that image and
goes on) naming the file and the line. By YOLO's rule an image without a label file has no objects.

This module reads text only (no pixels, no model): bench.downstream.labels turns the normalised rows
into pixel boxes and masks.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from bench.errors import BadInput

# COCO label files are written with 6 decimals; a value a rounding step outside the image is
# still inside it (never more: 1.01 is a wrong file, not a rounding error)
TOLERANCE = 1e-6


class LabelFileError(BadInput):
    """A YOLO label file that cannot be used; the message is ``<file>:<line>: what is wrong; what to do``."""


@dataclass(frozen=True)
class YoloObject:
    cls: int                       # after ``class_map``, when one is given
    values: tuple[float, ...]      # 4 (box) or an even number >= 6 (polygon), normalised

    @property
    def is_polygon(self) -> bool:
        return len(self.values) != 4


def read_yolo_labels(path: str | Path, num_classes: int | None = None,
                     class_map: Mapping[int, int] | None = None) -> list[YoloObject]:
    """The objects of one label file; [] for a missing file (no objects, YOLO's rule).

    ``num_classes``: classes must lie in 0..num_classes-1. ``class_map``: the file's class ids are
    translated through it (e.g. COCO panoptic ids -> the 80 contiguous ids); an id it lacks is unknown.
    """
    path = Path(path)
    if not path.exists():
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise LabelFileError(f"{path}: cannot read the label file ({e}); it must be UTF-8 text") from e
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            out.append(_parse_line(path, n, line, num_classes, class_map))
    return out


def _parse_line(path: Path, n: int, line: str, num_classes: int | None,
                class_map: Mapping[int, int] | None) -> YoloObject:
    where = f"{path}:{n}"
    parts = line.split()
    count = len(parts) - 1
    if not (count == 4 or (count >= 6 and count % 2 == 0)):
        raise LabelFileError(f"{where}: {len(parts)} columns; a YOLO line is 'cls cx cy w h' (5 columns) or "
                             f"'cls x1 y1 x2 y2 x3 y3 ...' (an odd number >= 7): {line.strip()!r}")
    try:
        raw_cls = int(parts[0])
    except ValueError:
        raise LabelFileError(f"{where}: class {parts[0]!r} is not a whole number: {line.strip()!r}") from None
    try:
        values = tuple(float(v) for v in parts[1:])
    except ValueError as e:
        raise LabelFileError(f"{where}: not a number ({e}): {line.strip()!r}") from None
    bad = [v for v in values if not (math.isfinite(v) and -TOLERANCE <= v <= 1 + TOLERANCE)]
    if bad:
        raise LabelFileError(f"{where}: coordinate {bad[0]:g} outside [0, 1] (YOLO coordinates are "
                             f"normalised: divided by the image width and height): {line.strip()!r}")
    if class_map is not None:
        if raw_cls not in class_map:
            raise LabelFileError(f"{where}: unknown class {raw_cls} (not one of the dataset's "
                                 f"{len(class_map)} category ids): {line.strip()!r}")
        cls = class_map[raw_cls]
    else:
        cls = raw_cls
        if cls < 0 or (num_classes is not None and cls >= num_classes):
            known = f"0..{num_classes - 1}" if num_classes is not None else "0 or more"
            raise LabelFileError(f"{where}: unknown class {cls} (this dataset's classes are {known}): "
                                 f"{line.strip()!r}")
    values = tuple(min(1.0, max(0.0, v)) for v in values)
    return YoloObject(cls, values)
