"""Model backends of the semantic segmentation task: build (trained or UNTRAINED) and run.

Each backend loads lazily and turns a missing checkpoint offline into TaskUnavailable naming the
file or folder to place and where.
"""
from __future__ import annotations

from pathlib import Path

from bench.hashing import sha256_file


class _Backend:
    def __init__(self, task):
        self.task = task
        self.params = task.params
        self._model = None
        self._source: str | None = None

    def model(self):
        if self._model is None:
            import torch

            from bench.offline import configure

            configure(self.task.offline)
            if self.params.untrained:
                torch.manual_seed(self.params.seed)
            self._model = self.build().to(self.task.device).eval()
        return self._model

    def _weights_dir(self) -> Path | None:
        resolver = self.task.resolver
        return getattr(resolver, "weights_dir", None)


class SegformerBackend(_Backend):
    """transformers' SegformerForSemanticSegmentation. ``weights`` = hub id or a local folder holding
    config.json + model.safetensors; looked for at <weights-dir>/segformer/<name> first."""

    def local_dir(self) -> Path | None:
        w = Path(self.params.weights).expanduser()
        if w.is_dir():
            return w
        root = self._weights_dir()
        cand = root / "segformer" / self.params.weights.split("/")[-1] if root else None
        return cand if cand is not None and cand.is_dir() else None

    def describe(self) -> str:
        if self.params.untrained:
            return (f"UNTRAINED SegFormer (transformers SegformerConfig defaults = MiT-b0, seed "
                    f"{self.params.seed}; mechanics only)")
        local = self.local_dir()
        if local is not None and (local / "model.safetensors").is_file():
            return f"SegFormer {local.name} sha256 {sha256_file(local / 'model.safetensors')[:12]} (transformers)"
        return f"SegFormer {self.params.weights} (transformers, hub)"

    def _missing_message(self) -> str:
        root = self._weights_dir() or Path("<weights-dir>")
        target = root / "segformer" / self.params.weights.split("/")[-1]
        return (f"SegFormer weights {self.params.weights!r} not found" + (" (offline)" if self.task.offline else "")
                + f"; run `hf download {self.params.weights} --local-dir {target}` on a connected machine and "
                  f"place the folder at {target}")

    def _in_hub_cache(self) -> bool:
        try:
            from huggingface_hub import try_to_load_from_cache
        except ImportError:
            return False
        return isinstance(try_to_load_from_cache(self.params.weights, "config.json"), str)

    def build(self):
        from bench.net import probe

        source, local_only = self.local_dir() or self.params.weights, True
        if not self.params.untrained:
            # one HEAD to the hub instead of Hugging Face's own retries; unreachable switches the run offline
            local_only = isinstance(source, Path) or not probe(self.task.ctx, "https://huggingface.co")
            if local_only and not isinstance(source, Path) and not self._in_hub_cache():
                raise _unavailable(self.task, self._missing_message())   # before importing transformers (seconds)
        try:
            from transformers import SegformerConfig, SegformerForSemanticSegmentation
        except ImportError as e:
            raise _unavailable(self.task, "backend segformer needs transformers: pip install transformers") from e
        n = len(self.task.names)
        if self.params.untrained:
            return SegformerForSemanticSegmentation(SegformerConfig(num_labels=n))
        try:
            model = SegformerForSemanticSegmentation.from_pretrained(str(source), local_files_only=local_only)
        except OSError as e:
            raise _unavailable(self.task, self._missing_message()) from e
        if model.config.num_labels != n:
            raise _unavailable(self.task, f"{source} predicts {model.config.num_labels} classes, "
                                   f"label set {self.params.label_set} has {n}")
        return model

    def logits(self, model, x):
        return model(pixel_values=x).logits          # 1/4 resolution; the task resizes


class TorchvisionBackend(_Backend):
    """torchvision.models.segmentation builders; ``weights`` = the builder's weights enum name (e.g.
    COCO_WITH_VOC_LABELS_V1) or a .pth state_dict. Never fetches an ImageNet backbone
    (weights_backbone=None). The enum's file is looked for at <weights-dir>/torchvision/<file>,
    then in torch's hub cache; downloaded only online."""

    def _builder(self):
        from torchvision.models import get_model_builder, get_model_weights

        return get_model_builder(self.params.arch), get_model_weights(self.params.arch)

    def _file(self) -> tuple[Path | None, str | None]:
        import torch

        w = Path(self.params.weights).expanduser()
        if w.suffix in (".pth", ".pt") and w.is_file():
            return w, None
        _, enum = self._builder()
        if self.params.weights not in enum.__members__:
            raise _unavailable(self.task, f"{self.params.arch} has no weights {self.params.weights!r}; "
                                   f"known: {', '.join(enum.__members__)} (or a .pth file)")
        url = enum[self.params.weights].url
        name = url.rsplit("/", 1)[-1]
        for root in (self._weights_dir() and self._weights_dir() / "torchvision",
                     Path(torch.hub.get_dir()) / "checkpoints"):
            if root is not None and (root / name).is_file():
                return root / name, url
        return None, url

    def describe(self) -> str:
        if self.params.untrained:
            return f"UNTRAINED torchvision {self.params.arch} (seed {self.params.seed}; mechanics only)"
        path, _ = self._file()
        sha = f" sha256 {sha256_file(path)[:12]}" if path else ""
        return f"torchvision {self.params.arch} {self.params.weights}{sha}"

    def build(self):
        import torch

        builder, _ = self._builder()
        n = len(self.task.names)
        if self.params.untrained:
            return builder(weights=None, weights_backbone=None, num_classes=n)
        path, url = self._file()
        if path is None:
            path = self._download(url)
        state = torch.load(path, map_location="cpu", weights_only=True)
        aux = any(k.startswith("aux_classifier") for k in state)
        model = builder(weights=None, weights_backbone=None, num_classes=n, **({"aux_loss": True} if aux else {}))
        model.load_state_dict(state)
        return model

    def _download(self, url: str) -> Path:
        """Into torch's hub cache (created as needed), checked against the sha256 prefix in the
        file name; offline or on failure a TaskUnavailable naming the file and where to place it."""
        import torch

        from bench.net import DownloadFailed, download, torchvision_hash_prefix

        name = url.rsplit("/", 1)[-1]
        hub = Path(torch.hub.get_dir()) / "checkpoints"
        root = self._weights_dir() / "torchvision" if self._weights_dir() else hub
        path = hub / name
        if self.task.offline:
            raise _unavailable(self.task, f"torchvision weights {name} not found (offline); download {url} "
                                   f"and place it in {root}")
        try:
            download(url, path, ctx=self.task.ctx, sha256_prefix=torchvision_hash_prefix(url))
        except DownloadFailed as e:
            raise _unavailable(self.task, f"torchvision weights {name}: {e}; or place it in {root}") from e
        return path

    def logits(self, model, x):
        return model(x)["out"]


def _unavailable(task, message: str):
    from bench.downstream.base import TaskUnavailable

    return TaskUnavailable(f"task {task.name!r}: {message}")


BACKENDS = {"segformer": SegformerBackend, "torchvision": TorchvisionBackend}
