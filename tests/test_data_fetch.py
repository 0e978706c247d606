"""Downloads of datasets and test assets against a local HTTP server on 127.0.0.1 that serves the
shared folder (or a damaged copy of parts of it): good files, a corrupted file, a cut-off and a
stalled download, the offline switch; the asset manifest against the shared folder; and the test
suite on a machine with no shared material at all (skips naming the fetch command)."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from functools import partial
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench.cli import main as bench_main
from bench.data.assets import (DATASET_ASSETS, FETCH_TEST_ASSETS, TEST_ASSETS, Asset, fetch_assets,
                               folders_read_by, read_manifest)
from bench.errors import ChecksumMismatch
from bench.net import DownloadFailed, download

REPO = Path(__file__).resolve().parents[1]
RAW = re.compile(r"https://raw\.githubusercontent\.com/[\w.-]+/[\w.-]+/[0-9a-f]{40}/\S+")


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def serve(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


@pytest.fixture()
def mirror(shared):
    """The shared folder over HTTP, as `--mirror BASE` expects it (BASE/data/..., BASE/weights/...)."""
    server, url = serve(partial(QuietFiles, directory=str(shared)))
    yield url
    server.shutdown()


class QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def rows(*paths: str) -> list[Asset]:
    by_path = {a.path: a for a in read_manifest()}
    return [by_path[p] for p in paths]


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*") if p.is_file() and (".part-" in p.name or p.name.startswith("."))]


# --- the manifest ------------------------------------------------------------------------------
def test_manifest_matches_the_shared_folder_and_pins_every_url(shared):
    assets = read_manifest(TEST_ASSETS) + read_manifest(DATASET_ASSETS)
    assert len({a.path for a in assets}) == len(assets) > 1000
    for a in assets:
        f = shared / a.path
        assert f.stat().st_size == a.size and sha(f) == a.sha256, a.path
        assert (RAW.fullmatch(a.url) and not a.note.startswith("no public")) if a.url else a.note, a.path
        assert bool(a.transform) == bool(a.source_sha256), a.path
    # the plain-file sets the issue names are complete apart from the rows that say why not
    assert sum(a.transform == "rotate90" for a in assets) == 34          # Rain100L's stored-rotated images
    assert {a.path.split("/")[1] for a in assets if not a.url} == {"coco8", "cityscapes-sample", "iqa-calibration"}


def test_manifest_covers_every_folder_a_test_module_names(shared):
    folders = {a.folder for a in read_manifest()}
    every = {"/".join(p.parts[-2:]) for top in ("data", "weights") for p in (shared / top).glob("*")}
    for t in sorted((REPO / "tests").glob("test_*.py")):
        if re.search(r"\bshared(?:_data|_weights)?\b", t.read_text()):
            named = folders_read_by(t, every | folders)
            assert named <= folders, f"{t.name} names {named - folders}: regenerate the manifest"


# --- downloads ---------------------------------------------------------------------------------
def test_fetch_from_a_mirror_gets_verified_files(mirror, shared, tmp_path):
    want = rows("weights/niqe/niqe_pris_params.npz", "data/rain100h/rain/norain-1.png", "data/rain100l/rain/norain-10.png")
    rep = fetch_assets(want, tmp_path, mirror=mirror, offline=False)
    assert rep.ok and rep.fetched == want
    for a in want:
        assert (tmp_path / a.path).read_bytes() == (shared / a.path).read_bytes()
    again = fetch_assets(want, tmp_path, mirror=mirror, offline=False)       # present and hashed: not fetched
    assert again.present == want and not again.fetched
    assert leftovers(tmp_path) == []


def test_rotated_source_is_turned_back_to_the_stored_bytes(shared, tmp_path):
    """Rain100L rows with transform rotate90: the served file is the landscape source; the fetched
    file must be byte for byte the shared portrait one."""
    from PIL import Image

    (a,) = rows("data/rain100l/rain/norain-10.png")
    src = tmp_path / "srv" / "norain-10.png"
    src.parent.mkdir()
    Image.open(shared / a.path).transpose(Image.Transpose.ROTATE_270).save(src)
    server, url = serve(partial(QuietFiles, directory=str(src.parent)))
    try:
        moved = Asset(**{**a.__dict__, "url": f"{url}/norain-10.png", "source_sha256": sha(src)})
        rep = fetch_assets([moved], tmp_path / "out", offline=False)
    finally:
        server.shutdown()
    assert rep.ok, rep.failed
    assert sha(tmp_path / "out" / a.path) == a.sha256


def test_corrupted_file_is_refused_naming_both_hashes(shared, tmp_path):
    (a,) = rows("data/rain100h/rain/norain-1.png")
    damaged = tmp_path / "srv" / a.path
    damaged.parent.mkdir(parents=True)
    body = bytearray((shared / a.path).read_bytes())
    body[1000] ^= 0xFF
    damaged.write_bytes(body)
    server, url = serve(partial(QuietFiles, directory=str(tmp_path / "srv")))
    try:
        rep = fetch_assets([a], tmp_path / "out", mirror=url, offline=False)
        with pytest.raises(ChecksumMismatch) as e:
            download(f"{url}/{a.path}", tmp_path / "out" / "direct.png", a.sha256, offline=False)
    finally:
        server.shutdown()
    assert [x.path for x, _ in rep.failed] == [a.path]
    assert a.sha256 in rep.failed[0][1] and hashlib.sha256(body).hexdigest() in rep.failed[0][1]
    assert a.sha256 in str(e.value) and hashlib.sha256(body).hexdigest() in str(e.value)
    assert not (tmp_path / "out" / a.path).exists() and not (tmp_path / "out" / "direct.png").exists()
    assert leftovers(tmp_path / "out") == []


class CutOff(BaseHTTPRequestHandler):
    """Promises 100 000 bytes, sends 30 000 and hangs up."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        self.wfile.write(b"x" * 30000)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args):
        pass


