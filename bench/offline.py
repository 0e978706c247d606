"""Keep third-party libraries off the network when asked, and out of the user's home for configs.

Must run before ultralytics is imported: it reads YOLO_OFFLINE / YOLO_CONFIG_DIR at import time.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

QUIET_ENV = {
    "YOLO_OFFLINE": "1",            # no connectivity probes, no hub calls
    "YOLO_AUTOINSTALL": "0",        # never pip-install at run time
    "NO_ALBUMENTATIONS_UPDATE": "1",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
}


def is_offline(flag: bool | None = None) -> bool:
    if flag is not None:
        return flag
    return os.environ.get("BENCH_OFFLINE", "0").lower() in ("1", "true", "yes")


def configure(offline: bool) -> None:
    os.environ.setdefault("YOLO_VERBOSE", "False")
    os.environ["YOLO_AUTOINSTALL"] = "0"
    if offline:
        os.environ.update(QUIET_ENV)
    ensure_ultralytics_font()


def ensure_ultralytics_font() -> Path:
    """Ultralytics plots look for Arial.ttf in its config dir and download it if absent.
    Any TTF will do: we copy matplotlib's DejaVuSans there."""
    cfg = Path(os.environ.setdefault("YOLO_CONFIG_DIR", str(Path.home() / ".config" / "derain-bench-yolo")))
    target = cfg / "Ultralytics" / "Arial.ttf"
    if not target.exists():
        import matplotlib

        src = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    for extra in ("Arial.Unicode.ttf",):
        if not (target.parent / extra).exists():
            shutil.copyfile(target, target.parent / extra)
    return target
