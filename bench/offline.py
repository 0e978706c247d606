"""Keep third-party libraries off the network when asked, quiet, and out of the user's home.

Must run before ultralytics is imported: it reads YOLO_OFFLINE / YOLO_CONFIG_DIR at import time.
Telemetry (Ultralytics events, Hugging Face) is off unless $BENCH_TELEMETRY=1.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from bench.config import set_env, settings

QUIET_ENV = {
    "YOLO_OFFLINE": "1",            # no connectivity probes, no hub calls
    "YOLO_AUTOINSTALL": "0",        # never pip-install at run time
    "NO_ALBUMENTATIONS_UPDATE": "1",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
}
NO_TELEMETRY_ENV = {"HF_HUB_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1"}


def is_offline(flag: bool | None = None) -> bool:
    return flag if flag is not None else settings().offline


def configure(offline: bool) -> None:
    env = settings()
    set_env({"YOLO_VERBOSE": "False"}, override=False)
    set_env({"YOLO_AUTOINSTALL": "0", "NO_ALBUMENTATIONS_UPDATE": "1"})
    if not env.telemetry:
        set_env(NO_TELEMETRY_ENV)
    if offline:
        set_env(QUIET_ENV)
    set_env({"YOLO_CONFIG_DIR": str(env.cache_root / "yolo-config")}, override=False)
    ensure_ultralytics_font()


def go_offline(ctx, reason: str) -> None:
    """The first failed download switches the whole run (``ctx``, a RunContext) offline, said once."""
    if ctx.offline:
        return
    ctx.offline = True
    ctx.notices.append(f"network unreachable ({reason}); continuing offline")
    print(f"bench: {ctx.notices[-1]}", flush=True)
    switch_offline()   # third-party libraries too (Hugging Face, Ultralytics): no retries


def switch_offline() -> None:
    """Mid-run: the network turned out unreachable. Set the libraries' offline switches, also in
    those already imported (huggingface_hub reads HF_HUB_OFFLINE once, at import)."""
    import sys

    set_env(QUIET_ENV)
    hub = sys.modules.get("huggingface_hub.constants")
    if hub is not None and hasattr(hub, "HF_HUB_OFFLINE"):
        hub.HF_HUB_OFFLINE = True


def disable_ultralytics_events() -> None:
    """Ultralytics sends usage events when its `sync` setting is on (the default). Called where
    ultralytics is imported (bench/downstream/yolo.py), not when a run starts: importing it costs
    start-up time that runs without YOLO tasks should not pay."""
    if settings().telemetry:
        return
    try:
        from ultralytics.utils import SETTINGS
    except Exception:  # not installed or broken: nothing to switch off
        return
    if SETTINGS.get("sync", False):
        SETTINGS.update({"sync": False})


def ensure_ultralytics_font() -> Path:
    """Ultralytics plots look for Arial.ttf in its config dir and download it if absent.
    Any TTF will do: we copy matplotlib's DejaVuSans there."""
    from bench.config import yolo_config_dir

    target = yolo_config_dir() / "Ultralytics" / "Arial.ttf"
    if not target.exists():
        import matplotlib

        src = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    for extra in ("Arial.Unicode.ttf",):
        if not (target.parent / extra).exists():
            shutil.copyfile(target, target.parent / extra)
    return target
