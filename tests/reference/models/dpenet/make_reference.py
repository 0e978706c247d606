"""Equivalence references for DPENet, made by running the OFFICIAL network (not ours).

Not run in CI. Usage (official code unpacked outside the repo):

    git -C <mirror of chdwyb/DPENet> archive HEAD | tar -x -C /tmp/official-DPENet
    python tests/reference/models/dpenet/make_reference.py \
        --official /tmp/official-DPENet --shared ../shared --out tests/reference/models/dpenet

``NetModel.py`` is imported unchanged from the /tmp copy (it needs ``thop``, which is installed;
nothing is stubbed). Nothing from this repository is imported. The repository has no test.py;
its test path is the test phase of ``main.py``: ``MyTestDataSet`` (PIL ``convert('RGB')`` +
``to_tensor``), ``myNet(x)[1]`` and torchvision ``save_image`` (clamp to [0, 1], round). The float
output is saved after the clamp, before uint8.

Two official networks are run: ``DPENet()`` as released (``released`` outputs: ReLU after the
output 1×1 convs ``outconv1``/``outconv2``), and the same instance with those two ReLUs replaced
by ``nn.Identity()`` at run time (``plain`` outputs; no file in the /tmp copy is edited). The
second is what the checkpoints were trained with: with the authors' first-commit
``logs/Rain100H.pth`` (git show 3096a6c:logs/Rain100H.pth) it reproduces their committed
``data/resultTest/1.png`` from ``data/inputTest/1.png`` to within one grey level, the released
form does not (``--history DIR`` with those three files re-checks that).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
import torchvision.transforms.functional as ttf
from PIL import Image

IMAGE = "rain100h/rain/norain-1.png"
CROPS = {"96x128": (100, 150, 96, 128), "57x83": (7, 201, 57, 83), "21x29": (40, 60, 21, 29)}  # t, l, h, w
# checkpoint -> crops it is run on (the default checkpoint on both; size limit for the rest)
# "<form>:<crop>"; form "plain" = output convs without ReLU (bench's default), "released" = NetModel.py
RUNS = {"Rain100L": ("plain:96x128", "plain:57x83", "released:21x29"), "Rain1400": ("plain:57x83",)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--official", type=Path, required=True)
    ap.add_argument("--shared", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--mirror", type=Path, default=Path("/work/.mirror/chdwyb+DPENet/repo"),
                    help="git mirror the /tmp copy was archived from (for the commit id only)")
    ap.add_argument("--history", type=Path, default=None,
                    help="folder with 3096a6c's inputTest_1.png, resultTest_1.png and Rain100H.pth")
    args = ap.parse_args()
    torch.set_num_threads(1)
    sys.path.insert(0, str(args.official))
    spec = importlib.util.spec_from_file_location("official_netmodel", args.official / "NetModel.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)

    image = Image.open(args.shared / "data" / IMAGE).convert("RGB")      # MyTestDataSet
    meta = {"image": IMAGE, "crops": CROPS, "runs": RUNS, "torch": torch.__version__, "outputs": {},
            "official": "chdwyb/DPENet NetModel.py class DPENet"}
    try:
        meta["official_commit"] = subprocess.run(["git", "-C", str(args.mirror), "rev-parse", "HEAD"],
                                                 capture_output=True, text=True).stdout.strip() or None
    except OSError:
        pass
    for variant, runs in RUNS.items():
        path = args.shared / "weights" / "dpenet" / f"{variant}.pth"
        for run in runs:
            form, _, name = run.partition(":")
            net = official_net(mod, path, plain=form == "plain")
            t, l, h, w = CROPS[name]
            x = ttf.to_tensor(image.crop((l, t, l + w, t + h))).unsqueeze(0)
            with torch.no_grad():
                y = net(x)[1]
            y = y[0].clamp(0.0, 1.0).numpy().astype(np.float32)    # save_image clamps (after +0.5)
            stem = f"dpenet-{variant}-{form}_{name}"
            np.save(args.out / f"{stem}.npy", y)
            meta["outputs"][stem] = {"shape": list(y.shape), "mean": float(y.mean())}
    if args.history:
        meta["history_check"] = history_check(mod, args.history)
    (args.out / "reference.json").write_text(json.dumps(meta, indent=1))


def official_net(mod, path: Path, plain: bool):
    net = mod.DPENet()
    net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True), strict=True)
    if plain:
        net.outconv1[1] = torch.nn.Identity()
        net.outconv2[1] = torch.nn.Identity()
    return net.eval()


def history_check(mod, folder: Path) -> dict:
    """Both forms on the authors' committed test image; grey-level difference to their result."""
    x = ttf.to_tensor(Image.open(folder / "inputTest_1.png").convert("RGB")).unsqueeze(0)
    want = np.array(Image.open(folder / "resultTest_1.png").convert("RGB")).astype(np.int64)
    out = {}
    for form in ("plain", "released"):
        with torch.no_grad():
            y = official_net(mod, folder / "Rain100H.pth", plain=form == "plain")(x)[1][0]
        got = y.mul(255).add(0.5).clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy().astype(np.int64)
        d = np.abs(got - want)
        out[form] = {"max_abs_levels": int(d.max()), "mean_abs_levels": float(d.mean())}
    return out


if __name__ == "__main__":
    main()
