"""Milliseconds per image of the offline downstream models (FastestDet, ESPNet, HOG) and of one
derainer (PReNet), and the share of a run each takes (not a CI test).

    BENCH_SHARED=../shared python benchmarks/downstream_speed.py [--limit 10] [--threads 2] [--device cpu]

Images: the first N RainCityscapes rainy images (512×256). Each timing is the wall time of the
task's ``predict`` (preprocessing, forward, decoding, record encoding; the model already loaded,
one warm-up call) or of the derainer's ``restore``. "share" = the component's time over the
time of one image through the derainer and every task listed, i.e. one (derainer, image) cell of
``bench run``; pseudo-labels add one more pass of each task per clean image and dataset, not counted.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.config import RunContext, environment  # noqa: E402
from bench.data import DATASETS  # noqa: E402
from bench.downstream.tasks import build_task  # noqa: E402
from bench.imageio import read_rgb, to_tensor  # noqa: E402
from bench.models import MODELS  # noqa: E402

TASKS = ("fastestdet_coco", "espnet_cityscapes", "hog_people")


def _time(fn, images) -> tuple[list[float], list[float]]:
    """(wall ms, process CPU ms) per image. On a shared machine the wall time grows with the load;
    the CPU time (all threads) much less so: both are printed."""
    fn(images[0])                                       # warm-up (allocations, lazy loads)
    wall, cpu = [], []
    for im in images:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        t0, c0 = time.perf_counter(), time.process_time()
        fn(im)
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        wall.append(1000.0 * (time.perf_counter() - t0))
        cpu.append(1000.0 * (time.process_time() - c0))
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--derainer", default="prenet")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    shared = environment().shared or Path("../shared")
    ctx = RunContext(device=a.device, offline=True, data_root=shared / "data", weights_dir=shared / "weights")
    dataset = DATASETS.load("raincityscapes").find(ctx)
    samples = list(dataset.samples())[: a.limit]
    images = [read_rgb(s.rainy) for s in samples]

    ms: dict[str, tuple[list[float], list[float]]] = {}
    derainer = MODELS.load(a.derainer).build(None, ctx, dataset="raincityscapes")
    ms[f"{a.derainer} (derainer)"] = _time(lambda im: derainer.restore(to_tensor(im.copy()).to(a.device)), images)
    for name in TASKS:
        task = build_task(name, ctx)
        task.ensure_ready()
        ms[name] = _time(lambda im, t=task: t.predict([im]), images)

    total = sum(statistics.mean(v[0]) for v in ms.values())
    total_cpu = sum(statistics.mean(v[1]) for v in ms.values())
    device = torch.cuda.get_device_name(0) if a.device.startswith("cuda") else f"CPU, {a.threads} threads"
    h, w = images[0].shape[:2]
    print(f"{len(images)} RainCityscapes images ({w}x{h}), {device}, torch {torch.__version__}")
    print(f"{'component':28s} {'wall ms':>9s} {'median':>9s} {'share':>7s} {'CPU ms':>9s} {'share':>7s}")
    for name, (wall, cpu) in ms.items():
        mean, mean_cpu = statistics.mean(wall), statistics.mean(cpu)
        print(f"{name:28s} {mean:9.1f} {statistics.median(wall):9.1f} {100 * mean / total:6.1f}% "
              f"{mean_cpu:9.1f} {100 * mean_cpu / total_cpu:6.1f}%")
    print(f"{'one image, all of the above':28s} {total:9.1f} {'':9s} {'':7s} {total_cpu:9.1f}")


if __name__ == "__main__":
    main()
