"""Optional measures from pyiqa (IQA-PyTorch), named ``pyiqa:<metric>``, e.g. ``pyiqa:lpips``.

pyiqa is not a dependency of derain-bench: its licence is PolyForm-Noncommercial and its
dependency tree is very large. Install it yourself (``pip install 'derain-bench[pyiqa]'``) if
your use allows it. Its defaults are pyiqa's, not ours (its ``psnr``/``ssim`` work on the Y of
YIQ, not MATLAB YCbCr), so a ``pyiqa:*`` column is never comparable with ``psnr_y``/``ssim_y``
and says so in its protocol text. pyiqa downloads its weights on first use; offline
(BENCH_OFFLINE=1) that fails, and the error says which metric needed what.

Hook: ``bench.measures.build_measure(name)`` sends every name starting with ``pyiqa:`` here, so
``bench run --measures psnr_y,pyiqa:lpips`` works with no registry entry per metric.
"""
from __future__ import annotations

import difflib
import math

import torch

from bench.columns import ColumnInfo
from bench.errors import Unavailable
from bench.measures.base import Measure
from bench.measures.color import check_rgb_batch

PREFIX = "pyiqa:"


class MeasureUnavailable(Unavailable, RuntimeError):
    """A measure that cannot be built here; the message says what to install or place."""


def is_pyiqa_name(name: str) -> bool:
    return name.startswith(PREFIX)


def _import_pyiqa():
    try:
        import pyiqa  # noqa: F401  (optional extra)
    except ImportError as e:
        raise MeasureUnavailable(
            "pyiqa measures need the optional package pyiqa, which is not installed "
            f"({e.__class__.__name__}: {e}). Install it with: pip install 'derain-bench[pyiqa]' "
            "(note its PolyForm-Noncommercial licence)") from None
    return pyiqa


class PyiqaMeasure(Measure):
    def __init__(self, name: str, metric, reference: str, lower_better: bool, value_range):
        self.metric = metric
        self.info = ColumnInfo(
            name=name, reference=reference, higher_is_better=not lower_better, value_range=value_range,
            description=f"pyiqa {name[len(PREFIX):]} with pyiqa's own defaults (e.g. YIQ for psnr/ssim); "
                        "not comparable with psnr_y/ssim_y",
        )

    def __call__(self, output: torch.Tensor, clean: torch.Tensor | None) -> torch.Tensor:
        check_rgb_batch(output, f"{self.info.name} output")
        with torch.no_grad():
            if self.info.reference == "FR":
                if clean is None:
                    raise ValueError(f"{self.info.name} is full-reference: it needs the ground-truth image")
                value = self.metric(output, clean.to(output.device))
            else:
                value = self.metric(output)
        return value.detach().reshape(-1).to(torch.float64).cpu()


def _value_range(metric) -> tuple[float, float]:
    raw = getattr(metric, "score_range", None)
    try:
        lo, hi = (float(part.strip().lstrip("~")) for part in str(raw).split(","))
        return lo, hi
    except (ValueError, AttributeError):
        return (-math.inf, math.inf)


def build(name: str, device: str | torch.device | None = None) -> PyiqaMeasure:
    """``pyiqa:<metric>`` -> a Measure wrapping ``pyiqa.create_metric(<metric>)``."""
    if not is_pyiqa_name(name):
        raise ValueError(f"{name!r} is not a pyiqa measure name (expected {PREFIX}<metric>)")
    pyiqa = _import_pyiqa()
    metric_name = name[len(PREFIX):]
    known = list(pyiqa.list_models())
    if metric_name not in known:
        close = difflib.get_close_matches(metric_name, known, n=3)
        hint = f" Did you mean {', '.join(PREFIX + c for c in close)}?" if close else ""
        raise MeasureUnavailable(f"pyiqa has no metric {metric_name!r}.{hint}")
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    try:
        metric = pyiqa.create_metric(metric_name, as_loss=False, device=torch.device(device))
    except Exception as e:  # typically a weight download refused offline
        raise MeasureUnavailable(f"{name}: pyiqa could not create it ({e.__class__.__name__}: {e}); "
                                 "pyiqa downloads its weights on first use, so run once online") from e
    reference = "FR" if str(getattr(metric, "metric_mode", "FR")).upper() == "FR" else "NR"
    return PyiqaMeasure(name, metric, reference, bool(getattr(metric, "lower_better", False)), _value_range(metric))
