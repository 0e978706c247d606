"""FastestDet (dog-qiuqiu/FastestDet @ 50473cd): network and its official decoding, written anew.

Module and parameter names follow the official ``module/detector.py``, ``module/shufflenetv2.py``
and ``module/custom_layers.py`` so the published state_dict (420 keys) loads with strict=True.
The network takes a 1×3×352×352 BGR float image in [0, 1] and returns 1×85×22×22: channel 0
objectness (sigmoid), 1–4 box regression (raw), 5–84 class probabilities (softmax).
``decode`` is the official ``utils/tool.py handle_preds`` for one image, vectorised.
"""
from __future__ import annotations

import torch
import torch.nn as nn

STAGE_REPEATS = (4, 8, 4)
STAGE_OUT_CHANNELS = (-1, 24, 48, 96, 192)


def _conv_bn(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1, relu: bool = True) -> list[nn.Module]:
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    return layers + [nn.ReLU(inplace=True)] if relu else layers


class ShuffleV2Block(nn.Module):
    def __init__(self, inp: int, oup: int, mid_channels: int, stride: int):
        super().__init__()
        self.stride = stride
        self.branch_main = nn.Sequential(*_conv_bn(inp, mid_channels, 1),
                                         *_conv_bn(mid_channels, mid_channels, 3, stride, groups=mid_channels,
                                                   relu=False),
                                         *_conv_bn(mid_channels, oup - inp, 1))
        self.branch_proj = (nn.Sequential(*_conv_bn(inp, inp, 3, stride, groups=inp, relu=False),
                                          *_conv_bn(inp, inp, 1)) if stride == 2 else None)

    def forward(self, x):
        if self.stride == 2:
            return torch.cat((self.branch_proj(x), self.branch_main(x)), 1)
        n, c, h, w = x.shape
        # the official channel shuffle: even channels pass through, odd channels go through the branch
        pairs = x.reshape(n * c // 2, 2, h * w).permute(1, 0, 2).reshape(2, -1, c // 2, h, w)
        return torch.cat((pairs[0], self.branch_main(pairs[1])), 1)


class ShuffleNetV2(nn.Module):
    def __init__(self):
        super().__init__()
        channels = STAGE_OUT_CHANNELS[1]
        self.first_conv = nn.Sequential(*_conv_bn(3, channels, 3, 2))
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        for name, repeats, out in zip(("stage2", "stage3", "stage4"), STAGE_REPEATS, STAGE_OUT_CHANNELS[2:]):
            # the first block halves the resolution; later ones see half the channels (the shuffle split)
            blocks = [ShuffleV2Block(channels, out, out // 2, 2)]
            blocks += [ShuffleV2Block(out // 2, out, out // 2, 1) for _ in range(repeats - 1)]
            setattr(self, name, nn.Sequential(*blocks))
            channels = out

    def forward(self, x):
        p1 = self.stage2(self.maxpool(self.first_conv(x)))
        p2 = self.stage3(p1)
        return p1, p2, self.stage4(p2)


class Conv1x1(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv1x1 = nn.Sequential(*_conv_bn(cin, cout, 1))

    def forward(self, x):
        return self.conv1x1(x)


class Head(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv5x5 = nn.Sequential(*_conv_bn(cin, cin, 5, groups=cin), *_conv_bn(cin, cout, 1, relu=False))

    def forward(self, x):
        return self.conv5x5(x)


class SPP(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.Conv1x1 = Conv1x1(cin, cout)

        def depthwise(n: int) -> nn.Sequential:
            return nn.Sequential(*[m for _ in range(n) for m in _conv_bn(cout, cout, 5, groups=cout)])

        self.S1, self.S2, self.S3 = depthwise(1), depthwise(2), depthwise(3)
        self.output = nn.Sequential(*_conv_bn(cout * 3, cout, 1, relu=False))
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.Conv1x1(x)
        y = torch.cat((self.S1(x), self.S2(x), self.S3(x)), dim=1)
        return self.relu(x + self.output(y))


class DetectHead(nn.Module):
    def __init__(self, cin: int, category_num: int):
        super().__init__()
        self.conv1x1 = Conv1x1(cin, cin)
        self.obj_layers = Head(cin, 1)
        self.reg_layers = Head(cin, 4)
        self.cls_layers = Head(cin, category_num)

    def forward(self, x):
        x = self.conv1x1(x)
        return torch.cat((torch.sigmoid(self.obj_layers(x)), self.reg_layers(x),
                          torch.softmax(self.cls_layers(x), dim=1)), dim=1)


class Detector(nn.Module):
    """The official ``Detector(category_num, load_param=True)``."""

    def __init__(self, category_num: int = 80):
        super().__init__()
        self.backbone = ShuffleNetV2()
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")
        self.avg_pool = nn.AvgPool2d(kernel_size=3, stride=2, padding=1)
        self.SPP = SPP(sum(STAGE_OUT_CHANNELS[-3:]), STAGE_OUT_CHANNELS[-2])
        self.detect_head = DetectHead(STAGE_OUT_CHANNELS[-2], category_num)

    def forward(self, x):
        p1, p2, p3 = self.backbone(x)
        return self.detect_head(self.SPP(torch.cat((self.avg_pool(p1), p2, self.upsample(p3)), dim=1)))


def decode(pred: torch.Tensor, conf_thresh: float = 0.001, nms_iou: float = 0.45) -> torch.Tensor:
    """One image's 85×H×W map -> K×6 [x1, y1, x2, y2, score, class] (normalised to the image,
    float32, in batched_nms order: score descending). As ``handle_preds``: score = obj^0.6 ·
    max(cls)^0.4, centre = (tanh(reg_xy) + grid) / size, size = sigmoid(reg_wh), kept where
    score > conf_thresh, then torchvision batched_nms per class."""
    import torchvision

    pred = pred.detach().float().cpu()
    _, h, w = pred.shape
    p = pred.permute(1, 2, 0)
    obj, reg, cls = p[..., 0], p[..., 1:5], p[..., 5:]
    out = torch.zeros((h, w, 6))
    out[..., 4] = (obj ** 0.6) * (cls.max(dim=-1)[0] ** 0.4)
    out[..., 5] = cls.argmax(dim=-1)
    gy, gx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    bw, bh = reg[..., 2].sigmoid(), reg[..., 3].sigmoid()
    cx, cy = (reg[..., 0].tanh() + gx) / w, (reg[..., 1].tanh() + gy) / h
    out[..., 0], out[..., 1] = cx - 0.5 * bw, cy - 0.5 * bh
    out[..., 2], out[..., 3] = cx + 0.5 * bw, cy + 0.5 * bh
    out = out.reshape(h * w, 6)
    out = out[out[:, 4] > conf_thresh]
    if not len(out):
        return out
    keep = torchvision.ops.batched_nms(out[:, :4], out[:, 4], out[:, 5], nms_iou)
    return out[keep]
