"""`bench data verify`: is a dataset complete and usable? Counts, pairs, decodes, sizes, checksums.

Checksums: a manifest ``bench/data/manifests/<name>.sha256`` (lines ``<sha256>  <role>/<id>``)
records the files of a known-good copy; files whose content differs from it are reported by name.
Manifests are made with ``bench data verify NAME --write-manifest`` on a trusted copy.

YOLO labels (``Sample.labels`` / ``Sample.polygons``) are parsed: each malformed file is a problem
naming its file and line; images without a label file (no objects, by YOLO's rule) and label files
without an image are listed as notes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bench.data.base import Dataset
from bench.hashing import sha256_file
from bench.imageio import IMAGE_SUFFIXES, ImageError, read_rgb

MANIFESTS = Path(__file__).parent / "manifests"


@dataclass
class Report:
    dataset: str
    root: Path
    layout: str
    samples: int = 0
    paired: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)   # "<role>/<id>" -> sha256

    @property
    def ok(self) -> bool:
        return not self.problems


def _header_size(path: Path) -> tuple[int, int] | None:
    from PIL import Image, ImageOps

    with Image.open(path) as im:
        return ImageOps.exif_transpose(im).size if im.getexif().get(0x0112, 1) != 1 else im.size


def verify(ds: Dataset, decode: bool = True, max_problems: int = 200) -> Report:
    """Walk every sample (lazily): pairing errors, unreadable files, rainy/clean size mismatches,
    the count against the expected count, files no sample uses, and checksums."""
    rep = Report(ds.name, ds.root, ds.layout)
    used: set[Path] = set()
    labels = _LabelCheck()
    for s in ds.samples():
        rep.samples += 1
        if s.error:
            rep.problems.append(s.error)
            continue
        labels.add(s)
        files = {"rainy": s.rainy, "clean": s.clean}
        shapes = {}
        for role, path in files.items():
            if path is None:
                continue
            used.add(path.resolve())
            try:
                shapes[role] = read_rgb(path).shape[:2] if decode else _header_size(path)[::-1]
            except (ImageError, OSError) as e:
                rep.problems.append(str(e))
                continue
            rep.hashes[f"{role}/{s.id}"] = sha256_file(path)
        if s.clean is not None:
            rep.paired += 1
            if len(shapes) == 2 and shapes["rainy"] != shapes["clean"]:
                (h1, w1), (h2, w2) = shapes["rainy"], shapes["clean"]
                rep.problems.append(f"{s.rainy}: rainy is {w1}x{h1} but its ground truth {s.clean} is {w2}x{h2}")
        if "rainy" in shapes:
            key = f"{shapes['rainy'][1]}x{shapes['rainy'][0]}"
            rep.sizes[key] = rep.sizes.get(key, 0) + 1
    if ds.expected_count is not None and rep.samples != ds.expected_count:
        rep.problems.append(f"{ds.root}: {rep.samples} images found, {ds.name} has {ds.expected_count}; "
                            "some are missing or extra (compare with the source)")
    labels.report(rep)
    stray = _unused_images(ds.root, used)
    if stray:
        rep.notes.append(f"{len(stray)} image file(s) not used by layout {ds.layout!r} "
                         f"(e.g. {', '.join(str(p) for p in stray[:3])})")
    _check_manifest(ds.name, rep)
    del rep.problems[max_problems:]
    return rep


class _LabelCheck:
    """YOLO label files of the samples: parsed, and matched against the txt files in their folders."""

    def __init__(self):
        self.files: list[tuple[Path, dict]] = []
        self.missing: list[str] = []
        self.folders: set[Path] = set()
        self.used: set[Path] = set()

    def add(self, s) -> None:
        if s.labels is not None and s.label_format == "yolo":
            self.folders.add(Path(s.labels).parent)
            self.used.add(Path(s.labels).resolve())
            if Path(s.labels).is_file():
                self.files.append((Path(s.labels), {}))
            else:
                self.missing.append(s.id)
        if s.polygons is not None:
            from bench.data.coco import PANOPTIC_TO_CONTIGUOUS

            self.folders.add(Path(s.polygons).parent)
            self.used.add(Path(s.polygons).resolve())
            mapped = s.polygon_ids == "coco-panoptic"
            self.files.append((Path(s.polygons), {"class_map": PANOPTIC_TO_CONTIGUOUS} if mapped else {}))

    def report(self, rep: Report) -> None:
        notes, problems = self.findings()
        rep.notes += notes
        rep.problems += problems

    def findings(self) -> tuple[list[str], list[str]]:
        """(notes, problems): what was read, unlabelled images, label files without an image;
        one problem per malformed file."""
        from bench.data.yolo_labels import LabelFileError, read_yolo_labels

        notes: list[str] = []
        problems: list[str] = []
        if not self.files and not self.missing:
            return notes, problems
        objects = 0
        for path, how in self.files:
            try:
                objects += len(read_yolo_labels(path, num_classes=80, **how))
            except LabelFileError as e:
                problems.append(str(e))
        notes.append(f"labels: {len(self.files)} YOLO label file(s) read, {objects} objects")
        if self.missing:
            notes.append(f"{len(self.missing)} image(s) without a label file, taken as having no objects "
                             f"(YOLO's rule): {', '.join(self.missing[:5])}" + (", ..." if len(self.missing) > 5 else ""))
        orphans = sorted(p for f in self.folders for p in f.glob("*.txt") if p.resolve() not in self.used)
        if orphans:
            notes.append(f"{len(orphans)} label file(s) without an image, not used: "
                         + ", ".join(str(p) for p in orphans[:5]) + (", ..." if len(orphans) > 5 else ""))
        return notes, problems


def check_labels(samples) -> tuple[list[str], list[str]]:
    """(notes, problems) of the YOLO labels of these samples (``bench data add`` prints them)."""
    check = _LabelCheck()
    for s in samples:
        if not s.error:
            check.add(s)
    return check.findings()


def _unused_images(root: Path, used: set[Path]) -> list[Path]:
    # clean images shared by several rainy ones (Rain1400) are used; anything else is stray
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.resolve() not in used)


def manifest_path(name: str) -> Path:
    return MANIFESTS / f"{name}.sha256"


def _check_manifest(name: str, rep: Report) -> None:
    path = manifest_path(name)
    if not path.is_file():
        rep.notes.append(f"no checksum manifest for {name} (bench/data/manifests/{name}.sha256); "
                         f"sha256 of {len(rep.hashes)} files computed")
        return
    expected = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            digest, key = line.split(maxsplit=1)
            expected[key.strip()] = digest
    # match by content as well as by key, so a copy in another layout (other ids) still verifies
    known = set(expected.values())
    bad = [k for k, v in rep.hashes.items() if (k in expected and expected[k] != v) or
           (k not in expected and v not in known)]
    if bad:
        rep.problems.append(f"{len(bad)} file(s) differ from the published copy (checksum manifest {path.name}): "
                            + ", ".join(bad[:10]) + ("" if len(bad) <= 10 else ", ..."))
    else:
        rep.notes.append(f"checksums: all {len(rep.hashes)} files match {path.name}")


def write_manifest(name: str, rep: Report) -> Path:
    path = manifest_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    head = (f"# sha256 of {name} as found at {rep.root.name}/ (layout {rep.layout}); "
            "written by `bench data verify --write-manifest`\n")
    path.write_text(head + "".join(f"{v}  {k}\n" for k, v in sorted(rep.hashes.items())))
    return path


def format_report(rep: Report) -> str:
    sizes = sorted(rep.sizes.items(), key=lambda kv: -kv[1])
    shown = ", ".join(f"{k} x{n}" for k, n in sizes[:4]) + (f", {len(sizes) - 4} other sizes" if len(sizes) > 4 else "")
    lines = [f"{rep.dataset}: {rep.root} (layout {rep.layout})",
             f"  images {rep.samples}, paired {rep.paired}, sizes {shown or '-'}"]
    lines += [f"  note: {n}" for n in rep.notes]
    lines += [f"  PROBLEM: {p}" for p in rep.problems]
    lines.append(f"  {'OK' if rep.ok else f'{len(rep.problems)} problem(s)'}")
    return "\n".join(lines)
