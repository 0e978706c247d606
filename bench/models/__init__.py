"""Model registry: name -> "module:attr" of a spec with ``build(variant, ctx, dataset) -> Derainer``.

A model argument is ``name``, ``name@weights`` (an id of its weights YAML or a checkpoint path) or
``precomputed:<dir>``; ``split_model_arg`` is the one parser of that syntax. Users add models
without editing this table through ``bench.plugins.register_model`` (``bench run --include DIR``).
"""
from __future__ import annotations

from typing import Any

from bench.registry import Registry


class ModelRegistry(Registry):
    """The built-in table plus the models plug-ins register (``bench.plugins``), which may not take a
    built-in name."""

    def __init__(self, kind: str, table: dict[str, str]):
        super().__init__(kind, table)
        self.builtin = frozenset(table)

    def add_user(self, name: str, spec: Any, origin: str) -> None:
        if name in self.builtin:
            raise ValueError(f"{name!r} is a built-in model")
        self._table[name] = origin
        self._loaded[name] = spec

    def remove_user(self, name: str) -> None:
        if name not in self.builtin:
            self._table.pop(name, None)
            self._loaded.pop(name, None)

    def check(self, name: str) -> str:
        from bench.registry import UnknownName

        try:
            return super().check(name)
        except UnknownName as e:
            raise UnknownName(f"{e} A model of your own: load its file with --include DIR "
                              "(docs/your_model.md).") from None

    def user_spec(self, name: str) -> Any | None:
        return self._loaded.get(name) if name in self._table and name not in self.builtin else None


MODELS = ModelRegistry("model", {
    "rainy": "bench.models.baselines:RAINY",
    "clean": "bench.models.baselines:CLEAN",
    "prenet": "bench.models.prenet:SPEC",
    "prenet_r": "bench.models.prenet:PRENET_R_SPEC",
    "prn": "bench.models.prenet:PRN_SPEC",
    "prn_r": "bench.models.prenet:PRN_R_SPEC",
    "sapnet": "bench.models.sapnet:SPEC",
    "nlcl": "bench.models.nlcl:SPEC",
    "rescan": "bench.models.rescan:SPEC",
    "spanet": "bench.models.spanet:SPEC",
    "jorder_e": "bench.models.jorder_e:SPEC",
    "dpenet": "bench.models.dpenet:SPEC",
    "rain_over_me": "bench.models.rain_over_me:SPEC",
    "vrgnet": "bench.models.vrgnet:SPEC",
    "brn": "bench.models.brn:SPEC",
    "drn": "bench.models.drn:SPEC",
    "drdnet": "bench.models.drdnet:DRDNET",
    "semi-drdnet": "bench.models.drdnet:SEMI_DRDNET",
    "rdmc": "bench.models.rdmc:SPEC",
    "rdmc-crop": "bench.models.rdmc:SPEC_OFFICIAL_CROP",
    "dfn": "bench.models.dfn:SPEC",
    "aidnet": "bench.models.aidnet:SPEC",
    "nledn": "bench.models.nledn:SPEC",
    "dgnlnet": "bench.models.dgnlnet:SPEC",
    "precomputed": "bench.models.precomputed:SPEC",
})


def split_model_arg(arg: str) -> tuple[str, str | None]:
    """'precomputed:<dir>' or 'precomputed@<dir>' -> ('precomputed', '<dir>'); 'name@v' -> (name, v)."""
    if arg.startswith("precomputed:"):
        return "precomputed", arg.split(":", 1)[1]
    name, _, variant = arg.partition("@")
    return name, variant or None
