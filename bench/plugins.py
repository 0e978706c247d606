"""Your derainer without editing the package: ``register_model`` and the loading of plug-ins.

A plug-in is a ``*.py`` file in a folder the user names (``bench run --include DIR``, the
BENCH_INCLUDE setting) or a module an installed package declares in the entry-point group
``derain_bench.models``. Importing it runs its ``register_model`` calls, which add models to the
same registry as the built-in ones (``bench.models.MODELS``), with the same contract: a network
builder, its I/O policy and optional weights (path or URL, sha256). User code runs from nowhere
else (never from configs).

A user model's identity in the store carries the sha256 of the plug-in file (its code version) and
of its weights, so editing either never reuses old outputs; the report labels its rows "user model"
with that file hash.

Usage::

    from bench.plugins import IOPolicy, Weights, register_model

    @register_model("mynet", io=IOPolicy(size_policy="pad", multiple=4), weights=Weights("mynet.pth"))
    class MyNet(torch.nn.Module): ...
"""
from __future__ import annotations

import importlib.util
import inspect
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from bench.hashing import sha256_file
from bench.models.base import IOPolicy

__all__ = ["ENTRY_POINT_GROUP", "IOPolicy", "PluginError", "UserModelSpec", "Weights", "include_dirs",
           "load_plugins", "register_model"]

ENTRY_POINT_GROUP = "derain_bench.models"
USER_MODEL = "user model"      # the provenance source the report prints for these rows
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")   # no '@' ',' ':' (the --models syntax) nor spaces


class PluginError(Exception):
    """A plug-in that cannot be used (fails to import, bad registration, a name clash): a usage
    error (exit 2). The message names the file or entry point and what to change."""


@dataclass(frozen=True)
class Weights:
    """A user model's checkpoint: ``path`` (relative paths are relative to the plug-in file's folder)
    and/or ``url`` (downloaded into the cache when ``path`` is not there), and its ``sha256``
    (checked when given). Loaded as a plain state_dict with ``weights_only=True``."""

    path: str | None = None
    url: str | None = None
    sha256: str | None = None
    strip_prefix: str | None = "module."

    def __post_init__(self):
        if not self.path and not self.url:
            raise PluginError("Weights needs a path or a url")


