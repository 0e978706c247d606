"""What a training run leaves beside its checkpoint: the commit, the ablation's wording, the loss curve."""
from __future__ import annotations

import subprocess
from pathlib import Path

from bench.train.recipes import recipe


def git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10,
                              cwd=Path(__file__).resolve().parent).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


# cfg below: a bench.train.loop.TrainConfig (not imported: loop imports this module)
def dropped_terms(cfg) -> list[str]:
    full, kept = recipe(cfg.model).terms, recipe(cfg.model, True).terms
    return [k for k in full if k not in kept]


def ablation_text(cfg, rec) -> str | None:
    """What an ablation left out or replaced, for its name's reader (None: the released recipe)."""
    if cfg.without_perceptual:
        return "without perceptual terms: " + ", ".join(dropped_terms(cfg))
    if cfg.random_features and rec.feature_net:
        return (f"{rec.feature_net} with random weights (seed {cfg.seed}) in place of ImageNet weights, "
                f"for: {', '.join(rec.perceptual_terms)}")
    return None


def loss_curve(history: dict, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(history["step"], history["loss"], lw=0.8, label="training loss")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    if history["val_step"]:
        ax2 = ax.twinx()
        ax2.plot(history["val_step"], history["val_psnr_y"], "o-", color="C1", label="val PSNR-Y (dB)")
        ax2.set_ylabel("val PSNR-Y (dB)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
