"""Run the OFFICIAL FastestDet test script (dog-qiuqiu/FastestDet @ 50473cd, `test.py`) on a few
real images and store what it computes: the raw 1×85×22×22 network output and the decoded boxes
of `utils/tool.py handle_preds`. Imports nothing from this repository.

test.py is executed unchanged with runpy (`--cpu --thresh 0.001`: eval.py's threshold); only its
top-level `import onnx` / `from onnxsim import simplify` are satisfied by empty stand-in modules
(they are used only for --onnx export, which is not asked for). The network output and the decoded
boxes are captured by wrapping `Detector.forward` and `handle_preds` without changing them.
"""
import argparse
import importlib.machinery
import hashlib
import os
import runpy
import sys
import types

import cv2
import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--official", required=True, help="a git archive of dog-qiuqiu/FastestDet @ 50473cd")
parser.add_argument("--shared", required=True, help="the shared/ folder (weights and images)")
parser.add_argument("--out", required=True)
args = parser.parse_args()

IMAGES = ["data/raincityscapes/rain100mm/aachen_000052_000019_leftImg8bit.png",
          "data/raincityscapes/norain/aachen_000052_000019_leftImg8bit.png",
          "data/coco-val128/images/val2017/000000000139.jpg"]
WEIGHT = os.path.join(args.shared, "weights/fastestdet/fastestdet_coco_352.pth")

official = os.path.abspath(args.official)
sys.path.insert(0, official)
for name in ("onnx", "onnxsim"):
    stub = types.ModuleType(name)
    stub.simplify = None
    stub.__spec__ = importlib.machinery.ModuleSpec(name, None)   # torch probes optional modules
    sys.modules[name] = stub

import torch  # noqa: E402
import module.detector as detector  # noqa: E402
import utils.tool as tool  # noqa: E402

torch.set_num_threads(1)
captured = {}
forward = detector.Detector.forward
handle_preds = tool.handle_preds


def capture_forward(self, x):
    captured["input"] = x.detach().clone()
    captured["raw"] = forward(self, x).detach().clone()
    return captured["raw"]


def capture_preds(*a, **kw):
    captured["boxes"] = handle_preds(*a, **kw)
    return captured["boxes"]


detector.Detector.forward = capture_forward
tool.handle_preds = capture_preds

out = {}
for n, rel in enumerate(IMAGES):
    path = os.path.join(args.shared, rel)
    captured.clear()
    sys.argv = ["test.py", "--yaml", os.path.join(official, "configs/coco.yaml"), "--weight", WEIGHT,
                "--img", path, "--thresh", "0.001", "--cpu"]
    cwd = os.getcwd()
    os.chdir(official)   # as `python test.py` from the repo root (it reads configs/coco.names, writes result.png)
    try:
        runpy.run_path(os.path.join(official, "test.py"), run_name="__main__")
    finally:
        os.chdir(cwd)
    bgr = cv2.imread(path)
    boxes = captured["boxes"][0].numpy().astype(np.float32).reshape(-1, 6)
    out[f"image_{n}"] = np.array(rel)
    out[f"bgr_sha256_{n}"] = np.array(hashlib.sha256(np.ascontiguousarray(bgr).tobytes()).hexdigest())
    out[f"shape_{n}"] = np.array(bgr.shape[:2])
    out[f"raw_{n}"] = captured["raw"][0].numpy().astype(np.float32)
    out[f"boxes_{n}"] = boxes           # x1 y1 x2 y2 (fractions of the image) score class, NMS order
    print(f"{rel}: {bgr.shape[1]}x{bgr.shape[0]}, raw {tuple(captured['raw'].shape)}, {len(boxes)} boxes, "
          f"best {boxes[0].tolist() if len(boxes) else None}")
np.savez_compressed(os.path.join(args.out, "fastestdet_reference.npz"), **out)
print("torch", torch.__version__, "cv2", cv2.__version__)