@dataclass(frozen=True)
class UserModelSpec:
    """A registry entry made by ``register_model``; ``build`` is the built-in ``ModelSpec`` contract."""

    name: str
    title: str
    build_network: Callable[[], Any]
    io: IOPolicy
    cards: dict[str, Weights]              # weights id -> card; the first is the default
    origin: Path                           # the plug-in file (or the builder's source file)
    origin_sha256: str
    entry_point: str | None = None         # "name = module:attr (package)" for entry-point plug-ins
    notes: str = ""

    @property
    def published_weights(self) -> bool:     # `bench ls`: without cards, name@/path/to/checkpoint.pth
        return bool(self.cards)

    @property
    def weights(self) -> tuple[str, ...]:
        return tuple(self.cards)

    @property
    def code_version(self) -> str:
        return f"user:{self.origin_sha256}"

    def provenance(self) -> dict[str, Any]:
        return {"source": USER_MODEL, "title": self.title, "plugin": self.origin.name,
                "plugin_path": str(self.origin), "plugin_sha256": self.origin_sha256,
                **({"entry_point": self.entry_point} if self.entry_point else {})}

    def locate(self, variant: str | None, ctx) -> tuple[str | None, Path | None, Weights | None]:
        """(weights id, file, card) for ``variant`` (a registered id or a checkpoint path), else the
        default card; (None, None, None) when the plug-in registers no weights and none were named."""
        from bench.models.weights import WeightsMissing

        if variant is None:
            if not self.cards:
                return None, None, None
            variant = next(iter(self.cards))
        if variant in self.cards:
            card = self.cards[variant]
            return variant, self._fetch(variant, card, ctx), card
        explicit = Path(variant).expanduser()
        if explicit.is_file():
            return explicit.stem, explicit, Weights(path=str(explicit))
        raise WeightsMissing(f"{self.name} (user model, {self.origin}): {variant!r} is neither a weights id of the "
                             f"plug-in ({', '.join(self.cards) or 'none registered'}) nor an existing file; "
                             f"pass {self.name}@/path/to/checkpoint.pth")

    def _fetch(self, wid: str, card: Weights, ctx) -> Path:
        from bench.errors import ChecksumMismatch
        from bench.models.weights import WeightsMismatch, WeightsMissing
        from bench.net import DownloadFailed, download

        local = Path(card.path).expanduser() if card.path else None
        if local is not None and not local.is_absolute():
            local = self.origin.parent / local
        cached = (ctx.cache_dir / "weights" / "user" / self.name / Path(card.url.split("?")[0]).name
                  if card.url else None)
        for path in (local, cached):
            if path is not None and path.is_file():
                self._verify(path, card, ctx)
                return path
        if card.url and not ctx.offline:
            try:
                download(card.url, cached, card.sha256, ctx=ctx)
            except ChecksumMismatch as e:
                raise WeightsMismatch(str(e)) from e
            except DownloadFailed as e:
                raise WeightsMissing(f"{self.name}@{wid}: {e}") from e
            return cached
        where = " or ".join(str(p) for p in (local, cached) if p is not None)
        how = f"download {card.url} and place it at {cached}" if card.url else f"place the checkpoint at {local}"
        raise WeightsMissing(f"{self.name}@{wid} (user model, {self.origin}): checkpoint not found at {where}"
                             f"{' (offline mode)' if card.url else ''}; {how}"
                             + (f" (sha256 {card.sha256})" if card.sha256 else ""))

    @staticmethod
    def _verify(path: Path, card: Weights, ctx) -> None:
        from bench.models.weights import WeightsMismatch, resolver

        if card.sha256 and resolver(ctx).sha256(path) != card.sha256.lower():
            raise WeightsMismatch(f"{path}: sha256 {resolver(ctx).sha256(path)} does not match the plug-in's "
                                  f"{card.sha256}; the file is a different checkpoint, or the plug-in's hash is stale")

    def build(self, variant: str | None, ctx, dataset=None):
        """The derainer with weights ``variant`` (an id of the plug-in, or a checkpoint path), else
        the plug-in's default weights; a network with parameters and no weights is not run."""
        from torch import nn

        from bench.models.base import NetworkDerainer
        from bench.models.weights import WeightsMissing, load_state_dict, resolver

        wid, path, card = self.locate(variant, ctx)
        net = self.build_network()
        if not isinstance(net, nn.Module):
            raise TypeError(f"{self.origin}: the builder of user model {self.name!r} returned "
                            f"{type(net).__name__}, not a torch.nn.Module")
        if path is not None:
            net.load_state_dict(load_state_dict(path, strip_prefix=card.strip_prefix), strict=True)
        elif any(p.numel() for p in net.parameters()):
            raise WeightsMissing(f"{self.name} (user model, {self.origin}): the network has parameters but no "
                                 f"weights; pass {self.name}@/path/to/checkpoint.pth or register "
                                 "weights=Weights(path=..., sha256=...)")
        derainer = NetworkDerainer(self.name, net, self.io, ctx.device, variant=wid,
                                   weights_path=str(path) if path else None,
                                   weights_sha256=resolver(ctx).sha256(path) if path else None,
                                   max_pixels=ctx.max_pixels)
        derainer.code_version = self.code_version      # the plug-in file's hash: edited code, new identity
        derainer.provenance = self.provenance()
        return derainer


# --- registration ------------------------------------------------------------------------------
_loading: list[tuple[Path, str, str | None]] = []   # (file, sha256, entry point) being imported now
_by_source: dict[str, list[str]] = {}                # plug-in file or entry point -> names it registered
_loaded_sources: set[str] = set()


