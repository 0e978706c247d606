"""16-bit colour PNGs round to 8 bit (PIL alone keeps the high byte: truncation), and images past
PIL's decompression-bomb limit give an ImageError that names the file."""
import cv2
import numpy as np
import pytest
from PIL import Image

from bench.imageio import ImageError, read_rgb


@pytest.mark.parametrize("channels", [3, 4])
def test_rgb16_png_rounds_instead_of_truncating(tmp_path, channels):
    rng = np.random.default_rng(1)
    v16 = rng.integers(0, 65536, (5, 7, channels), dtype=np.uint16)
    v16[0, 0, :3] = (1999, 128, 65535)   # 1999/257 = 7.78: rounding gives 8, the high byte gives 7
    path = tmp_path / "rgb16.png"
    bgr = v16[..., [2, 1, 0] + ([3] if channels == 4 else [])]     # OpenCV writes BGR(A)
    assert cv2.imwrite(str(path), np.ascontiguousarray(bgr))
    out = read_rgb(path)
    expected = np.round(v16[..., :3].astype(np.float64) * 255 / 65535).astype(np.uint8)
    assert out.dtype == np.uint8 and out.shape == (5, 7, 3)
    assert np.array_equal(out, expected)
    assert tuple(out[0, 0]) == (8, 0, 255)
    assert not np.array_equal(np.asarray(Image.open(path).convert("RGB")), expected)   # what PIL alone gives


def test_decompression_bomb_is_an_image_error(tmp_path):
    path = tmp_path / "bomb.png"
    Image.new("1", (14000, 14000)).save(path)          # 196 MP: beyond PIL's 2x89 MP error threshold
    with pytest.raises(ImageError, match="bomb.png"):
        read_rgb(path)
