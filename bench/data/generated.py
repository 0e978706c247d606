"""Datasets built at run time from photographs or labelled sets, with seeded synthetic rain.

Each is written once into ``$BENCH_CACHE/datasets/<name>`` (default ~/.cache/derain-bench) and
reused while its fingerprint (source file names, sizes and sha256, rain parameters, seed, renderer
version) is unchanged; then it is a plain paired folder: rain/<id>.png + norain/<id>.png, plus
labels copied unchanged (YOLO txt under labels/, Cityscapes gtFine under gtFine/).
A set without a preset (``coco-val128``) is the clean photographs themselves: its rainy input is the
clean image, so its ``rainy`` row is the clean upper bound, scored against the true labels.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from bench.data.base import Dataset, DatasetNotFound, Sample
from bench.hashing import sha256_file
from bench.data.label_index import CityscapesLabels
from bench.data.layouts import PairedLayout
from bench.data.synth import SOURCES, SYNTH_VERSION, RainParams, SourceImage, preset, write_rainy_set

PAIRS = PairedLayout("synth", "rain", r"(?P<id>.+)\.png", "norain", "{id}.png")
NO_RAIN = RainParams(density=0.0, brightness=0.0, layers=0, haze=0.0, strength_jitter=0.0, angle_jitter=0.0)


def _source(kind: str):
    """(make items, label format) of a source kind: synth.py's, plus the COCO val2017 layout."""
    if kind == "coco":
        from bench.data.coco import coco_items

        return coco_items, "yolo"
    return SOURCES[kind]


def clean_as_rainy(lister: Callable[[Path], Iterator[Sample]]) -> Callable[[Path], Iterator[Sample]]:
    """The clean photograph is also the input (a set without rain: the upper bound)."""
    import dataclasses

    def listed(root: Path) -> Iterator[Sample]:
        for s in lister(root):
            yield s if s.error or s.clean is None else dataclasses.replace(s, rainy=s.clean)
    return listed


def cache_root() -> Path:
    from bench.config import settings

    return settings().cache_root / "datasets"


def demo_sources() -> list[SourceImage]:
    """Photographs that installed packages carry: no download, present on any install."""
    import skimage
    import ultralytics

    assets = Path(ultralytics.__file__).parent / "assets"
    photos = Path(skimage.__file__).parent / "data"
    items = [SourceImage("bus", assets / "bus.jpg"), SourceImage("zidane", assets / "zidane.jpg")]
    items += [SourceImage(n, photos / f"{n}.{ext}") for n, ext in
              (("astronaut", "png"), ("coffee", "png"), ("chelsea", "png"), ("rocket", "jpg"))]
    missing = [str(i.image) for i in items if not i.image.is_file()]
    if missing:
        raise DatasetNotFound(f"demo: the packaged photographs are missing ({', '.join(missing)}); "
                              "reinstall ultralytics and scikit-image.")
    return items


def yolo_label_lister(lister: Callable[[Path], Iterator[Sample]]) -> Callable[[Path], Iterator[Sample]]:
    """Attach labels/<id>.txt; an image without a txt has no objects (Ultralytics' rule), so it
    still gets its (empty) label path: gt scoring then counts its false positives."""
    import dataclasses

    def listed(root: Path) -> Iterator[Sample]:
        for s in lister(root):
            yield s if s.error else dataclasses.replace(s, labels=root / "labels" / f"{s.id}.txt",
                                                        label_format="yolo")
    return listed


