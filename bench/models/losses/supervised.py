"""Supervised objectives of DRD-Net and RDMC as their released training scripts compute them."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from bench.models.losses.contrastive import ContrastiveRatio


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    g = torch.tensor([math.exp(-((i - size // 2) ** 2) / (2 * sigma ** 2)) for i in range(size)])
    g = g / g.sum()
    return g[:, None] @ g[None, :]


def ssim(a: torch.Tensor, b: torch.Tensor, window: int = 11) -> torch.Tensor:
    """Mean SSIM as the seed repos' ``SSIM.py`` (pytorch-ssim): 11×11 Gaussian σ 1.5 per channel,
    zero 'same' padding, C1 = 0.01², C2 = 0.03² (data range 1), averaged over every pixel."""
    c = a.shape[1]
    w = _gaussian_window(window).to(a)[None, None].expand(c, 1, window, window)
    blur = lambda t: F.conv2d(t, w, padding=window // 2, groups=c)  # noqa: E731
    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a ** 2
    var_b = blur(b * b) - mu_b ** 2
    cov = blur(a * b) - mu_a * mu_b
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2)
    return (num / den).mean()


class DRDNetLoss(nn.Module):
    """0.1·L1(input − rain, GT) + L1(output, GT) (official train.py; ``parts`` from DRDNet.forward_parts)."""

    def forward(self, parts: dict[str, torch.Tensor], clean: torch.Tensor) -> torch.Tensor:
        return 0.1 * F.l1_loss(parts["rain_free"], clean) + F.l1_loss(parts["out"], clean)


class RDMCLoss(nn.Module):
    """0.1·MSE + (1 − SSIM) + 0.1·ratio (official train.py), ratio = VGG19 L1(GT, out) / L1(rainy, out)
    with gradients through the output (the released code detaches it; see losses.contrastive)."""

    def __init__(self, features: nn.Module, ratio_weight: float = 0.1):
        super().__init__()
        self.ratio = ContrastiveRatio(features)
        self.ratio_weight = ratio_weight

    def forward(self, out: torch.Tensor, clean: torch.Tensor, rainy: torch.Tensor) -> torch.Tensor:
        return (0.1 * F.mse_loss(out, clean) + (1 - ssim(clean, out))
                + self.ratio_weight * self.ratio(out, clean, rainy))
