"""Semi-DRDNet's training-time additions: the unlabelled real-rain branch and its dual
sample-augmented contrastive regulariser (Shen et al., arXiv 2204.02772).

What the sources fix: the derainer is DRD-Net unchanged (rain residual branch R, detail branch
D, output (x − R(x)) + D(x)); labelled synthetic pairs train it with DRD-Net's supervised loss;
unlabelled real rainy images train it through a contrastive regulariser in a frozen-VGG latent
space that builds constraints "for both rain streaks and clean backgrounds", with augmented
(multiple) positive and negative samples, so that no real ground truth is needed.

What is our reading (the official semi-supervised code was never released, so these choices are
parameters, stated here and in the report):
- background term: anchor = derained real image; positives = unpaired clean images; negatives =
  real rainy images (every rainy image of the batch, not only the anchor's own input);
- rain term: anchor = rain layer R(x) estimated on the real image; positives = rain layers of the
  labelled pairs (rainy − clean); negatives = the clean images;
- each term is the ratio form of AECR-Net / RDMC, distances averaged over all positives
  (numerator) and all negatives (denominator), VGG19 taps and weights as RDMC's (losses.contrastive);
- total = supervised(labelled) + λ_b·background + λ_r·rain, λ_b = λ_r = 0.1 by default.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from bench.models.losses.contrastive import RDMC_TAP_WEIGHTS, weighted_l1
from bench.models.losses.supervised import DRDNetLoss


class DualContrastiveRegulariser(nn.Module):
    """Ratio contrastive loss with sample-augmented positive and negative sets.

    ``anchor`` N×3×H×W; ``positives`` P×3×H×W and ``negatives`` M×3×H×W (any images of the same
    size; unpaired). Returns mean over anchors of Σ_l w_l·mean_p L1 / Σ_l w_l·mean_m L1."""

    def __init__(self, features: nn.Module, weights: Sequence[float] = RDMC_TAP_WEIGHTS, eps: float = 1e-7):
        super().__init__()
        self.features, self.weights, self.eps = features, tuple(weights), eps

    def _mean_distance(self, fa: list[torch.Tensor], fs: list[torch.Tensor], i: int) -> torch.Tensor:
        """Mean over the samples j of Σ_l w_l·L1(f_l(anchor_i), f_l(sample_j))."""
        anchor_i = [f[i: i + 1] for f in fa]
        return torch.stack([weighted_l1([g[j: j + 1] for g in fs], anchor_i, self.weights)
                            for j in range(fs[0].shape[0])]).mean()

    def forward(self, anchor: torch.Tensor, positives: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
        fa = self.features(anchor)
        with torch.no_grad():
            fp, fn = self.features(positives), self.features(negatives)
        ratios = [self._mean_distance(fa, fp, i) / (self._mean_distance(fa, fn, i) + self.eps)
                  for i in range(anchor.shape[0])]
        return torch.stack(ratios).mean()


class SemiDRDNetObjective(nn.Module):
    """Supervised DRD-Net loss on labelled pairs + dual contrastive terms on unlabelled real rain."""

    def __init__(self, features: nn.Module, background_weight: float = 0.1, rain_weight: float = 0.1):
        super().__init__()
        self.supervised = DRDNetLoss()
        self.contrast = DualContrastiveRegulariser(features)
        self.background_weight, self.rain_weight = background_weight, rain_weight

    def forward(self, net: nn.Module, rainy: torch.Tensor, clean: torch.Tensor, real_rainy: torch.Tensor,
                unpaired_clean: torch.Tensor) -> dict[str, torch.Tensor]:
        """``net`` is a DRDNet; returns the terms and their weighted ``total``."""
        sup = self.supervised(net.forward_parts(rainy), clean)
        real = net.forward_parts(real_rainy)
        background = self.contrast(real["out"], positives=unpaired_clean, negatives=real_rainy)
        synthetic_rain = (rainy - clean).detach()
        rain = self.contrast(real["rain"], positives=synthetic_rain, negatives=unpaired_clean)
        total = sup + self.background_weight * background + self.rain_weight * rain
        return {"supervised": sup, "background": background, "rain": rain, "total": total}
