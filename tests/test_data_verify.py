"""`bench data verify` on the real shared sets (must pass) and on damaged copies (must fail, naming
the file); `bench data ls` and `fetch` offline; the demo set built without any data root."""
from __future__ import annotations

import shutil

import pytest

from bench.cli import main as bench_main
from bench.data import resolve_dataset


@pytest.mark.parametrize("name", ["rain100h", "raincityscapes", "internet-data"])
def test_verify_passes_on_shared_data(shared_data, name, capsys):
    args = ["data", "verify", name, "--data-root", str(shared_data)]
    if name == "internet-data":
        args.append("--headers-only")  # 147 large JPEGs: headers are enough for this check
    assert bench_main(args) == 0
    text = capsys.readouterr().out
    assert "OK" in text and "checksums: all" in text
    if name == "rain100h":
        assert "images 100, paired 100" in text and "481x321 x66" in text and "321x481 x34" in text


def test_verify_fails_on_a_damaged_copy_and_names_files(shared_data, tmp_path, capsys):
    src, dst = shared_data / "rain100h", tmp_path / "rain100h"
    for sub in ("rain", "norain"):
        (dst / sub).mkdir(parents=True)
        for n in (1, 2, 3, 4):
            shutil.copy(src / sub / f"norain-{n}.png", dst / sub / f"norain-{n}.png")
    # a same-size, still-decodable edit: only the checksum can catch it
    from bench.imageio import read_rgb, write_png

    edited = read_rgb(dst / "rain" / "norain-3.png")
    edited[0, 0] ^= 1
    write_png(dst / "rain" / "norain-3.png", edited)
    (dst / "norain" / "norain-4.png").unlink()
    assert bench_main(["data", "verify", "rain100h", "--data-root", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "4 images found, rain100h has 100" in out
    assert "norain-4.png: no ground-truth twin" in out
    assert "differ from the published copy" in out and "rainy/3" in out and "rainy/1" not in out


def test_data_ls_and_fetch_offline(tmp_path, capsys):
    assert bench_main(["data", "ls", "--data-root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in ("rain100l", "rain1400", "spa-data", "real200", "internet-data", "coco8-rain", "folder:<path>"):
        assert name in out
    assert bench_main(["data", "fetch", "spa-data", "--data-root", str(tmp_path), "--offline"]) == 1
    out = capsys.readouterr().out
    assert "stevewongv.github.io" in out and str(tmp_path / "spa-data") in out and "rain/N.png + gt/Ngt.png" in out
    assert bench_main(["data", "fetch", "coco8-rain", "--data-root", str(tmp_path), "--offline"]) == 1
    out = capsys.readouterr().out
    assert "coco8.zip" in out and "offline: not downloading" in out


def test_fetch_reports_present_data(shared_data, capsys):
    assert bench_main(["data", "fetch", "rain100h", "--data-root", str(shared_data), "--offline"]) == 0
    assert "already present" in capsys.readouterr().out


def test_demo_builds_without_data_deterministically(tmp_path, monkeypatch):
    from bench.imageio import read_rgb

    builds = []
    for run in ("a", "b"):
        monkeypatch.setenv("BENCH_CACHE", str(tmp_path / run))
        ds = resolve_dataset("demo")
        samples = list(ds.samples())
        assert [s.id for s in samples] == ["astronaut", "bus", "chelsea", "coffee", "rocket", "zidane"]
        assert all(s.error is None and s.clean is not None for s in samples)
        builds.append({s.id: (s.rainy.read_bytes(), s.clean.read_bytes()) for s in samples})
    assert builds[0] == builds[1]  # same seed, same bytes on any machine
    bus = read_rgb(tmp_path / "a" / "datasets" / "demo" / "norain" / "bus.png")
    assert max(bus.shape[:2]) == 512
    marker = tmp_path / "a" / "datasets" / "demo" / "synth.json"
    before = marker.stat().st_mtime_ns
    monkeypatch.setenv("BENCH_CACHE", str(tmp_path / "a"))
    resolve_dataset("demo")
    assert marker.stat().st_mtime_ns == before  # reused, not rebuilt
