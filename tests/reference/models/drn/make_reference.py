"""Reference outputs of the OFFICIAL DRN (csdwren/DRN ``network.py`` class ``DRN``, inter 7 /
intra 7) on both checkpoints, for tests/test_models_recurrent.py. Not run in CI; nothing from this
repository is imported.

    git -C <mirror of csdwren/DRN> archive HEAD network.py | tar -x -C /tmp/official-DRN
    python tests/reference/models/drn/make_reference.py --official /tmp/official-DRN --shared ../shared

As test_Rain100H.py / test_Rain100L.py: ``DRN(channel=3, inter_iter=7, intra_iter=7)``;
cv2.imread -> cv2.merge([r, g, b]) -> float32 / 255 -> NCHW; ``out, _ = model(x)``;
``torch.clamp(out, 0, 1)`` saved as float32 (before np.uint8(255 * out)). Rain100H on both
crops, Rain100L on the odd crop.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
from pathlib import Path

import cv2
import numpy as np
import torch

IMAGE = "rain100h/rain/norain-1.png"
CROPS = {"96x128": (100, 150, 96, 128), "57x83": (7, 201, 57, 83)}   # (top, left, height, width)
COMMIT = "9f2bf507891f5c45127e514085b59545390c153c"
OUT = Path(__file__).resolve().parent
RUNS = [("Rain100H", "drn/Rain100H/net_latest.pth", ("96x128", "57x83")),
        ("Rain100L", "drn/Rain100L/net_latest.pth", ("57x83",))]


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
    spec = importlib.util.spec_from_file_location("official_drn_network", a.official / "network.py")
    net_mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(net_mod)
    meta = {"official": "csdwren/DRN network.py DRN (inter 7, intra 7)", "official_commit": COMMIT,
            "image": IMAGE, "crops": {k: list(v) for k, v in CROPS.items()}, "torch": torch.__version__,
            "outputs": {}}
    for variant, ckpt, crops in RUNS:
        model = net_mod.DRN(channel=3, inter_iter=7, intra_iter=7, use_GPU=False)
        model.load_state_dict(torch.load(a.shared / "weights" / ckpt, map_location="cpu"))
        model.eval()
        for name in crops:
            rgb = official_input(a.shared / "data" / IMAGE, CROPS[name])
            x = torch.Tensor(np.expand_dims((np.float32(rgb) / 255.).transpose(2, 0, 1), 0))
            with torch.no_grad():
                out, _ = model(x)
                out = torch.clamp(out, 0., 1.)
            arr = out.numpy()[0].astype(np.float32)
            np.save(OUT / f"{variant}_{name}.npy", arr)
            meta["outputs"][f"{variant}_{name}"] = {"file": f"{variant}_{name}.npy", "checkpoint": ckpt, "crop": name,
                                                   "input_md5": hashlib.md5(rgb.tobytes()).hexdigest(),
                                                   "mean": float(arr.mean())}
    (OUT / "reference.json").write_text(json.dumps(meta, indent=1) + "\n")


if __name__ == "__main__":
    main()
