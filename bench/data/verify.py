"""`bench data verify` and `bench data fetch`: check a located dataset, get official files."""
from __future__ import annotations

import hashlib
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from bench.data.base import Dataset, load_pair
from bench.imageio import ImageError

MANIFESTS = Path(__file__).resolve().parent / "manifests"


@dataclass
class Report:
    dataset: Dataset
    samples: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sizes: dict[tuple[int, int], int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def read_manifest(name: str) -> dict[str, str]:
    """{relative path: sha256} from a ``sha256sum``-style file in bench/data/manifests."""
    lines = (MANIFESTS / name).read_text().splitlines()
    return {rel.strip(): digest for digest, rel in (ln.split(None, 1) for ln in lines if ln.strip())}


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify(ds: Dataset, decode: bool = True) -> Report:
    """Counts against the expected count, pairing, decodability, pair sizes, checksums."""
    rep = Report(ds)
    for s in ds.samples():
        rep.samples += 1
        try:
            if decode:
                rainy, _ = load_pair(s)
                hw = rainy.shape[:2]
            else:
                if s.error:
                    raise ImageError(s.error)
                with Image.open(s.rainy) as im:
                    hw = (im.height, im.width)
            rep.sizes[(hw[1], hw[0])] = rep.sizes.get((hw[1], hw[0]), 0) + 1
        except ImageError as e:
            rep.problems.append(str(e))
    if ds.expected_count is not None and rep.samples != ds.expected_count:
        rep.problems.append(f"{ds.root}: {rep.samples} images listed, expected {ds.expected_count} "
                            f"for {ds.name} (layout {ds.layout!r}); some files are missing or extra.")
    if ds.manifest and (MANIFESTS / ds.manifest).is_file():
        known = read_manifest(ds.manifest)
        present = {rel: ds.root / rel for rel in known if (ds.root / rel).is_file()}
        differ = [rel for rel, p in present.items() if sha256(p) != known[rel]]
        if present:
            rep.notes.append(f"checksums: {len(present) - len(differ)}/{len(present)} files match the known copy "
                             f"({ds.manifest}); {len(known) - len(present)} listed files not in this layout")
        for rel in differ:
            rep.notes.append(f"checksum differs: {ds.root / rel} (a different release or a re-encoded copy; "
                             "pixels may still be right)")
    return rep


def fetch(spec, data_root: Path, offline: bool) -> tuple[int, list[str]]:
    """Download a benchmark's official direct files (sha256-checked) into data_root/<folder>."""
    target = Path(data_root) / spec.folders[0]
    dl = getattr(spec, "download", None)
    if dl is None:
        layouts = "; ".join(lay.describe() for lay in getattr(spec, "layouts", ()))
        return 1, [f"{spec.name}: no official direct download. Get it from {spec.source}",
                   f"and put it at {target}" + (f" in one of these layouts: {layouts}" if layouts else "")]
    files = read_manifest(dl.manifest)
    missing = {rel: d for rel, d in files.items()
               if not (target / rel).is_file() or sha256(target / rel) != d}
    lines = [f"{spec.name}: {len(files) - len(missing)}/{len(files)} files already at {target}"
             + (f" ({dl.note})" if dl.note else "")]
    if not missing:
        return 0, lines
    if offline:
        return 1, lines + [f"offline: not downloading {len(missing)} files from {dl.base_url} into {target}; "
                           f"rerun without --offline / BENCH_OFFLINE, or copy them there from {spec.source}"]
    for rel, digest in missing.items():
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=dest.parent, delete=False, prefix=".part-") as tmp:
            with urllib.request.urlopen(dl.base_url + rel, timeout=60) as r:
                tmp.write(r.read())
        got = sha256(Path(tmp.name))
        if got != digest:
            Path(tmp.name).unlink()
            return 1, lines + [f"{dl.base_url + rel}: sha256 {got} != expected {digest}; not saved"]
        Path(tmp.name).replace(dest)
    return 0, lines + [f"downloaded {len(missing)} files into {target}"]
