"""First run anywhere: data root default, `bench data add` / folder pairing options, exit codes,
the network switch (one downloader, first failure goes offline), semseg_voc without a torch hub
folder, and `bench doctor`."""
from __future__ import annotations

import csv
import json
import os

import numpy as np
import pytest
from PIL import Image

from bench.cli import main
from bench.config import RunContext

IDS = (1, 2, 12)


@pytest.fixture
def user_home(tmp_path, monkeypatch):
    """A fresh user: HOME, config and cache in tmp; no $BENCH_DATA."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("BENCH_CONFIG", str(tmp_path / "config"))
    monkeypatch.setenv("BENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("BENCH_DATA", raising=False)
    monkeypatch.delenv("BENCH_WEIGHTS", raising=False)
    return tmp_path


@pytest.fixture
def prefix_folder(tmp_path, shared_data):
    """input_val/inputN.png <-> label_val/norainN.png, crops of real Rain100L pairs (3 NIQE blocks)."""
    root = tmp_path / "prefix"
    (root / "input_val").mkdir(parents=True)
    (root / "label_val").mkdir()
    for i in IDS:
        box = (0, 0, 288, 192)
        Image.open(shared_data / "rain100l" / "rain" / f"norain-{i}.png").crop(box).save(root / "input_val" / f"input{i}.png")
        Image.open(shared_data / "rain100l" / "norain" / f"norain-{i}.png").crop(box).save(root / "label_val" / f"norain{i}.png")
    return root


def psnr_y_matlab(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR on MATLAB rgb2ycbcr's Y (ITU-R BT.601, 16-235), textbook formula, float."""
    def y(x):
        x = x.astype(np.float64) / 255.0
        return 16 + 65.481 * x[..., 0] + 128.553 * x[..., 1] + 24.966 * x[..., 2]
    mse = np.mean((y(a) - y(b)) ** 2)
    return 10 * np.log10(255.0 ** 2 / mse)


# --- defaults -------------------------------------------------------------------------------
def test_data_dir_is_bench_data_else_the_per_user_folder(user_home, monkeypatch, capsys):
    assert main(["data", "dir"]) == 0
    assert capsys.readouterr().out.strip() == str(user_home / "home" / ".local" / "share" / "derain-bench" / "data")
    monkeypatch.setenv("BENCH_DATA", str(user_home / "mine"))
    assert main(["data", "dir"]) == 0
    assert capsys.readouterr().out.strip() == str(user_home / "mine")
    assert RunContext.from_env(device="cpu").data_root == user_home / "mine"


# --- any layout -----------------------------------------------------------------------------
def test_data_add_prefix_layout_then_run(user_home, prefix_folder, capsys):
    argv = ["data", "add", "rain-val", str(prefix_folder), "--rainy", "input_val/*.png", "--clean", "label_val/*.png"]
    assert main(argv) == 2                       # equal stems pair nothing: refused, nothing written
    assert "--pair" in capsys.readouterr().err
    assert not (user_home / "config" / "datasets" / "rain-val.yaml").exists()
    assert main(argv + ["--pair", r"input(\d+)->norain(\d+)"]) == 0
    written = user_home / "config" / "datasets" / "rain-val.yaml"
    assert written.is_file() and "input(\\d+)->norain(\\d+)" in written.read_text()

    from bench.data import dataset_names, resolve_dataset

    assert "rain-val" in dataset_names()
    samples = {s.id: s for s in resolve_dataset("rain-val", RunContext(device="cpu", offline=True)).samples()}
    assert {k: (s.rainy.name, s.clean.name) for k, s in samples.items()} == {
        f"input{i}": (f"input{i}.png", f"norain{i}.png") for i in IDS}

    out = user_home / "results"
    rc = main(["run", "--datasets", "rain-val", "--models", "rainy", "--tasks", "none", "--offline", "--out", str(out),
               "--measures", "psnr_y,niqe"])
    assert rc == 0
    rows = {r["image_id"]: r for r in csv.DictReader((out / "per_image.csv").open())}
    for i in IDS:
        rainy = np.asarray(Image.open(prefix_folder / "input_val" / f"input{i}.png").convert("RGB"))
        clean = np.asarray(Image.open(prefix_folder / "label_val" / f"norain{i}.png").convert("RGB"))
        assert float(rows[f"input{i}"]["psnr_y"]) == pytest.approx(psnr_y_matlab(rainy, clean), abs=1e-4)  # csv: 4 decimals
        assert float(rows[f"input{i}"]["niqe"]) > 0


