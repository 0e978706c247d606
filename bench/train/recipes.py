"""What `bench train MODEL` optimises: the loss of each method's released training code.

| model | loss (``REFERENCE.md`` "Losses") | feature net |
|---|---|---|
| prenet (prenet_r, prn, prn_r) | −SSIM(out, GT) | — |
| drdnet | 0.1·L1(input − rain, GT) + L1(out, GT) | — |
| semi-drdnet | drdnet's loss on pairs + 0.1·background + 0.1·rain contrastive terms on unlabelled real rain (losses.semi_drdnet) | VGG19 |
| rdmc (rdmc-crop) | 0.1·MSE + (1 − SSIM) + 0.1·ratio, ratio with gradient through the output | VGG19 |

``--without-perceptual`` drops every term that needs a feature net (RDMC: the ratio; Semi-DRDNet:
both contrastive terms, hence the whole real-rain branch) and is recorded as an ablation;
``--random-features`` keeps every term on a feature net with seeded random weights (run name
``-randvgg``), also recorded as an ablation.
SAPNet (needs LPIPS-alex, not implemented here) and NLCL (unpaired GAN training) are not offered.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from bench.models import losses as L


@dataclass(frozen=True)
class Recipe:
    model: str                     # registry name of the architecture
    terms: dict[str, float]        # loss term -> weight (as the released code)
    feature_net: str | None = None
    perceptual_terms: tuple[str, ...] = ()
    needs_real: bool = False
    patch_multiple: int = 1
    spec_name: str | None = None   # where the trained checkpoint is registered (default: model)

    def extra_inputs(self, sampler, index: int, batch: int, real: list) -> dict[str, torch.Tensor]:
        """Inputs of one step beyond the paired batch: the real-rain branch (Semi-DRDNet) draws real
        rainy photos and unpaired clean crops; other recipes need none."""
        if not (self.needs_real and "contrast_background" in self.terms):
            return {}
        return {"real": sampler.unpaired(index, batch, real, stream=1),
                "unpaired_clean": sampler.unpaired_clean(index, batch)}


RECIPES = {
    "prenet": Recipe("prenet", {"neg_ssim": 1.0}),
    "prenet_r": Recipe("prenet_r", {"neg_ssim": 1.0}),
    "prn": Recipe("prn", {"neg_ssim": 1.0}),
    "prn_r": Recipe("prn_r", {"neg_ssim": 1.0}),
    "drdnet": Recipe("drdnet", {"l1_rain_free": 0.1, "l1_out": 1.0}),
    "semi-drdnet": Recipe("semi-drdnet", {"l1_rain_free": 0.1, "l1_out": 1.0, "contrast_background": 0.1,
                                          "contrast_rain": 0.1}, feature_net="vgg19",
                          perceptual_terms=("contrast_background", "contrast_rain"), needs_real=True),
    "rdmc": Recipe("rdmc", {"mse": 0.1, "one_minus_ssim": 1.0, "ratio": 0.1}, feature_net="vgg19",
                   perceptual_terms=("ratio",), patch_multiple=16),
}
RECIPES["rdmc-crop"] = RECIPES["rdmc"]


def recipe(model: str, without_perceptual: bool = False) -> Recipe:
    if model not in RECIPES:
        raise KeyError(f"bench train: no training recipe for {model!r} (available: {', '.join(RECIPES)}); "
                       "SAPNet needs LPIPS-alex and NLCL is unpaired GAN training: not offered")
    r = RECIPES[model]
    if without_perceptual:
        r = Recipe(r.model, {k: v for k, v in r.terms.items() if k not in r.perceptual_terms}, None, (),
                   False, r.patch_multiple)
    return r


def trainable_parameters(model: str, net: nn.Module) -> list[nn.Parameter]:
    """Parameters the forward pass uses. RDMC's cross-level skip modules are built (their keys are
    in the official checkpoints) but switched off by its default skip_index: they are frozen."""
    if model.startswith("rdmc"):
        down, up = net.skip_index
        off = [n for n, on in zip(("skip_down_3_4", "skip_down_2_3", "skip_down_1_2", "skip_down_0_1"), down) if not on]
        off += [n for n, on in zip(("skip_up_4_3", "skip_up_3_2", "skip_up_2_1", "skip_up_1_0"), up) if not on]
        for n in off:
            getattr(net, n).requires_grad_(False)
    return [p for p in net.parameters() if p.requires_grad]


@contextmanager
def running_stats_frozen(net: nn.Module):
    """Batch norm still normalises with the batch's statistics but leaves its running ones alone.
    Why: the running statistics are what the network normalises with at test time; unlabelled
    real photos (another distribution, other sizes) passed through them for a regulariser made a
    150-step Semi-DRDNet score 10.9 dB in eval mode against 15.6 dB on batch statistics."""
    norms = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training]
    saved = [m.momentum for m in norms]
    for m in norms:
        m.momentum = 0.0
    try:
        yield
    finally:
        for m, mom in zip(norms, saved):
            m.momentum = mom


def objective(r: Recipe, features: nn.Module | None) -> Callable[..., dict[str, torch.Tensor]]:
    """fn(net, rainy, clean, real=None, unpaired_clean=None) -> {term: value, ..., "total": weighted sum}."""
    w = r.terms
    ratio = L.ContrastiveRatio(features) if "ratio" in w else None
    dual = L.DualContrastiveRegulariser(features) if "contrast_background" in w else None

    def fn(net, rainy, clean, real=None, unpaired_clean=None) -> dict[str, torch.Tensor]:
        t: dict[str, torch.Tensor] = {}
        if "neg_ssim" in w:
            t["neg_ssim"] = -L.ssim(net(rainy), clean)
        elif "l1_out" in w:
            parts = net.forward_parts(rainy)
            t["l1_rain_free"] = nn.functional.l1_loss(parts["rain_free"], clean)
            t["l1_out"] = nn.functional.l1_loss(parts["out"], clean)
            if dual is not None:
                if real is None or unpaired_clean is None:
                    raise ValueError("semi-drdnet needs real rainy images (--real) and unpaired clean images")
                with running_stats_frozen(net):
                    real_parts = net.forward_parts(real)
                t["contrast_background"] = dual(real_parts["out"], positives=unpaired_clean, negatives=real)
                t["contrast_rain"] = dual(real_parts["rain"], positives=(rainy - clean).detach(),
                                          negatives=unpaired_clean)
        else:
            out = net(rainy)
            t["mse"] = nn.functional.mse_loss(out, clean)
            t["one_minus_ssim"] = 1 - L.ssim(clean, out)
            if ratio is not None:
                t["ratio"] = ratio(out, clean, rainy)
        t["total"] = sum(w[k] * v for k, v in t.items())
        return t

    return fn
