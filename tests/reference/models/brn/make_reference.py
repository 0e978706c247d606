"""Reference outputs of the OFFICIAL BRN (csdwren/RecDerain ``generator.py`` class ``BRN``) on
the Rain100H checkpoint, for tests/test_models_recurrent.py. Not run in CI; nothing from this repository
is imported.

    git -C <mirror of csdwren/RecDerain> archive HEAD generator.py | tar -x -C /tmp/official-RecDerain
    python tests/reference/models/brn/make_reference.py --official /tmp/official-RecDerain --shared ../shared

As test_BRN.py: ``BRN(opt.inter_iter=8, use_GPU)``, the ``module.`` prefix removed with
``k[7:]``; cv2.imread -> cv2.merge([r, g, b]) -> float32 / 255 -> NCHW;
``out, _, _, _ = model(x)``; ``torch.clamp(out, 0, 1)`` saved as float32 (before
np.uint8(255 * out)). Also saved for the odd crop: the rain layer ``r`` (third output,
unclamped), which the derainer does not return but ``BRN.layers`` does.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
from collections import OrderedDict
from pathlib import Path

import cv2
import numpy as np
import torch

IMAGE = "rain100h/rain/norain-1.png"
CROPS = {"96x128": (100, 150, 96, 128), "57x83": (7, 201, 57, 83)}   # (top, left, height, width)
COMMIT = "5b2ad01d41d3b0cd251d0b4033071b796f234cac"
CKPT = "brn/Rain100H/net_latest.pth"
OUT = Path(__file__).resolve().parent


def official_input(path: Path, crop) -> np.ndarray:
    y = cv2.imread(str(path))
    b, g, r = cv2.split(y)
    y = cv2.merge([r, g, b])
    t, l, h, w = crop
    return np.ascontiguousarray(y[t:t + h, l:l + w])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--official", type=Path, required=True)
    ap.add_argument("--shared", type=Path, required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    spec = importlib.util.spec_from_file_location("official_recderain_generator", a.official / "generator.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    model = gen.BRN(8, False)
    state = torch.load(a.shared / "weights" / CKPT, map_location="cpu")
    model.load_state_dict(OrderedDict((k[7:], v) for k, v in state.items()))
    model.eval()
    meta = {"official": "csdwren/RecDerain generator.py BRN (inter_iter 8)", "official_commit": COMMIT,
            "checkpoint": CKPT, "image": IMAGE, "crops": {k: list(v) for k, v in CROPS.items()},
            "torch": torch.__version__, "outputs": {}}
    for name, crop in CROPS.items():
        rgb = official_input(a.shared / "data" / IMAGE, crop)
        x = torch.Tensor(np.expand_dims((np.float32(rgb) / 255.).transpose(2, 0, 1), 0))
        with torch.no_grad():
            out, _, rain, _ = model(x)
            out = torch.clamp(out, 0., 1.)
        files = {f"Rain100H_{name}": out}
        if name == "57x83":
            files[f"Rain100H-rain-layer_{name}"] = rain
        for stem, t in files.items():
            arr = t.numpy()[0].astype(np.float32)
            np.save(OUT / f"{stem}.npy", arr)
            meta["outputs"][stem] = {"file": f"{stem}.npy", "crop": name, "mean": float(arr.mean()),
                                     "input_md5": hashlib.md5(rgb.tobytes()).hexdigest()}
    (OUT / "reference.json").write_text(json.dumps(meta, indent=1) + "\n")


if __name__ == "__main__":
    main()