def register_model(builder: Callable | str | None = None, *, name: str | None = None, io: IOPolicy = IOPolicy(),
                   weights: Weights | str | dict[str, Weights | str] | None = None, title: str | None = None,
                   notes: str = ""):
    """Register a derainer: ``builder()`` returns a ``torch.nn.Module`` taking and returning N×3×H×W
    tensors as ``io`` (an ``IOPolicy``) says. Use as ``@register_model``, ``@register_model("name", ...)``
    or ``register_model(builder, name="name", ...)``; returns the builder unchanged.

    ``weights``: a ``Weights`` card (or a path string), or ``{id: card}`` for several (the first is the
    default; ``name@id`` picks one). Without weights, ``name@/path/to/checkpoint.pth`` must name one,
    unless the network has no parameters."""
    if isinstance(builder, str):
        builder, name = None, builder

    def register(fn: Callable) -> Callable:
        _add(_make_spec(fn, name or getattr(fn, "__name__", ""), io, weights, title, notes))
        return fn

    return register(builder) if builder is not None else register


def _make_spec(fn, name, io, weights, title, notes) -> UserModelSpec:
    if _loading:
        origin, sha, entry_point = _loading[-1]
    else:          # imported by the user's own code: the builder's source file identifies it
        source = inspect.getsourcefile(fn) if callable(fn) else None
        if not source:
            raise PluginError(f"register_model({name!r}): cannot find the source file of {fn!r}")
        origin, sha, entry_point = Path(source).resolve(), sha256_file(source), None
    where = entry_point or str(origin)
    if not callable(fn):
        raise PluginError(f"{where}: register_model needs a callable that builds the network, got {fn!r}")
    if not isinstance(name, str) or not _NAME.match(name):
        raise PluginError(f"{where}: model name {name!r} must be letters, digits, '_', '-' or '.' "
                          "(no '@', ',', ':' or spaces: they are --models syntax)")
    if not isinstance(io, IOPolicy):
        raise PluginError(f"{where}: io= for {name!r} must be an IOPolicy, got {type(io).__name__}")
    if weights is None:
        cards = {}
    elif isinstance(weights, dict):
        cards = {str(k): (w if isinstance(w, Weights) else Weights(path=str(w))) for k, w in weights.items()}
    else:
        card = weights if isinstance(weights, Weights) else Weights(path=str(weights))
        cards = {Path(card.path or card.url.split("?")[0]).stem: card}
    return UserModelSpec(name=name, title=title or name, build_network=fn,
                         io=io, cards=cards, origin=origin, origin_sha256=sha, entry_point=entry_point,
                         notes=notes)


def _add(spec: UserModelSpec) -> None:
    from bench.models import MODELS

    where = spec.entry_point or str(spec.origin)
    if spec.name in MODELS.builtin:
        raise PluginError(f"{where}: registers model {spec.name!r}, which is a built-in model "
                          f"({MODELS.target(spec.name)}); give yours another name")
    previous = MODELS.user_spec(spec.name)
    if previous is not None and (previous.origin, previous.entry_point) != (spec.origin, spec.entry_point):
        raise PluginError(f"{where}: registers model {spec.name!r}, already registered by "
                          f"{previous.entry_point or previous.origin}; give one of them another name")
    MODELS.add_user(spec.name, spec, f"{where} (user model)")
    _by_source.setdefault(where, []).append(spec.name)


# --- loading -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoadedPlugin:
    source: str            # the file, or "entry point NAME = VALUE (package)"
    models: tuple[str, ...]


def include_dirs(flags: Iterable[str] | None = None) -> list[str]:
    """BENCH_INCLUDE's folders, then those of --include, without repeats (plain strings: they travel
    to Ray workers as data)."""
    from bench.config import settings

    seen: list[str] = []
    for d in [*map(str, settings().include), *(flags or [])]:
        d = str(Path(d).expanduser().resolve())
        if d not in seen:
            seen.append(d)
    return seen


