"""`precomputed:<dir>` — score a folder of already-derained images, as papers release them.

The folder is paired with the dataset by sample id. For a sample the candidate file names are, in
order: an explicit ``pattern`` (``"{id}_derained.png"``), then the id itself, the rainy file's
stem and the clean file's stem, and for numeric ids their zero-padded forms (3, 4 digits) — each
with any image suffix. If none exists and the id is numeric, a file whose stem ends in that number
(``rain-001_out.png`` ↔ id ``1``) is used when exactly one file does. A missing file raises
``PrecomputedMissing`` naming the id, the folder and every name tried.

Like every derainer it receives a ``Batch``; it reads the files of ``batch.samples``.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import torch

from bench.errors import Unavailable
from bench.imageio import IMAGE_SUFFIXES, read_rgb, to_tensor
from bench.models.base import Batch, Derainer, IOPolicy


class PrecomputedMissing(Unavailable, FileNotFoundError):
    """No output file for a sample id; the message names the id, the folder and the names tried."""


class PrecomputedDerainer(Derainer):
    name = "precomputed"
    cache_output = False         # the files already are the outputs
    io = IOPolicy(quantise="round")  # files hold uint8 values already; rounding leaves them unchanged

    def __init__(self, folder: str | Path, pattern: str | None = None, label: str | None = None):
        self.folder = Path(folder).expanduser()
        if not self.folder.is_dir():
            raise PrecomputedMissing(f"precomputed outputs: folder {self.folder} does not exist; "
                                     "pass precomputed:<folder with one derained image per test image>")
        self.pattern = pattern
        self.variant = label or self.folder.name
        self.weights_path = str(self.folder)
        files = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not files:
            raise PrecomputedMissing(f"precomputed outputs: no images ({', '.join(IMAGE_SUFFIXES)}) in {self.folder}")
        self._by_name = {p.name: p for p in files}
        self._by_stem: dict[str, list[Path]] = {}
        self._by_number: dict[int, list[Path]] = {}
        for p in files:
            self._by_stem.setdefault(p.stem, []).append(p)
            m = re.search(r"(\d+)\D*$", p.stem)
            if m:
                self._by_number.setdefault(int(m.group(1)), []).append(p)
        # Identity of the folder's content: names and sizes (cheap; enough to notice a changed set).
        h = hashlib.sha256()
        for p in files:
            h.update(f"{p.name}:{p.stat().st_size}\n".encode())
        self.weights_sha256 = h.hexdigest()

    def candidates(self, sample_id: str, rainy: Path | None = None, clean: Path | None = None) -> list[str]:
        """Stems (or full names, from ``pattern``) tried for one sample, in order."""
        names: list[str] = []
        if self.pattern:
            names.append(self.pattern.format(id=sample_id))
        stems = [sample_id] + [p.stem for p in (rainy, clean) if p is not None]
        if sample_id.isdigit():
            stems += [sample_id.zfill(3), sample_id.zfill(4), str(int(sample_id))]
        for s in stems:
            if s not in names:
                names.append(s)
        return names

    def path_for(self, sample_id: str, rainy: Path | None = None, clean: Path | None = None) -> Path:
        tried = self.candidates(sample_id, rainy, clean)
        for name in tried:
            if name in self._by_name:
                return self._by_name[name]
            hits = self._by_stem.get(name, [])
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                raise PrecomputedMissing(f"precomputed outputs: id {sample_id!r} is ambiguous in {self.folder}: "
                                         f"{', '.join(p.name for p in hits)}; keep one file per image")
        if sample_id.isdigit():
            hits = self._by_number.get(int(sample_id), [])
            if len(hits) == 1:
                return hits[0]
        raise PrecomputedMissing(
            f"precomputed outputs: no file for sample id {sample_id!r} in {self.folder}; tried "
            f"{', '.join(tried)} (with suffixes {'/'.join(IMAGE_SUFFIXES)})"
            + (" and any file whose name ends in that number" if sample_id.isdigit() else "")
            + "; name the files by sample id or pass a pattern such as precomputed:<dir> with "
              "pattern '{id}.png'")

    def output_path(self, sample: Any) -> Path:
        """The file for a ``Sample`` (or a bare id string)."""
        if isinstance(sample, str):
            return self.path_for(sample)
        return self.path_for(sample.id, getattr(sample, "rainy", None), getattr(sample, "clean", None))

    def output_for(self, sample: Any) -> torch.Tensor:
        """Float 1×3×H×W in [0, 1] for a ``Sample`` (or a bare id string)."""
        return to_tensor(read_rgb(self.output_path(sample)))

    def derain_ids(self, samples: Iterable[Any], rainy: torch.Tensor | None = None) -> torch.Tensor:
        """Batch form for the runner: Samples (or id strings) in batch order; ``rainy`` (N×3×H×W)
        only checks that each output keeps its input's size."""
        outs = []
        for s in samples:
            y = self.output_for(s)
            if rainy is not None and y.shape[-2:] != rainy.shape[-2:]:
                raise ValueError(f"precomputed output {self.output_path(s)} is {y.shape[-1]}x{y.shape[-2]} but the "
                                 f"rainy image is {rainy.shape[-1]}x{rainy.shape[-2]}; outputs must keep the input size")
            outs.append(y)
        return torch.cat(outs)

    def derain(self, batch: Batch) -> torch.Tensor:
        if any(s is None for s in batch.samples):
            raise TypeError("precomputed outputs are looked up by sample id: the batch must carry its samples")
        return self.derain_ids(batch.samples, batch.rainy)

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d.update(folder=str(self.folder), pattern=self.pattern, files=len(self._by_name), params=None)
        return d


@dataclass(frozen=True)
class PrecomputedSpec:
    """Registry entry: ``precomputed@<dir>`` (runner syntax) or ``precomputed:<dir>``."""

    name: str = "precomputed"
    title: str = "Precomputed"
    description: str = "Precomputed outputs (a folder of derained images paired by id)"
    io: IOPolicy = PrecomputedDerainer.io
    weights: tuple[str, ...] = ()
    published_weights: bool = True

    def build(self, variant=None, ctx=None, dataset=None) -> PrecomputedDerainer:
        if not variant:
            raise PrecomputedMissing("precomputed needs a folder: precomputed:<dir> (or precomputed@<dir>)")
        folder, _, pattern = str(variant).partition("?pattern=")
        derainer = PrecomputedDerainer(folder, pattern or None)
        derainer.title = self.title
        return derainer


SPEC = PrecomputedSpec()
