"""Make the model-equivalence references by running the OFFICIAL implementations (not ours).

Not run in CI. Usage (official code unpacked outside the repo, e.g. with
``git -C <mirror> archive HEAD | tar -x -C /tmp/official-<x>``):

    python tests/reference/models/make_reference.py \
        --prenet /tmp/official-PReNet --sapnet /tmp/official-SAPNet-for-image-deraining \
        --nlcl /tmp/official-NLCL --shared ../shared --out tests/reference/models

Each official network is imported from its own file and fed exactly what its official test
script feeds it; the float output (after the official clamp, before uint8) is saved as float32.
Nothing from this repository is imported.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

IMAGE = "rain100h/rain/norain-1.png"
# name -> (top, left, height, width); one even-sized crop and one odd-sized crop.
CROPS = {"96x128": (100, 150, 96, 128), "57x83": (7, 201, 57, 83)}


def load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def crop(a: np.ndarray, c) -> np.ndarray:
    t, l, h, w = c
    return np.ascontiguousarray(a[t:t + h, l:l + w])


def prenet_style_input(path: Path, c) -> np.ndarray:
    """test_PReNet.py / test_real.py / SAPNet test.py: cv2.imread (BGR) -> merge([r, g, b]) -> /255."""
    y = cv2.imread(str(path))
    b, g, r = cv2.split(y)
    y = cv2.merge([r, g, b])
    return crop(y, c)


def run_prenet_style(model, rgb: np.ndarray) -> np.ndarray:
    y = np.float32(rgb) / 255.0
    y = torch.Tensor(np.expand_dims(y.transpose(2, 0, 1), 0))
    with torch.no_grad():
        out, _ = model(y)
        out = torch.clamp(out, 0.0, 1.0)
    return out.numpy()[0].astype(np.float32)


def nlcl_input(path: Path, c) -> np.ndarray:
    """unaligned_dataset.py: PIL RGB -> ToTensor -> Normalize(0.5, 0.5)."""
    return crop(np.array(Image.open(path).convert("RGB")), c)


def run_nlcl(net, rgb: np.ndarray, background: bool) -> np.ndarray:
    from torchvision.transforms import Compose, Normalize, ToTensor
    x = Compose([ToTensor(), Normalize([0.5] * 3, [0.5] * 3)])(Image.fromarray(rgb)).unsqueeze(0)
    with torch.no_grad():
        y = net(x)
    if background:  # util.tensor2im without the final astype(uint8): clamp(-1,1), (y+1)/2 (here in [0,1])
        return ((y[0].clamp(-1.0, 1.0) + 1) / 2.0).numpy().astype(np.float32)
    return y[0].numpy().astype(np.float32)  # rain layer: raw generator output in [-1,1] units


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prenet", type=Path, required=True)
    ap.add_argument("--sapnet", type=Path, required=True)
    ap.add_argument("--nlcl", type=Path, required=True)
    ap.add_argument("--shared", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    torch.set_num_threads(2)
    img = a.shared / "data" / IMAGE
    w = a.shared / "weights"
    outputs: dict[str, dict] = {}

    pnet = load_module(a.prenet / "networks.py", "official_prenet_networks")
    pgen = load_module(a.prenet / "generator.py", "official_prenet_generator")
    snet = load_module(a.sapnet / "Modeling" / "network.py", "official_sapnet_network")
    nnet = load_module(a.nlcl / "models" / "networks.py", "official_nlcl_networks")

    prenet = pnet.PReNet(6, use_GPU=False)                      # test_PReNet.py, recurrent_iter 6
    prenet.load_state_dict(torch.load(w / "prenet/Rain100H/PReNet6.pth", map_location="cpu"))
    real = pgen.Generator_lstm(4, use_GPU=False)                # test_real.py defaults, PReNet1.pth
    real.load_state_dict(torch.load(w / "prenet/real/PReNet1.pth", map_location="cpu"))
    sap = torch.nn.DataParallel(snet.SAPNet(recurrent_iter=6, use_dilation=True))  # as test.py
    sap.load_state_dict(torch.load(w / "sapnet/net_latest.pth", map_location="cpu"))
    back, rain = nnet.Generator(3, 3), nnet.Generator(3, 3)     # NLCL_model.py netBack / netRain
    back.load_state_dict(torch.load(w / "nlcl/latest_net_Back.pth", map_location="cpu"))
    rain.load_state_dict(torch.load(w / "nlcl/latest_net_Rain.pth", map_location="cpu"))
    for m in (prenet, real, sap, back, rain):
        m.eval()

    a.out.mkdir(parents=True, exist_ok=True)
    inputs = {}
    for cname, c in CROPS.items():
        rgb = prenet_style_input(img, c)
        assert np.array_equal(rgb, nlcl_input(img, c)), "cv2+flip and PIL disagree on this PNG"
        inputs[cname] = rgb
        runs = {"prenet-Rain100H": lambda: run_prenet_style(prenet, rgb),
                "sapnet-Rain100H": lambda: run_prenet_style(sap, rgb),
                "nlcl-RealRain": lambda: run_nlcl(back, rgb, True)}
        if cname == "57x83":  # secondary checkpoints: the odd crop only, to keep the folder small
            runs["prenet-real"] = lambda: run_prenet_style(real, rgb)
            runs["nlcl-RealRain-rain-layer"] = lambda: run_nlcl(rain, rgb, False)
        for name, fn in runs.items():
            out = fn()
            np.save(a.out / f"{name}_{cname}.npy", out)
            outputs[f"{name}_{cname}"] = {"shape": list(out.shape), "mean": float(out.mean())}
    np.savez(a.out / "inputs.npz", **{k: v for k, v in inputs.items()})
    meta = {"image": IMAGE, "crops": {k: list(v) for k, v in CROPS.items()}, "outputs": outputs,
            "torch": torch.__version__}
    (a.out / "reference.json").write_text(json.dumps(meta, indent=1) + "\n")


if __name__ == "__main__":
    main()
