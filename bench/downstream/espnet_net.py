"""ESPNet (sacmehta/ESPNet @ afe71c3, ``test/Model.py``): the full encoder–decoder, written anew.

Module and parameter names follow the official ``ESPNet(classes, p, q)`` so the published
Cityscapes state_dict (189 keys) loads with strict=True. The official decoder runs the encoder's
sub-modules itself (never ``ESPNet_Encoder.forward``), including ``encoder.classifier``; so does
this one. Output: 1×classes×H×W logits at the input resolution.
"""
from __future__ import annotations

import torch
import torch.nn as nn

BN_EPS = 1e-3


class C(nn.Module):
    def __init__(self, n_in: int, n_out: int, k: int, stride: int = 1, d: int = 1):
        super().__init__()
        pad = (k - 1) // 2 * d
        self.conv = nn.Conv2d(n_in, n_out, (k, k), stride=stride, padding=(pad, pad), bias=False, dilation=d)

    def forward(self, x):
        return self.conv(x)


CDilated = C   # the official CDilated is C with a dilation; the parameter names are the same


class BR(nn.Module):
    def __init__(self, n_out: int):
        super().__init__()
        self.bn = nn.BatchNorm2d(n_out, eps=BN_EPS)
        self.act = nn.PReLU(n_out)

    def forward(self, x):
        return self.act(self.bn(x))


class CBR(nn.Module):
    def __init__(self, n_in: int, n_out: int, k: int, stride: int = 1):
        super().__init__()
        pad = (k - 1) // 2
        self.conv = nn.Conv2d(n_in, n_out, (k, k), stride=stride, padding=(pad, pad), bias=False)
        self.bn = nn.BatchNorm2d(n_out, eps=BN_EPS)
        self.act = nn.PReLU(n_out)

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class _Pyramid(nn.Module):
    """Reduce, split into five dilated 3×3 branches (1, 2, 4, 8, 16), hierarchical sum, concatenate."""

    def _branches(self, n_out: int):
        n = n_out // 5
        self.d1 = CDilated(n, n_out - 4 * n, 3, 1, 1)
        self.d2, self.d4 = CDilated(n, n, 3, 1, 2), CDilated(n, n, 3, 1, 4)
        self.d8, self.d16 = CDilated(n, n, 3, 1, 8), CDilated(n, n, 3, 1, 16)

    def _merge(self, x):
        add1 = self.d2(x)
        add2 = add1 + self.d4(x)
        add3 = add2 + self.d8(x)
        add4 = add3 + self.d16(x)
        return torch.cat([self.d1(x), add1, add2, add3, add4], 1)


class DownSamplerB(_Pyramid):
    def __init__(self, n_in: int, n_out: int):
        super().__init__()
        self.c1 = C(n_in, n_out // 5, 3, 2)
        self._branches(n_out)
        self.bn = nn.BatchNorm2d(n_out, eps=BN_EPS)
        self.act = nn.PReLU(n_out)

    def forward(self, x):
        return self.act(self.bn(self._merge(self.c1(x))))


class DilatedParllelResidualBlockB(_Pyramid):   # the official (misspelt) name
    def __init__(self, n_in: int, n_out: int, add: bool = True):
        super().__init__()
        self.c1 = C(n_in, n_out // 5, 1, 1)
        self._branches(n_out)
        self.bn = BR(n_out)
        self.add = add

    def forward(self, x):
        combine = self._merge(self.c1(x))
        return self.bn(x + combine if self.add else combine)


class InputProjectionA(nn.Module):
    def __init__(self, sampling_times: int):
        super().__init__()
        self.pool = nn.ModuleList([nn.AvgPool2d(3, stride=2, padding=1) for _ in range(sampling_times)])

    def forward(self, x):
        for pool in self.pool:
            x = pool(x)
        return x


class ESPNetEncoder(nn.Module):
    """ESPNet-C; only its modules are used (the decoder drives them)."""

    def __init__(self, classes: int, p: int, q: int):
        super().__init__()
        self.level1 = CBR(3, 16, 3, 2)
        self.sample1 = InputProjectionA(1)
        self.sample2 = InputProjectionA(2)
        self.b1 = BR(16 + 3)
        self.level2_0 = DownSamplerB(16 + 3, 64)
        self.level2 = nn.ModuleList([DilatedParllelResidualBlockB(64, 64) for _ in range(p)])
        self.b2 = BR(128 + 3)
        self.level3_0 = DownSamplerB(128 + 3, 128)
        self.level3 = nn.ModuleList([DilatedParllelResidualBlockB(128, 128) for _ in range(q)])
        self.b3 = BR(256)
        self.classifier = C(256, classes, 1, 1)


def _chain(layers: nn.ModuleList, x):
    for layer in layers:
        x = layer(x)
    return x


class ESPNet(nn.Module):
    def __init__(self, classes: int = 20, p: int = 2, q: int = 8):
        super().__init__()
        self.encoder = ESPNetEncoder(classes, p, q)
        self.level3_C = C(128 + 3, classes, 1, 1)
        self.br = nn.BatchNorm2d(classes, eps=BN_EPS)
        self.conv = CBR(16 + classes, classes, 3, 1)
        self.up_l3 = nn.Sequential(nn.ConvTranspose2d(classes, classes, 2, stride=2, padding=0, bias=False))
        self.combine_l2_l3 = nn.Sequential(BR(2 * classes), DilatedParllelResidualBlockB(2 * classes, classes,
                                                                                         add=False))
        self.up_l2 = nn.Sequential(nn.ConvTranspose2d(classes, classes, 2, stride=2, padding=0, bias=False),
                                   BR(classes))
        self.classifier = nn.ConvTranspose2d(classes, classes, 2, stride=2, padding=0, bias=False)

    def forward(self, x):
        e = self.encoder
        output0 = e.level1(x)
        output0_cat = e.b1(torch.cat([output0, e.sample1(x)], 1))
        output1_0 = e.level2_0(output0_cat)
        output1 = _chain(e.level2, output1_0)
        output1_cat = e.b2(torch.cat([output1, output1_0, e.sample2(x)], 1))
        output2_0 = e.level3_0(output1_cat)
        output2 = _chain(e.level3, output2_0)
        output2_cat = e.b3(torch.cat([output2_0, output2], 1))
        output2_c = self.up_l3(self.br(e.classifier(output2_cat)))
        comb_l2_l3 = self.up_l2(self.combine_l2_l3(torch.cat([self.level3_C(output1_cat), output2_c], 1)))
        return self.classifier(self.conv(torch.cat([comb_l2_l3, output0], 1)))
