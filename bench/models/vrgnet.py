"""VRGNet's derainer (Wang et al., "From Rain Generation to Rain Removal", CVPR 2021).

VRGNet trains a rain *generator*; the released deraining models are the PReNet-style "BNet"
jointly trained with it. Facts read from hongwang01/VRGNet (commit 036d7a9):

* The released checkpoints ``for_syn/syn*models/DerainNet_state_700.pt`` and
  ``for_spa/spamodels/DerainNet_state_800.pt`` are state_dicts of ``vrgnet.py``'s ``Derain``
  wrapper (one attribute ``derainet``, hence the ``derainet.`` key prefix), which holds
  ``prenet.py``'s ``PReNet`` — NOT ``derainnet.py``'s ``PReNet`` (that one, a plain PReNet, is the
  network of the separate "augmentation" experiment, ``Aug_DerainNet_state_*.pt``, not released
  here). The two ``prenet.py`` copies in ``for_syn/`` and ``for_spa/`` are identical.
* ``prenet.py``'s PReNet is csdwren's PReNet (6 stages, ConvLSTM, 5 residual blocks) with one
  change: stages 1-5 end as usual (``conv`` 32→3, + input); stage 6 ends with an extra
  ``convfinal`` 32→6 whose first three channels plus the input are the background mean ``mu_b``
  and whose last three are ``logvar_b`` (unused at test time). 34 keys (PReNet's 32 +
  ``convfinal``). So the architecture is NOT identical to bench.models.prenet's PReNet; this
  file reuses that class's layers and LSTM/residual code and only replaces the last stage.
* Test scripts ``for_syn/test_syn_joint.py`` / ``for_spa/test_spa_joint.py`` (lines 45-73):
  ``cv2.imread`` → ``cv2.merge([r, g, b])`` (RGB) → ``/255`` → ``mu_b, _ = netDerain(y)`` →
  ``torch.clamp(mu_b, 0, 1)`` → ``np.uint8(255 * out)`` (truncation) → back to BGR →
  ``cv2.imwrite`` with the input's name (PNG for Rain100H/L). Any size (all convs stride 1).
"""
from __future__ import annotations

import torch
from torch import nn

from bench.models.base import IOPolicy, ModelSpec
from bench.models.prenet import FEATURES, PReNet, PReNetConfig


class VRGNetDerainer(PReNet):
    """``prenet.py`` PReNet of VRGNet: PReNet whose sixth stage outputs (mu_b, logvar_b)."""

    def __init__(self):
        super().__init__(PReNetConfig(stages=6))
        self.convfinal = nn.Sequential(nn.Conv2d(FEATURES, 6, 3, 1, 1))

    def forward(self, rainy: torch.Tensor) -> torch.Tensor:
        rainy = rainy.contiguous(memory_format=torch.channels_last)
        n, _, rows, cols = rainy.shape
        h = rainy.new_zeros(n, FEATURES, rows, cols)
        c = rainy.new_zeros(n, FEATURES, rows, cols)
        x = rainy
        for stage in range(self.config.stages):
            feat = self.conv0(torch.cat((rainy, x), 1))
            h, c = self._lstm(feat, h, c)
            feat = self._blocks_forward(h)
            if stage < self.config.stages - 1:
                x = self.conv(feat) + rainy
            else:   # mu_b = first three channels + input; logvar_b (channels 3-5) is dropped
                x = self.convfinal(feat)[:, :3] + rainy
        return x


IO = IOPolicy(input_range=(0.0, 1.0), clamp_output=True, size_policy="any", quantise="trunc")

SPEC = ModelSpec(
    name="vrgnet",
    title="VRGNet",
    description="VRGNet derainer (Wang et al., CVPR 2021), PReNet jointly trained with the rain generator",
    build_network=VRGNetDerainer,
    io=IO,
    weights=("Rain100H", "Rain100L", "Rain1400", "SPA"),
    weights_for_dataset={"rain100h": "Rain100H", "rain100l": "Rain100L", "rain1400": "Rain1400",
                         "spa-data": "SPA"},
    notes="RGB [0,1]; output mu_b of prenet.py's PReNet (6th stage convfinal 32->6, first 3 channels "
          "+ input), clamped, saved np.uint8(255*x) (test_syn_joint.py / test_spa_joint.py).",
)