def load_for_command(flags: Iterable[str] | None) -> tuple[list[str], list[LoadedPlugin]]:
    """For ``bench run``/``bench ls``: the include folders and what they (and entry points) registered;
    a plug-in that cannot be used is a usage error (exit 2)."""
    from bench.cli import UsageError

    dirs = include_dirs(flags)
    try:
        return dirs, load_plugins(dirs)
    except PluginError as e:
        raise UsageError(str(e)) from e


def load_plugins(include: Iterable[str | Path] = (), entry_points: bool = True) -> list[LoadedPlugin]:
    """Import every ``*.py`` directly in each folder of ``include`` (name order; a ``.py`` file may be
    named itself; names starting with '_' are skipped), then the ``derain_bench.models`` entry points.
    Each source is imported once per process. Raises PluginError naming the file and the exception."""
    loaded = []
    for folder in include:
        for path in _plugin_files(Path(folder).expanduser()):
            result = _load_file(path)
            if result is not None:
                loaded.append(result)
    if entry_points:
        loaded += _load_entry_points()
    return loaded


def _plugin_files(folder: Path) -> list[Path]:
    if folder.is_file() and folder.suffix == ".py":
        return [folder.resolve()]
    if not folder.is_dir():
        raise PluginError(f"plug-in folder {folder} (--include or BENCH_INCLUDE): no such folder; "
                          "name a folder of *.py plug-in files")
    files = sorted(p.resolve() for p in folder.glob("*.py") if not p.name.startswith(("_", ".")))
    if not files:
        raise PluginError(f"plug-in folder {folder} (--include or BENCH_INCLUDE): no *.py files in it")
    return files


def _load_file(path: Path) -> LoadedPlugin | None:
    if str(path) in _loaded_sources:
        return None
    sha = sha256_file(path)
    module_name = f"bench_user_plugins.{re.sub(r'[^0-9A-Za-z_]', '_', path.stem)}_{sha[:12]}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module      # dataclasses, pickling and inspect look modules up here
    _run(lambda: spec.loader.exec_module(module), (path, sha, None), str(path), f"plug-in {path}",
         lambda: sys.modules.pop(module_name, None))
    return LoadedPlugin(str(path), tuple(_by_source.get(str(path), ())))


def _load_entry_points() -> list[LoadedPlugin]:
    from importlib.metadata import entry_points

    loaded = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        package = getattr(getattr(ep, "dist", None), "name", None) or "?"
        where = f"entry point {ep.name} = {ep.value} ({package})"
        if where in _loaded_sources:
            continue
        module_file = _module_file(ep.module)
        sha = sha256_file(module_file) if module_file else ""
        _run(ep.load, (Path(module_file or ep.module), sha, where), where, where)
        loaded.append(LoadedPlugin(where, tuple(_by_source.get(where, ()))))
    return loaded


def _module_file(module: str) -> str | None:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec is not None and spec.origin and spec.origin.endswith(".py") else None


def _run(load: Callable[[], Any], context: tuple, key: str, label: str, undo: Callable[[], Any] = lambda: None) -> None:
    """Import one plug-in; on any failure take back what it registered and raise PluginError."""
    from bench.models import MODELS

    _loading.append(context)
    try:
        load()
    except PluginError:
        _forget(key, MODELS)
        undo()
        raise
    except (Exception, SystemExit) as e:     # the user's code may raise anything, even sys.exit
        _forget(key, MODELS)
        undo()
        raise PluginError(f"{label} failed to import: {e.__class__.__name__}: {e}") from e
    finally:
        _loading.pop()
    _loaded_sources.add(key)


def _forget(key: str, registry) -> None:
    for name in _by_source.pop(key, []):
        registry.remove_user(name)
