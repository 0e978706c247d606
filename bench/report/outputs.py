"""The files every run leaves behind: leaderboard.csv, per_image.csv and a first figure."""
from __future__ import annotations

from pathlib import Path

from bench.report.tables.frames import leaderboard_frame, per_image_frame, write_csv
from bench.report.tables.leaderboard import Leaderboard

__all__ = ["leaderboard_frame", "per_image_frame", "write_run_outputs", "quality_vs_detection"]


def write_run_outputs(lb: Leaderboard, out: Path) -> list[Path]:
    out = Path(out)
    written = [write_csv(leaderboard_frame(lb), out / "leaderboard.csv"),
               write_csv(per_image_frame(lb), out / "per_image.csv")]
    fig = quality_vs_detection(lb, out / "figures" / "psnr_vs_detection.png")
    if fig:
        written.append(fig)
    return written


def quality_vs_detection(lb: Leaderboard, path: Path, x: str = "psnr_y") -> Path | None:
    """The run's first figure: PSNR-Y against the first detection mAP column, one point per model."""
    if not any("map50_95" in c for c in lb.columns):   # no detection column: no figure, no matplotlib
        return None
    from bench.report.figures.plots import quality_vs_utility, utility_pairs

    pairs = [p for p in utility_pairs(lb, x) if "map50_95" in p[1]]
    if not pairs:
        return None
    try:
        return quality_vs_utility(lb, *pairs[0], path.with_suffix(""))[0]
    except (KeyError, ValueError):  # no dataset has both columns yet
        return None