def test_folder_query_pairs_like_data_add(user_home, prefix_folder):
    from bench.data import resolve_dataset

    ds = resolve_dataset(f"folder:{prefix_folder}?rainy=input_val/*.png&clean=label_val/*.png"
                         r"&pair=input(\d+)->norain(\d+)", RunContext(device="cpu", offline=True))
    assert sorted((s.rainy.name, s.clean.name) for s in ds.samples()) == sorted(
        (f"input{i}.png", f"norain{i}.png") for i in IDS)
    # one regex for both sides; digits compare as numbers (012 = 12)
    (prefix_folder / "label_val" / "norain12.png").rename(prefix_folder / "label_val" / "gt_012.png")
    ds = resolve_dataset(rf"folder:{prefix_folder}?rainy=input_val/*.png&clean=label_val/*.png&pair=(\d+)$",
                         RunContext(device="cpu", offline=True))
    pairs = {s.id: s for s in ds.samples()}
    assert pairs["input12"].clean.name == "gt_012.png" and pairs["input2"].clean.name == "norain2.png"
    # a missing twin is a record naming the file, not a silent drop
    (prefix_folder / "label_val" / "norain2.png").unlink()
    bad = {s.id: s for s in ds.samples()}["input2"]
    assert bad.clean is None and "input2.png" in bad.error and "no ground-truth twin" in bad.error


def test_user_dataset_yaml_is_data_only(user_home, capsys):
    folder = user_home / "config" / "datasets"
    folder.mkdir(parents=True)
    (folder / "evil.yaml").write_text("path: /tmp\nrainy: '*.png'\nmodule: os:system\n")
    (folder / "code.yaml").write_text("!!python/object/apply:os.system ['echo hi']\n")
    assert main(["run", "--datasets", "evil", "--models", "rainy"]) == 2
    assert "unknown key(s) module" in capsys.readouterr().err
    assert main(["run", "--datasets", "code", "--models", "rainy"]) == 2
    assert "not valid YAML" in capsys.readouterr().err


# --- exit codes -----------------------------------------------------------------------------
@pytest.mark.parametrize("argv", [
    ["run"],                                                       # nothing selected
    ["run", "--bogus"],                                            # argparse
    ["run", "--models", "prenett", "--datasets", "demo"],         # unknown names
    ["run", "--models", "rainy", "--datasets", "rain100"],
    ["run", "--models", "rainy", "--datasets", "demo", "--measures", "psnr"],
    ["run", "--models", "rainy", "--datasets", "demo", "--tasks", "yolo"],
    ["nonsense"],
])
def test_usage_errors_exit_2(user_home, argv):
    try:
        rc = main(argv)
    except SystemExit as e:          # argparse's own errors
        rc = e.code
    assert rc == 2


def test_exit_0_with_skips_and_1_on_a_failed_image(user_home, prefix_folder):
    out = user_home / "results"
    base = ["run", "--models", "rainy,prenet", "--tasks", "none", "--measures", "psnr_y", "--offline", "--out", str(out)]
    folder = f"folder:{prefix_folder}?rainy=input_val/*.png&clean=label_val/*.png" + r"&pair=input(\d+)->norain(\d+)"
    # prenet's weights are not here (no --weights-dir): a skip with its fix, and exit 0
    assert main(base + ["--datasets", f"{folder},rain100h"]) == 0
    rec = json.loads(max((out / "runs").glob("*/run.json"), key=os.path.getmtime).read_text())
    assert rec["failures"] == [] and {s["kind"] for s in rec["skipped"]} == {"model", "dataset"}
    (prefix_folder / "input_val" / "input2.png").write_bytes(b"not a png")     # one unreadable image
    assert main(base + ["--datasets", folder, "--fresh"]) == 1
    rec = json.loads(max((out / "runs").glob("*/run.json"), key=os.path.getmtime).read_text())
    assert [f["image"] for f in rec["failures"]] == ["input2"]


# --- network --------------------------------------------------------------------------------
def test_first_failed_download_switches_the_run_offline(tmp_path, monkeypatch, capsys):
    from bench.net import DownloadFailed, download

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    ctx = RunContext(device="cpu", offline=False, cache_dir=tmp_path)
    target = tmp_path / "not" / "yet" / "there.pth"
    with pytest.raises(DownloadFailed, match="place it at"):
        download("http://127.0.0.1:9/x.pth", target, "0" * 64, ctx=ctx, timeout=2)
    assert ctx.offline and len(ctx.notices) == 1 and "continuing offline" in ctx.notices[0]
    assert os.environ["HF_HUB_OFFLINE"] == "1"           # Hugging Face: no retries once offline
    assert target.parent.is_dir() and not target.exists()
    with pytest.raises(DownloadFailed, match="offline"):
        download("http://127.0.0.1:9/y.pth", tmp_path / "y.pth", ctx=ctx)
    assert len(ctx.notices) == 1
    assert capsys.readouterr().out.count("continuing offline") == 1


