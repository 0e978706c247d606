"""Reference outputs of the OFFICIAL VRGNet derainer (hongwang01/VRGNet ``vrgnet.py`` ``Derain``,
which wraps ``prenet.py``'s ``PReNet``) for tests/test_models_recurrent.py. Not run in CI; nothing from
this repository is imported.

    git -C <mirror of hongwang01/VRGNet> archive HEAD for_syn/vrgnet.py for_syn/prenet.py \
        for_spa/vrgnet.py for_spa/prenet.py | tar -x -C /tmp/official-VRGNet
    python tests/reference/models/vrgnet/make_reference.py --official /tmp/official-VRGNet --shared ../shared

Preprocessing as for_syn/test_syn_joint.py (for_spa/test_spa_joint.py for SPA): cv2.imread ->
cv2.merge([r, g, b]) -> float32 / 255 -> NCHW; ``mu_b, logvar_b = netDerain(y)``;
``torch.clamp(mu_b, 0, 1)`` is saved as float32 (before np.uint8(255 * out)).

CPU note: the official ``prenet.py`` calls ``h.cuda()`` / ``c.cuda()`` unconditionally and the
test script calls ``.cuda()`` on the model. The official files are used unchanged; this script
replaces ``torch.Tensor.cuda`` / ``nn.Module.cuda`` with the identity for its own process so
they run on CPU. Rain100H on both crops (for_syn), SPA on the odd crop (for_spa).

Also copied (not computed): ``official_png_rain100L_norain-1_crop.png``, rows 100:196 x cols
150:278 of the authors' own released output ``for_syn/derained_results/rain100L/norain-1.png``
(blob 3ed1c10), which the Rain100L checkpoint produced from Rain100L ``rain/norain-1.png``:
an independent check of the whole chain (preprocessing, network, clamp, truncation).
Extract it with ``git archive HEAD for_syn/derained_results``.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

IMAGE = "rain100h/rain/norain-1.png"
CROPS = {"96x128": (100, 150, 96, 128), "57x83": (7, 201, 57, 83)}   # (top, left, height, width)
COMMIT = "036d7a9757abcefde89abadce6a706ec9d1ce15e"
OUT = Path(__file__).resolve().parent
RUNS = [  # (variant, official folder, checkpoint under weights/, crops)
    ("Rain100H", "for_syn", "vrgnet/Rain100H/DerainNet_state_700.pt", ("96x128", "57x83")),
    ("SPA", "for_spa", "vrgnet/SPA/DerainNet_state_800.pt", ("57x83",)),
]


def official_input(path: Path, crop) -> np.ndarray:
    y = cv2.imread(str(path))
    b, g, r = cv2.split(y)
    y = cv2.merge([r, g, b])
    t, l, h, w = crop
    return np.ascontiguousarray(y[t:t + h, l:l + w])


def load_official(folder: Path):
    for name in ("vrgnet", "prenet"):          # the two folders hold same-named modules
        sys.modules.pop(name, None)
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module("vrgnet")
    finally:
        sys.path.remove(str(folder))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--official", type=Path, required=True)
    ap.add_argument("--shared", type=Path, required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.Tensor.cuda = lambda self, *args, **kw: self          # CPU run, see the docstring
    torch.nn.Module.cuda = lambda self, *args, **kw: self
    meta = {"official": "hongwang01/VRGNet vrgnet.py Derain (prenet.py PReNet)", "official_commit": COMMIT,
            "image": IMAGE, "crops": {k: list(v) for k, v in CROPS.items()}, "torch": torch.__version__,
            "outputs": {}}
    for variant, folder, ckpt, crops in RUNS:
        vrg = load_official(a.official / folder)
        net = vrg.Derain(6).cuda()                              # test_*_joint.py: Derain(opt.stage=6)
        net.load_state_dict(torch.load(a.shared / "weights" / ckpt, map_location="cpu"))
        net.eval()
        for name in crops:
            rgb = official_input(a.shared / "data" / IMAGE, CROPS[name])
            y = torch.Tensor(np.expand_dims((np.float32(rgb) / 255.).transpose(2, 0, 1), 0)).cuda()
            with torch.no_grad():
                mu_b, _ = net(y)
                out = torch.clamp(mu_b, 0., 1.)
            out = out.numpy()[0].astype(np.float32)
            np.save(OUT / f"{variant}_{name}.npy", out)
            meta["outputs"][f"{variant}_{name}"] = {"file": f"{variant}_{name}.npy", "checkpoint": ckpt,
                                                   "official_dir": folder, "crop": name,
                                                   "input_md5": hashlib.md5(rgb.tobytes()).hexdigest(),
                                                   "mean": float(out.mean())}
    png = a.official / "for_syn/derained_results/rain100L/norain-1.png"
    if png.exists():   # lossless copy of a crop of the authors' released output (BGR as cv2 reads/writes)
        cv2.imwrite(str(OUT / "official_png_rain100L_norain-1_crop.png"), cv2.imread(str(png))[100:196, 150:278],
                    [cv2.IMWRITE_PNG_COMPRESSION, 9])
        meta["official_png"] = {"file": "official_png_rain100L_norain-1_crop.png", "source": str(png.relative_to(a.official)),
                                "rows": [100, 196], "cols": [150, 278], "input": "rain100l/rain/norain-1.png",
                                "checkpoint": "vrgnet/Rain100L/DerainNet_state_700.pt"}
    (OUT / "reference.json").write_text(json.dumps(meta, indent=1) + "\n")


if __name__ == "__main__":
    main()
