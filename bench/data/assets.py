"""Public copies of the shared test material and of the datasets that have plain-file copies.

Two manifests (CSV, one row per file, paths relative to a "shared" folder with ``data/`` and
``weights/``): ``test_assets.csv`` lists every file the test suite reads; ``dataset_assets.csv``
the other files of the datasets `bench data fetch NAME` can assemble (BSDS500, COCO val128).
Each row gives the size, the sha256 and the raw URL pinned at a commit of the repository the file
comes from. ``transform`` names a lossless step between the downloaded file (``source_sha256``) and
the stored one (Rain100L's 34 portrait images, stored rotated in the source repository). Rows
without a URL have no public plain-file copy; ``note`` says why.

Both manifests are written by ``benchmarks/test_assets_manifest.py`` from a checkout of the shared
folder and snapshots of the source repositories.
"""
from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Callable, Iterable

from bench.errors import ChecksumMismatch
from bench.hashing import sha256_file

MANIFESTS = Path(__file__).parent / "manifests"
TEST_ASSETS = MANIFESTS / "test_assets.csv"
DATASET_ASSETS = MANIFESTS / "dataset_assets.csv"
FETCH_TEST_ASSETS = "bench data fetch --test-assets"

# `bench data fetch NAME` -> its folder under data/ in the manifests (and under the data root)
DATASET_FOLDERS = {
    "rain100h": "rain100h",
    "rain100l": "rain100l",
    "raincityscapes": "raincityscapes",
    "internet-data": "real-internet147",
    "bsds500": "bsds500",
    "coco-val128": "coco-val128",
}


def default_assets_root() -> Path:
    """Where `bench data fetch --test-assets` puts data/ and weights/: the folder above the user
    data folder, so the datasets land in the user data folder itself."""
    from bench.config import default_user_data_dir

    return default_user_data_dir().parent


@dataclass(frozen=True)
class Asset:
    path: str             # relative, "/"-separated: data/rain100h/rain/norain-1.png
    size: int
    sha256: str
    url: str = ""         # raw file URL pinned at a commit; "" when there is no public plain-file copy
    transform: str = ""   # "" or "rotate90" (counter-clockwise, PNG re-encoded losslessly)
    source_sha256: str = ""
    note: str = ""

    @property
    def folder(self) -> str:
        """data/<set> or weights/<model>: the unit the tests' needs are counted in."""
        return "/".join(self.path.split("/")[:2])


COLUMNS = tuple(f.name for f in fields(Asset))


def read_manifest(path: Path = TEST_ASSETS) -> list[Asset]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if rows and tuple(rows[0]) != COLUMNS:
        raise ValueError(f"{path}: columns {tuple(rows[0])}, expected {COLUMNS}")
    return [Asset(**{**r, "size": int(r["size"])}) for r in rows]


