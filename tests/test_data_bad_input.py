"""A generated corpus of bad input: each bad file gives one per-image error (Sample.error at listing,
ImageError from load_pair), each convertible file gives the documented conversion, the rest is fine."""
import io

import numpy as np
import pytest
from PIL import Image

from bench.data import resolve_dataset
from bench.data.base import load_pair
from bench.imageio import MAX_PIXELS, ImageError

RNG = np.random.default_rng(0)
GOOD = RNG.integers(0, 256, (24, 32, 3), dtype=np.uint8)
yy, xx = np.mgrid[0:24, 0:32]
SMOOTH = np.dstack([xx * 8, yy * 10, 255 - xx * 4]).astype(np.uint8)   # JPEG cases: smooth, so lossy is close
WIDE16 = np.minimum(GOOD.astype(np.int64) * 257 + 100, 65535)           # 16-bit values just above v*257


def _png(arr, mode=None):
    buf = io.BytesIO()
    Image.fromarray(arr, mode).save(buf, "PNG") if mode else Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def _cmyk_jpeg():
    buf = io.BytesIO()
    Image.fromarray(SMOOTH).convert("CMYK").save(buf, "JPEG", quality=100)
    return buf.getvalue()


def _exif_rotated():
    im = Image.fromarray(SMOOTH)        # stored 32 wide x 24 high; orientation 6 = rotate 90° clockwise to view
    exif = im.getexif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=100, exif=exif)
    return buf.getvalue()


def _png16_rgb():
    import cv2
    a = WIDE16.astype(np.uint16)
    ok, enc = cv2.imencode(".png", np.ascontiguousarray(a[..., ::-1]))   # OpenCV wants BGR
    return enc.tobytes()


def _png16_gray():
    buf = io.BytesIO()
    Image.fromarray(np.full((24, 32), 40000, np.uint16)).save(buf, "PNG")
    return buf.getvalue()


def _huge():
    side = int(MAX_PIXELS ** 0.5) + 100             # header says > MAX_PIXELS; never decoded
    buf = io.BytesIO()
    Image.new("1", (side, side)).save(buf, "PNG")
    return buf.getvalue()


palette = Image.fromarray(GOOD).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
PALETTE_RGB = np.asarray(palette.convert("RGB"))
pbuf = io.BytesIO()
palette.save(pbuf, "PNG")
rgba = np.dstack([GOOD, np.full(GOOD.shape[:2], 7, np.uint8)])