@dataclass(frozen=True)
class GeneratedDataset:
    name: str
    description: str
    preset: str | None                     # None: no rain (the input is the clean image)
    source_kind: str                       # "yolo" | "coco" | "cityscapes" | "images" | "packaged"
    source_folders: tuple[str, ...] = ()   # under the data root (ignored for "packaged")
    seed: int = 0
    max_side: int | None = None            # downscale larger photos (demo: keep CPU runs short)
    label_source: str = "pseudo"
    source: str = ""
    downloads: tuple[tuple[str, str | None], ...] = ()  # of the source set: (official URL, sha256)

    count: int | None = None               # images in the source set, where known

    @property
    def expected_count(self) -> int | None:
        return 6 if self.source_kind == "packaged" else self.count

    @property
    def rain(self) -> RainParams:
        return NO_RAIN if self.preset is None else preset(self.preset)

    def items(self, data_root: Path | None) -> tuple[list[SourceImage], str, str | None]:
        if self.source_kind == "packaged":
            return demo_sources(), "packaged photographs (ultralytics assets, scikit-image data)", None
        for folder in self.source_folders:
            root = Path(data_root) / folder if data_root else None
            if root is not None and root.is_dir():
                make, label_format = _source(self.source_kind)
                return make(root), str(root), label_format
        where = f"{data_root}/{self.source_folders[0]}" if data_root else f"$BENCH_DATA/{self.source_folders[0]}"
        raise DatasetNotFound(f"dataset {self.name!r} is generated from {self.source_kind} data that was not found: "
                              f"put it at {where}." + (f" Source: {self.source}." if self.source else ""))

    def fingerprint(self, items: list[SourceImage]) -> str:
        h = hashlib.sha256(json.dumps([SYNTH_VERSION, self.seed, self.preset, repr(self.rain),
                                       self.max_side]).encode())
        for it in items:
            for p in (it.image, *(lab for lab, _ in it.labels)):
                h.update(f"{it.id}|{p.name}|{p.stat().st_size}|{sha256_file(p)}\n".encode())
        return h.hexdigest()[:16]

    def build(self, data_root: Path | None, cache: Path | None = None) -> Path:
        items, source, label_format = self.items(data_root)
        fp = self.fingerprint(items)
        out = (cache or cache_root()) / self.name
        manifest = out / "synth.json"
        try:
            if json.loads(manifest.read_text()).get("fingerprint") == fp:
                return out
        except (OSError, ValueError):
            pass
        m = write_rainy_set(items, out, self.rain, self.seed, label_format, source, self.max_side)
        m.update(fingerprint=fp, preset=self.preset or "none (clean input)", dataset=self.name)
        tmp = manifest.with_suffix(".tmp")
        tmp.write_text(json.dumps(m, indent=1))
        os.replace(tmp, manifest)
        return out

    @property
    def layout(self) -> str:
        rain = "no rain: input = clean" if self.preset is None else f"{self.preset} rain, seed {self.seed}"
        cap = f", longer side capped at {self.max_side} px (cv2.INTER_AREA)" if self.max_side else ""
        return f"generated ({rain}{cap})"

    def find(self, ctx) -> Dataset:
        root = self.build(ctx.data_root, ctx.cache_dir / "datasets")
        lister = PAIRS.list
        if self.source_kind == "yolo":
            lister = yolo_label_lister(lister)
        elif self.source_kind == "coco":
            from bench.data.coco import coco_label_lister

            lister = coco_label_lister(lister)
        elif self.source_kind == "cityscapes":
            lister = CityscapesLabels(search=("gtFine",)).attach(lister)
        if self.preset is None:
            lister = clean_as_rainy(lister)
        return Dataset(name=self.name, root=root, layout=self.layout,
                       has_clean=True, label_source=self.label_source, expected_count=self.expected_count,
                       description=self.description, _lister=lister)


DEMO = GeneratedDataset(
    name="demo", preset="heavy", source_kind="packaged", max_side=512,
    description="demo: 6 photographs shipped with ultralytics and scikit-image, seeded heavy synthetic rain "
                "(built on first use, no download)")

COCO8_RAIN = GeneratedDataset(
    name="coco8-rain", preset="light", source_kind="yolo", source_folders=("coco8",), label_source="gt",
    description="COCO8 (8 images, 80-class YOLO boxes) with seeded light synthetic rain; true labels",
    source="https://github.com/ultralytics/assets/releases/download/v0.0.0/coco8.zip",
    downloads=(("https://github.com/ultralytics/assets/releases/download/v0.0.0/coco8.zip", None),))

COCO8_RAIN_HEAVY = GeneratedDataset(
    name="coco8-rain-heavy", preset="heavy", source_kind="yolo", source_folders=("coco8",), label_source="gt",
    description="COCO8 with seeded heavy synthetic rain; true labels",
    source=COCO8_RAIN.source, downloads=COCO8_RAIN.downloads)

CITYSCAPES_SAMPLE_RAIN = GeneratedDataset(
    name="cityscapes-sample-rain", preset="light", source_kind="cityscapes",
    source_folders=("cityscapes-sample", "cityscapes"), label_source="gt",
    description="Cityscapes images (leftImg8bit) with seeded light synthetic rain; gtFine labels unchanged",
    source="https://www.cityscapes-dataset.com/downloads/ (account required)")


COCO_VAL128_SOURCE = "lightly-ai/coco128_yolo @ 6d6f7a0 (the first 128 COCO val2017 images; annotations CC BY 4.0)"
COCO_VAL128 = GeneratedDataset(
    name="coco-val128", preset=None, source_kind="coco", source_folders=("coco-val128",), label_source="gt",
    max_side=480, count=128, source=COCO_VAL128_SOURCE,
    description="COCO val2017, first 128 photographs, no rain (input = clean: the upper bound), longer side "
                "capped at 480 px; real labels: 80-class boxes, polygons (100 images)")

COCO_VAL128_RAIN_LIGHT = GeneratedDataset(
    name="coco-val128-rain-light", preset="light", source_kind="coco", source_folders=("coco-val128",),
    label_source="gt", max_side=480, count=128, source=COCO_VAL128_SOURCE,
    description="coco-val128 with seeded light synthetic rain (calibrated to Rain100L, seed 0), longer side "
                "capped at 480 px; real labels unchanged")

COCO_VAL128_RAIN_HEAVY = GeneratedDataset(
    name="coco-val128-rain-heavy", preset="heavy", source_kind="coco", source_folders=("coco-val128",),
    label_source="gt", max_side=480, count=128, source=COCO_VAL128_SOURCE,
    description="coco-val128 with seeded heavy synthetic rain (calibrated to Rain100H, seed 0), longer side "
                "capped at 480 px; real labels unchanged")
