"""Write bench/data/manifests/{test_assets,dataset_assets}.csv: every file the tests read from the
shared folder (and the rest of the fetchable datasets), with size, sha256 and a raw GitHub URL
pinned at a commit.

    python benchmarks/test_assets_manifest.py --shared ../shared --repos /path/to/mirrors/*/repo

--repos: bare or working git directories of the source repositories (owner+name/repo, as the
search tool's fetch writes them, or any folder whose `git remote get-url origin` names the repo).
A shared file is matched to a repository file by its git blob id (exact bytes), so a URL is only
written when that commit holds the very same file. Rain100L's rotated images are matched by their
pixels after rotating the source back (see bench/data/assets.py).
"""
from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.data.assets import (DATASET_ASSETS, DATASET_FOLDERS, TEST_ASSETS, Asset,  # noqa: E402
                               apply_transform, folders_read_by, manifest_text)

SHARED_FIXTURES = re.compile(r"\bshared(?:_data|_weights)?\b")
# where two repositories hold the same bytes, the one shared/README.md names as the source wins
PREFERRED = ("yuyi-sd/Robust_Rain_Removal", "wwzjer/Semi-supervised-IRR", "KaneWANG0816/RR", "BIDS/BSDS500",
             "lightly-ai/coco128_yolo", "csdwren/RecDerain", "chaofengc/IQA-PyTorch")
NO_PUBLIC_COPY = {
    "data/coco8/images/": "COCO8 images are only inside the release archive "
                          "https://github.com/ultralytics/assets/releases/download/v0.0.0/coco8.zip",
    "data/coco8/LICENSE": "only inside the release archive ultralytics/assets v0.0.0 coco8.zip",
    "data/cityscapes-sample/": "open-mmlab test data downscaled to 256x128 for shared/; no plain-file copy of these bytes",
    "data/iqa-calibration/official_values.csv": "compiled for shared/ from the published MATLAB values "
                                                "(chaofengc/IQA-PyTorch ResultsCalibra); no plain-file copy",
}


def blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def git(gitdir: Path, *args: str, text: bool = True):
    return subprocess.check_output(["git", "--git-dir", str(gitdir), *args], text=text)


def repo_index(repos: list[Path]) -> tuple[dict[str, list[tuple[str, str, str]]], dict[str, Path]]:
    """blob id -> [(owner/name, commit, path)], and owner/name -> git dir."""
    index: dict[str, list[tuple[str, str, str]]] = {}
    dirs = {}
    for d in repos:
        gitdir = d / ".git" if (d / ".git").is_dir() else d
        name = d.parent.name.replace("+", "/", 1) if "+" in d.parent.name else \
            git(gitdir, "remote", "get-url", "origin").strip().split("github.com/")[-1].removesuffix(".git")
        dirs[name] = gitdir
        head = git(gitdir, "rev-parse", "HEAD").strip()
        for line in git(gitdir, "ls-tree", "-r", "HEAD").splitlines():
            meta, path = line.split("\t", 1)
            index.setdefault(meta.split()[2], []).append((name, head, path))
    return index, dirs


def best(rel: str, candidates: list[tuple[str, str, str]]) -> tuple[str, str, str]:
    parts = {p.lower() for p in rel.split("/")}

    def score(c):
        shared_parts = sum(p in parts for p in c[2].lower().split("/"))
        return (-shared_parts, PREFERRED.index(c[0]) if c[0] in PREFERRED else len(PREFERRED), c[2])
    return min(candidates, key=score)


def raw_url(repo: str, commit: str, path: str) -> str:
    from urllib.parse import quote

    return f"https://raw.githubusercontent.com/{repo}/{commit}/{quote(path)}"


def rotated_source(path: Path, rel: str, by_name: dict[str, list[tuple[str, str, str]]], dirs, tmp: Path):
    """A Rain100L rainy image whose source is stored rotated: the same-named file in KaneWANG0816/RR."""
    import numpy as np
    from PIL import Image

    for repo, commit, src_path in by_name.get(Path(rel).name, []):
        if repo != "KaneWANG0816/RR" or "Rain100L" not in src_path:
            continue
        data = git(dirs[repo], "show", f"{commit}:{src_path}", text=False)
        src = tmp / "src.png"
        src.write_bytes(data)
        out = tmp / "out.png"
        apply_transform("rotate90", src, out)
        if np.array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(path))):
            return raw_url(repo, commit, src_path), hashlib.sha256(data).hexdigest(), \
                hashlib.sha256(out.read_bytes()).hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()
    return None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, required=True)
    ap.add_argument("--repos", type=Path, nargs="+", required=True)
    ap.add_argument("--tests", type=Path, default=Path(__file__).resolve().parents[1] / "tests")
    args = ap.parse_args(argv)

    shared = args.shared.resolve()
    files = sorted(p for top in ("data", "weights") for p in (shared / top).rglob("*")
                   if p.is_file() and not p.name.startswith("."))
    folders = sorted({"/".join(p.relative_to(shared).parts[:2]) for p in files})
    needed: set[str] = set()
    for t in sorted(args.tests.glob("test_*.py")):
        if SHARED_FIXTURES.search(t.read_text(encoding="utf-8")):
            named = folders_read_by(t, folders)
            print(f"{t.name}: {' '.join(sorted(named)) or '(names no folder: needs all)'}")
            needed |= named or set(folders)
    dataset_folders = {f"data/{f}" for f in DATASET_FOLDERS.values()}

    index, dirs = repo_index(args.repos)
    by_name: dict[str, list] = {}
    for cands in index.values():
        for c in cands:
            by_name.setdefault(Path(c[2]).name, []).append(c)
    tests, datasets = [], []
    tmp = Path(subprocess.check_output(["mktemp", "-d"], text=True).strip())
    for p in files:
        rel = p.relative_to(shared).as_posix()
        folder = "/".join(rel.split("/")[:2])
        if folder not in needed and folder not in dataset_folders:
            continue
        data = p.read_bytes()
        row = dict(path=rel, size=len(data), sha256=hashlib.sha256(data).hexdigest())
        cands = index.get(blob_id(data))
        if cands:
            repo, commit, path = best(rel, cands)
            row["url"] = raw_url(repo, commit, path)
        elif rel.startswith("data/rain100l/") and (found := rotated_source(p, rel, by_name, dirs, tmp)):
            row["url"], row["source_sha256"], same_bytes = found
            row["transform"] = "rotate90"
            row["note"] = "stored rotated to landscape in the source repository; rotated back losslessly" + \
                ("" if same_bytes else " (re-encoded bytes differ here)")
        else:
            row["note"] = next((why for prefix, why in NO_PUBLIC_COPY.items() if rel.startswith(prefix)),
                               "no public plain-file copy found in the given repositories")
        (tests if folder in needed else datasets).append(Asset(**row))
    TEST_ASSETS.write_text(manifest_text(tests), encoding="utf-8")
    DATASET_ASSETS.write_text(manifest_text(datasets), encoding="utf-8")
    for name, rows in (("test", tests), ("dataset", datasets)):
        print(f"{name} assets: {len(rows)} files, {sum(a.size for a in rows) / 1e6:.1f} MB, "
              f"{sum(not a.url for a in rows)} without a public URL")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
