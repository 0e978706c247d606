"""RESCAN references from the OFFICIAL code (XiaLiPKU/RESCAN config/model.py + config/settings.py),
run with the BRN authors' retrained checkpoints (csdwren/RecDerain logs/{RainHeavy,RainLight}/RESCAN/latest).

Not run in CI; nothing from this repository is imported. Usage:

    git -C /work/.mirror/XiaLiPKU+RESCAN/repo archive HEAD | tar -x -C /tmp/official-RESCAN
    python tests/reference/models/rescan/make_reference.py --official /tmp/official-RESCAN \
        --shared ../shared --out tests/reference/models/rescan

No stubs needed: ``config/model.py`` imports only torch and ``settings`` (defaults used unchanged:
GRU, 24 channels, depth 7, 4 stages, SE, 'Full'). Preprocessing is the official ``show.py`` /
``ShowDataset``: ``cv2.imread(...).astype(np.float32) / 255`` (BGR, not converted), the last
stage's ``O - O_R``, ``np.clip(img * 255, 0, 255)``. Saved: that clipped array / 255 as float32,
C×H×W, with the channel axis flipped to RGB (the only change, so it compares with an RGB pipeline).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

IMAGE = "rain100h/rain/norain-1.png"
CROPS = {"96x128": (100, 150, 96, 128), "57x83": (7, 201, 57, 83)}
WEIGHTS = {"RainHeavy": "rescan/RainHeavy/latest", "RainLight": "rescan/RainLight/latest"}
# Both crops for the default checkpoint, the odd-sized one for the other (keeps the files < 300 KB).
KEEP = {("RainHeavy", "96x128"), ("RainHeavy", "57x83"), ("RainLight", "57x83")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--official", type=Path, required=True)
    ap.add_argument("--shared", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    sys.path.insert(0, str(a.official / "config"))
    from model import RESCAN  # the official class

    img = cv2.imread(str(a.shared / "data" / IMAGE)).astype(np.float32) / 255   # as ShowDataset
    outputs = {}
    for wid, rel in WEIGHTS.items():
        net = RESCAN()
        obj = torch.load(a.shared / "weights" / rel, map_location="cpu", weights_only=True)
        net.load_state_dict(obj["net"])                                          # as show.py
        net.eval()
        for name, (t, l, h, w) in CROPS.items():
            if (wid, name) not in KEEP:
                continue
            O = torch.from_numpy(np.ascontiguousarray(img[t:t + h, l:l + w].transpose(2, 0, 1)))[None]
            with torch.no_grad():
                O_Rs = [O - O_R for O_R in net(O)]                                # as inf_batch
            out = np.clip((O_Rs[-1].data * 255).numpy(), 0, 255)[0]              # as save_image
            ref = (out / 255).astype(np.float32)[::-1].copy()                    # BGR -> RGB
            np.save(a.out / f"rescan-{wid}_{name}.npy", ref)
            outputs[f"rescan-{wid}_{name}"] = {"shape": list(ref.shape), "mean": float(ref.mean())}
    commit = subprocess.run(["git", "-C", str(a.official), "rev-parse", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "e28d1d7cd3d8b276ce88de730de1603bafa30e23"
    meta = {"image": IMAGE, "crops": CROPS, "official": "XiaLiPKU/RESCAN", "commit": commit,
            "weights": WEIGHTS, "torch": torch.__version__, "outputs": outputs}
    (a.out / "reference.json").write_text(json.dumps(meta, indent=1) + "\n")


if __name__ == "__main__":
    main()
