"""Test settings and the shared material (real third-party data and official weights).

The shared folder is ``$BENCH_SHARED``, else ``../shared`` beside the checkout, else the folder
`bench data fetch --test-assets` fills by default. A test that reads it needs only the manifest
folders (data/<set>, weights/<model>) its module names (bench/data/assets.py); when one of their
files is missing the test is skipped, naming the fetch command. When $BENCH_SHARED is set (CI),
a missing file fails the test instead: nothing may be skipped there.
"""
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.config import settings  # noqa: E402
from bench.data.assets import FETCH_TEST_ASSETS, absent, default_assets_root, folders_read_by, read_manifest  # noqa: E402


def _shared_root() -> tuple[Path, bool]:
    """(the shared folder, whether it was asked for explicitly and so must be complete)."""
    if settings().shared:
        return settings().shared.resolve(), True
    sibling = REPO.parent / "shared"
    if sibling.is_dir():
        return sibling.resolve(), False
    return default_assets_root(), False


SHARED, SHARED_REQUIRED = _shared_root()
SHARED_FIXTURES = {"shared", "shared_data", "shared_weights"}

# Never touch the network from tests; Ultralytics needs a font file it would otherwise download.
os.environ.setdefault("BENCH_OFFLINE", "1")
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "0")
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

_ASSETS = None
_ABSENT: dict[str, list] = {}     # manifest folder -> its files missing at SHARED
_NEEDS: dict[Path, set[str]] = {}  # test module -> manifest folders it names


def _missing_for(module: Path) -> list:
    global _ASSETS
    if _ASSETS is None:
        _ASSETS = {}
        for a in read_manifest():
            _ASSETS.setdefault(a.folder, []).append(a)
    if module not in _NEEDS:
        _NEEDS[module] = folders_read_by(module, _ASSETS) or set(_ASSETS)
    for folder in _NEEDS[module]:
        if folder not in _ABSENT:
            _ABSENT[folder] = absent(SHARED, _ASSETS[folder])
    return [a for f in sorted(_NEEDS[module]) for a in _ABSENT[f]]


def pytest_runtest_setup(item):
    if not SHARED_FIXTURES & set(getattr(item, "fixturenames", ())):
        return
    missing = _missing_for(Path(str(item.fspath)))
    if not missing:
        return
    what = f"{len(missing)} shared test file(s) missing from {SHARED} (first: {missing[0].path})"
    if SHARED_REQUIRED:
        pytest.fail(f"BENCH_SHARED is set but {what}; complete it with `{FETCH_TEST_ASSETS} {SHARED}` "
                    "or point BENCH_SHARED at a complete copy", pytrace=False)
    if any(a.url for a in missing):
        pytest.skip(f"{what}; get them: {FETCH_TEST_ASSETS}")
    pytest.skip(f"{what}; they have no public plain-file copy ({missing[0].note})")


@pytest.fixture(scope="session")
def shared() -> Path:
    return SHARED


@pytest.fixture(scope="session")
def shared_data(shared) -> Path:
    return shared / "data"


@pytest.fixture(scope="session")
def shared_weights(shared) -> Path:
    return shared / "weights"
