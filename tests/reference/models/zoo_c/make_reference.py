"""References for DFN, AIDNet, NLEDN and DGNL-Net-fast, made by running the OFFICIAL code (not ours).

Not run in CI. One method per call; the official repository is unpacked outside this repo with
``git -C <mirror> archive HEAD | tar -x -C /tmp/official-<name>``:

    python tests/reference/models/zoo_c/make_reference.py --method dfn --official /tmp/official-DFN \
        --shared ../shared --out tests/reference/models
    (likewise aidnet /tmp/official-AIDNet, nledn /tmp/official-NLEDN, dgnlnet /tmp/official-DGNL-Net)

The first checkpoint of a method gets both crops, the others the odd crop only (size budget).
Each official network is imported from its own files and fed what its official test script feeds
it; the float output (after the official clamp, before uint8) is saved as float32 to
``<out>/<method>/<method>-<weights>_<crop>.npy`` with ``<out>/<method>/reference.json``.
Nothing from this repository is imported.

Changes made to run the official code here (no official file is edited):
- DFN ``networks.py`` creates its feedback state with ``torch.zeros(...).cuda()``: on this CPU-only
  machine ``torch.Tensor.cuda`` is replaced by the identity while the network runs.
- AIDNet (Rain100H only; see WEIGHTS) ``networks/generator_aid135.py`` (official ``BRN``) builds ``self.aid_module = AID(32)``
  (reduction 2) but its ``forward`` calls ``self.cbam_module``, and the released checkpoints hold
  ``module.cbam_module.*`` with a 32→2→32 MLP, i.e. reduction 16. The script builds the official
  BRN, then sets ``cbam_module = AID(32, reduction_ratio=16)`` (the official ``networks/aid.py``
  class) and deletes ``aid_module``, so the released forward runs with the released weights.
  ``use_GPU=False``; ``recurrent_iter=8`` as in test_AID.py / trainH_aid135.py.
- NLEDN runs as is (lib/NLEDN.py; test.py: PIL RGB, ToTensor, out = x - net(x), clamp).
- DGNL-Net ``nets.py`` (DGNLNet_fast) runs as is on CPU. Its official ``infer_fast.py`` resizes the
  PIL image to 512x1024 (``transforms.Resize([512, 1024])``, bilinear), runs the net (which clamps),
  ``ToPILImage`` (truncation) and resizes back with ``transforms.Resize((h, w))``. Saved here:
  ``*_native.npy`` the network on the crop at its own size (96x128 only: the net needs sides
  divisible by 32), ``*_512x1024_sub8.npy`` the network output on the officially resized crop,
  every 8th pixel (odd crop only), and ``*_official_uint8.npy`` the image infer_fast.py would save.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

CROPS = {"96x128": (100, 150, 96, 128), "57x83": (7, 201, 57, 83)}
# NLEDN's region non-local blocks split rows into 8 chunks and max-pool each by 2: with 57 rows the
# last chunk is 1 row high and the official code fails ("Output size is too small"), so its odd
# crop is 59x85 (the official test runs Rain100H/L's 481x321 and 321x481 whole, which work).
CROPS_NLEDN = {"96x128": (100, 150, 96, 128), "59x85": (7, 201, 59, 85)}
IMAGE = {"dfn": "rain100h/rain/norain-1.png", "aidnet": "rain100h/rain/norain-1.png",
         "nledn": "rain100h/rain/norain-1.png",
         "dgnlnet": "raincityscapes/rain100mm/aachen_000052_000019_leftImg8bit.png"}
WEIGHTS = {"dfn": {"Rain100H": "dfn/Rain100H/net_latest.pth", "Rain100L": "dfn/Rain100L/net_latest.pth"},
           # Rain100L's AID_location135 checkpoint holds an SE block (seblock.fc.*) that no released
           # file defines: the official code cannot build it, so it has no reference.
           "aidnet": {"Rain100H": "aidnet/Rain100H/net_latest.pth"},
           "nledn": {"Rain100H": "nledn/net_Rain100H.pth", "Rain100L": "nledn/net_Rain100L.pth"},
           "dgnlnet": {"RainCityscapes": "dgnlnet/60000.pth"}}


def crop(a: np.ndarray, c) -> np.ndarray:
    t, l, h, w = c
    return np.ascontiguousarray(a[t:t + h, l:l + w])


def cv2_rgb(path: Path) -> np.ndarray:
    """DFN test.py / AIDNet test_AID.py: cv2.imread (BGR) -> cv2.merge([r, g, b])."""
    import cv2
    b, g, r = cv2.split(cv2.imread(str(path)))
    return cv2.merge([r, g, b])


def pil_rgb(path: Path) -> np.ndarray:
    from PIL import Image
    return np.array(Image.open(path).convert("RGB"))


def to_batch(rgb: np.ndarray) -> torch.Tensor:
    """np.float32(img) / 255, HWC -> 1xCxHxW (cv2 scripts); identical to ToTensor for uint8 RGB."""
    return torch.from_numpy(np.float32(rgb).transpose(2, 0, 1) / 255.0).unsqueeze(0)


def load(path: Path, strip_module: bool = False) -> dict:
    sd = torch.load(path, map_location="cpu", weights_only=True)
    return {k[7:] if strip_module and k.startswith("module.") else k: v for k, v in sd.items()}


def build_dfn(official: Path):
    from networks import DFN  # official networks.py
    return lambda: DFN(7)     # test.py: DFN(opt.recurrent_iter), default 7


def build_aidnet(official: Path):
    from networks.aid import AID
    from networks.generator_aid135 import BRN

    def make():
        net = BRN(8, use_GPU=False)
        del net.aid_module
        net.cbam_module = AID(32, reduction_ratio=16)
        return net
    return make


def build_nledn(official: Path):
    from lib.NLEDN import NLEDN
    return NLEDN


def build_dgnlnet(official: Path):
    from nets import DGNLNet_fast
    return DGNLNet_fast


def forward(method: str, net, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        if method == "dfn":
            real_cuda = torch.Tensor.cuda
            torch.Tensor.cuda = lambda self, *a, **k: self
            try:
                out, _ = net(x)
            finally:
                torch.Tensor.cuda = real_cuda
            return torch.clamp(out, 0.0, 1.0)
        if method == "aidnet":
            out, _, _, _ = net(x)
            return torch.clamp(out, 0.0, 1.0)
        if method == "nledn":
            return torch.clamp(x - net(x), 0, 1)
        return net(x)  # dgnlnet: clamps inside


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", choices=sorted(WEIGHTS), required=True)
    ap.add_argument("--official", type=Path, required=True)
    ap.add_argument("--shared", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    sys.path.insert(0, str(a.official.resolve()))
    make = globals()[f"build_{a.method}"](a.official)
    image = a.shared / "data" / IMAGE[a.method]
    rgb = pil_rgb(image) if a.method in ("nledn", "dgnlnet") else cv2_rgb(image)
    out_dir = a.out / a.method
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {}
    for variant, rel in WEIGHTS[a.method].items():
        net = make()
        net.load_state_dict(load(a.shared / "weights" / rel, strip_module=a.method == "aidnet"), strict=True)
        net.eval()
        for cname, c in (CROPS_NLEDN if a.method == "nledn" else CROPS).items():
            if variant != next(iter(WEIGHTS[a.method])) and cname == "96x128":
                continue  # < 300 KB per method: second checkpoint on the odd crop only
            patch = crop(rgb, c)
            stem = f"{a.method}-{variant}_{cname}"
            if a.method != "dgnlnet":
                y = forward(a.method, net, to_batch(patch))[0].numpy().astype(np.float32)
                np.save(out_dir / f"{stem}.npy", y)
                files[stem] = list(y.shape)
                continue
            from PIL import Image
            from torchvision import transforms
            if c[2] % 32 == 0 and c[3] % 32 == 0:
                y = forward(a.method, net, to_batch(patch))[0].numpy().astype(np.float32)
                np.save(out_dir / f"{stem}_native.npy", y)
                files[f"{stem}_native"] = list(y.shape)
            pil = Image.fromarray(patch)
            native = c[2] % 32 == 0 and c[3] % 32 == 0
            x = transforms.Compose([transforms.Resize([512, 1024]), transforms.ToTensor()])(pil).unsqueeze(0)
            y = forward(a.method, net, x)
            if not native:  # (size budget: the native crop already checks the network exactly)
                sub = y[0, :, ::8, ::8].numpy().astype(np.float32)
                np.save(out_dir / f"{stem}_512x1024_sub8.npy", sub)
                files[f"{stem}_512x1024_sub8"] = list(sub.shape)
            saved = transforms.Resize((c[2], c[3]))(transforms.ToPILImage()(y[0]))
            np.save(out_dir / f"{stem}_official_uint8.npy", np.array(saved))
            files[f"{stem}_official_uint8"] = list(np.array(saved).shape)
    commit = subprocess.run(["git", "-C", str(a.official), "rev-parse", "HEAD"], capture_output=True, text=True)
    meta = {"method": a.method, "image": IMAGE[a.method], "crops": CROPS_NLEDN if a.method == "nledn" else CROPS, "weights": WEIGHTS[a.method],
            "reader": "PIL RGB" if a.method in ("nledn", "dgnlnet") else "cv2 BGR -> merge([r,g,b])",
            "torch": torch.__version__, "official_dir": str(a.official),
            "official_commit": commit.stdout.strip() or OFFICIAL_COMMITS[a.method], "files": files}
    (out_dir / "reference.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(json.dumps(meta, indent=1))


# git archive copies carry no .git: the commits the /tmp copies were archived from.
OFFICIAL_COMMITS = {"dfn": "Hang-Z/DFN@e9bb13336c1a4e27991f27a2012a84ae0f89ff54",
                    "aidnet": "cuiyixin555/AIDNet@de1a7f0877310e6fcb4a6aa6481926cdc99adf3f",
                    "nledn": "AlexHex7/NLEDN@c5b2a8e292776154170bb3b09452c71a9943e9ab",
                    "dgnlnet": "xw-hu/DGNL-Net@f9a2edb7bd2d06d01bdc5dc4ca878c8533e9954c"}

if __name__ == "__main__":
    main()
