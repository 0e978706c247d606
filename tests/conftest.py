import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BENCH_SHARED", REPO.parent / "shared")).resolve()
sys.path.insert(0, str(REPO))

# Never touch the network from tests; Ultralytics needs a font file it would otherwise download.
os.environ.setdefault("BENCH_OFFLINE", "1")
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "0")
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def shared() -> Path:
    assert SHARED.is_dir(), f"tests need the shared material at {SHARED} (set BENCH_SHARED)"
    return SHARED


@pytest.fixture(scope="session")
def shared_data(shared) -> Path:
    return shared / "data"


@pytest.fixture(scope="session")
def shared_weights(shared) -> Path:
    return shared / "weights"
