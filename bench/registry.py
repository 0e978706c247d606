"""A small lazy registry: name -> "module:attr", imported only when asked for.

Each component family (models, datasets, measures, task types, figures) keeps one table in its
package ``__init__``; adding a member is one file plus one line in that table.
"""
from __future__ import annotations

import difflib
import importlib
from typing import Any


class UnknownName(KeyError):
    """A name that is not registered; the message carries the closest matches."""

    def __str__(self) -> str:  # KeyError quotes its argument; we want the plain sentence
        return str(self.args[0])


class Registry:
    def __init__(self, kind: str, table: dict[str, str]):
        self.kind = kind
        self._table = dict(table)
        self._loaded: dict[str, Any] = {}

    def names(self) -> list[str]:
        return list(self._table)

    def __contains__(self, name: str) -> bool:
        return name in self._table

    def check(self, name: str) -> str:
        """Return ``name`` if registered, else raise with a did-you-mean hint."""
        if name in self._table:
            return name
        close = difflib.get_close_matches(name, self._table, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise UnknownName(
            f"unknown {self.kind} {name!r}.{hint} Registered: {', '.join(self._table)}."
        )

    def load(self, name: str) -> Any:
        name = self.check(name)
        if name not in self._loaded:
            module_name, _, attr = self._table[name].partition(":")
            self._loaded[name] = getattr(importlib.import_module(module_name), attr)
        return self._loaded[name]

    def target(self, name: str) -> str:
        return self._table[self.check(name)]
