"""Task parameters as dataclasses: a YAML typo is an error that names the file and the closest key."""
from __future__ import annotations

import dataclasses
import difflib
import typing
from typing import Any


class TaskConfigError(ValueError):
    """A tasks/*.yaml file that does not describe a valid task; says which file and which key."""


def parse_params(cls, params: dict[str, Any] | None, where: str):
    """Build the params dataclass ``cls`` from a YAML mapping, checking names and basic types."""
    params = dict(params or {})
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    for key, value in params.items():
        if key not in fields:
            close = difflib.get_close_matches(key, fields, n=2, cutoff=0.6)
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            raise TaskConfigError(f"{where}: unknown parameter {key!r}.{hint} Known: {', '.join(fields)}.")
        params[key] = _check_type(value, hints[key], f"{where}: parameter {key!r}")
    return cls(**params)


def _check_type(value, hint, what):
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        if value is None and type(None) in args:
            return None
        hint = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint in (str, bool) and isinstance(value, hint):
        return value
    if origin in (tuple, list) and isinstance(value, (list, tuple)):
        inner = args[0] if args else Any
        return tuple(_check_type(v, inner, what) for v in value)
    if hint is Any:
        return value
    raise TaskConfigError(f"{what}: expected {getattr(hint, '__name__', hint)}, got {value!r}")