# id -> (rainy file name, rainy bytes, clean bytes or None for "no twin", expected error words or None)
BAD = {
    "truncated": ("truncated.png", _png(GOOD)[:300], _png(GOOD), "damaged"),
    "truncjpg": ("truncjpg.jpg", _cmyk_jpeg()[:400], _png(GOOD), "damaged"),
    "zerobyte": ("zerobyte.png", b"", _png(GOOD), "zero-byte"),
    "notimage": ("notimage.png", b"<html>404 Not Found</html>\n" * 20, _png(GOOD), "not a readable image"),
    "mismatch": ("mismatch.png", _png(GOOD), _png(GOOD[:20, :30]), "32x24 but its ground truth"),
    "noclean": ("noclean.png", _png(GOOD), None, "no ground-truth twin"),
    "huge": ("huge.png", _huge(), _png(GOOD), "larger than"),
    "badclean": ("badclean.png", _png(GOOD), b"\x89PNG\r\n\x1a\n garbage", "damaged"),
}
DUPLICATE = ("dup.png", "dup.jpg")    # two rainy files with the same id: the second is the error
CONVERTED = {   # id -> (rainy bytes, expected RGB array after the documented conversion)
    "gray": (_png(GOOD[..., 0], "L"), np.repeat(GOOD[..., :1], 3, axis=2)),
    "rgba": (_png(rgba, "RGBA"), GOOD),                                     # alpha dropped
    "palette": (pbuf.getvalue(), PALETTE_RGB),                              # palette expanded
    "png16rgb": (_png16_rgb(), np.round(WIDE16 * 255 / 65535).astype(np.uint8)),
    "png16gray": (_png16_gray(), np.full((24, 32, 3), round(40000 * 255 / 65535), np.uint8)),
    "cmyk": (_cmyk_jpeg(), SMOOTH),                                           # CMYK -> RGB (JPEG-lossy)
    "exif": (_exif_rotated(), np.rot90(SMOOTH, k=-1)),                        # orientation applied
    "upper": (_png(GOOD), GOOD),                                            # saved as UPPER.PNG
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    (root / "input").mkdir()
    (root / "target").mkdir()
    for sid, (name, rainy, clean, _) in BAD.items():
        (root / "input" / name).write_bytes(rainy)
        if clean is not None:
            (root / "target" / f"{sid}.png").write_bytes(clean)
    for name in DUPLICATE:
        (root / "input" / name).write_bytes(_png(GOOD))
    (root / "target" / "dup.png").write_bytes(_png(GOOD))
    for sid, (rainy, _) in CONVERTED.items():
        name = "upper.PNG" if sid == "upper" else f"{sid}.{'jpg' if sid in ('cmyk', 'exif') else 'png'}"
        (root / "input" / name).write_bytes(rainy)
        (root / "target" / f"{sid}.png").write_bytes(_png(np.ascontiguousarray(CONVERTED[sid][1])))
    for i in range(3):
        (root / "input" / f"fine{i}.png").write_bytes(_png(GOOD))
        (root / "target" / f"fine{i}.png").write_bytes(_png(GOOD))
    (root / "input" / "notes.txt").write_text("not an image: ignored")       # sidecar files are skipped
    (root / "input" / "fine0.pt").write_bytes(b"tensor")
    return root


def _records(root):
    records = {}
    for s in resolve_dataset(f"folder:{root}").samples():
        key = s.rainy.name
        try:
            rainy, clean = load_pair(s)
            records[key] = ("ok", rainy, clean)
        except ImageError as e:
            records[key] = ("error", str(e), None)
    return records


def test_one_error_record_per_bad_file_and_the_rest_is_fine(corpus):
    records = _records(corpus)
    kinds = len(BAD) + 1 + len(CONVERTED)
    assert kinds >= 12
    errors = {k for k, r in records.items() if r[0] == "error"}
    assert errors == {name for name, *_ in BAD.values()} | {"dup.png"}   # natural order lists dup.jpg first
    for sid, (name, _, clean, words) in BAD.items():
        msg = records[name][1]
        assert words in msg, (name, msg)
        assert name in msg or f"{sid}.png" in msg, msg              # the message names the file
    ok = {k for k, r in records.items() if r[0] == "ok"}
    assert {"fine0.png", "fine1.png", "fine2.png", "upper.PNG"} <= ok
    assert "notes.txt" not in records and "fine0.pt" not in records
    assert len(records) == len(BAD) + 2 + len(CONVERTED) + 3


def test_duplicate_id_names_both_files(corpus):
    records = _records(corpus)
    dup = [r for k, r in records.items() if k.startswith("dup") and r[0] == "error"]
    assert len(dup) == 1 and "duplicate image id 'dup'" in dup[0][1] and "dup.jpg" in dup[0][1] \
        and "dup.png" in dup[0][1]


@pytest.mark.parametrize("sid", sorted(CONVERTED))
def test_documented_conversions(corpus, sid):
    name = "upper.PNG" if sid == "upper" else f"{sid}.{'jpg' if sid in ('cmyk', 'exif') else 'png'}"
    status, rainy, clean = _records(corpus)[name]
    assert status == "ok" and rainy.dtype == np.uint8 and rainy.shape[2] == 3
    expected = CONVERTED[sid][1]
    assert rainy.shape == expected.shape
    diff = np.abs(rainy.astype(int) - expected.astype(int))
    if sid in ("cmyk", "exif"):             # JPEG is lossy; a wrong conversion or rotation is far off
        assert diff.mean() < 3 and diff.max() < 40, (diff.mean(), diff.max())
    else:
        assert diff.max() == 0
