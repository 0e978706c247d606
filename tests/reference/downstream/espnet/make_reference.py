"""Run the OFFICIAL ESPNet test pipeline (sacmehta/ESPNet @ afe71c3, `test/VisualizeResults.py`,
modelType 1 = the full encoder-decoder, p=2 q=8, 20 classes) on real street images and store what
it computes. Imports nothing from this repository.

`evaluateModel` of VisualizeResults.py runs unchanged (cityFormat/colored/overlay off, so the PNG it
writes holds the raw argmax over the 20 outputs). The model is the official `Model.ESPNet(20, 2, 8)`
loaded as `main()` does, except `map_location="cpu"` (the checkpoint's tensors were saved on a GPU).
The logits are captured by wrapping `ESPNet.forward` without changing it.
Stored per image: the argmax map the script wrote (512×1024 uint8), the logits at every 16th pixel
(offset 8), a 32×32 block of full-resolution logits, and the per-class logit sums (float64).
"""
import argparse
import hashlib
import os
import sys
import tempfile

import cv2
import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--official", required=True, help="a git archive of sacmehta/ESPNet @ afe71c3")
parser.add_argument("--shared", required=True, help="the shared/ folder (weights and images)")
parser.add_argument("--out", required=True)
args = parser.parse_args()

IMAGES = ["data/raincityscapes/norain/aachen_000052_000019_leftImg8bit.png",
          "data/raincityscapes/rain100mm/aachen_000052_000019_leftImg8bit.png"]
WEIGHT = os.path.join(args.shared, "weights/espnet/espnet_p_2_q_8_cityscapes.pth")
BLOCK = (slice(None), slice(240, 272), slice(480, 512))

sys.path.insert(0, os.path.join(os.path.abspath(args.official), "test"))
import torch  # noqa: E402
import Model as Net  # noqa: E402
import VisualizeResults  # noqa: E402

torch.set_num_threads(1)
captured = {}
forward = Net.ESPNet.forward


def capture_forward(self, x):
    y = forward(self, x)
    captured["logits"] = y.detach().clone()
    return y


Net.ESPNet.forward = capture_forward
model = Net.ESPNet(20, 2, 8)
model.load_state_dict(torch.load(WEIGHT, map_location="cpu"))
model.eval()

out = {}
for n, rel in enumerate(IMAGES):
    savedir = tempfile.mkdtemp()
    opts = argparse.Namespace(overlay=False, colored=False, cityFormat=False, modelType=1, gpu=False,
                              savedir=savedir, img_extn="png")
    path = os.path.join(args.shared, rel)
    with torch.no_grad():
        VisualizeResults.evaluateModel(opts, model, None, [path])
    written = cv2.imread(os.path.join(savedir, os.path.basename(path)), cv2.IMREAD_UNCHANGED)
    logits = captured["logits"][0].numpy().astype(np.float32)
    assert (written == logits.argmax(0)).all()
    bgr = cv2.imread(path)
    out[f"image_{n}"] = np.array(rel)
    out[f"bgr_sha256_{n}"] = np.array(hashlib.sha256(np.ascontiguousarray(bgr).tobytes()).hexdigest())
    out[f"argmax_{n}"] = written.astype(np.uint8)
    out[f"logits_strided_{n}"] = logits[:, 8::16, 8::16]
    out[f"logits_block_{n}"] = logits[BLOCK]
    out[f"logit_sums_{n}"] = logits.astype(np.float64).sum(axis=(1, 2))
    counts = np.bincount(written.ravel(), minlength=20)
    print(f"{rel}: logits {logits.shape}, classes present {np.flatnonzero(counts).tolist()}")
np.savez_compressed(os.path.join(args.out, "espnet_reference.npz"), **out)
print("torch", torch.__version__, "cv2", cv2.__version__)
