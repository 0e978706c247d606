"""Run a measure's CPU work on one intra-op thread.

Measures are hundreds of small, memory-bound tensor ops. Split over threads, each op pays a
synchronisation that costs more than it saves, and on a busy machine (other processes on the
cores) a barrier waits for a descheduled thread: on this project's 2-core CI class we measured
PSNR+SSIM+NIQE at ~2.9 s/image with 2 threads under load versus ~0.1 s with one. The previous
setting is restored afterwards, so model inference keeps its threads.
"""
from __future__ import annotations

from contextlib import contextmanager

import torch


@contextmanager
def single_thread_on_cpu(x: torch.Tensor):
    if x.device.type != "cpu" or torch.get_num_threads() == 1:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
