"""Reference outputs of the OFFICIAL PReNet_r, PRN and PRN_r (csdwren/PReNet networks.py) on
their Rain100H checkpoints, for tests/test_models_recurrent.py. Not run in CI; nothing from this repository
is imported.

    git -C <mirror of csdwren/PReNet> archive HEAD networks.py utils.py | tar -x -C /tmp/official-PReNet
    python tests/reference/models/prenet_r/make_reference.py --official /tmp/official-PReNet --shared ../shared

Preprocessing as test_PReNet_r.py / test_PRN.py / test_PRN_r.py: cv2.imread (BGR) ->
cv2.merge([r, g, b]) -> float32 / 255 -> NCHW; out, _ = model(y); torch.clamp(out, 0, 1).
The float output (before np.uint8(255 * out)) is saved as float32 to ../<method>/.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

IMAGE = "rain100h/rain/norain-1.png"
CROPS = {"96x128": (100, 150, 96, 128), "57x83": (7, 201, 57, 83)}   # (top, left, height, width)
COMMIT = "6d908d1e3c7ff5c26fee624112297ad1c8603ca7"   # csdwren/PReNet HEAD the copy came from
HERE = Path(__file__).resolve().parent.parent
RUNS = {  # method -> (official class, checkpoint under weights/)
    "prenet_r": ("PReNet_r", "prenet/Rain100H/PReNet6_r.pth"),
    "prn": ("PRN", "prenet/Rain100H/PRN6.pth"),
    "prn_r": ("PRN_r", "prenet/Rain100H/PRN6_r.pth"),
}


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
    sys.path.insert(0, str(a.official))
    spec = importlib.util.spec_from_file_location("official_prenet_networks", a.official / "networks.py")
    nets = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(nets)
    for method, (cls, ckpt) in RUNS.items():
        model = getattr(nets, cls)(6, use_GPU=False)           # test_*.py: recurrent_iter 6
        model.load_state_dict(torch.load(a.shared / "weights" / ckpt, map_location="cpu"))
        model.eval()
        out_dir = HERE / method
        out_dir.mkdir(exist_ok=True)
        meta = {"official": f"csdwren/PReNet networks.py {cls}", "official_commit": COMMIT,
                "checkpoint": ckpt, "image": IMAGE, "crops": {k: list(v) for k, v in CROPS.items()},
                "torch": torch.__version__, "outputs": {}}
        for name, crop in CROPS.items():
            rgb = official_input(a.shared / "data" / IMAGE, crop)
            y = torch.Tensor(np.expand_dims((np.float32(rgb) / 255.).transpose(2, 0, 1), 0))
            with torch.no_grad():
                out, _ = model(y)
                out = torch.clamp(out, 0., 1.)
            out = out.numpy()[0].astype(np.float32)
            np.save(out_dir / f"Rain100H_{name}.npy", out)
            meta["outputs"][name] = {"file": f"Rain100H_{name}.npy", "input_md5": hashlib.md5(rgb.tobytes()).hexdigest(),
                                     "mean": float(out.mean())}
        (out_dir / "reference.json").write_text(json.dumps(meta, indent=1) + "\n")


if __name__ == "__main__":
    main()
