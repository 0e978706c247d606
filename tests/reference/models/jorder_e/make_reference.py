"""JORDER-E references from the OFFICIAL code (flyywh/JORDER-E-Deep-Image-Deraining-TPAMI-2019-Journal
``testing_practical/src/model/jorder_e.py``) with the official practical checkpoint.

Not run in CI; nothing from this repository is imported. Usage:

    git -C /work/.mirror/flyywh+JORDER-E-Deep-Image-Deraining-TPAMI-2019-Journal/repo archive HEAD \
        | tar -x -C /tmp/official-JORDER-E
    python tests/reference/models/jorder_e/make_reference.py --official /tmp/official-JORDER-E \
        --shared ../shared --out tests/reference/models/jorder_e

No stubs needed: ``model/jorder_e.py`` imports only torch, numpy and ``model.common`` (torch). The
network is built with ``make_model(args)`` from the options ``test.sh`` gives (``--scale 2``, default
``RDNkSize 3``, ``RDNconfig B``, ``rgb_range 255``; no ``--chop``, no ``--self_ensemble``, single
precision, so ``model/__init__.py`` ``Model.forward`` is a plain call of the network). Preprocessing
is ``data/srdata.py`` + ``data/common.py``: ``imageio.imread`` (RGB uint8), ``np2Tensor`` (float,
``* rgb_range / 255``). Output: the first returned tensor (``sr``), then ``utility.quantize``
(``clamp(0, 255).round()``). Saved: ``clamp(sr, 0, 255) / 255`` as float32 C×H×W, i.e. after the
official clamp and before the rounding to uint8 levels.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import imageio.v2 as imageio
import numpy as np
import torch

IMAGE = "rain100h/rain/norain-1.png"
CROPS = {"96x128": (100, 150, 96, 128), "57x83": (7, 201, 57, 83)}
WEIGHTS = "jorder_e/model_practical.pt"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--official", type=Path, required=True)
    ap.add_argument("--shared", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    sys.path.insert(0, str(a.official / "testing_practical" / "src"))
    from model import jorder_e  # the official module

    args = SimpleNamespace(scale=[2], RDNkSize=3, RDNconfig="B", rgb_range=255)
    net = jorder_e.make_model(args)
    state = torch.load(a.shared / "weights" / WEIGHTS, map_location="cpu", weights_only=True)
    result = net.load_state_dict(state, strict=False)                     # as Model.load
    assert not result.missing_keys and not result.unexpected_keys, result
    net.eval()
    img = imageio.imread(a.shared / "data" / IMAGE)                        # RGB uint8, as srdata
    outputs = {}
    for name, (t, l, h, w) in CROPS.items():
        lr = np.ascontiguousarray(img[t:t + h, l:l + w].transpose((2, 0, 1)))
        lr = torch.from_numpy(lr).float().mul_(args.rgb_range / 255)[None]  # np2Tensor
        with torch.no_grad():
            sr = net(lr)[0]                                                 # sr, sr2, mask, level
        pixel_range = 255 / args.rgb_range
        clamped = sr.mul(pixel_range).clamp(0, 255)                         # utility.quantize, before .round()
        ref = (clamped / 255).numpy()[0].astype(np.float32)
        np.save(a.out / f"jorder_e-practical_{name}.npy", ref)
        outputs[f"jorder_e-practical_{name}"] = {"shape": list(ref.shape), "mean": float(ref.mean())}
    commit = subprocess.run(["git", "-C", str(a.official), "rev-parse", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "ccb4a465bcb48ad8a5d3fef3ab1b950bcf8b7050"
    meta = {"image": IMAGE, "crops": CROPS, "official": "flyywh/JORDER-E-Deep-Image-Deraining-TPAMI-2019-Journal",
            "commit": commit, "weights": WEIGHTS, "torch": torch.__version__, "outputs": outputs}
    (a.out / "reference.json").write_text(json.dumps(meta, indent=1) + "\n")


if __name__ == "__main__":
    main()