def manifest_text(assets: Iterable[Asset]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for a in sorted(assets, key=lambda a: a.path):
        w.writerow(asdict(a))
    return buf.getvalue()


def dataset_assets(name: str) -> list[Asset]:
    """Every manifest row of dataset ``name`` (a key of DATASET_FOLDERS)."""
    prefix = f"data/{DATASET_FOLDERS[name]}/"
    return [a for m in (TEST_ASSETS, DATASET_ASSETS) for a in read_manifest(m) if a.path.startswith(prefix)]


def absent(root: Path, assets: Iterable[Asset], strip: str = "") -> list[Asset]:
    """Assets not at ``root / (path minus strip)`` with their manifest size (a quick check;
    `fetch_assets` hashes)."""
    out = []
    for a in assets:
        try:
            if (root / a.path.removeprefix(strip)).stat().st_size == a.size:
                continue
        except OSError:
            pass
        out.append(a)
    return out


def folders_named(text: str, folders: Iterable[str]) -> set[str]:
    """The manifest folders (data/<set>, weights/<model>) whose last part ``text`` names as a word."""
    return {f for f in folders if re.search(rf"(?<![\w-]){re.escape(f.split('/')[-1])}(?![\w-])", text)}


def folders_read_by(test_file: Path, folders: Iterable[str]) -> set[str]:
    """The manifest folders a test module needs: those named in its text or in the text of the
    helper modules beside it that it imports (``from run_helpers import ...``)."""
    test_file = Path(test_file)
    text = test_file.read_text(encoding="utf-8")
    for m in re.finditer(r"^\s*(?:from|import)\s+(?:tests\.)?(\w+)", text, re.M):
        helper = test_file.parent / f"{m.group(1)}.py"
        if helper.is_file() and helper != test_file:
            text += helper.read_text(encoding="utf-8")
    return folders_named(text, folders)


# --- fetching ---------------------------------------------------------------------------------
@dataclass
class FetchReport:
    fetched: list[Asset] = field(default_factory=list)
    present: list[Asset] = field(default_factory=list)
    unavailable: list[tuple[Asset, str]] = field(default_factory=list)   # no public copy; why
    failed: list[tuple[Asset, str]] = field(default_factory=list)        # download or checksum error

    @property
    def ok(self) -> bool:
        return not self.failed


def source_url(asset: Asset, mirror: str | None = None) -> str:
    """``mirror``: the base URL of a copy laid out like the shared folder (it serves the stored
    files, so no transform applies); else the manifest's pinned public URL."""
    if mirror:
        return f"{mirror.rstrip('/')}/{asset.path}"
    return asset.url


def fetch_assets(assets: Iterable[Asset], dest: Path, *, mirror: str | None = None, ctx=None,
                 offline: bool | None = None, strip: str = "", log: Callable[[str], None] = print) -> FetchReport:
    """Download every asset not already at ``dest / (path minus strip)`` with the right sha256;
    verify each one (``strip="data/"`` puts a dataset straight under a data root).

    A network failure switches ``ctx`` offline (bench.net), so the rest are reported, not each
    waited for. Nothing partial is ever left at ``dest``."""
    from bench.net import DownloadFailed

    dest = Path(dest)
    rep = FetchReport()
    for a in assets:
        target = dest / a.path.removeprefix(strip)
        if target.is_file() and target.stat().st_size == a.size and sha256_file(target) == a.sha256:
            rep.present.append(a)
            continue
        url = source_url(a, mirror)
        if not url:
            rep.unavailable.append((a, a.note or "no public plain-file copy"))
            continue
        try:
            _fetch_one(a, url, target, transform=not mirror, ctx=ctx, offline=offline)
        except (DownloadFailed, ChecksumMismatch) as e:
            rep.failed.append((a, str(e)))
            continue
        rep.fetched.append(a)
        if len(rep.fetched) % 100 == 0:
            log(f"  {len(rep.fetched)} files fetched ...")
    return rep


def _fetch_one(a: Asset, url: str, target: Path, transform: bool, ctx, offline: bool | None) -> None:
    from bench.net import download

    if not (transform and a.transform):
        download(url, target, a.sha256, ctx=ctx, offline=offline)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".fetch-") as tmp:
        src = Path(tmp) / "source"
        download(url, src, a.source_sha256, ctx=ctx, offline=offline)
        out = Path(tmp) / target.name
        apply_transform(a.transform, src, out)
        got = sha256_file(out)
        if got != a.sha256:
            raise ChecksumMismatch(f"{target}: after {a.transform} of {url} (sha256 {a.source_sha256}, verified) the "
                                   f"file's sha256 is {got}, expected {a.sha256}; the pixels are right but this "
                                   "Pillow/zlib encodes the PNG differently. Copy the file from a machine that has it.")
        os.replace(out, target)


def apply_transform(name: str, src: Path, out: Path) -> None:
    """Lossless steps only: the pixels are kept exactly (PNG in, PNG out, Pillow's defaults)."""
    from PIL import Image

    if name != "rotate90":
        raise ValueError(f"unknown transform {name!r} in the asset manifest (known: rotate90)")
    with Image.open(src) as im:
        im.transpose(Image.Transpose.ROTATE_90).save(out, format="PNG")


def summary(rep: FetchReport, dest: Path) -> list[str]:
    lines = [f"{len(rep.fetched)} fetched, {len(rep.present)} already present (sha256 checked) in {dest}"]
    if rep.unavailable:
        lines.append(f"{len(rep.unavailable)} without a public plain-file copy (the tests that read them skip):")
        seen: dict[str, int] = {}
        for a, why in rep.unavailable:
            seen[f"{a.folder}: {why}"] = seen.get(f"{a.folder}: {why}", 0) + 1
        lines += [f"  {n} x {what}" for what, n in seen.items()]
    if rep.failed:
        lines.append(f"{len(rep.failed)} failed:")
        lines += [f"  {a.path}: {why}" for a, why in rep.failed[:10]]
        if len(rep.failed) > 10:
            lines.append(f"  ... and {len(rep.failed) - 10} more")
    return lines