class Trickle(BaseHTTPRequestHandler):
    """Sends 10 bytes every 0.1 s: each read is quick, the whole file would take minutes."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        try:
            for _ in range(10000):
                self.wfile.write(b"y" * 10)
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass

    def log_message(self, *args):
        pass


class Silent(BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(3)

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("handler, kwargs, says", [
    (CutOff, {}, "closed after 30000 of 100000 bytes"),
    (Trickle, {"total_timeout": 0.5}, "not finished after"),
    (Silent, {"timeout": 0.5}, "timed out"),
])
def test_interrupted_or_stalled_download_leaves_no_file(tmp_path, handler, kwargs, says):
    from bench.config import RunContext

    server, url = serve(handler)
    ctx = RunContext(device="cpu", offline=False)
    start = time.monotonic()
    try:
        with pytest.raises(DownloadFailed, match=says):
            download(f"{url}/w.pth", tmp_path / "dl" / "w.pth", "0" * 64, ctx=ctx, **kwargs)
    finally:
        server.shutdown()
    assert time.monotonic() - start < 2.5
    assert not (tmp_path / "dl" / "w.pth").exists() and leftovers(tmp_path) == []
    assert ctx.offline          # a network failure: the rest of the run does not wait for its own


def test_offline_touches_no_network(tmp_path, capsys):
    hits = []

    class Count(QuietFiles):
        def do_GET(self):
            hits.append(self.path)
            super().do_GET()

    server, url = serve(partial(Count, directory=str(tmp_path)))
    try:
        with pytest.raises(DownloadFailed, match="offline"):
            download(f"{url}/x", tmp_path / "x", offline=True)
        # the tests run with BENCH_OFFLINE=1: the command says so and downloads nothing
        assert os.environ["BENCH_OFFLINE"] == "1"
        assert bench_main(["data", "fetch", "--test-assets", str(tmp_path / "assets"), "--mirror", url]) == 1
    finally:
        server.shutdown()
    assert hits == [] and not (tmp_path / "assets").exists()
    assert "offline" in capsys.readouterr().err


def test_bench_data_fetch_with_mirror_then_verify(mirror, tmp_path, capsys, monkeypatch):
    """The command end to end: Internet-Data (147 JPEGs) from the mirror into a data root, then
    `bench data verify` checks it against the dataset's own checksum manifest."""
    args = ["data", "fetch", "internet-data", "--data-root", str(tmp_path), "--mirror", mirror]
    with monkeypatch.context() as m:
        m.setenv("BENCH_OFFLINE", "0")
        assert bench_main(args) == 0
        assert "147 fetched" in capsys.readouterr().out
        assert bench_main(args) == 0                                   # second time: nothing to do
        assert "already present" in capsys.readouterr().out
    assert bench_main(["data", "verify", "internet-data", "--data-root", str(tmp_path)]) == 0
    assert "differ" not in capsys.readouterr().out


# --- a machine without the shared material -----------------------------------------------------
def _fresh_checkout(tmp_path: Path) -> Path:
    """tests/conftest.py and one shared-reading test file in a tree with no ../shared beside it."""
    tree = tmp_path / "checkout"
    (tree / "tests").mkdir(parents=True)
    for name in ("conftest.py", "test_measures_niqe.py"):
        shutil.copy(REPO / "tests" / name, tree / "tests" / name)
    (tmp_path / "home").mkdir()
    return tree


def _pytest(tree: Path, tmp_path: Path, **env_extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("BENCH_SHARED", "BENCH_DATA", "PYTEST_ADDOPTS")}
    env.update(HOME=str(tmp_path / "home"), PYTHONPATH=str(REPO), **env_extra)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "tests"],
                          cwd=tree, env=env, capture_output=True, text=True, timeout=300)


def test_fresh_machine_skips_with_the_fetch_command(tmp_path):
    tree = _fresh_checkout(tmp_path)
    r = _pytest(tree, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    skips = [line for line in r.stdout.splitlines() if line.startswith("SKIPPED")]
    assert skips and all(FETCH_TEST_ASSETS in line for line in skips), r.stdout
    assert " passed" not in r.stdout.splitlines()[-1] and "error" not in r.stdout.splitlines()[-1]


def test_bench_shared_set_but_incomplete_fails_instead_of_skipping(tmp_path):
    tree = _fresh_checkout(tmp_path)
    (tmp_path / "empty").mkdir()
    r = _pytest(tree, tmp_path, BENCH_SHARED=str(tmp_path / "empty"))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "BENCH_SHARED is set but" in r.stdout and "skipped" not in r.stdout.splitlines()[-1]
