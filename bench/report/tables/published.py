"""Published figures next to measured ones: "PSNR-Y (pub.)" and "Δ" columns for the reports.

The only source is the weights registry (``bench.models.weights.registry()``, i.e.
``configs/weights/<model>.yaml``): each checkpoint entry may carry

    published:
      - {dataset: rain100h, psnr: 29.46, ssim: 0.899, channel: Y, code: MATLAB, source: "PReNet README, ..."}

— what the authors published FOR THAT CHECKPOINT. A leaderboard row gets a figure when its model
and variant (the weights id) have one for the row's dataset, and, when the row's key carries a
weights hash (``prenet@Rain100H#127c0098787c``), only if that hash is the registered checkpoint's:
numbers published for one file are never shown next to another.

Δ = measured − published, from the unrounded measured mean. It is only computed where the
published channel is the measured one (PSNR-Y / SSIM-Y against a Y-channel figure); an RGB
figure is shown with its footnote but no Δ, because the two are not comparable (RGB PSNR is
typically 1–2.5 dB lower on the same images).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import pandas as pd

HEADERS = ("PSNR-Y (pub.)", "Δ")
FRAME_COLUMNS = ("psnr_y_pub", "psnr_y_delta", "ssim_y_pub", "ssim_y_delta", "published_ref", "published_source")
NOTE = ("PSNR-Y (pub.): the figure the authors published for that checkpoint on that dataset "
        "(configs/weights); Δ = measured − published, only where both are Y-channel; [n]: source below.")


@dataclass(frozen=True)
class Published:
    model: str
    variant: str
    dataset: str
    psnr: float | None
    ssim: float | None
    channel: str            # "Y" | "RGB" (as the authors state it)
    code: str               # "MATLAB" | "Python" | ...
    source: str
    sha256: str | None = None

    @property
    def comparable(self) -> bool:
        """Comparable with our Y-channel measures (psnr_y / ssim_y)."""
        return self.channel.strip().upper() == "Y"

    def footnote(self) -> str:
        values = "/".join(t for t in (None if self.psnr is None else f"{self.psnr:.2f}",
                                        None if self.ssim is None else f"{self.ssim:g}") if t)
        extra = "" if self.comparable else "; not comparable with PSNR-Y, no Δ"
        return (f"{self.model}@{self.variant} on {self.dataset}: {values} "
                f"({self.channel}, {self.code}{extra}) — {self.source}")


def figures(registry: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None
            ) -> dict[tuple[str, str, str], Published]:
    """(model, variant, dataset) -> Published, from the weights registry."""
    if registry is None:
        from bench.models.weights import registry as weights_registry

        registry = weights_registry()
    out: dict[tuple[str, str, str], Published] = {}
    for model, entries in registry.items():
        for variant, entry in (entries or {}).items():
            for item in (entry or {}).get("published") or []:
                fig = Published(
                    model=model, variant=str(variant), dataset=str(item["dataset"]).lower(),
                    psnr=_num(item.get("psnr")), ssim=_num(item.get("ssim")),
                    channel=str(item.get("channel", "?")), code=str(item.get("code", "?")),
                    source=str(item.get("source", "source not recorded")), sha256=entry.get("sha256"))
                out[fig.model, fig.variant, fig.dataset] = fig
    return out


def _num(v) -> float | None:
    return None if v is None else float(v)


def _key_hash(model_key: Any) -> str | None:
    from bench.store import weights_hash

    return weights_hash(str(model_key) if model_key is not None and not pd.isna(model_key) else "")


def lookup(row: Mapping[str, Any], figs: Mapping[tuple[str, str, str], Published]) -> Published | None:
    """The published figure for one leaderboard row (model, variant, model_key, dataset), if any."""
    variant = row.get("variant")
    if variant is None or (isinstance(variant, float) and pd.isna(variant)) or str(variant) == "":
        return None
    fig = figs.get((str(row.get("model")), str(variant), str(row.get("dataset")).lower()))
    if fig is None:
        return None
    h = _key_hash(row.get("model_key"))
    if h and fig.sha256 and not fig.sha256.startswith(h):
        return None          # another file under the same name: its authors' numbers do not apply
    return fig


def _delta(measured, published: float | None, ok: bool) -> float | None:
    if not ok or published is None or measured is None or pd.isna(measured):
        return None
    return float(measured) - published


def published_frame(frame: pd.DataFrame, figs: Mapping[tuple[str, str, str], Published] | None = None
                    ) -> pd.DataFrame:
    """For every row of a leaderboard frame: published PSNR/SSIM, Δ (measured − published), a
    footnote number (1, 2, … in order of first use) and the source text. Same index as ``frame``;
    rows without a figure hold NaN / None."""
    figs = figures() if figs is None else figs
    refs: dict[Published, int] = {}
    rows = []
    for _, r in frame.iterrows():
        fig = lookup(r, figs)
        if fig is None:
            rows.append({c: None for c in FRAME_COLUMNS})
            continue
        ref = refs.setdefault(fig, len(refs) + 1)
        rows.append({"psnr_y_pub": fig.psnr, "ssim_y_pub": fig.ssim,
                     "psnr_y_delta": _delta(r.get("psnr_y"), fig.psnr, fig.comparable),
                     "ssim_y_delta": _delta(r.get("ssim_y"), fig.ssim, fig.comparable),
                     "published_ref": ref, "published_source": fig.footnote()})
    return pd.DataFrame(rows, index=frame.index, columns=list(FRAME_COLUMNS))


def footnotes(pub: pd.DataFrame) -> list[str]:
    """``[n] source`` lines, in footnote order, for the rows that have a figure."""
    seen = pub.dropna(subset=["published_ref"]).drop_duplicates("published_ref")
    return [f"[{int(n)}] {s}" for n, s in sorted(zip(seen["published_ref"], seen["published_source"]))]


class ReportColumns:
    """What tables.py needs for one leaderboard: whether to show the two columns, their cell
    texts per row, and the notes. Columns appear only when some row has a published figure."""

    def __init__(self, table: pd.DataFrame, figs: Mapping[tuple[str, str, str], Published] | None = None):
        has_psnr = "psnr_y" in table.columns
        self.frame = published_frame(table, figs) if has_psnr and not table.empty else None
        self.active = self.frame is not None and self.frame["published_ref"].notna().any()

    def texts(self, index) -> list[str]:
        """["29.46 [1]", "+0.00"] for a row with a figure, ["–", "–"] otherwise."""
        if not self.active:
            return []
        p = self.frame.loc[index]
        if pd.isna(p["published_ref"]):
            return ["–", "–"]
        value = "–" if p["psnr_y_pub"] is None or pd.isna(p["psnr_y_pub"]) else f"{float(p['psnr_y_pub']):.2f}"
        delta = p["psnr_y_delta"]
        return [f"{value} [{int(p['published_ref'])}]",
                "–" if delta is None or pd.isna(delta) else f"{float(delta):+.2f}"]

    @property
    def headers(self) -> list[str]:
        return list(HEADERS) if self.active else []

    def notes(self) -> list[str]:
        return [NOTE] + footnotes(self.frame) if self.active else []


def add_to_frame(df: pd.DataFrame, figs: Mapping[tuple[str, str, str], Published] | None = None) -> pd.DataFrame:
    """``df`` with the FRAME_COLUMNS appended when any row has a published figure (CSV output)."""
    if df.empty or "psnr_y" not in df.columns:
        return df
    pub = published_frame(df, figs)
    if pub["published_ref"].isna().all():
        return df
    return pd.concat([df, pub], axis=1)
