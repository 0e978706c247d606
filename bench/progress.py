"""Per-image progress for long runs: a tqdm bar (images/s, ETA) on a terminal, plain lines
(every ``interval`` seconds and at the end) when the output is a file or a pipe."""
from __future__ import annotations

import sys
import threading
import time


class Progress:
    def __init__(self, total: int, desc: str, stream=None, interval: float = 15.0):
        self.total, self.desc, self.interval = total, desc, interval
        self.stream = stream or sys.stderr
        self.done = 0
        self._t0 = self._last = time.perf_counter()
        self._lock = threading.Lock()
        self._bar = None
        if total and getattr(self.stream, "isatty", lambda: False)():
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=desc, unit="img", file=self.stream, dynamic_ncols=True, leave=False)

    def update(self, n: int = 1) -> None:
        with self._lock:
            self.done += n
            if self._bar is not None:
                self._bar.update(n)
                return
            now = time.perf_counter()
            if self.total and (now - self._last >= self.interval or self.done >= self.total):
                self._last = now
                print(f"  {self.line(now)}", file=self.stream, flush=True)

    def line(self, now: float | None = None) -> str:
        elapsed = (now or time.perf_counter()) - self._t0
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        eta = f", ETA {left:.0f} s" if self.done < self.total and rate > 0 else ""
        return f"{self.desc}: {self.done}/{self.total} images, {rate:.2f} images/s{eta}"

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
