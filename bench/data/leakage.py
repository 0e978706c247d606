"""Find test images inside a training set: `bench data leakage TRAIN --against TEST...`.

A training image "leaks" a test image when it shows the same photograph, whatever was done to it:
rotated or flipped (the 8 dihedral transforms), rain rendered on it, hazed, re-encoded, or cropped.

How (all on grey, downscaled copies, so a whole set costs a second once thumbnails are cached):
1. whole-image match: a 48×48 thumbnail (area-averaged, blurred a little so rain streaks average
   out), zero-mean and unit-norm: its dot product is the Pearson correlation, invariant to the
   brightness/contrast change a haze veil makes. The test thumbnail is tried in its 8 dihedral
   transforms; a 64-bit perceptual hash (DCT of a 32×32 thumbnail, signs against the median) of
   each transform is compared too. Match: correlation ≥ ``CORR_MATCH``, or correlation ≥
   ``CORR_WITH_HASH`` with Hamming distance ≤ ``HASH_MATCH``. When the hashes disagree
   (distance > ``HASH_MATCH``), the high-pass detail of the two 1/4-scale images must also
   correlate ≥ ``WHOLE_DETAIL_MIN``: Rain100H's rain-covered backgrounds reach 0.24 or more,
   while an unrelated photo with the same bright-sky-over-dark-ground layout (Internet-Data
   125.jpg against norain-45, thumbnail correlation 0.91) scores −0.005.
2. crops: when one image is smaller than the other (in a dihedral orientation) by at least
   ``CROP_MIN_SHRINK`` on a side, the smaller one is searched inside the larger, both at 1/``CROP_SCALE``
   scale, by normalised cross-correlation (cv2.matchTemplate TM_CCOEFF_NORMED); match: peak ≥
   ``NCC_MATCH``, confirmed by the NCC of both images' high-pass detail (image minus a σ 2 blur)
   at that spot ≥ ``DETAIL_NCC_MATCH``. The confirmation is needed because plain NCC ignores
   brightness and contrast: a smooth sky or fog gradient reaches 0.86–0.92 inside an unrelated
   large photo (Internet-Data against Rain100H backgrounds), while its detail correlates ≤ 0.4; a
   true crop keeps both (0.996 / 0.94). Crops of rescaled copies are only caught when the
   whole-image thumbnail matches.

Thresholds were set on BSDS500 against Rain100H (clean and rainy): every one of the 100 test
backgrounds found, none of BSDS500 test/ (tests/test_train_leakage.py checks both).
Signatures are cached per image list under ``<cache>/leakage/`` (key: paths, sizes, mtimes).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import cv2
import numpy as np

SIGNATURE_VERSION = 1
THUMB = 48
HASH_SIDE = 32
CROP_SCALE = 4            # crop search at 1/4 scale
CROP_MIN_SHRINK = 0.9     # a side at most 90 % of the other image's counts as a crop
CROP_MIN_SIDE = 16        # smallest crop searched: 16 px at 1/4 scale (64 px); smaller ones match anything
CORR_MATCH = 0.90
CORR_WITH_HASH = 0.75
HASH_MATCH = 12
NCC_MATCH = 0.85
DETAIL_NCC_MATCH = 0.6
WHOLE_DETAIL_MIN = 0.15  # whole match with a disagreeing hash: detail must correlate this much
DETAIL_SIGMA = 2.0        # high-pass = image − Gaussian blur (σ in px at 1/CROP_SCALE scale)
DIHEDRAL = ("identity", "rot90", "rot180", "rot270", "flipH", "flipH+rot90", "flipH+rot180", "flipH+rot270")


def dihedral(a: np.ndarray, k: int) -> np.ndarray:
    """Transform k of DIHEDRAL on the two leading axes."""
    if k >= 4:
        a = a[:, ::-1]
    return np.ascontiguousarray(np.rot90(a, k % 4))


def _grey(path: Path) -> np.ndarray:
    from bench.imageio import read_rgb

    rgb = read_rgb(path).astype(np.float32) / 255.0
    return rgb @ np.array([0.299, 0.587, 0.114], np.float32)


def _normalise(v: np.ndarray) -> np.ndarray:
    v = v.astype(np.float64).ravel()
    v = v - v.mean()
    n = np.linalg.norm(v)
    return (v / n if n > 1e-9 else v).astype(np.float32)


def _phash(thumb32: np.ndarray) -> np.ndarray:
    d = cv2.dct(thumb32.astype(np.float32))[:8, :8].ravel()[1:]
    return d > np.median(d)


@dataclass
class Signatures:
    """Per image: its path, size, square thumbnail, 8 hashes (one per transform), small grey copy."""

    paths: list[Path]
    sizes: np.ndarray            # N×2 (h, w)
    thumbs: np.ndarray           # N×THUMB² normalised
    hashes: np.ndarray           # N×8×63 bool (hash of each dihedral transform)
    small: list[np.ndarray] = field(default_factory=list)


def _signature(path: Path) -> tuple[tuple[int, int], np.ndarray, np.ndarray, np.ndarray]:
    g = _grey(path)
    h, w = g.shape
    t = cv2.resize(g, (THUMB * 2, THUMB * 2), interpolation=cv2.INTER_AREA)
    t = cv2.resize(cv2.GaussianBlur(t, (3, 3), 0.8), (THUMB, THUMB), interpolation=cv2.INTER_AREA)
    t32 = cv2.resize(g, (HASH_SIDE, HASH_SIDE), interpolation=cv2.INTER_AREA)
    hashes = np.stack([_phash(dihedral(t32, k)) for k in range(8)])
    small = cv2.resize(g, (max(8, w // CROP_SCALE), max(8, h // CROP_SCALE)), interpolation=cv2.INTER_AREA)
    return (h, w), _normalise(t), hashes, small


def signatures(paths: Sequence[Path], cache_dir: Path | None = None) -> Signatures:
    paths = [Path(p) for p in paths]
    key = hashlib.sha256(json.dumps([SIGNATURE_VERSION] + [
        (str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns) for p in paths]).encode()).hexdigest()[:24]
    cache = Path(cache_dir) / "leakage" / f"{key}.npz" if cache_dir else None
    if cache is not None and cache.is_file():
        z = np.load(cache, allow_pickle=False)
        small = [z[f"s{i}"] for i in range(len(paths))]
        return Signatures(paths, z["sizes"], z["thumbs"], z["hashes"], small)
    rows = [_signature(p) for p in paths]
    sig = Signatures(paths, np.array([r[0] for r in rows], np.int64).reshape(-1, 2),
                     np.stack([r[1] for r in rows]) if rows else np.zeros((0, THUMB * THUMB), np.float32),
                     np.stack([r[2] for r in rows]) if rows else np.zeros((0, 8, 63), bool), [r[3] for r in rows])
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".part.npz")
        np.savez(tmp, sizes=sig.sizes, thumbs=sig.thumbs, hashes=sig.hashes,
                 **{f"s{i}": s for i, s in enumerate(sig.small)})
        tmp.replace(cache)
    return sig


def _crop_ncc(small_a: np.ndarray, small_b: np.ndarray) -> tuple[float, int]:
    """Best normalised cross-correlation of the smaller image (any dihedral transform) inside the
    larger one, when one fits in the other with a side shrunk by CROP_MIN_SHRINK; (peak, transform)."""
    best, best_k = -1.0, -1
    for k in range(8):
        t = dihedral(small_a, k)
        for tpl, img in ((t, small_b), (small_b, t)):
            th, tw = tpl.shape
            ih, iw = img.shape
            if th > ih or tw > iw or min(th, tw) < CROP_MIN_SIDE or (th > CROP_MIN_SHRINK * ih and tw > CROP_MIN_SHRINK * iw):
                continue
            if float(tpl.std()) < 1e-3:
                continue
            ncc = cv2.matchTemplate(img, tpl, cv2.TM_CCOEFF_NORMED)
            _, peak, _, (x, y) = cv2.minMaxLoc(ncc)
            if peak >= NCC_MATCH and _detail_ncc(img, tpl, x, y) < DETAIL_NCC_MATCH:
                continue   # same shading, unrelated detail (a smooth sky or fog gradient)
            if peak > best:
                best, best_k = peak, k
    return best, best_k


def _whole_detail_ncc(small_train: np.ndarray, small_test: np.ndarray, k: int) -> float:
    """High-pass NCC of two whole images, the test one in transform k, at one size."""
    b = dihedral(small_test, k)
    b = cv2.resize(b, (small_train.shape[1], small_train.shape[0]), interpolation=cv2.INTER_AREA)
    return float(cv2.matchTemplate(_detail(small_train), _detail(b), cv2.TM_CCOEFF_NORMED)[0, 0])


def _detail(g: np.ndarray) -> np.ndarray:
    return g - cv2.GaussianBlur(g, (0, 0), DETAIL_SIGMA)


def _detail_ncc(img: np.ndarray, tpl: np.ndarray, x: int, y: int) -> float:
    """High-pass NCC of the template placed at (x, y) ±1 px in img."""
    th, tw = tpl.shape
    y0, x0 = max(0, y - 1), max(0, x - 1)
    window = img[y0:min(img.shape[0], y + th + 1), x0:min(img.shape[1], x + tw + 1)]
    return float(cv2.matchTemplate(_detail(window), _detail(tpl), cv2.TM_CCOEFF_NORMED).max())


def find_leaks(train: Signatures, test: Signatures, crops: bool = True) -> list[dict]:
    """One record per (train image, test image) that match: both paths, how (transform), score."""
    found: list[dict] = []
    if not len(train.paths) or not len(test.paths):
        return found
    # test thumbnails in all 8 transforms: (8·M)×D; correlations with every train image.
    tt = np.stack([np.stack([dihedral(t.reshape(THUMB, THUMB), k).ravel() for k in range(8)]) for t in test.thumbs])
    corr = train.thumbs @ tt.reshape(-1, THUMB * THUMB).T                  # N × (M·8)
    corr = corr.reshape(len(train.paths), len(test.paths), 8)
    # Hamming distance between train identity-hash and test hash of transform k.
    ham = (train.hashes[:, None, None, 0, :] != test.hashes[None, :, :, :]).sum(-1)   # N×M×8
    for i in range(len(train.paths)):
        ok = (corr[i] >= CORR_MATCH) | ((corr[i] >= CORR_WITH_HASH) & (ham[i] <= HASH_MATCH))
        if ok.any():   # every test image this training image shows, in its best transform
            for j in np.flatnonzero(ok.any(axis=1)):
                k = int(np.argmax(np.where(ok[j], corr[i, j], -2)))
                if ham[i, j, k] > HASH_MATCH and _whole_detail_ncc(train.small[i], test.small[j], k) < WHOLE_DETAIL_MIN:
                    continue   # layout alike (bright sky over dark ground), detail unrelated
                found.append({"train": str(train.paths[i]), "test": str(test.paths[j]), "how": f"whole/{DIHEDRAL[k]}",
                              "corr": round(float(corr[i, j, k]), 4), "hamming": int(ham[i, j, k])})
            continue
        if not crops:
            continue
        th, tw = train.sizes[i]
        for j in range(len(test.paths)):
            sh, sw = test.sizes[j]
            if (th, tw) in ((sh, sw), (sw, sh)):
                continue     # same size: whole-image matching covers it
            peak, k = _crop_ncc(train.small[i], test.small[j])
            if peak >= NCC_MATCH:
                found.append({"train": str(train.paths[i]), "test": str(test.paths[j]),
                              "how": f"crop/{DIHEDRAL[k]}", "ncc": round(peak, 4)})
    return found


def dataset_images(ds, which: str = "auto") -> list[Path]:
    """The images of a located Dataset to compare: clean ones where it has ground truth (the
    backgrounds), else the rainy ones; ``which`` = clean | rainy | both forces a choice."""
    out: list[Path] = []
    for s in ds.samples():
        if s.error:
            continue
        if which in ("clean", "both") or (which == "auto" and s.clean is not None):
            if s.clean is not None:
                out.append(Path(s.clean))
        if which in ("rainy", "both") or (which == "auto" and s.clean is None):
            out.append(Path(s.rainy))
    return out


def image_files(root: Path) -> list[Path]:
    from bench.imageio import IMAGE_SUFFIXES

    return sorted(p for p in Path(root).rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def leakage_report(train_paths: Iterable[Path], against: dict[str, list[Path]], cache_dir: Path | None,
                   crops: bool = True) -> dict:
    """{"against": {name: {"images": M, "leaks": [...]}}, "leaked_train": sorted train paths, params}."""
    train = signatures(list(train_paths), cache_dir)
    rep = {"method": {"version": SIGNATURE_VERSION, "thumb": THUMB, "corr_match": CORR_MATCH,
                      "corr_with_hash": CORR_WITH_HASH, "hash_match": HASH_MATCH, "ncc_match": NCC_MATCH,
                      "detail_ncc_match": DETAIL_NCC_MATCH, "whole_detail_min": WHOLE_DETAIL_MIN,
                      "crop_scale": CROP_SCALE, "crops": crops},
           "train_images": len(train.paths), "against": {}}
    leaked: set[str] = set()
    for name, paths in against.items():
        leaks = find_leaks(train, signatures(paths, cache_dir), crops=crops)
        rep["against"][name] = {"images": len(paths), "leaks": leaks,
                                "test_images_found": len({lk["test"] for lk in leaks})}
        leaked.update(lk["train"] for lk in leaks)
    rep["leaked_train"] = sorted(leaked)
    return rep


def format_report(rep: dict, show: int = 10) -> str:
    lines = [f"{rep['train_images']} training images checked"]
    for name, r in rep["against"].items():
        lines.append(f"against {name} ({r['images']} images): {len({lk['train'] for lk in r['leaks']})} training "
                     f"images show {r['test_images_found']} of its images")
        for lk in r["leaks"][:show]:
            score = f"corr {lk['corr']}" if "corr" in lk else f"ncc {lk['ncc']}"
            lines.append(f"  {lk['train']}  ==  {lk['test']}  ({lk['how']}, {score})")
        if len(r["leaks"]) > show:
            lines.append(f"  ... and {len(r['leaks']) - show} more")
    lines.append(f"leaked training images: {len(rep['leaked_train'])}")
    return "\n".join(lines)


def _images_of(spec: str, ctx) -> list[Path]:
    """A dataset name / folder:<path> (clean images where paired), or any folder of images."""
    from bench.data import resolve_dataset

    p = Path(spec).expanduser()
    if p.is_dir():
        try:
            return dataset_images(resolve_dataset(f"folder:{p}", ctx))
        except LookupError:
            return image_files(p)
    return dataset_images(resolve_dataset(spec, ctx))


def write_csv(rep: dict, path: Path) -> int:
    """Every match (not only the first few the terminal shows), one row each; returns the row count."""
    import csv

    rows = [{"against": name, "train": lk["train"], "test": lk["test"], "how": lk["how"],
             "score_kind": "corr" if "corr" in lk else "ncc", "score": lk.get("corr", lk.get("ncc"))}
            for name, r in rep["against"].items() for lk in r["leaks"]]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["against", "train", "test", "how", "score_kind", "score"])
        w.writeheader()
        w.writerows(rows)
    return len(rows)


def cli_leakage(train: str, against: list[str], ctx, csv_path: Path | None = None) -> int:
    """`bench data leakage`: print the report (and every match to ``csv_path``); exit 1 when anything leaks."""
    import sys

    try:
        paths = _images_of(train, ctx)
        tests = {name: _images_of(name, ctx) for name in against}
    except LookupError as e:
        print(f"bench data leakage: {e}", file=sys.stderr)
        return 2
    rep = leakage_report(paths, tests, Path(ctx.cache_dir))
    print(format_report(rep))
    if csv_path is not None:
        n = write_csv(rep, csv_path)
        print(f"{n} matches written to {csv_path}")
    return 1 if rep["leaked_train"] else 0
