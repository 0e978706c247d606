"""Training pairs: a paired folder / registered dataset, or a synthesised BSDS500 set.

``--data`` accepts
- ``bsds500-heavy`` / ``bsds500-light``: `bench data synth`'s calibrated preset rendered on all 500
  BSDS500 photographs (``<data root>/bsds500/{train,val,test}``), built once under
  ``<cache>/datasets/train-bsds500-<preset>-s<seed>`` (ids ``<split>_<photo id>``);
- ``folder:<path>``, a plain path or a registered dataset name with ground truth (any layout the
  benchmark recognises: rain/+norain/, input/+target/, ...).

Sampling is a pure function of (seed, step): the images, crop positions and flips of step s come
from a generator seeded with (seed, s), so a resumed run draws exactly what an uninterrupted one
would. A held-out validation slice (ids chosen by hash, never trained on) gives validation PSNR-Y.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from bench.hashing import sha256_file

SYNTH_SETS = {"bsds500-heavy": "heavy", "bsds500-light": "light"}


@dataclass
class Pair:
    id: str
    rainy: Path
    clean: Path


@dataclass
class TrainingSet:
    name: str
    root: Path
    pairs: list[Pair]
    notes: list[str] = field(default_factory=list)


def synth_bsds500(preset: str, ctx, seed: int = 0) -> Path:
    from bench.data.synth import SYNTH_VERSION, SourceImage, preset as get_preset, write_rainy_set

    src = Path(ctx.data_root or "") / "bsds500"
    if not (src / "train").is_dir():
        raise FileNotFoundError(f"bsds500-{preset}: BSDS500 not found at {src} ({{train,val,test}}/<id>.jpg); "
                                f"set --data-root / $BENCH_DATA to the folder that holds bsds500/")
    out = Path(ctx.cache_dir) / "datasets" / f"train-bsds500-{preset}-s{seed}-v{SYNTH_VERSION}"
    if not (out / "synth.json").is_file():
        items = [SourceImage(f"{split}_{p.stem}", p) for split in ("train", "val", "test")
                 for p in sorted((src / split).glob("*.jpg"))]
        print(f"rendering {preset} rain on {len(items)} BSDS500 photos into {out} (once)", flush=True)
        write_rainy_set(items, out, get_preset(preset), seed, None, str(src))
    return out


def load_training_set(spec: str, ctx, seed: int = 0) -> TrainingSet:
    from bench.data import resolve_dataset

    notes = []
    if spec in SYNTH_SETS:
        root = synth_bsds500(SYNTH_SETS[spec], ctx, seed)
        spec_ds = f"folder:{root}"
        notes.append(f"synthesised: `bench data synth` preset {SYNTH_SETS[spec]}, seed {seed}, on BSDS500 "
                     f"train+val+test")
    elif Path(spec).expanduser().is_dir():
        spec_ds = f"folder:{Path(spec).expanduser()}"
    else:
        spec_ds = spec
    ds = resolve_dataset(spec_ds, ctx)
    if not ds.has_clean:
        raise ValueError(f"{spec}: training needs pairs with ground truth; {ds.root} has layout {ds.layout} (no GT)")
    pairs = [Pair(s.id, Path(s.rainy), Path(s.clean)) for s in ds.samples() if not s.error and s.clean]
    if not pairs:
        raise ValueError(f"{spec}: no pairs found in {ds.root}")
    return TrainingSet(spec, Path(ds.root), pairs, notes)


def split_validation(pairs: list[Pair], count: int) -> tuple[list[Pair], list[Pair]]:
    """(train, val): the ``count`` pairs with the smallest sha1(id) are held out."""
    order = sorted(pairs, key=lambda p: hashlib.sha1(p.id.encode()).hexdigest())
    val = {p.id for p in order[:count]}
    return [p for p in pairs if p.id not in val], [p for p in pairs if p.id in val]


def fingerprint(pairs: list[Pair]) -> dict:
    """sha256 over (id, sha256(rainy), sha256(clean)) of every pair, in id order."""
    h = hashlib.sha256()
    for p in sorted(pairs, key=lambda p: p.id):
        h.update(f"{p.id}\0{sha256_file(p.rainy)}\0{sha256_file(p.clean)}\n".encode())
    return {"pairs": len(pairs), "sha256": h.hexdigest()}


def read_real_folder(path: Path) -> list[Path]:
    from bench.data.leakage import image_files

    files = image_files(path)
    if not files:
        raise FileNotFoundError(f"--real {path}: no images")
    return files


class PatchSampler:
    """Random crops (and horizontal flips) from decoded images, cached in memory (LRU)."""

    def __init__(self, pairs: list[Pair], patch: int, seed: int, cache_images: int = 512):
        self.pairs, self.patch, self.seed = pairs, patch, seed
        self._cache: OrderedDict[Path, np.ndarray] = OrderedDict()
        self.cache_images = cache_images

    def _img(self, path: Path) -> np.ndarray:
        from bench.imageio import read_rgb

        if path in self._cache:
            self._cache.move_to_end(path)
            return self._cache[path]
        im = read_rgb(path)
        self._cache[path] = im
        if len(self._cache) > self.cache_images:
            self._cache.popitem(last=False)
        return im

    def generator(self, step: int, stream: int = 0) -> torch.Generator:
        return torch.Generator().manual_seed((self.seed * 1_000_003 + step) * 7 + stream)

    def crops(self, paths_per_item: list[list[Path]], g: torch.Generator) -> list[torch.Tensor]:
        """The same random window (and flip) on each image of an item; returns one N×3×P×P per slot."""
        slots: list[list[torch.Tensor]] = [[] for _ in paths_per_item[0]]
        p = self.patch
        for paths in paths_per_item:
            ims = [self._img(q) for q in paths]
            h, w = min(i.shape[0] for i in ims), min(i.shape[1] for i in ims)
            if h < p or w < p:
                raise ValueError(f"{paths[0]}: {w}×{h} is smaller than --patch {p}")
            top = int(torch.randint(0, h - p + 1, (1,), generator=g))
            left = int(torch.randint(0, w - p + 1, (1,), generator=g))
            flip = bool(torch.randint(0, 2, (1,), generator=g))
            for k, im in enumerate(ims):
                c = torch.from_numpy(np.ascontiguousarray(im[top: top + p, left: left + p])).permute(2, 0, 1)
                c = c.float() / 255.0
                slots[k].append(c.flip(-1) if flip else c)
        return [torch.stack(s) for s in slots]

    def batch(self, step: int, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        g = self.generator(step)
        idx = torch.randint(0, len(self.pairs), (size,), generator=g).tolist()
        rainy, clean = self.crops([[self.pairs[i].rainy, self.pairs[i].clean] for i in idx], g)
        return rainy, clean

    def unpaired(self, step: int, size: int, files: list[Path], stream: int) -> torch.Tensor:
        g = self.generator(step, stream)
        idx = torch.randint(0, len(files), (size,), generator=g).tolist()
        return self.crops([[files[i]] for i in idx], g)[0]

    def unpaired_clean(self, step: int, size: int) -> torch.Tensor:
        return self.unpaired(step, size, [p.clean for p in self.pairs], stream=2)
