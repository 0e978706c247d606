"""The engine's thread primitives: decode ahead on worker threads, score off the critical path, and write
(PNGs, then one store transaction per batch) on a single writer thread.

Why threads: decoding (zlib), the measures (torch, one intra-op thread each) and PNG encoding all
release the GIL, so on a 2-core machine they overlap with each other and with the network's
forward pass instead of queueing behind it. Queues are bounded, so memory stays flat however long
the dataset. Crash safety: a batch's outputs are written before its records are committed, and a
commit holds whole batches, so a SIGKILL loses at most the batch in flight.
"""
from __future__ import annotations

import queue
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator


def _single_threaded_torch() -> None:
    """Worker threads compute with one intra-op thread each (torch's setting is per thread)."""
    import torch

    torch.set_num_threads(1)


def prefetch(items: Iterable[Any], fn: Callable[[Any], Any], workers: int = 2,
             depth: int = 8) -> Iterator[tuple[Any, Any, BaseException | None]]:
    """``(item, fn(item), None)`` or ``(item, None, error)`` in input order, computing up to
    ``depth`` items ahead on ``workers`` threads."""
    it = iter(items)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bench-decode",
                            initializer=_single_threaded_torch) as pool:
        window: deque[tuple[Any, Future]] = deque()
        for item in it:
            window.append((item, pool.submit(fn, item)))
            if len(window) >= depth:
                break
        while window:
            item, fut = window.popleft()
            nxt = next(it, _END)
            if nxt is not _END:
                window.append((nxt, pool.submit(fn, nxt)))
            try:
                yield item, fut.result(), None
            except Exception as e:  # noqa: BLE001 - handed to the caller, which records it per image
                yield item, None, e


_END = object()


class ScoringPool:
    """Runs scoring jobs on worker threads with at most ``bound`` jobs in flight (back-pressure)."""

    def __init__(self, workers: int = 2, bound: int = 4):
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bench-score",
                                        initializer=_single_threaded_torch)
        self._slots = threading.BoundedSemaphore(bound)
        self._futures: list[Future] = []

    def submit(self, fn: Callable, *args) -> None:
        self._slots.acquire()
        fut = self._pool.submit(fn, *args)
        fut.add_done_callback(lambda _: self._slots.release())
        self._futures.append(fut)
        self._futures = [f for f in self._futures if not f.done() or f.exception() is not None]

    def drain(self) -> None:
        """Wait for every job; re-raise the first unexpected error (jobs record their own)."""
        futures, self._futures = self._futures, []
        for f in futures:
            f.result()

    def close(self) -> None:
        self.drain()
        self._pool.shutdown(wait=True)


class Writer:
    """The run's only writer and the only holder of the store's connection: files, then store
    rows, committed once per batch, on one thread.

    ``submit(files, ops)``: ``files`` is a list of (path, RGB uint8 array, or the PNG's bytes);
    ``ops`` are callables taking the writer's Store, run in one transaction. ``drain()`` waits
    until all submitted work is on disk and re-raises a write error (the run cannot continue
    without its store). ``call(fn)`` runs ``fn(store)`` after everything submitted so far, outside
    a batch transaction, and returns its result (reads, and the run's own bookkeeping)."""

    def __init__(self, store_path: Path, depth: int = 8):
        self._path = Path(store_path)
        self._q: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="bench-writer", daemon=True)
        self._thread.start()

    def submit(self, files: list[tuple[Path, Any]] | None = None, ops: list[Callable] | None = None) -> None:
        self._raise()
        self._q.put((files or [], ops or [], None))

    def call(self, fn: Callable[[Any], Any]) -> Any:
        self._raise()
        done: Future = Future()
        self._q.put(([], [fn], done))
        return done.result()

    def drain(self) -> None:
        self._q.join()
        self._raise()

    def close(self) -> None:
        self._q.put(None)
        self._thread.join()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            err, self._error = self._error, None
            raise RuntimeError(f"writing results failed: {err.__class__.__name__}: {err}") from err

    def _loop(self) -> None:
        from bench.store import Store

        try:
            store = Store(self._path)
        except BaseException as e:  # noqa: BLE001 - every later submit/call says so
            self._error, store = e, None
            opened = e
        try:
            while True:
                job = self._q.get()
                if job is None:
                    self._q.task_done()
                    return
                files, ops, done = job
                try:
                    if done is not None and store is None:
                        done.set_exception(RuntimeError(f"could not open the results store {self._path}: {opened}"))
                    elif done is not None:               # call(): the caller gets the result or the error
                        try:
                            result = ops[0](store)      # its own statements (a checkpoint cannot run in a transaction)
                        except BaseException as e:  # noqa: BLE001
                            done.set_exception(e)
                        else:
                            done.set_result(result)
                    elif self._error is None:
                        for path, data in files:        # outputs first: a record never lacks its PNG
                            _write_file(path, data)
                        if ops:
                            with store.transaction():
                                for op in ops:
                                    op(store)
                except BaseException as e:  # noqa: BLE001 - surfaced on the next submit/drain
                    self._error = e
                finally:
                    self._q.task_done()
        finally:
            if store is not None:
                store.close()


def _write_file(path: Path, data: Any) -> None:
    """A PNG from an RGB array, or bytes as they are; atomically (temp file + rename)."""
    if not isinstance(data, bytes):
        from bench.imageio import write_png

        write_png(path, data)
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_bytes(data)
    tmp.replace(path)
