"""Visual comparison grids: rainy, each model, clean — full image, zoomed crop, predictions drawn on.

Images are read from the runner's derained-output cache through a callable
``output_path(model_key, dataset, image_id) -> Path`` (the runner owns the path rule), with an
optional ``fallback(model_key, dataset, image_id) -> uint8 H×W×3 | None`` for images the cache
does not hold (e.g. the rainy input and ground truth read from the dataset). Downstream
predictions come from ``prediction(model_key, dataset, image_id) -> payload | None``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.patches as patches  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from bench.imageio import ImageError, read_rgb  # noqa: E402
from bench.report.labels import dataset_label  # noqa: E402
from bench.report.figures.plots import save  # noqa: E402

OutputPath = Callable[[str, str, str], Path]
Fallback = Callable[[str, str, str], "np.ndarray | None"]
Prediction = Callable[[str, str, str], "dict[str, Any] | None"]


@dataclass(frozen=True)
class GridColumn:
    label: str
    model_key: str


def cache_output_path(out_dir: str | Path) -> OutputPath:
    """Where the run cached each derained PNG: the store's own rule (bench/store/cache.py)."""
    from bench.store.cache import OutputCache

    return OutputCache(out_dir).newest


def _box_sum(a: np.ndarray, h: int, w: int) -> np.ndarray:
    """Sum of ``a`` over every h×w window (valid positions), via an integral image."""
    integral = np.pad(a.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    return integral[h:, w:] - integral[:-h, w:] - integral[h:, :-w] + integral[:-h, :-w]


def auto_crop(images: Sequence[np.ndarray | None], frac: float = 0.3) -> tuple[int, int, int, int]:
    """(x, y, w, h) of the window where the first and last images (rainy … clean) differ most in
    fine detail: the difference minus its 15×15 local mean, so streaks count and the smooth haze
    that rendered rain adds to the sky does not. The centre when either image is unavailable."""
    ref = next((im for im in images if im is not None), None)
    if ref is None:
        return (0, 0, 1, 1)
    h, w = ref.shape[:2]
    cw, ch = max(8, int(w * frac)), max(8, int(h * frac))
    a, b = images[0], images[-1]
    if a is None or b is None or a.shape != b.shape or len(images) < 2:
        return ((w - cw) // 2, (h - ch) // 2, cw, ch)
    diff = (a.astype(np.float32) - b.astype(np.float32)).mean(axis=2)
    k = min(15, h, w)
    local = _box_sum(np.pad(diff, k // 2, mode="edge"), k, k)[:h, :w] / (k * k)
    sums = _box_sum(np.abs(diff - local), ch, cw)
    y, x = np.unravel_index(int(np.argmax(sums)), sums.shape)
    return (int(x), int(y), cw, ch)


# --- predictions --------------------------------------------------------------------------------

def render_prediction(image: np.ndarray, payload: dict[str, Any], min_score: float = 0.25) -> np.ndarray:
    """A task's stored prediction drawn onto a copy of ``image`` (pixel space, so the zoomed crop
    shows it too). Uses the downstream owner's renderer, ``bench.downstream.draw.draw_prediction``;
    without it, a minimal fallback for the same record format (``boxes`` as x1,y1,x2,y2 pixels,
    optional ``scores``; ``png``: base64 PNG class map)."""
    try:
        from bench.downstream.draw import draw_prediction as draw
    except ImportError:
        draw = _fallback_draw
    return draw(image, payload, min_score=min_score)


def _fallback_draw(image: np.ndarray, record: dict[str, Any], min_score: float = 0.25) -> np.ndarray:
    out = image.copy()
    if "png" in record:
        import base64
        import io

        from PIL import Image
        with Image.open(io.BytesIO(base64.b64decode(record["png"]))) as im:
            classes = np.asarray(im).astype(np.int64)
        colours = (plt.get_cmap("tab20")(np.arange(20))[:, :3] * 255).astype(np.float32)
        blend = 0.55 * out + 0.45 * colours[classes % 20]
        keep = classes == 255
        out = np.where(keep[..., None], out, np.clip(np.rint(blend), 0, 255)).astype(np.uint8)
    boxes = record.get("boxes") or []
    scores = record.get("scores") or [1.0] * len(boxes)
    h, w = out.shape[:2]
    for (x1, y1, x2, y2), score in zip(boxes, scores):
        if score < min_score:
            continue
        x1, x2 = (int(np.clip(round(v), 0, w - 1)) for v in (x1, x2))
        y1, y2 = (int(np.clip(round(v), 0, h - 1)) for v in (y1, y2))
        out[y1, x1:x2 + 1] = out[y2, x1:x2 + 1] = (255, 255, 0)
        out[y1:y2 + 1, x1] = out[y1:y2 + 1, x2] = (255, 255, 0)
    return out


# --- the grid -----------------------------------------------------------------------------------

def _load(col: GridColumn, dataset: str, image_id: str, output_path: OutputPath,
          fallback: Fallback | None, missing: list[str]) -> np.ndarray | None:
    path = output_path(col.model_key, dataset, image_id)
    if Path(path).is_file():
        try:
            return read_rgb(path)
        except ImageError as e:
            missing.append(str(e))
            return None
    image = fallback(col.model_key, dataset, image_id) if fallback else None
    if image is None:
        missing.append(f"{col.model_key} on {dataset}/{image_id}: no cached output at {path}"
                       + (" nor in the dataset" if fallback else ""))
    return image


def _with_prediction(image, col: GridColumn, dataset: str, image_id: str, prediction: Prediction,
                     min_score: float, missing: list[str]) -> np.ndarray | None:
    if image is None:
        return None
    payload = prediction(col.model_key, dataset, image_id)
    if not payload:
        missing.append(f"{col.model_key} on {dataset}/{image_id}: no stored prediction")
        return image
    try:
        return render_prediction(image, payload, min_score)
    except (ValueError, KeyError) as e:  # a record for another image size, or an unknown shape
        missing.append(f"{col.model_key} on {dataset}/{image_id}: prediction not drawn ({e})")
        return image


def comparison_grid(samples: Sequence[tuple[str, str]], columns: Sequence[GridColumn],
                    output_path: OutputPath, stem: str | Path, *, fallback: Fallback | None = None,
                    prediction: Prediction | None = None, crops: Sequence[tuple[int, int, int, int] | None] | None = None,
                    zoom: bool = True, title: str | None = None, min_score: float = 0.25) -> tuple[list[Path], list[str]]:
    """Rows per sample (full image, then the zoomed crop), one column per model.

    Returns (written paths, messages about images that were missing; their panels say so)."""
    missing: list[str] = []
    per_sample = [[_load(c, d, i, output_path, fallback, missing) for c in columns] for d, i in samples]
    crops = [(crops[s] if crops and s < len(crops) else None) or auto_crop(raw) for s, raw in enumerate(per_sample)]
    if prediction is not None:
        per_sample = [[_with_prediction(im, c, d, i, prediction, min_score, missing) for c, im in zip(columns, row)]
                      for (d, i), row in zip(samples, per_sample)]
    first = next((im for row in per_sample for im in row if im is not None), None)
    if first is None:
        raise FileNotFoundError("no image of the grid could be read:\n  " + "\n  ".join(missing))
    aspect = first.shape[0] / first.shape[1]
    nrows = len(samples) * (2 if zoom else 1)
    panel_w = 2.3
    fig, axes = plt.subplots(nrows, len(columns), squeeze=False,
                             figsize=(panel_w * len(columns), panel_w * aspect * nrows + 0.6))
    for s, ((dataset, image_id), images) in enumerate(zip(samples, per_sample)):
        crop = crops[s]
        for j, (col, image) in enumerate(zip(columns, images)):
            rows = [axes[s * (2 if zoom else 1), j]] + ([axes[s * 2 + 1, j]] if zoom else [])
            for k, ax in enumerate(rows):
                ax.set_xticks([])
                ax.set_yticks([])
                if image is None:  # a grey panel of the same shape keeps the grid aligned
                    ax.imshow(np.full_like(first, 200))
                    ax.text(0.5, 0.5, "missing", ha="center", va="center", transform=ax.transAxes)
                    continue
                ax.imshow(image, interpolation="nearest" if k else "antialiased")
                x, y, w, h = crop
                if k == 0 and zoom:
                    ax.add_patch(patches.Rectangle((x, y), w, h, fill=False, edgecolor="red", linewidth=1.2))
                if k == 1:
                    ax.set_xlim(x - 0.5, x + w - 0.5)
                    ax.set_ylim(y + h - 0.5, y - 0.5)
                    for spine in ax.spines.values():
                        spine.set_edgecolor("red")
            if s == 0:
                rows[0].set_title(col.label, fontsize=8)
        axes[s * (2 if zoom else 1), 0].set_ylabel(f"{dataset_label(dataset)}\n{image_id}", fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout(pad=0.3, h_pad=0.2, w_pad=0.2)
    return save(fig, stem), missing
