"""Reference outputs of the OFFICIAL DRD-Net and RDMC code on deterministic weights (not run in CI).

Usage (from the repo root; the official code is unpacked outside the repo, never committed):
    git -C /work/.mirror/syy-whu+DRD-Net/repo archive HEAD | tar -x -C /tmp/official-drd
    git -C /work/.mirror/Jzy2017+DRNet/repo archive HEAD | tar -x -C /tmp/official-rdmc
    python tests/reference/models/make_reference_unpublished.py /tmp/official-drd /tmp/official-rdmc

The official modules are imported unchanged (CPU, eval mode). Weights come from our
bench.models.testing.deterministic_state_dict over the OFFICIAL state_dict's keys and shapes; the
inputs from bench.models.testing.deterministic_input. RDMC's architecture tensors are plain
attributes in the official code (redrawn randomly at construction), so they are set explicitly.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))
from bench.models.testing import deterministic_input, deterministic_state_dict  # noqa: E402

SEED = 0
DRD_INPUT = (1, 3, 24, 40)
RDMC_INPUT = (1, 3, 32, 48)
# Non-default architecture tensors for the skip-path reference (any values; the test sets the same).
RDMC_SKIP_ALPHAS = {"alphas_upsample": [[0.3, -0.2]], "alphas_skipup": [0.5, -0.25, 0.75, 0.1],
                    "alphas_skipdown": [0.2, 0.4, -0.3, 0.6]}


def write_keys(path: Path, state: dict) -> None:
    path.write_text("".join(f"{k} {'x'.join(map(str, v.shape)) or 'scalar'}\n" for k, v in state.items()))


MIRRORS = {"DRD-Net": "/work/.mirror/syy-whu+DRD-Net/repo", "RDMC/DRNet": "/work/.mirror/Jzy2017+DRNet/repo"}


def commit_of(repo: str) -> str:
    """Commit of the mirror the archive was taken from (the unpacked copy has no .git)."""
    try:
        out = subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"], capture_output=True, text=True)
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def main(drd_dir: str, rdmc_dir: str) -> None:
    torch.set_num_threads(2)
    sys.path.insert(0, drd_dir)
    from networks import DRDNetwork  # official DRD-Net
    net = DRDNetwork(is_train=False).eval()
    state = net.state_dict()
    write_keys(HERE / "drdnet_keys.txt", state)
    net.load_state_dict(deterministic_state_dict({k: v.shape for k, v in state.items()}, SEED))
    x = deterministic_input(DRD_INPUT)
    with torch.no_grad():
        out1, out, back = net(x)            # official order: rain-free (input − rain), output, detail
    np.save(HERE / "drdnet_input.npy", x.numpy())
    np.save(HERE / "drdnet_official.npy", torch.cat([out1, out, back]).numpy().astype(np.float32))

    sys.path.insert(0, rdmc_dir)
    from P_3UNet_Darts import UNet          # official RDMC / DRNet
    x = deterministic_input(RDMC_INPUT)
    np.save(HERE / "rdmc_input.npy", x.numpy())
    for tag, skips, alphas in (("rdmc_official", None, {"alphas_upsample": [[0.0, 0.0]]}),
                               ("rdmc_skips_official", [[1, 1, 1, 1], [1, 1, 1, 1]], RDMC_SKIP_ALPHAS)):
        unet = UNet() if skips is None else UNet(skip_index=skips)
        unet.eval()
        state = unet.state_dict()
        if skips is None:
            write_keys(HERE / "rdmc_keys.txt", state)
        unet.load_state_dict(deterministic_state_dict({k: v.shape for k, v in state.items()}, SEED))
        for name, value in alphas.items():
            setattr(unet, name, torch.tensor(value, dtype=torch.float32))
        with torch.no_grad():
            y = unet(x)
        np.save(HERE / f"{tag}.npy", y.numpy().astype(np.float32))
    # SSIM of the official SSIM.py (pytorch-ssim, shared by both repos) on two fixed images.
    from SSIM import SSIM
    a, b = deterministic_input((1, 3, 24, 40), seed=7), deterministic_input((1, 3, 24, 40), seed=8)
    (HERE / "ssim_official.txt").write_text(f"{SSIM()(a, b).item():.8f}\n")

    sources = [f"{name} official commit {commit_of(repo)} (git archive HEAD of {repo})" for name, repo in MIRRORS.items()]
    sources.append(f"torch {torch.__version__}, seed {SEED}")
    (HERE / "SOURCES.txt").write_text("\n".join(sources) + "\n")


if __name__ == "__main__":
    main(*(sys.argv[1:3] if len(sys.argv) >= 3 else ("/tmp/official-drd", "/tmp/official-rdmc")))