def test_download_checks_sha256(tmp_path):
    import hashlib
    import threading
    from functools import partial
    from http.server import HTTPServer, SimpleHTTPRequestHandler

    from bench.errors import ChecksumMismatch
    from bench.net import download

    (tmp_path / "srv").mkdir()
    body = b"checkpoint bytes"
    (tmp_path / "srv" / "w.pth").write_bytes(body)
    server = HTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(tmp_path / "srv")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/w.pth"
    try:
        ctx = RunContext(device="cpu", offline=False)
        with pytest.raises(ChecksumMismatch, match="does not match"):
            download(url, tmp_path / "a" / "w.pth", "f" * 64, ctx=ctx)
        assert not (tmp_path / "a" / "w.pth").exists() and not ctx.offline   # a bad file is not a network failure
        sha = hashlib.sha256(body).hexdigest()
        # through the checkpoint path: the type says "fail" (not "skip"), the message both hashes
        from bench.errors import ChecksumMismatch, is_skip
        from bench.models.weights import download_checkpoint

        with pytest.raises(ChecksumMismatch) as bad:
            download_checkpoint(url, tmp_path / "c" / "w.pth", "f" * 64, ctx=ctx)
        assert "f" * 64 in str(bad.value) and sha in str(bad.value) and not is_skip(bad.value)
        assert download(url, tmp_path / "b" / "w.pth", sha, ctx=ctx) == sha
        assert (tmp_path / "b" / "w.pth").read_bytes() == body
    finally:
        server.shutdown()


def test_semseg_voc_without_torch_hub_folder_is_a_clean_skip(tmp_path, monkeypatch):
    from bench.downstream.base import TaskUnavailable
    from bench.downstream.tasks import build_task

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "no-torch-home"))
    import torch

    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    task = build_task("semseg_voc", RunContext(device="cpu", offline=True))
    with pytest.raises(TaskUnavailable, match="lraspp_mobilenet_v3_large-d234d4ea.pth"):
        task.ensure_ready()
    # online, an unreachable host: the same clean skip, and the run goes offline
    import urllib.request

    def refuse(*a, **k):
        raise OSError("connection refused")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    ctx = RunContext(device="cpu", offline=False)
    with pytest.raises(TaskUnavailable, match="place it in"):
        build_task("semseg_voc", ctx).ensure_ready()
    assert ctx.offline


# --- doctor ---------------------------------------------------------------------------------
def test_doctor_reports_what_is_here(user_home, shared, capsys):
    assert main(["doctor", "--offline", "--weights-dir", str(shared / "weights"),
                 "--data-root", str(shared / "data")]) == 0
    out = capsys.readouterr().out
    lines: dict[str, str] = {}      # first line of each check
    for ln in out.splitlines():
        if len(ln.split()) > 1 and ln.split()[0] in ("ok", "miss", "FAIL"):
            lines.setdefault(ln.split()[1], ln)
    assert "prenet@Rain100H" in lines["weights"] and lines["weights"].split()[0] == "ok"
    assert "rain100h" in lines["datasets"] and "demo" in lines["datasets"]
    assert "not checked" in lines["network"]
    assert lines["cache"].startswith("  ok") and str(user_home / "cache") in lines["cache"]
    import torch

    assert (lines["cuda"].split()[0] == "ok") == torch.cuda.is_available()


def test_doctor_gives_the_fix_for_each_miss(user_home, capsys):
    assert main(["doctor", "--offline"]) == 0                         # misses are optional: exit 0
    out = capsys.readouterr().out
    assert "miss  data root" in out and "mkdir -p" in out
    assert out.count("fix:") == out.count("  miss  ")
    assert "espnet_cityscapes" not in out and "object has no attribute" not in out   # registry weights: checked above


def test_segformer_unreachable_hub_is_one_probe_then_offline(tmp_path, monkeypatch):
    """Online but no network: one HEAD request (no Hugging Face retries), a clean skip, run offline."""
    import time
    import urllib.request

    from bench.downstream.base import TaskUnavailable
    from bench.downstream.tasks import build_task

    calls = []

    def refuse(req, *a, **k):
        calls.append(getattr(req, "full_url", req))
        raise OSError("Name or service not known")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    ctx = RunContext(device="cpu", offline=False)
    t0 = time.perf_counter()
    with pytest.raises(TaskUnavailable, match="hf download"):
        build_task("semseg_cityscapes", ctx).ensure_ready()
    assert time.perf_counter() - t0 < 10
    assert calls == ["https://huggingface.co"] and ctx.offline and len(ctx.notices) == 1


def test_resolver_goes_offline_after_the_first_failed_checkpoint(tmp_path, monkeypatch):
    import urllib.request

    from bench.models import weights as w

    table = {"m": {v: {"file": f"m/{v}.pth", "url": f"http://127.0.0.1:9/{v}.pth", "sha256": "0" * 64}
                   for v in ("a", "b")}}
    monkeypatch.setattr(w, "registry", lambda: table)
    calls = []
    real = urllib.request.urlopen

    def counting(*a, **k):
        calls.append(a[0])
        return real(*a, **k)

    monkeypatch.setattr(urllib.request, "urlopen", counting)
    ctx = RunContext(device="cpu", offline=False, cache_dir=tmp_path / "cache")
    with pytest.raises(w.WeightsMissing, match="could not download"):
        w.resolver(ctx).resolve("a", model="m")
    with pytest.raises(w.WeightsMissing, match="offline mode"):
        w.resolver(ctx).resolve("b", model="m")
    assert calls == ["http://127.0.0.1:9/a.pth"] and len(ctx.notices) == 1
    assert (tmp_path / "cache" / "weights" / "m").is_dir()          # cache folders made as needed
