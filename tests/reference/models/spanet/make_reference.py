"""SPANet references from the OFFICIAL code (stevewongv/SPANet SPANet.py) with the official
checkpoint (model/latest), on CPU.

Not run in CI; nothing from this repository is imported. Usage:

    git -C /work/.mirror/stevewongv+SPANet/repo archive HEAD | tar -x -C /tmp/official-SPANet
    python tests/reference/models/spanet/make_reference.py --official /tmp/official-SPANet \
        --shared ../shared --out tests/reference/models/spanet

The official IRNN layer (``irnn.py``) is a cupy/CUDA kernel (``IRNN_Forward_cuda.cu``) that raises
NotImplementedError on CPU, and ``irnn.py`` imports cupy at import time. So this script does NOT
import ``irnn.py``: before importing the official ``SPANet.py`` (unchanged), it registers a module
named ``irnn`` whose ``irnn`` class is ``KernelTranscription`` below, a line-by-line numpy
transcription of ``IRNNForward``: one "thread" per output element (vectorised here over batch,
channel and the other spatial axis, as the CUDA threads run independently), each re-running its
own recurrence from the image edge, in float32, exactly as the kernel's loops do:

    out = relu(x[edge]);  for i from the next pixel to the element's own: out = relu(out*w[c] + b[c] + x[i])

(The GPU kernel may contract ``out*w + b`` into a fused multiply-add; that changes results by
about one float32 ulp per step and is not reproduced here.) Everything else is the official network.

Preprocessing is the official ``main.py`` ``run_test`` / ``dataset.py`` ``TestDataset``:
``cv2.imread`` (BGR, not converted), ``/ 255.0``; the second output of the network, clipped to
[0, 1] (``np.clip(pred, 0, 1)``, then ``* 255`` and ``cv2.imwrite``). Saved: the clipped float32
C×H×W array with the channel axis flipped to RGB (the only change).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import types
from pathlib import Path

import cv2
import numpy as np
import torch

IMAGE = "rain100h/rain/norain-1.png"
CROPS = {"96x128": (100, 150, 96, 128), "57x83": (7, 201, 57, 83)}
WEIGHTS = "spanet/latest"


def _direction(x: np.ndarray, wt: np.ndarray, bs: np.ndarray, axis: int, backwards: bool) -> np.ndarray:
    """One output direction of IRNNForward. x: N×C×H×W float32; axis 3 = width, 2 = height."""
    size = x.shape[axis]
    w = wt.reshape(1, -1, 1).astype(np.float32)
    b = bs.reshape(1, -1, 1).astype(np.float32)
    take = lambda i: np.take(x, i, axis=axis)              # noqa: E731  (N×C×other)
    out = np.empty_like(x)
    for pos in range(size):                                 # the thread's own w (or h)
        edge = size - 1 if backwards else 0
        o = take(edge)
        o = np.where(o > 0, o, np.float32(0))               # out = in[edge] > 0 ? in[edge] : 0
        steps = range(size - 2, pos - 1, -1) if backwards else range(1, pos + 1)
        for i in steps:
            temp = o * w + b + take(i)                     # temp = out*weight[c] + bias[c] + in[i]
            o = np.where(temp > 0, temp, np.float32(0))     # out = temp > 0 ? temp : 0
        if axis == 3:
            out[:, :, :, pos] = o
        else:
            out[:, :, pos, :] = o
    return out


class KernelTranscription:
    """Stands in for the official ``irnn`` autograd Function: ``irnn()(input, w_up, w_right, w_down,
    w_left, b_up, b_right, b_down, b_left) -> (up, right, down, left)``."""

    def __call__(self, x, w_up, w_right, w_down, w_left, b_up, b_right, b_down, b_left):
        a = x.detach().numpy().astype(np.float32)
        n = lambda t: t.detach().numpy().astype(np.float32)  # noqa: E731
        left = _direction(a, n(w_left), n(b_left), axis=3, backwards=True)
        right = _direction(a, n(w_right), n(b_right), axis=3, backwards=False)
        up = _direction(a, n(w_up), n(b_up), axis=2, backwards=True)
        down = _direction(a, n(w_down), n(b_down), axis=2, backwards=False)
        return tuple(torch.from_numpy(v) for v in (up, right, down, left))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--official", type=Path, required=True)
    ap.add_argument("--shared", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    sys.modules["irnn"] = types.SimpleNamespace(irnn=KernelTranscription)   # instead of irnn.py (cupy)
    sys.path.insert(0, str(a.official))
    from SPANet import SPANet  # the official class, unchanged

    net = SPANet()
    obj = torch.load(a.shared / "weights" / WEIGHTS, map_location="cpu", weights_only=True)
    net.load_state_dict({k.replace("module.", ""): v for k, v in obj["net"].items()})  # as load_checkpoints
    net.eval()
    img = cv2.imread(str(a.shared / "data" / IMAGE))
    outputs = {}
    for name, (t, l, h, w) in CROPS.items():
        O = np.transpose(img[t:t + h, l:l + w], (2, 0, 1)).astype(np.float32) / 255.0   # TestDataset
        with torch.no_grad():
            _, out = net(torch.from_numpy(O)[None])
        pred = np.clip(np.transpose(out.numpy()[0], (1, 2, 0)), 0, 1)                  # run_test
        ref = np.ascontiguousarray(pred.transpose(2, 0, 1)[::-1]).astype(np.float32)   # BGR -> RGB
        np.save(a.out / f"spanet-SPA_{name}.npy", ref)
        outputs[f"spanet-SPA_{name}"] = {"shape": list(ref.shape), "mean": float(ref.mean())}
    commit = subprocess.run(["git", "-C", str(a.official), "rev-parse", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "82d28899c1793170335fdf2527eb365444533c8b"
    meta = {"image": IMAGE, "crops": CROPS, "official": "stevewongv/SPANet", "commit": commit,
            "weights": WEIGHTS, "irnn": "numpy transcription of IRNN_Forward_cuda.cu (CPU)",
            "torch": torch.__version__, "outputs": outputs}
    (a.out / "reference.json").write_text(json.dumps(meta, indent=1) + "\n")


if __name__ == "__main__":
    main()
