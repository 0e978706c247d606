"""`bench data verify`: is a dataset complete and usable? Counts, pairs, decodes, sizes, checksums.

Checksums: a manifest ``bench/data/manifests/<name>.sha256`` (lines ``<sha256>  <role>/<id>``)
records the files of a known-good copy; files whose content differs from it are reported by name.
Manifests are made with ``bench data verify NAME --write-manifest`` on a trusted copy.
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
    for s in ds.samples():
        rep.samples += 1
        if s.error:
            rep.problems.append(s.error)
            continue
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
    stray = _unused_images(ds.root, used)
    if stray:
        rep.notes.append(f"{len(stray)} image file(s) not used by layout {ds.layout!r} "
                         f"(e.g. {', '.join(str(p) for p in stray[:3])})")
    _check_manifest(ds.name, rep)
    del rep.problems[max_problems:]
    return rep


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
