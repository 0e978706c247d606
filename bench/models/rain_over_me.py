"""Rain O'er Me (Jin et al., "Rain O'er Me: Synthesizing Real Rain to Derain with Data
Distillation", IEEE TIP 2020): the derainer generator ``derainnet``, one checkpoint per training set.

Written from the facts of HuangxingLin123/Rain-Over-Me (commit 81e0e79),
``code_for_<set>/models/networks.py`` (``define_G``, ``derainnet``, ``aggre_module``,
``ms_module0``); parameter names are the official ones so ``checkpoints/pretrained/latest_net_G.pth``
loads with ``strict=True``.

Network (16 features, all 3×3 stride-1 convs): inc conv 3→16 + ReLU; three aggregation blocks, each
two multi-scale units (la = relu(conv(x)); relu(conv_dilation3(x − la) + la)) whose two outputs are
concatenated and merged by conv 32→16 + ReLU; block1 → block2 → merge11(cat) → block3 →
merge12(cat) → outc conv 16→3 + tanh = rain residual ``res``. The test output is
``Y_hat = input − res``. A "detail enhancement" head ``out2`` (applied to ``res``) exists in every
checkpoint but does not reach ``Y_hat``; we keep it for strict loading and ``detail_output``.

Build options. ``opt.txt`` beside each checkpoint is the pix2pix/CycleGAN option dump (netG
unet_256, ngf 64, norm batch, ...), but ``define_G`` in all three ``networks.py`` ignores those
options and always builds ``derainnet(feature_num=16)``: building from ``opt.txt`` would give the
wrong network. What does differ per training set is ``out2``: conv 3→16, ReLU, conv 16→3, ReLU in
``code_for_DID_data``; conv 3→16, ReLU, conv 16→16, ReLU, conv 16→3 in ``code_for_Rain1400`` and
``code_for_Rain200L``. That difference lives in each weights entry as ``build:`` options
(``detail_channels``, ``detail_final_relu``), so nothing is parsed from the weights folder at build
time; tests check the entries against the checkpoints and against the ``opt.txt`` files.

I/O, from ``test.py`` + ``data/aligned_dataset.py`` (test branch) + ``util/util.py``: ``cv2.imread``
→ ``cvtColor(BGR2RGB)`` → ``ToTensor`` = RGB in [0, 1], full size, no resize or crop (``opt.eval``
is False, which is harmless: the network has no BatchNorm or dropout). ``tensor2im``:
``x * 255``, ``np.clip(0, 255)``, ``astype(uint8)`` — clamp and TRUNCATE.
"""
from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import torch
from torch import nn

from bench.models.base import IOPolicy, ModelSpec

FEATURES = 16


def _conv(cin: int, cout: int, dilation: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, 1, padding=dilation, dilation=dilation)


class MultiScaleUnit(nn.Module):
    """Official ``ms_module0`` (dilation 3)."""

    def __init__(self, ch: int):
        super().__init__()
        self.conv1 = nn.Sequential(_conv(ch, ch), nn.ReLU())
        self.dilated_conv = _conv(ch, ch, dilation=3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        low = self.conv1(x)
        return torch.relu(self.dilated_conv(x - low) + low)


class AggregationBlock(nn.Module):
    """Official ``aggre_module``: two units in sequence, both outputs merged."""

    def __init__(self, ch: int):
        super().__init__()
        self.conv1 = MultiScaleUnit(ch)
        self.conv2 = MultiScaleUnit(ch)
        self.merge = nn.Sequential(_conv(2 * ch, ch), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.conv1(x)
        return self.merge(torch.cat((a, self.conv2(a)), 1))


class RainOverMe(nn.Module):
    """Official ``derainnet``; ``forward`` returns ``Y_hat`` (what the official test saves)."""

    def __init__(self, features: int = FEATURES, detail_channels: tuple[int, ...] = (16, 16),
                 detail_final_relu: bool = False):
        super().__init__()
        self.inc = nn.Sequential(_conv(3, features), nn.ReLU())
        self.block1 = AggregationBlock(features)
        self.block2 = AggregationBlock(features)
        self.block3 = AggregationBlock(features)
        self.merge11 = nn.Sequential(_conv(2 * features, features), nn.ReLU())
        self.merge12 = nn.Sequential(_conv(2 * features, features), nn.ReLU())
        self.outc = nn.Sequential(_conv(features, 3), nn.Tanh())
        layers: list[nn.Module] = []
        widths = (3, *detail_channels, 3)
        for k, (cin, cout) in enumerate(zip(widths, widths[1:])):
            layers.append(_conv(cin, cout))
            if k < len(widths) - 2 or detail_final_relu:
                layers.append(nn.ReLU())
        self.out2 = nn.Sequential(*layers)

    def rain_residual(self, x: torch.Tensor) -> torch.Tensor:
        f0 = self.block1(self.inc(x))
        f01 = self.merge11(torch.cat((f0, self.block2(f0)), 1))
        return self.outc(self.merge12(torch.cat((f01, self.block3(f01)), 1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x - self.rain_residual(x)

    def detail_output(self, x: torch.Tensor) -> torch.Tensor:
        """``output2`` of the official forward (input − out2(res)); not what the test script saves."""
        return x - self.out2(self.rain_residual(x))


def options_from_state(state: dict[str, torch.Tensor]) -> dict:
    """Build options read off a checkpoint's ``out2`` shapes (for checkpoints given by path). A
    trailing ReLU has no parameters, so it cannot be read off; it only affects ``detail_output``."""
    convs = sorted(int(k.split(".")[1]) for k in state if k.startswith("out2.") and k.endswith(".weight"))
    hidden = tuple(int(state[f"out2.{i}.weight"].shape[0]) for i in convs[:-1])
    return {"detail_channels": hidden, "detail_final_relu": False}


@dataclasses.dataclass(frozen=True)
class OptionsSpec(ModelSpec):
    """A ModelSpec whose network takes the ``build:`` options of the chosen weights entry."""

    def build(self, variant, ctx, dataset=None):
        from bench.models.weights import load_state_dict, resolver

        wid = self.pick_weights(variant, dataset)
        explicit = Path(wid).expanduser()
        if explicit.suffix in (".pth", ".pt") and explicit.exists():
            options = options_from_state(load_state_dict(explicit))
        else:
            options = dict(resolver(ctx).entry(self.name, wid).get("build") or {})
        if "detail_channels" in options:
            options["detail_channels"] = tuple(options["detail_channels"])
        spec = dataclasses.replace(self, build_network=functools.partial(self.build_network, **options))
        return ModelSpec.build(spec, wid, ctx, dataset)


# test.py: cv2 BGR→RGB, ToTensor [0, 1], full size; tensor2im: *255, clip, astype(uint8) (truncation).
IO = IOPolicy(input_range=(0.0, 1.0), clamp_output=True, size_policy="any", quantise="trunc")

SPEC = OptionsSpec(
    name="rain_over_me",
    title="Rain O'er Me", description="Rain O'er Me (Jin et al., TIP 2020)",
    build_network=RainOverMe,
    io=IO,
    weights=("Rain200L", "Rain1400", "DID_data"),
    weights_for_dataset={"rain200l": "Rain200L", "rain1400": "Rain1400", "test1200": "DID_data"},
    notes="RGB [0,1] in and out, any size; output Y_hat = input - tanh rain residual, clamped and "
          "truncated (tensor2im). Architecture options per checkpoint from configs/weights (not opt.txt, "
          "which define_G ignores). No Rain100H/L checkpoint: Rain200L is the default.",
)
