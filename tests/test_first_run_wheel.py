"""A new user's first run: build the wheel, install it into a fresh venv, run it from elsewhere.

The venv gets only our wheel (pip --no-deps --no-index: no network); its dependencies come from
the test interpreter's site-packages through a .pth line (a directory added that way is not
scanned for .pth files, so an editable install of the checkout there stays inactive). Every
command runs from a folder outside the checkout with a fresh HOME, and we assert that the
installed copy of ``bench`` is the one imported.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.wheel, pytest.mark.slow]


def _sh(cmd, cwd, env, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _clean_env() -> dict[str, str]:
    """No PYTHONPATH (the checkout must not be importable), no bench or library settings."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("BENCH_", "PYTHON", "YOLO_", "HF_", "VIRTUAL_ENV", "XDG_", "PIP_"))}


def _fresh_env(home: Path, venv: Path, weights: Path | None) -> dict[str, str]:
    keep = _clean_env()
    keep.update(HOME=str(home), PATH=f"{venv / 'bin'}{os.pathsep}{keep.get('PATH', '')}", BENCH_OFFLINE="1",
                OMP_NUM_THREADS="2")
    if weights is not None:
        keep["BENCH_WEIGHTS"] = str(weights)
    return keep


def _copy_sources(src: Path) -> None:
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(REPO / name, src / name)
    for top in ("bench", "configs", "tasks"):
        shutil.copytree(REPO / top, src / top, ignore=shutil.ignore_patterns("__pycache__"))


def _venv_with_deps(venv: Path) -> Path:
    """A venv without pip whose dependencies (and setuptools) come from the test interpreter."""
    made = _sh([sys.executable, "-m", "venv", "--without-pip", venv], venv.parent, _clean_env())
    assert made.returncode == 0, made.stderr
    py = venv / "bin" / "python"
    site = Path(_sh([py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], venv.parent,
                    _clean_env()).stdout.strip())
    (site / "_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return py


def test_editable_install_reads_the_top_level_configs_and_tasks(tmp_path):
    """`pip install -e`: bench/ is the checkout's, configs/ and tasks/ are read next to it."""
    src = tmp_path / "src"
    src.mkdir()
    _copy_sources(src)
    py = _venv_with_deps(tmp_path / "venv")
    inst = _sh([sys.executable, "-m", "pip", "--python", py, "install", "--no-deps", "--no-index",
                "--no-build-isolation", "-e", src], tmp_path, _clean_env())
    assert inst.returncode == 0, inst.stderr[-3000:]
    work, home = tmp_path / "elsewhere", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    env = _fresh_env(home, tmp_path / "venv", None)
    code = ("import json, bench, bench.config as c; print(bench.__file__); "
            "print(json.dumps(sorted(c.resource_files('tasks')))); "
            "print(json.dumps(sorted(c.resource_files('configs/weights'))))")
    done = _sh([py, "-c", code], work, env)
    assert done.returncode == 0, done.stderr[-3000:]
    where, tasks, weights = done.stdout.strip().splitlines()
    assert Path(where).is_relative_to(src), where
    assert json.loads(tasks) == sorted(p.name for p in (REPO / "tasks").glob("*.yaml"))
    assert json.loads(weights) == sorted(p.name for p in (REPO / "configs" / "weights").glob("*.yaml"))
    # the user overlay has the same two folders and wins over a shipped file of the same name
    (home / ".config" / "derain-bench" / "tasks").mkdir(parents=True)
    (home / ".config" / "derain-bench" / "tasks" / "hog_people.yaml").write_text("name: mine\n")
    done = _sh([py, "-c", "import bench.config as c; print(c.resource_files('tasks')['hog_people.yaml'])"], work, env)
    assert Path(done.stdout.strip()).is_relative_to(home), done.stdout + done.stderr


def test_wheel_installs_and_runs_outside_the_checkout(tmp_path, shared):
    # 1. build from a copy of the sources, so the checkout gets no build/ folder
    src = tmp_path / "src"
    src.mkdir()
    _copy_sources(src)
    built = _sh([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                 "-w", tmp_path / "whl", src], tmp_path, _clean_env())
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = next((tmp_path / "whl").glob("derain_bench-*.whl"))
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    # the top-level configs/ and tasks/ ship inside the package, every file of them
    shipped = {f"bench/{p.relative_to(REPO).as_posix()}" for top in ("configs", "tasks")
               for p in (REPO / top).rglob("*") if p.is_file() and p.suffix in (".yaml", ".md")}
    assert len(shipped) > 20 and shipped <= names, f"missing from the wheel: {sorted(shipped - names)}"
    for needed in ("bench/configs/suite.yaml", "bench/configs/weights/prenet.yaml", "bench/tasks/hog_people.yaml",
                   "bench/measures/data/niqe_pris_params.npz", "bench/data/manifests/rain100h.sha256"):
        assert needed in names, f"{needed} missing from the wheel"
    tops = {n.split("/")[0] for n in names}
    assert tops == {"bench", wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info"}, tops

    # 2. a fresh venv holding only the wheel; dependencies through a .pth line
    venv = tmp_path / "venv"
    made = _sh([sys.executable, "-m", "venv", "--without-pip", venv], tmp_path, _clean_env())
    assert made.returncode == 0, made.stderr
    py = venv / "bin" / "python"
    inst = _sh([sys.executable, "-m", "pip", "--python", py, "install", "--no-deps", "--no-index", wheel],
               tmp_path, _clean_env())
    assert inst.returncode == 0, inst.stderr[-3000:]
    site = Path(_sh([py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp_path, _clean_env())
                .stdout.strip())
    assert (site / "bench" / "configs" / "suite.yaml").is_file(), inst.stdout[-2000:]
    (site / "_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")

    # 3. run as a user would, from elsewhere, with a fresh HOME
    home, work = tmp_path / "home", tmp_path / "elsewhere"
    home.mkdir()
    work.mkdir()
    weights = shared / "weights" if (shared / "weights" / "prenet").is_dir() else None
    env = _fresh_env(home, venv, weights)
    where = _sh([py, "-c", "import bench; print(bench.__file__)"], work, env)
    assert Path(where.stdout.strip()).is_relative_to(venv), f"imported {where.stdout.strip()}, not the wheel"
    assert not Path(where.stdout.strip()).is_relative_to(REPO)

    ls = _sh([venv / "bin" / "bench", "ls", "models"], work, env)
    assert ls.returncode == 0, ls.stderr[-3000:]
    assert "prenet" in ls.stdout and "weights Rain100H" in ls.stdout   # the packaged weights registry

    run = _sh([venv / "bin" / "bench", "run", "--datasets", "demo", "--models", "rainy,prenet", "--offline",
               "--limit", "1", "--out", work / "results"], work, env)
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    record = json.loads(next((work / "results" / "runs").glob("*/run.json")).read_text())
    assert record["failures"] == []
    assert record["config"]["offline"] is True
    assert record["git"]["commit"] is None          # installed: no checkout's commit claimed
    rows = list(csv.DictReader((work / "results" / "per_image.csv").open()))
    niqe = {r["model"]: float(r["niqe"]) for r in rows if r.get("niqe")}
    expect = {"rainy", "prenet"} if weights else {"rainy"}
    assert expect <= set(niqe), f"NIQE missing for {expect - set(niqe)}: {rows}"
    assert all(0 < v < 100 for v in niqe.values())
    if weights is None:   # a user without checkpoints: prenet is a skip with its fix, not a failure
        assert any(s["name"].startswith("prenet") for s in record["skipped"])
