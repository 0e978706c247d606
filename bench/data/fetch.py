"""`bench data fetch`: download a dataset only from a public plain-file copy or an official direct
URL, checking sha256; otherwise print the page to get it from and the exact folder to put it in.

Sets with a plain-file copy (Rain100H, Rain100L, the RainCityscapes subset, Internet-Data, BSDS500,
COCO val128) and the test assets are listed file by file, with sha256, in the manifests of
bench/data/assets.py. Most other deraining test sets are published only on cloud drives (Google
Drive, Baidu) that need a browser, so for them this prints instructions. Offline, nothing touches
the network.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import zipfile
from pathlib import Path


def fetch_test_assets(dest: Path, ctx, mirror: str | None = None) -> int:
    """`bench data fetch --test-assets [DIR]`: every file the test suite reads, into DIR/data and
    DIR/weights (the tests look there when $BENCH_SHARED and ../shared are absent)."""
    from bench.data.assets import read_manifest

    where = "" if _is_default(dest) else f"; run the tests with BENCH_SHARED={dest}"
    return _fetch_listed("test assets", read_manifest(), Path(dest), "", ctx, mirror,
                         done=f"the tests look there when $BENCH_SHARED and ../shared are absent{where}")


def fetch_manifest_set(name: str, data_root: Path, ctx, mirror: str | None = None) -> int:
    """A dataset with a public plain-file copy, file by file, into DATA_ROOT/<folder>."""
    from bench.data import DATASETS
    from bench.data.assets import DATASET_FOLDERS, dataset_assets

    done = (f"check it: bench data verify {name}" if name in DATASETS
            else f"it is at {Path(data_root) / DATASET_FOLDERS[name]}")
    return _fetch_listed(name, dataset_assets(name), Path(data_root), "data/", ctx, mirror, done=done)


def _is_default(dest: Path) -> bool:
    from bench.data.assets import default_assets_root

    return Path(dest).resolve() == default_assets_root().resolve()


def _fetch_listed(what: str, assets, dest: Path, strip: str, ctx, mirror, done: str) -> int:
    """Fetch the manifest rows ``assets`` to ``dest / (path minus strip)``; print a summary."""
    from bench.data.assets import absent, fetch_assets, summary

    missing = [a for a in absent(dest, assets, strip) if a.url or mirror]
    if not missing:
        no_copy = absent(dest, assets, strip)
        print(f"{what}: already present, all {len(assets) - len(no_copy)} files with a public copy, in {dest}"
              + (f"; {len(no_copy)} have none ({no_copy[0].note}), so the tests that read them skip"
                 if no_copy else ""))
        return 0
    if ctx.offline:
        print(f"{what}: {len(missing)} of {len(assets)} files missing from {dest}; offline (BENCH_OFFLINE or "
              "--offline), so nothing was downloaded. Run this again on a connected machine.", file=sys.stderr)
        return 1
    print(f"{what}: fetching {len(missing)} of {len(assets)} files into {dest}"
          f"{f' from {mirror}' if mirror else ''} (sha256 checked) ...", flush=True)
    rep = fetch_assets(assets, dest, mirror=mirror, ctx=ctx, strip=strip)
    for line in summary(rep, dest):
        print(f"  {line}")
    if rep.ok:
        print(f"{what}: done; {done}")
    return 0 if rep.ok else 1


def instructions(spec, data_root: Path | None, missing: str) -> str:
    folders = getattr(spec, "folders", None) or getattr(spec, "source_folders", ())
    where = (Path(data_root) / folders[0]) if data_root and folders else f"$BENCH_DATA/{folders[0] if folders else ''}"
    layouts = getattr(spec, "layouts", ())
    lines = [f"{spec.name}: not found. {missing.split('. Put it')[0]}.",
             f"  get it from: {getattr(spec, 'source', '') or '(no public source known)'}",
             f"  put it at:   {where}"]
    if layouts:
        lines.append("  in one of these layouts:")
        lines += [f"    {lay.describe()}" for lay in layouts]
    lines.append(f"  then check it: bench data verify {spec.name}")
    return "\n".join(lines)


def fetch(spec, data_root: Path | None, offline: bool, missing: str) -> int:
    downloads = getattr(spec, "downloads", ())
    if not downloads:
        print(instructions(spec, data_root, missing))
        return 1
    if offline:
        print(instructions(spec, data_root, missing))
        print(f"  offline: not downloading {downloads[0][0]}")
        return 1
    from bench.net import DownloadFailed

    for url, sha in downloads:
        try:
            archive = download(url, sha)
        except DownloadFailed as e:
            print(f"bench data fetch: {e}", file=sys.stderr)
            return 1
        extract(archive, Path(data_root))
    print(f"{spec.name}: fetched into {data_root}; check it: bench data verify {spec.name}")
    return 0


def download(url: str, sha256: str | None) -> Path:
    """Through bench.net.download (timeout, sha256 where published) into a temporary folder."""
    from bench.net import download as fetch_url

    tmp = Path(tempfile.mkdtemp(prefix="bench-fetch-")) / Path(url).name
    got = fetch_url(url, tmp, sha256)
    print(f"  downloaded {url} (sha256 {got}{'' if sha256 else ', no published checksum to compare'})")
    return tmp


def extract(archive: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive) as z:
        for member in z.namelist():  # refuse paths that escape the destination
            target = (dest / member).resolve()
            if not str(target).startswith(str(dest.resolve())):
                raise ValueError(f"{archive}: member {member!r} would be written outside {dest}")
        z.extractall(dest)
    shutil.rmtree(archive.parent, ignore_errors=True)
