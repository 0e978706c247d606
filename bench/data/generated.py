"""Datasets made by the harness: synthetic rain on labelled sets, written once into a cache folder.

``synthesize`` renders seeded rain (bench.data.synth) on a labelled source and writes a new
dataset folder whose labels are the source's files, copied byte for byte:

    <out>/dataset.json                       what was made, how, and each image's drawn values
    <out>/rain/<id>.png, <out>/clean/<id>.png  rainy image and its clean original (lossless PNG)
    <out>/labels/<id>.txt                    YOLO boxes (normalised coordinates: unchanged)
    <out>/labels/<id>.json                   COCO: the image's annotation records, unchanged
    <out>/gtFine/<split>/<city>/...          Cityscapes label PNGs, same tree and names

The same inputs give the same bytes: PNG encoding is deterministic and every image's rain comes
from an RNG seeded by (seed, image id).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from bench.data.base import Dataset, DatasetNotFound
from bench.data.layouts import LabelRule, PairedLayout
from bench.data.synth import PRESETS, RainParams, add_rain, params_dict, psnr_y
from bench.imageio import IMAGE_SUFFIXES, read_rgb, write_png

GENERATOR_VERSION = 1
MANIFEST = "dataset.json"


@dataclass(frozen=True)
class SourceItem:
    id: str
    image: Path
    labels: tuple[tuple[Path, str], ...] = ()   # (label file, path to write it at, relative to out)


@dataclass(frozen=True)
class LabelledSource:
    root: Path
    label_format: str | None                    # yolo | coco | cityscapes | None
    items: tuple[SourceItem, ...]


def _images(d: Path, recursive: bool = False) -> list[Path]:
    it = d.rglob("*") if recursive else d.iterdir()
    return sorted(p for p in it if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))


def _yolo(root: Path) -> LabelledSource | None:
    """Ultralytics layout: images/<split>/x.jpg with labels/<split>/x.txt (or flat images/, labels/)."""
    if not (root / "images").is_dir() or not (root / "labels").is_dir():
        return None
    items = []
    for img in _images(root / "images", recursive=True):
        rel = img.relative_to(root / "images").with_suffix(".txt")
        lab = root / "labels" / rel
        items.append(SourceItem(img.stem, img, ((lab, f"labels/{img.stem}.txt"),) if lab.is_file() else ()))
    return LabelledSource(root, "yolo", tuple(items))


def _cityscapes(root: Path) -> LabelledSource | None:
    """leftImg8bit/<split>/<city>/<stem>_leftImg8bit.png with gtFine/<split>/<city>/<stem>_gtFine_*.png."""
    left = root / "leftImg8bit"
    if not left.is_dir():
        return None
    items = []
    for img in _images(left, recursive=True):
        stem = img.name.removesuffix("_leftImg8bit" + img.suffix)
        rel_dir = img.parent.relative_to(left)
        gt_dir = root / "gtFine" / rel_dir
        labels = tuple((p, f"gtFine/{rel_dir.as_posix()}/{p.name}")
                       for p in sorted(gt_dir.glob(f"{stem}_gtFine_*")) if gt_dir.is_dir())
        items.append(SourceItem(stem, img, labels))
    return LabelledSource(root, "cityscapes", tuple(items))


def _coco(root: Path) -> LabelledSource | None:
    """images/ (or any folder) with annotations/instances*.json: per-image records written as JSON."""
    ann = sorted((root / "annotations").glob("*.json")) if (root / "annotations").is_dir() else []
    if not ann:
        return None
    # COCO labels are split per image at synth time (see _write_coco); here we only list images.
    images = {p.name: p for p in _images(root, recursive=True)}
    data = json.loads(ann[0].read_text())
    items = tuple(SourceItem(Path(im["file_name"]).stem, images[Path(im["file_name"]).name], ((ann[0], "coco"),))
                  for im in data.get("images", []) if Path(im["file_name"]).name in images)
    return LabelledSource(root, "coco", items)


def _plain(root: Path) -> LabelledSource | None:
    imgs = _images(root)
    return LabelledSource(root, None, tuple(SourceItem(p.stem, p) for p in imgs)) if imgs else None


SOURCE_KINDS: tuple[Callable[[Path], LabelledSource | None], ...] = (_yolo, _cityscapes, _coco, _plain)


def labelled_source(root: Path) -> LabelledSource:
    for kind in SOURCE_KINDS:
        src = kind(root)
        if src is not None and src.items:
            return src
    raise DatasetNotFound(f"{root}: no images found (expected a YOLO images/+labels/ tree, a Cityscapes "
                          "leftImg8bit/+gtFine/ tree, images with annotations/*.json, or a folder of images)")


def synthesize(source: LabelledSource | Path, out: Path, preset: str | RainParams = "heavy", seed: int = 0,
               name: str | None = None, max_side: int | None = None, limit: int | None = None) -> Path:
    """Write a synthetic-rain dataset at ``out`` (atomically: built beside it, then renamed)."""
    src = source if isinstance(source, LabelledSource) else labelled_source(Path(source))
    params = PRESETS[preset] if isinstance(preset, str) else preset
    ids = [it.id for it in src.items]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"{src.root}: image names repeat across folders ({', '.join(dupes[:5])}); "
                         "ids must be unique. Rename the files or synthesise each split separately.")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp-"))
    try:
        records = []
        for item in src.items[:limit]:
            clean = _shrink(read_rgb(item.image), max_side)
            rainy, values = add_rain(clean, item.id, params, seed)
            write_png(tmp / "clean" / f"{item.id}.png", clean)
            write_png(tmp / "rain" / f"{item.id}.png", rainy)
            for label, rel in item.labels:
                if rel == "coco":
                    _write_coco(label, item, tmp / "labels" / f"{item.id}.json")
                else:
                    (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(label, tmp / rel)
            records.append({"id": item.id, "source": str(item.image), "psnr_y": round(psnr_y(rainy, clean), 4),
                            "values": {k: round(v, 6) for k, v in values.items()}})
        manifest = {"name": name or out.name, "generator_version": GENERATOR_VERSION,
                    "preset": preset if isinstance(preset, str) else "custom", "params": params_dict(params),
                    "seed": seed, "max_side": max_side, "source": str(src.root), "label_format": src.label_format,
                    "count": len(records), "images": records}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1))
        if (out / MANIFEST).is_file():
            return out          # another process finished the same build first; identical content
        if out.exists():
            shutil.rmtree(out)  # a stale, incomplete folder
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return out


def _shrink(rgb: np.ndarray, max_side: int | None) -> np.ndarray:
    h, w = rgb.shape[:2]
    if not max_side or max(h, w) <= max_side:
        return rgb
    s = max_side / max(h, w)
    im = Image.fromarray(rgb).resize((max(1, round(w * s)), max(1, round(h * s))), Image.Resampling.LANCZOS)
    return np.asarray(im)


def _write_coco(ann_file: Path, item: SourceItem, target: Path) -> None:
    data = json.loads(ann_file.read_text())
    image = next(im for im in data["images"] if Path(im["file_name"]).stem == item.id)
    anns = [a for a in data.get("annotations", []) if a["image_id"] == image["id"]]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"image": image, "annotations": anns, "categories": data.get("categories", [])}))


# How a synthetic folder's labels are found, per label format (data, read by synthetic_dataset).
LABEL_RULES = {
    "yolo": LabelRule("yolo", ("labels",), "{id}.txt"),
    "coco": LabelRule("coco", ("labels",), "{id}.json"),
    "cityscapes": LabelRule("cityscapes", ("gtFine",), "{stem}_gtFine_labelIds.png",
                            key_pattern=r"(?P<stem>.+)"),
}


def synthetic_dataset(root: Path, name: str | None = None) -> Dataset:
    """Open a folder written by ``synthesize`` (its dataset.json says what it holds)."""
    manifest = json.loads((root / MANIFEST).read_text())
    fmt = manifest.get("label_format")
    layout = PairedLayout("synthetic", "rain", r"(?P<id>.+)\.png", "clean", "{id}.png",
                          labels=LABEL_RULES.get(fmt))
    return Dataset(name=name or manifest["name"], root=root, layout="synthetic", has_clean=True,
                   label_source="gt" if fmt else "pseudo", expected_count=manifest["count"],
                   description=f"synthetic rain ({manifest['preset']}, seed {manifest['seed']}) on {manifest['source']}",
                   label_format=fmt, source=manifest["source"], _lister=layout.list)


def cache_root() -> Path:
    return Path(os.environ.get("BENCH_CACHE", Path.home() / ".cache" / "derain-bench")) / "datasets"


def demo_photos() -> list[Path]:
    """Photographs that installed packages carry: Ultralytics' assets and scikit-image's data."""
    import importlib.util

    found = []
    for pkg, names in (("ultralytics", ("assets/bus.jpg", "assets/zidane.jpg")),
                       ("skimage", ("data/astronaut.png", "data/coffee.png", "data/chelsea.png",
                                    "data/rocket.jpg", "data/motorcycle_left.png"))):
        spec = importlib.util.find_spec(pkg)
        if spec is None or not spec.submodule_search_locations:
            continue
        base = Path(list(spec.submodule_search_locations)[0])
        found += [base / n for n in names if (base / n).is_file()]
    return found


@dataclass(frozen=True)
class SynthesizedBenchmark:
    """A registered dataset built at run time: rain rendered on a source, cached by content."""

    name: str
    description: str
    source_folder: str | None           # under the data root; None = the demo photographs
    preset: str = "heavy"
    seed: int = 0
    max_side: int | None = None
    source: str = ""
    synthetic: bool = True
    expected_count: int | None = None
    has_clean: bool = True
    label_source: str = "gt"

    def _source(self, data_root: Path | None) -> LabelledSource:
        if self.source_folder is None:
            photos = demo_photos()
            if not photos:
                raise DatasetNotFound(f"{self.name}: no demo photographs found (install ultralytics or scikit-image)")
            return LabelledSource(Path("<installed packages>"), None, tuple(SourceItem(p.stem, p) for p in photos))
        folder = Path(data_root) / self.source_folder if data_root else None
        if folder is None or not folder.is_dir():
            where = folder or f"$BENCH_DATA/{self.source_folder}"
            raise DatasetNotFound(f"dataset {self.name!r} is rendered from {where}, which is missing; "
                                  f"put the source there ({self.source}) or pass --data-root.")
        return labelled_source(folder)

    def fingerprint(self, src: LabelledSource) -> str:
        h = hashlib.sha256(json.dumps([GENERATOR_VERSION, self.preset, params_dict(PRESETS[self.preset]),
                                       self.seed, self.max_side]).encode())
        for item in src.items:
            for f in (item.image, *(lab for lab, _ in item.labels)):
                h.update(f.name.encode())
                h.update(hashlib.sha256(f.read_bytes()).digest())
        return h.hexdigest()[:12]

    def find(self, data_root: Path | None) -> Dataset:
        src = self._source(data_root)
        out = cache_root() / f"{self.name}-{self.fingerprint(src)}"
        if not (out / MANIFEST).is_file():
            synthesize(src, out, self.preset, self.seed, name=self.name, max_side=self.max_side)
        ds = synthetic_dataset(out, self.name)
        ds.description = self.description
        if src.label_format is None:
            ds.label_source = "pseudo"
        return ds


DEMO = SynthesizedBenchmark(
    name="demo", source_folder=None, preset="heavy", seed=0, max_side=640, label_source="pseudo",
    description="7 photographs shipped with ultralytics and scikit-image, seeded heavy synthetic rain "
                "(built on first use into $BENCH_CACHE/datasets)",
    source="ultralytics assets (bus, zidane) and scikit-image data (astronaut, coffee, chelsea, rocket, motorcycle)",
    expected_count=7,
)

COCO8_RAIN = SynthesizedBenchmark(
    name="coco8-rain", source_folder="coco8", preset="heavy", seed=0,
    description="COCO8 (Ultralytics) with seeded heavy synthetic rain; true YOLO box labels carried over",
    source="Ultralytics COCO8: https://github.com/ultralytics/assets/releases/download/v0.0.0/coco8.zip",
    expected_count=8,
)

CITYSCAPES_RAIN = SynthesizedBenchmark(
    name="cityscapes-rain", source_folder="cityscapes-sample", preset="heavy", seed=0,
    description="Cityscapes images (leftImg8bit + gtFine) with seeded heavy synthetic rain; labels carried over",
    source="Cityscapes (https://www.cityscapes-dataset.com, account required); sample: open-mmlab test data",
)
