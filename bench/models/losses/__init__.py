"""Training objectives of the seed methods in models-b's care (for `bench train`; not used at inference).

- ``supervised``: DRD-Net's L1 objective, RDMC's MSE + (1 − SSIM) + ratio objective, the SSIM they use.
- ``contrastive``: VGG19 feature taps and the ratio-form contrastive regulariser (RDMC; the
  official code detaches the output inside it — not copied here).
- ``semi_drdnet``: Semi-DRDNet's dual sample-augmented contrastive regulariser and the objective
  that adds its unlabelled real-rain branch to the supervised DRD-Net loss.
"""
from bench.models.losses.contrastive import ContrastiveRatio, VGGTaps, vgg19_taps
from bench.models.losses.semi_drdnet import DualContrastiveRegulariser, SemiDRDNetObjective
from bench.models.losses.supervised import DRDNetLoss, RDMCLoss, ssim

__all__ = ["ContrastiveRatio", "VGGTaps", "vgg19_taps", "DualContrastiveRegulariser", "SemiDRDNetObjective",
           "DRDNetLoss", "RDMCLoss", "ssim"]
