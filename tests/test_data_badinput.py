"""A generated corpus of bad and awkward inputs through `bench run`: each bad file gives exactly one
error record naming it; each awkward-but-valid file is converted as bench/imageio.py documents
(checked against an independently made RGB twin), and the good pairs are evaluated normally."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from bench.cli import main as bench_main


def _rgb(h=48, w=64, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x * 255 / w, y * 255 / h, (x + y) * 127 / (w + h)], axis=2)
    return np.clip(base + rng.normal(0, 20, (h, w, 3)), 0, 255).astype(np.uint8)


def _png(arr_or_im, path: Path, **kw) -> None:
    im = arr_or_im if isinstance(arr_or_im, Image.Image) else Image.fromarray(arr_or_im)
    im.save(path, **kw)


def make_corpus(root: Path) -> dict[str, str]:
    """Writes rain/ + norain/ under ``root``. Returns {rainy file name: expected outcome}, outcome =
    "error:<words the message must contain>" or "ok:<minimum psnr_y>"."""
    rain, clean = root / "rain", root / "norain"
    rain.mkdir(parents=True)
    clean.mkdir()
    expect: dict[str, str] = {}

    def pair(name, rainy_img, clean_arr, outcome, **save_kw):
        _png(rainy_img, rain / name, **save_kw)
        _png(clean_arr, clean / (Path(name).stem + ".png"))
        expect[name] = outcome

    # good pairs: rainy = clean + noise, evaluated normally (PSNR well below the 100 dB cap)
    for i in (1, 2):
        c = _rgb(seed=i)
        noisy = np.clip(c.astype(int) + np.random.default_rng(10 + i).integers(-30, 30, c.shape), 0, 255)
        pair(f"good{i}.png", noisy.astype(np.uint8), c, "ok:10")
    # 1 grayscale (L) -> replicated to RGB: identical to its RGB twin
    g = _rgb(seed=3)[..., 0]
    pair("gray.png", Image.fromarray(g, "L"), np.repeat(g[..., None], 3, 2), "ok:100")
    # 2 bilevel (mode 1) -> 0/255 RGB
    b = (_rgb(seed=4)[..., 0] > 128)
    pair("bilevel.png", Image.fromarray(b), np.repeat((b * 255).astype(np.uint8)[..., None], 3, 2), "ok:100")
    # 3 RGBA -> alpha dropped without compositing
    c = _rgb(seed=5)
    rgba = np.dstack([c, np.random.default_rng(5).integers(0, 256, c.shape[:2], dtype=np.uint8)])
    pair("rgba.png", Image.fromarray(rgba, "RGBA"), c, "ok:100")
    # 4 palette (P) -> its RGB colours
    pal = Image.fromarray(_rgb(seed=6)).quantize(64)
    pair("palette.png", pal, np.asarray(pal.convert("RGB")), "ok:100")
    # 5 16-bit grayscale PNG -> /257 rounded
    g8 = _rgb(seed=7)[..., 1]
    pair("gray16.png", Image.fromarray(g8.astype(np.uint16) * 257), np.repeat(g8[..., None], 3, 2), "ok:100")
    # 6 16-bit RGB PNG (written by OpenCV, which takes BGR: we hand it BGR explicitly)
    import cv2

    c = _rgb(seed=8)
    cv2.imwrite(str(rain / "rgb16.png"), (c.astype(np.uint16) * 257)[..., ::-1].copy())
    _png(c, clean / "rgb16.png")
    expect["rgb16.png"] = "ok:100"
    # 7 CMYK JPEG -> RGB (JPEG is lossy: close, not identical; an inverted or channel-swapped read fails)
    c = _rgb(seed=9)
    pair("cmyk.jpg", Image.fromarray(c).convert("CMYK"), c, "ok:28", quality=95)
    # 8 EXIF-rotated JPEG: pixels stored turned 90 degrees, orientation tag 6 says rotate back
    c = _rgb(seed=11)
    stored = Image.fromarray(np.rot90(c, k=1).copy())  # counter-clockwise; tag 6 = rotate 90 CW to view
    exif = Image.Exif()
    exif[0x0112] = 6
    pair("exif.jpg", stored, c, "ok:28", quality=95, exif=exif.tobytes())
    # 9 truncated PNG, 10 truncated JPEG, 11 zero bytes, 12 text with an image name
    c = _rgb(seed=12)
    buf = io.BytesIO()
    Image.fromarray(c).save(buf, "PNG")
    (rain / "truncated.png").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    buf = io.BytesIO()
    Image.fromarray(c).save(buf, "JPEG")
    (rain / "truncated_jpg.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    (rain / "zero.png").write_bytes(b"")
    (rain / "notimage.png").write_text("this is a README saved with an image name\n")
    for n in ("truncated", "truncated_jpg", "zero", "notimage"):
        _png(c, clean / f"{n}.png")
    expect.update({"truncated.png": "error:damaged", "truncated_jpg.jpg": "error:damaged",
                   "zero.png": "error:zero-byte", "notimage.png": "error:not a readable image"})
    # 13 rainy/clean size mismatch
    pair("mismatch.png", _rgb(48, 64, 13), _rgb(40, 60, 13), "error:does not match")
    # 14 missing clean image
    _png(_rgb(seed=14), rain / "orphan.png")
    expect["orphan.png"] = "error:no ground-truth twin"
    # 15 duplicate id: dup.jpg and dup.png both claim id "dup"; the first by name (dup.jpg) is
    # evaluated, the second is an error record of its own (id = its file name)
    c = _rgb(seed=15)
    pair("dup.jpg", c, c, "ok:28", quality=95)
    _png(c, rain / "dup.png")
    expect["dup.png"] = "error:duplicate image id"
    # 16 damaged ground truth: the error names the clean file
    _png(_rgb(seed=16), rain / "badclean.png")
    (clean / "badclean.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    expect["badclean.png"] = "error:norain/badclean.png"
    # 17 very large image (81 megapixels; compresses to ~80 kB): refused before decoding
    Image.new("L", (9000, 9000)).save(rain / "huge.png", compress_level=9)
    _png(_rgb(seed=17), clean / "huge.png")
    expect["huge.png"] = "error:larger than"
    # a non-image file without an image suffix is not a sample at all
    (rain / "Thumbs.db").write_bytes(b"\0\1\2")
    return expect


def test_bad_input_corpus_through_bench_run(tmp_path):
    data = tmp_path / "data"
    expect = make_corpus(data / "corpus")
    out = tmp_path / "res"
    code = bench_main(["run", "--models", "rainy", "--measures", "psnr_y", "--tasks", "none",
                       "--datasets", f"folder:{data / 'corpus'}", "--data-root", str(data), "--out", str(out)])
    assert code == 1  # finished, and says that something failed
    per = pd.read_csv(out / "per_image.csv", dtype={"image_id": str})
    assert len(per) == len(expect), sorted(per.image_id)
    by_id = {r.image_id: r for r in per.itertuples()}
    for name, outcome in expect.items():
        sid = name if name == "dup.png" else Path(name).stem
        row = by_id[sid]
        kind, _, detail = outcome.partition(":")
        if kind == "error":
            assert isinstance(row.error, str) and name in row.error and detail in row.error, (name, row.error)
            assert pd.isna(row.psnr_y), name
        else:
            assert pd.isna(row.error), (name, row.error)
            assert row.psnr_y >= float(detail), (name, row.psnr_y)
    good = per[per.image_id.isin(["good1", "good2"])].psnr_y
    assert good.between(10, 40).all()  # genuinely evaluated, not capped
    assert sum(1 for o in expect.values() if o.startswith("error")) == per.error.notna().sum() == 9


def test_verify_reports_the_corpus_problems(tmp_path):
    from bench.data import resolve_dataset
    from bench.data.verify import verify

    expect = make_corpus(tmp_path / "corpus")
    rep = verify(resolve_dataset(f"folder:{tmp_path / 'corpus'}"))
    assert not rep.ok
    text = "\n".join(rep.problems)
    for name, outcome in expect.items():
        if outcome.startswith("error"):
            assert name in text, name
