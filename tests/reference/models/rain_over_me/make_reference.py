"""Equivalence references for Rain O'er Me, made by running the OFFICIAL network (not ours).

Not run in CI. Usage (official code unpacked outside the repo; ``git archive`` of the mirror
stops at a missing GIF blob, so the files are extracted one by one with ``git show``):

    python tests/reference/models/rain_over_me/make_reference.py \
        --official /tmp/official-Rain-Over-Me --shared ../shared --out tests/reference/models/rain_over_me

Each checkpoint runs on the network of ITS OWN folder: ``code_for_<set>/models/networks.py``
``define_G`` (derainnet(feature_num=16); the ``out2`` head differs between the folders), imported
unchanged. Nothing from this repository is imported, nothing is stubbed. Preprocessing as
``data/aligned_dataset.py`` (test branch): ``cv2.imread`` → ``cvtColor(BGR2RGB)`` → ``ToTensor``;
the saved visual is ``Y_hat`` (second output of the forward), through ``util.tensor2im``
(``* 255``, ``np.clip(0, 255)``, then ``astype(uint8)``). We save the clipped float / 255, before
the uint8 cast. The ``out2`` branch's ``output2`` is saved for the two head variants on a 21x29 crop, for
``detail_output``.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
from pathlib import Path

import cv2
import numpy as np
import torch
import torchvision.transforms as transforms

IMAGE = "rain100h/rain/norain-1.png"
# (top, left, height, width). The default checkpoint on both test crops; the others on one; the
# out2 head (output2) of both head variants on a small 21x29 crop: all under 300 KB together.
CROPS = {"96x128": (100, 150, 96, 128), "57x83": (7, 201, 57, 83), "21x29": (40, 60, 21, 29)}
RUNS = {"Rain200L": ("96x128", "57x83", "output2:21x29"), "Rain1400": ("21x29",),
        "DID_data": ("57x83", "output2:21x29")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--official", type=Path, required=True)
    ap.add_argument("--shared", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    torch.set_num_threads(1)

    bgr = cv2.imread(str(args.shared / "data" / IMAGE))
    meta = {"image": IMAGE, "crops": CROPS, "runs": RUNS, "torch": torch.__version__, "outputs": {},
            "official": "HuangxingLin123/Rain-Over-Me code_for_<set>/models/networks.py define_G"}
    try:
        meta["official_commit"] = subprocess.run(
            ["git", "-C", "/work/.mirror/HuangxingLin123+Rain-Over-Me/repo", "rev-parse", "HEAD"],
            capture_output=True, text=True).stdout.strip() or None
    except OSError:
        pass
    for variant, crops in RUNS.items():
        spec = importlib.util.spec_from_file_location(
            f"official_networks_{variant}", args.official / f"code_for_{variant}" / "models" / "networks.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        net = mod.define_G()               # CPU: no gpu_ids; random init, then the checkpoint
        state = torch.load(args.shared / "weights" / "rain_over_me" / variant / "latest_net_G.pth",
                           map_location="cpu", weights_only=True)
        net.load_state_dict(state, strict=True)   # test.py leaves the net in train mode (opt.eval False)
        for run in crops:
            what, _, name = run.rpartition(":")
            t, l, h, w = CROPS[name]
            x = cv2.cvtColor(np.ascontiguousarray(bgr[t:t + h, l:l + w]), cv2.COLOR_BGR2RGB)
            x = transforms.ToTensor()(x).unsqueeze(0)
            with torch.no_grad():
                _, y_hat, _, y_tilde = net(x)
            outs = {"-output2": y_tilde} if what == "output2" else {"": y_hat}
            for suffix, y in outs.items():
                img = np.transpose(y[0].cpu().float().numpy(), (1, 2, 0)) * 255.0   # tensor2im
                img = np.clip(img, 0, 255)
                arr = (np.transpose(img, (2, 0, 1)) / 255.0).astype(np.float32)
                stem = f"rain_over_me-{variant}{suffix}_{name}"
                np.save(args.out / f"{stem}.npy", arr)
                meta["outputs"][stem] = {"shape": list(arr.shape), "mean": float(arr.mean())}
    (args.out / "reference.json").write_text(json.dumps(meta, indent=1))


if __name__ == "__main__":
    main()
