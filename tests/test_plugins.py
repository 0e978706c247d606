"""User plug-ins (bench.plugins): the worked example of docs/your_model.md run end to end on real
Rain100H pairs, loading from --include / BENCH_INCLUDE / entry points, the errors, and the
precomputed identity the page states."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from bench import plugins
from bench.cli import main
from bench.config import Environment, RunContext
from bench.hashing import sha256_file
from bench.imageio import read_rgb, to_tensor
from bench.models import MODELS
from bench.models.precomputed import PrecomputedDerainer
from bench.models.weights import WeightsMismatch, WeightsMissing
from bench.store import model_key_for

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "your_model.md"
IDS = ("1", "2")


def doc_python() -> str:
    """The first ```python block of docs/your_model.md: the test runs what the page shows."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert blocks, "docs/your_model.md has no python block"
    return blocks[0]


@pytest.fixture(autouse=True)
def forget_user_models():
    """Plug-ins register into the process-wide MODELS table: each test starts and ends without them."""
    yield
    for name in MODELS.names():
        if MODELS.user_spec(name) is not None:
            MODELS.remove_user(name)
    plugins._by_source.clear()
    plugins._loaded_sources.clear()


def write_plugin(folder: Path, text: str, name: str = "mynet.py") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return folder / name


def copy_pairs(shared_data: Path, root: Path) -> Path:
    for sub in ("rain", "norain"):
        (root / "rain100h" / sub).mkdir(parents=True)
        for i in IDS:
            shutil.copy(shared_data / "rain100h" / sub / f"norain-{i}.png", root / "rain100h" / sub / f"norain-{i}.png")
    return root


def train_briefly(net: torch.nn.Module, data: Path, steps: int = 30) -> None:
    """A few Adam steps on 64×64 crops: weights that differ from the initialisation (whose outputs
    the test then checks the harness reproduces)."""
    torch.manual_seed(0)
    pairs = [(to_tensor(read_rgb(data / "rain100h" / "rain" / f"norain-{i}.png")),
              to_tensor(read_rgb(data / "rain100h" / "norain" / f"norain-{i}.png"))) for i in IDS]
    rainy = torch.cat([r[..., :64, :64] for r, _ in pairs])
    clean = torch.cat([c[..., :64, :64] for _, c in pairs])
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for _ in range(steps):
        opt.zero_grad()
        F.l1_loss(net(rainy), clean).backward()
        opt.step()


def test_doc_example_runs_end_to_end_and_the_report_labels_it(shared_data, tmp_path):
    code = doc_python()
    assert len(code.strip().splitlines()) < 40, "the worked example must stay under 40 lines"
    user = tmp_path / "my_models"
    plugin = write_plugin(user, code)
    data = copy_pairs(shared_data, tmp_path / "data")
    # The checkpoint: the documented network, trained a little and saved as a plain state_dict.
    loaded = plugins.load_plugins([user], entry_points=False)
    assert [p.models for p in loaded] == [("mynet",)]
    spec = MODELS.load("mynet")
    net = spec.build_network()
    train_briefly(net, data)
    ckpt = tmp_path / "ckpt" / "mynet_r100h.pth"
    ckpt.parent.mkdir()
    torch.save(net.state_dict(), ckpt)

    out = tmp_path / "res"
    env = {**os.environ, "PYTHONPATH": str(REPO), "BENCH_CACHE": str(tmp_path / "cache"), "BENCH_OFFLINE": "1"}
    env.pop("BENCH_INCLUDE", None)
    proc = subprocess.run([sys.executable, "-m", "bench", "run", "--include", str(user), "--models",
                           f"rainy,mynet@{ckpt}", "--datasets", "rain100h", "--measures", "psnr_y",
                           "--tasks", "none", "--data-root", str(data), "--out", str(out), "--device", "cpu"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"plug-in {plugin}: mynet" in proc.stdout

    lb = pd.read_csv(out / "leaderboard.csv")
    row = lb[lb.model == "mynet"].iloc[0]
    assert row.images == len(IDS) and row.variant == "mynet_r100h"
    assert f"#{sha256_file(ckpt)[:12]}~" in row.model_key
    # The harness's output equals the network run here by hand: reflect-pad to even, crop, clamp, round.
    net.eval()
    cached = {p.stem: p for p in (out / "cache").rglob("*.png") if "mynet" in str(p)}
    for i in IDS:
        x = to_tensor(read_rgb(data / "rain100h" / "rain" / f"norain-{i}.png"))
        h, w = x.shape[-2:]
        with torch.no_grad():
            y = net(F.pad(x, (0, (-w) % 2, 0, (-h) % 2), mode="reflect"))[..., :h, :w].clamp(0, 1)
        mine = (y[0].permute(1, 2, 0).numpy() * 255).round().astype(np.int16)
        got = read_rgb(cached[i]).astype(np.int16)
        assert np.abs(got - mine).max() <= 1, f"image {i}: the harness's output is not this network's"
    assert row.psnr_y != lb[lb.model == "rainy"].iloc[0].psnr_y

    assert main(["report", "--out", str(out), "--data-root", str(data)]) == 0
    md = (out / "leaderboard.md").read_text(encoding="utf-8")
    assert f"user model, defined in mynet.py (sha256 {sha256_file(plugin)})" in md


def test_weights_card_relative_path_checked_and_default(tmp_path):
    user = tmp_path / "plug"
    ckpt_net = torch.nn.Conv2d(3, 3, 1)
    user.mkdir()
    torch.save(ckpt_net.state_dict(), user / "tiny.pth")
    good = sha256_file(user / "tiny.pth")
    write_plugin(user, f"""
        import torch
        from bench.plugins import IOPolicy, Weights, register_model

        register_model(lambda: torch.nn.Conv2d(3, 3, 1), name="tiny",
                       weights={{"good": Weights("tiny.pth", sha256="{good}"),
                                "stale": Weights("tiny.pth", sha256="{'0' * 64}"),
                                "absent": Weights("nowhere.pth")}})
    """)
    plugins.load_plugins([user], entry_points=False)
    ctx = RunContext(cache_dir=tmp_path / "cache", offline=True)
    spec = MODELS.load("tiny")
    d = spec.build(None, ctx)             # the first card is the default, relative to the plug-in file
    assert d.variant == "good" and d.weights_sha256 == good
    assert torch.equal(d.net.weight.cpu(), ckpt_net.weight)
    assert d.provenance["source"] == "user model" and d.provenance["plugin_sha256"] == sha256_file(user / "mynet.py")
    with pytest.raises(WeightsMismatch, match=good):
        spec.build("stale", ctx)
    with pytest.raises(WeightsMissing, match="nowhere.pth"):
        spec.build("absent", ctx)
    with pytest.raises(WeightsMissing, match="neither a weights id"):
        spec.build("/no/such/file.pth", ctx)


def test_identity_follows_the_plugin_file(tmp_path):
    """Editing the plug-in changes the code version, hence the store key: old outputs are not reused."""
    text = """
        import torch
        from bench.plugins import register_model

        @register_model("blur")       # no parameters: runs without weights
        def blur():
            return torch.nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    """
    ctx = RunContext(cache_dir=tmp_path / "cache")
    keys = []
    for k, extra in enumerate(("", "        # edited\n")):
        folder = tmp_path / f"v{k}"
        write_plugin(folder, text + extra)
        plugins.load_plugins([folder], entry_points=False)
        keys.append(model_key_for(MODELS.load("blur").build(None, ctx)))
        MODELS.remove_user("blur")
    assert keys[0].startswith("blur~") and keys[0] != keys[1]


def test_parameters_without_weights_are_a_skip(tmp_path):
    write_plugin(tmp_path / "p", """
        import torch
        from bench.plugins import register_model
        register_model(lambda: torch.nn.Conv2d(3, 3, 3, padding=1), name="untrained")
    """)
    plugins.load_plugins([tmp_path / "p"], entry_points=False)
    with pytest.raises(WeightsMissing, match="untrained@/path/to/checkpoint.pth"):
        MODELS.load("untrained").build(None, RunContext(cache_dir=tmp_path))


@pytest.mark.parametrize("body, expected", [
    ("import torch\nraise RuntimeError('no GPU here')\n", "RuntimeError: no GPU here"),
    ("def broken(:\n", "SyntaxError"),
    ("from bench.plugins import register_model\nregister_model(lambda: None, name='dfn')\n",
     "'dfn', which is a built-in model"),
])
def test_bad_plugin_is_a_usage_error_naming_the_file(tmp_path, capsys, body, expected):
    plugin = write_plugin(tmp_path / "p", body, "bad.py")
    assert main(["ls", "models", "--include", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert str(plugin) in err and expected in err
    assert "dfn" in MODELS.builtin and MODELS.user_spec("dfn") is None
    assert main(["run", "--include", str(tmp_path / "p"), "--models", "rainy", "--tasks", "none"]) == 2


def test_two_files_one_name_and_missing_folder(tmp_path, capsys):
    one = "from bench.plugins import register_model\nimport torch\nregister_model(torch.nn.Identity, name='same')\n"
    write_plugin(tmp_path / "p", one, "a.py")
    write_plugin(tmp_path / "p", one, "b.py")
    assert main(["ls", "models", "--include", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert "b.py" in err and "a.py" in err and "already registered" in err
    assert main(["ls", "models", "--include", str(tmp_path / "nowhere")]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_bench_include_setting_and_ls(tmp_path, monkeypatch, capsys):
    assert Environment.read({"BENCH_INCLUDE": f"/a{os.pathsep}/b"}).include == (Path("/a"), Path("/b"))
    plugin = write_plugin(tmp_path / "p", doc_python())
    monkeypatch.setenv("BENCH_INCLUDE", str(tmp_path / "p"))
    assert main(["ls", "models"]) == 0
    out = capsys.readouterr().out
    assert "mynet" in out and f"user model: {plugin} (sha256 {sha256_file(plugin)})" in out


def test_entry_point_plugin(tmp_path, monkeypatch):
    """An installed package's module in the group derain_bench.models (a real dist-info on sys.path)."""
    site = tmp_path / "site"
    write_plugin(site, "import torch\nfrom bench.plugins import register_model\n"
                       "register_model(torch.nn.Identity, name='from_ep')\n", "myplug_models.py")
    info = site / "myplug-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: myplug\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[derain_bench.models]\nmyplug = myplug_models\n")
    monkeypatch.syspath_prepend(str(site))
    loaded = plugins.load_plugins([], entry_points=True)
    assert any(p.models == ("from_ep",) for p in loaded)
    spec = MODELS.load("from_ep")
    assert spec.entry_point.startswith("entry point myplug = myplug_models (myplug)")
    assert spec.origin_sha256 == sha256_file(site / "myplug_models.py")
    assert plugins.load_plugins([], entry_points=True) == []      # once per process


def test_ray_shard_worker_loads_the_include_folders(shared_data, tmp_path):
    """The Ray executor's run_shard in a fresh process (as a Ray worker is) gets the include folders
    as plain data and runs the user model."""
    user = tmp_path / "plug"
    write_plugin(user, doc_python())
    data = copy_pairs(shared_data, tmp_path / "data")
    script = f"""
import json, sqlite3, tempfile
from pathlib import Path
try:                                   # where the Ray executor lives (bench/engine after the split)
    from bench.engine.ray_executor import run_shard
except ImportError:
    from bench.distributed import run_shard
ctx = dict(device="cpu", offline=True, data_root=Path({str(data)!r}), weights_dir=None,
           cache_dir=Path({str(tmp_path / 'cache')!r}), max_pixels=None)
cfg = dict(measures=["psnr_y"], tasks=[], limit=None, batch_size=1, fresh=False,
           include=({str(user)!r},))
res = run_shard(cfg, ctx, "blurnet", "rain100h", 0, 1)
p = Path(tempfile.mkdtemp()) / "d.sqlite"; p.write_bytes(res["store"])
print(json.dumps(sqlite3.connect(p).execute("SELECT DISTINCT model_key FROM records").fetchall()))
"""
    # The doc's network has parameters; a parameter-free sibling runs without a checkpoint.
    write_plugin(user, "import torch\nfrom bench.plugins import register_model\n"
                       "register_model(lambda: torch.nn.AvgPool2d(3, 1, 1), name='blurnet')\n", "blur.py")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("BENCH_INCLUDE", None)
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    keys = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(keys) == 1 and keys[0][0].startswith("blurnet~")


@pytest.mark.slow
def test_bench_run_ray_with_a_user_model(shared_data, tmp_path):
    """The whole --ray path on a local cluster: the driver passes --include to the shard workers."""
    pytest.importorskip("ray")
    user = tmp_path / "plug"
    write_plugin(user, "import torch\nfrom bench.plugins import register_model\n"
                       "register_model(lambda: torch.nn.AvgPool2d(3, 1, 1), name='blurnet')\n", "blur.py")
    data = copy_pairs(shared_data, tmp_path / "data")
    env = {**os.environ, "PYTHONPATH": str(REPO), "BENCH_OFFLINE": "1", "RAY_DISABLE_USAGE_STATS": "1",
           "BENCH_CACHE": str(tmp_path / "cache")}
    env.pop("BENCH_INCLUDE", None)
    rows = {}
    for mode in ("serial", "ray"):
        out = tmp_path / mode
        cmd = [sys.executable, "-m", "bench", "run", "--include", str(user), "--models", "blurnet",
               "--datasets", "rain100h", "--measures", "psnr_y", "--tasks", "none", "--data-root", str(data),
               "--out", str(out), "--device", "cpu"] + (["--ray", "--shards", "2"] if mode == "ray" else [])
        proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        lb = pd.read_csv(out / "leaderboard.csv")
        rows[mode] = lb[lb.model == "blurnet"].iloc[0]
    assert rows["ray"].images == rows["serial"].images == len(IDS)
    assert rows["ray"].model_key == rows["serial"].model_key
    assert abs(rows["ray"].psnr_y - rows["serial"].psnr_y) < 1e-9


def test_unknown_model_hints_at_include(capsys):
    assert main(["run", "--models", "mynet", "--tasks", "none"]) == 2
    assert "--include" in capsys.readouterr().err


def test_precomputed_identity_is_what_the_page_says(shared_data, tmp_path):
    """docs/your_model.md: sha256 of '<name>:<size>\\n' per image file, sorted by name; others ignored."""
    folder = tmp_path / "outs"
    folder.mkdir()
    for name in ("b.png", "a.PNG", "norain-10.jpg"):
        shutil.copy(shared_data / "rain100h" / "norain" / "norain-1.png", folder / name)
    (folder / "notes.txt").write_text("not an image")
    (folder / "sub").mkdir()
    shutil.copy(shared_data / "rain100h" / "norain" / "norain-2.png", folder / "sub" / "c.png")
    lines = "".join(f"{n}:{(folder / n).stat().st_size}\n" for n in sorted(["b.png", "a.PNG", "norain-10.jpg"]))
    want = hashlib.sha256(lines.encode("utf-8")).hexdigest()
    d = PrecomputedDerainer(folder)
    assert d.weights_sha256 == want and d.variant == "outs"
    assert model_key_for(d).startswith(f"precomputed@outs#{want[:12]}~")
    assert "Identity." in DOC.read_text() and "`<file name>:<size in bytes>\\n`" in DOC.read_text()
