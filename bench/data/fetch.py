"""`bench data fetch`: download a dataset only from an official direct URL, checking sha256 where
one is published; otherwise print the page to get it from and the exact folder to put it in.

Most deraining test sets are published only on cloud drives (Google Drive, Baidu) that need a
browser, so for them this prints instructions. Offline, nothing touches the network.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import zipfile
from pathlib import Path


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
