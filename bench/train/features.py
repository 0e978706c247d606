"""Frozen feature networks for perceptual / contrastive losses, resolved like checkpoints.

Files are torchvision's official ImageNet weights. torchvision names each file after the first 8
hex digits of its sha256 (``torch.hub``'s ``check_hash`` convention); that prefix is what we
verify (the full digest is not published with the URL). Search order: ``--weights-dir`` /
$BENCH_WEIGHTS (``<dir>/torchvision/<file>``), ``<cache>/weights/torchvision/<file>``, the torch hub
cache (``~/.cache/torch/hub/checkpoints/<file>``), then a download when online. Offline without the
file: WeightsMissing naming the exact file and where to place it, or one of two labelled
ablations: ``--without-perceptual`` (terms dropped) or ``--random-features`` (seeded random weights).
"""
from __future__ import annotations

from pathlib import Path

import torch

from bench.hashing import sha256_file
from bench.models.weights import WeightsMismatch, WeightsMissing, download_checkpoint

FEATURE_NETS = {
    "vgg19": {"file": "torchvision/vgg19-dcbb9e9d.pth", "url": "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth",
              "sha256_prefix": "dcbb9e9d", "used_by": "RDMC ratio loss, Semi-DRDNet contrastive regulariser"},
    "vgg16": {"file": "torchvision/vgg16-397923af.pth", "url": "https://download.pytorch.org/models/vgg16-397923af.pth",
              "sha256_prefix": "397923af", "used_by": "SAPNet contrastive loss"},
}


def candidates(name: str, ctx) -> list[Path]:
    rel = Path(FEATURE_NETS[name]["file"])
    out = []
    if ctx.weights_dir:
        out.append(Path(ctx.weights_dir) / rel)
    out.append(Path(ctx.cache_dir) / "weights" / rel)
    out.append(Path(torch.hub.get_dir()) / "checkpoints" / rel.name)
    return out


def resolve_feature_weights(name: str, ctx) -> tuple[Path, str]:
    """(path, sha256) of the feature network's weights; downloads when online."""
    entry = FEATURE_NETS[name]
    paths = candidates(name, ctx)
    for p in paths:
        if p.is_file():
            return p, _verified(p, entry)
    target = Path(ctx.cache_dir) / "weights" / entry["file"]
    if not ctx.offline:
        download_checkpoint(entry["url"], target, None, ctx=ctx, sha256_prefix=entry["sha256_prefix"])
        return target, _verified(target, entry)
    raise WeightsMissing(
        f"{name} ImageNet weights are needed ({entry['used_by']}) and this run is offline: download "
        f"{entry['url']} and place it at {paths[0]} (sha256 starts with "
        f"{entry['sha256_prefix']}), or train a labelled ablation: --without-perceptual (drops those terms) or "
        f"--random-features (keeps them on a seeded random {name})")


def _verified(path: Path, entry: dict) -> str:
    digest = sha256_file(path)
    if not digest.startswith(entry["sha256_prefix"]):
        raise WeightsMismatch(f"{path}: sha256 {digest} does not start with {entry['sha256_prefix']} "
                              f"(torchvision's file {Path(entry['file']).name}); re-download {entry['url']}")
    return digest


def feature_taps(name: str, ctx=None, weights_path: Path | None = None, pretrained: bool = True):
    """Frozen VGG taps as the losses use them; ``pretrained=False`` keeps torchvision's random init
    (seed it first): gradient-flow tests, and the ``--random-features`` ablation, labelled as such."""
    import torchvision

    from bench.models.losses.contrastive import VGGTaps

    net = getattr(torchvision.models, name)(weights=None)
    if pretrained:
        path = weights_path or resolve_feature_weights(name, ctx)[0]
        net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True), strict=True)
    taps = {"vgg19": (1, 3, 4, 8, 12), "vgg16": (3, 8, 15, 22)}[name]
    return VGGTaps(net.features, taps)
