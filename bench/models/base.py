"""The derainer interface and the one place where range, size and device policy is applied.

A network only ever sees what its I/O policy says it was trained on; everything outside the
network speaks float32 N×3×H×W RGB in [0, 1].
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from bench.errors import NotApplicable


@dataclass(frozen=True)
class IOPolicy:
    input_range: tuple[float, float] = (0.0, 1.0)  # range the network was trained on
    channel_order: str = "RGB"    # "BGR": the official script feeds cv2.imread's BGR unconverted
    clamp_output: bool = True
    size_policy: str = "any"      # "any" | "pad" (reflect-pad to `multiple`, crop back) | "crop" (official crop)
                                  # | "resize": the 8-bit image is resized to `resize_to` by Pillow (bilinear,
                                  #   bench/models/resize.py), the output quantised (`quantise`) at that size
                                  #   and resized back the same way, as scripts that resize PIL images do
    multiple: int = 1
    resize_to: tuple[int, int] | None = None   # (height, width) for size policy "resize"
    quantise: str = "round"       # how the output becomes uint8 ("trunc" = np.uint8(255*x), as official scripts)
    tile: int | None = None       # tile side for tiled inference; None = whole image unless it does not fit
    tile_overlap: int = 32

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def crop_box(self, h: int, w: int) -> tuple[int, int, int, int]:
        """(top, left, height, width) that size policy "crop" keeps: centred, as RDMC's test script
        crops; the runner crops the ground truth with the same box."""
        if self.size_policy != "crop" or self.multiple <= 1:
            return 0, 0, h, w
        nh, nw = h - h % self.multiple, w - w % self.multiple
        return (h - nh) // 2, (w - nw) // 2, nh, nw


@dataclass
class Batch:
    """What the runner hands a derainer: the samples and their decoded pixels, float32 N×3×H×W
    RGB in [0, 1] (``clean`` is None when any sample lacks ground truth)."""

    samples: list[Any]
    rainy: torch.Tensor
    clean: torch.Tensor | None = None

    @classmethod
    def of(cls, rainy: torch.Tensor, clean: torch.Tensor | None = None, samples: list[Any] | None = None) -> "Batch":
        return cls(samples or [None] * len(rainy), rainy, clean)


class ModelNotApplicable(NotApplicable):
    """A model that cannot run on a dataset (the ``clean`` oracle without ground truth); the runner
    skips the pair with this message."""


class Derainer:
    """The one contract the runner knows: ``derain(batch) -> N×3×H×W`` float RGB in [0, 1].

    ``cost()`` returns params/GFLOPs for networks and None for oracles and precomputed outputs
    (they have no cost and no forward time to report). ``deviations`` describes, per image of the
    last batch, anything that changed how it was computed (tiling, a retry after out-of-memory)."""

    name: str = ""
    title: str | None = None            # the registry entry's display name (ModelSpec.title), set by build()
    variant: str | None = None          # e.g. the training set of the checkpoint
    weights_sha256: str | None = None
    weights_path: str | None = None
    io: IOPolicy = IOPolicy()
    cache_output: bool = True           # oracles are free to recompute: no PNG cache
    code_version: str = "1"             # bump when the model's code changes its outputs
    provenance: dict[str, Any] | None = None   # weights' source: own-trained budget, third-party copy, ...

    @property
    def key(self) -> str:
        """Identity in the store: changes whenever the weights change."""
        k = self.name if not self.variant else f"{self.name}@{self.variant}"
        return k + (f"#{self.weights_sha256[:12]}" if self.weights_sha256 else "")

    @property
    def label(self) -> str:
        return self.name if not self.variant else f"{self.name}@{self.variant}"

    def derain(self, batch: Batch) -> torch.Tensor:
        raise NotImplementedError

    def cost(self) -> dict[str, Any] | None:
        return None

    def deviations(self) -> list[dict[str, Any] | None]:
        return []

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "variant": self.variant, "weights_sha256": self.weights_sha256,
                "weights_path": self.weights_path, "io": self.io.as_dict(), "code_version": self.code_version,
                "weights_provenance": self.provenance}


class NetworkDerainer(Derainer):
    """A torch network wrapped with its I/O policy."""

    def __init__(self, name: str, net: nn.Module, io: IOPolicy, device: torch.device | str = "cpu",
                 variant: str | None = None, weights_path: str | None = None,
                 weights_sha256: str | None = None, max_pixels: int | None = None):
        self.name, self.variant, self.io = name, variant, io
        self.max_pixels = max_pixels
        self._last_n = 0
        self.weights_path, self.weights_sha256 = weights_path, weights_sha256
        self.device = torch.device(device)
        self.net = net.to(self.device).eval()
        self.last_tiling: dict[str, Any] | None = None   # how the last image was run (None = whole)

    def derain(self, batch: Batch) -> torch.Tensor:
        return self.restore(batch.rainy)

    @torch.no_grad()
    def restore(self, rainy: torch.Tensor) -> torch.Tensor:
        """The tensor path: I/O policy in, network, I/O policy out (float N×3×H×W in [0, 1])."""
        x = self._prepare(rainy.to(self.device))
        y = self._forward(x)
        return self._finish(y, rainy.shape[-2:]).cpu()

    def cost(self) -> dict[str, Any] | None:
        from bench.models.cost import cost_columns

        return cost_columns(self)

    def deviations(self) -> list[dict[str, Any] | None]:
        return [self.last_tiling] * self._last_n if self.last_tiling else []

    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        if self.io.size_policy == "resize" and self.io.resize_to:
            from bench.models.resize import pil_resize_uint8

            x = pil_resize_uint8(x, self.io.resize_to)      # input images are 8-bit: rounding is exact
        lo, hi = self.io.input_range
        x = x * (hi - lo) + lo
        if self.io.channel_order == "BGR":
            x = x.flip(1)
        if self.io.size_policy == "pad" and self.io.multiple > 1:
            h, w = x.shape[-2:]
            ph, pw = (-h) % self.io.multiple, (-w) % self.io.multiple
            if ph or pw:
                x = F.pad(x, (0, pw, 0, ph), mode="reflect")
        elif self.io.size_policy == "crop" and self.io.multiple > 1:
            top, left, h, w = self.io.crop_box(*x.shape[-2:])
            x = x[..., top: top + h, left: left + w]
        return x

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        # Whole image when it fits; tiles (IOPolicy.tile, a pixel budget, or after an OOM) otherwise.
        from bench.models.tiling import forward_maybe_tiled

        y, self.last_tiling = forward_maybe_tiled(self.net, x, self.io, self.max_pixels)
        self._last_n = len(x)
        return y

    def _finish(self, y: torch.Tensor, in_size: tuple[int, int]) -> torch.Tensor:
        lo, hi = self.io.input_range
        y = (y - lo) / (hi - lo)
        if self.io.channel_order == "BGR":
            y = y.flip(1)
        if self.io.size_policy == "pad":
            y = y[..., : in_size[0], : in_size[1]]
        elif self.io.size_policy == "resize" and self.io.resize_to:
            from bench.models.resize import pil_resize_uint8

            y = pil_resize_uint8(y, in_size, quantise=self.io.quantise)
        return y.clamp(0, 1) if self.io.clamp_output else y

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d["params"] = sum(p.numel() for p in self.net.parameters())
        return d


@dataclass(frozen=True)
class ModelSpec:
    """A registry entry for a network derainer. ``weights`` are ids in configs/weights/<model>.yaml."""

    name: str
    title: str                                   # the method's official name, e.g. "PReNet"; reports show it
    build_network: Callable[[], nn.Module]
    io: IOPolicy = IOPolicy()
    weights: tuple[str, ...] = ()                # first one is the default
    weights_for_dataset: dict[str, str] = field(default_factory=dict)
    published_weights: bool = True
    notes: str = ""
    description: str = ""                        # one line, e.g. "PReNet (Ren et al., CVPR 2019), 6 stages + LSTM"

    def build(self, variant: str | None, ctx, dataset=None) -> NetworkDerainer:
        """The derainer with weights ``variant`` (an id in its weights YAML, or a file path), else
        those trained for ``dataset`` (a Dataset or its name), else the default. ``ctx``: RunContext."""
        from bench.models.weights import load_state_dict, resolver
        from bench.train.registry import default_trained

        wid = (variant or (None if self.weights else default_trained(ctx.cache_dir, self.name))
               or self.pick_weights(variant, dataset))
        checkpoints = resolver(ctx)
        entry, path = checkpoints.resolve(wid, model=self.name)
        seen = getattr(dataset, "name", dataset)
        if seen and seen in entry.get("seen_test_sets", ()):
            raise ModelNotApplicable(f"{self.name}@{entry.get('variant', wid)} was trained on images of {seen} "
                                     "(its leakage report, provenance.json); it is not evaluated there")
        net = self.build_network()
        state = load_state_dict(path, strip_prefix=entry.get("strip_prefix", "module."))
        net.load_state_dict(state, strict=True)
        derainer = NetworkDerainer(self.name, net, self.io, ctx.device, variant=entry.get("variant", wid),
                                   weights_path=str(path), weights_sha256=checkpoints.sha256(path),
                                   max_pixels=ctx.max_pixels)
        derainer.provenance = weights_provenance(entry)
        derainer.title = self.title
        return derainer

    def pick_weights(self, variant: str | None, dataset=None) -> str:
        if variant:
            return variant
        dataset = getattr(dataset, "name", dataset)
        if dataset and dataset in self.weights_for_dataset:
            return self.weights_for_dataset[dataset]
        if not self.weights:
            from bench.models.weights import WeightsMissing
            from bench.train.registry import train_hint
            raise WeightsMissing(train_hint(self.name))
        return self.weights[0]


PROVENANCE_KEYS = ("source", "trained_on", "budget", "ablation", "provenance")


def weights_provenance(entry: dict[str, Any]) -> dict[str, Any] | None:
    """What a report must say about where weights came from (kept with the model in the store)."""
    found = {k: entry[k] for k in PROVENANCE_KEYS if entry.get(k)}
    return found or None
