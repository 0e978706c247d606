"""One (model, dataset) pair through the pipeline (bench/engine/threads.py):

    decode ahead (threads) → batched forward pass (main thread) → scoring (threads: measures
    batched per image size, downstream tasks one at a time per task) → the writer thread (PNGs,
    then one store transaction per batch).

Every store write is an operation handed to the writer, the only holder of the store's connection,
so a batch's records land together or not at all. The collaborators are passed in: the scoring
pool, the writer, the label index and the output cache; a PairRun knows nothing of the runner.
One failing image becomes an error record; the run goes on.
"""
from __future__ import annotations

import threading
import time
import traceback
from collections import defaultdict
from typing import Any

import numpy as np
import torch

from bench.data.base import Sample
from bench.engine.labels import LabelIndex
from bench.engine.plan import Pair
from bench.engine.threads import ScoringPool, Writer, prefetch
from bench.errors import BadInput, Unavailable
from bench.imageio import ImageError, read_rgb, to_tensor, to_uint8
from bench.models.base import Batch, Derainer
from bench.store import IMAGE_UNIT
from bench.store.cache import OutputCache
from bench.summary import RunLog


class PairRun:
    """Runs the planned work of one pair; ``counts`` (the run log's counters for the pair) and
    ``progress`` are updated as images finish."""

    def __init__(self, pair: Pair, *, log: RunLog, scoring: ScoringPool, writer: Writer, labels: LabelIndex,
                 outputs: OutputCache, counts: dict, batch_size: int = 1, progress=None):
        self.pair, self.counts, self.progress = pair, counts, progress
        self.log, self.scoring, self.writer, self.labels, self.outputs = log, scoring, writer, labels, outputs
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._task_locks: dict[str, threading.Lock] = defaultdict(threading.Lock)

    # --- the main thread ---------------------------------------------------------------------
    def run(self, todo: list) -> None:
        pending: list = []
        depth = max(4, 2 * self.batch_size)
        for work, _, err in prefetch(todo, self.load, workers=2, depth=depth):
            if err is not None:
                self.error(work.sample.id, err)
                continue
            if work.out_rgb is not None:                       # cached output: straight to scoring
                self.count("cached")
                self.scoring.submit(self.score, [work], [])
                continue
            if pending and (len(pending) >= self.batch_size or pending[0].rainy_rgb.shape != work.rainy_rgb.shape):
                self.flush(pending)
            pending.append(work)
        self.flush(pending)

    def flush(self, pending: list) -> None:
        if not pending:
            return
        batch, pending[:] = list(pending), []
        pair = self.pair
        try:
            outs, deviations = self.derain(batch)
        except Exception as e:
            if len(batch) > 1:  # isolate the image that fails: one at a time
                for w in batch:
                    self.flush([w])
                return
            self.error(batch[0].sample.id, e, prefix=f"{batch[0].sample.rainy}: deraining failed: ")
            return
        pngs, ops = [], []
        for w, out_rgb, dev in zip(batch, outs, deviations):
            w.out_rgb, w.rainy_rgb = out_rgb, None
            ops.append(self._deviation_op(w.sample.id, dev))
            if pair.derainer.cache_output:
                pngs.append((self.outputs.path(pair.key, pair.ds, w.sample.id, pair.fp), out_rgb))
        self.scoring.submit(self.score, batch, pngs, ops)

    def derain(self, batch: list):
        derainer = self.pair.derainer
        rainy = torch.cat([to_tensor(w.rainy_rgb) for w in batch])
        clean = (torch.cat([to_tensor(w.clean_rgb) for w in batch])
                 if all(w.clean_rgb is not None for w in batch) else None)
        with self.log.stage("derain"):
            t0 = time.perf_counter()
            out = derainer.derain(Batch([w.sample for w in batch], rainy, clean))
            self.count("forward_s", time.perf_counter() - t0)
        self.count("forwards", len(batch))
        devs = list(derainer.deviations() or [])
        return list(to_uint8(out, derainer.io.quantise)), (devs + [None] * len(batch))[: len(batch)]

    # --- decode threads ----------------------------------------------------------------------
    def load(self, work):
        """Decode what this image needs: ground truth, and the output from the cache or the rainy input."""
        sample, pair = work.sample, self.pair
        if sample.error:
            raise ValueError(sample.error)
        with self.log.stage("decode"):
            work.clean_rgb = read_rgb(sample.clean) if sample.clean is not None else None
            cached = self.outputs.path(pair.key, pair.ds, sample.id, pair.fp)
            if pair.derainer.cache_output and cached.is_file():
                work.out_rgb = read_rgb(cached)
                return work
            work.rainy_rgb = read_rgb(sample.rainy)
        c = work.clean_rgb
        if c is not None and c.shape != work.rainy_rgb.shape:
            raise ValueError(f"{sample.rainy}: rainy image is {work.rainy_rgb.shape[1]}x{work.rainy_rgb.shape[0]} "
                             f"but its ground truth {sample.clean} is {c.shape[1]}x{c.shape[0]}; "
                             "the pair does not match — fix or remove it.")
        return work

    # --- scoring threads ---------------------------------------------------------------------
    def score(self, batch: list, pngs: list, ops: list | None = None) -> None:
        ops = list(ops or [])
        live = []
        for w in batch:
            try:
                w.scored_clean = self._clean_for(w, ops)
                live.append(w)
            except Exception as e:
                ops.append(self._error_op(w.sample.id, e))
        values = self._measure(live, ops)
        for w in live:
            if w.sample.id in values.failed:
                continue
            try:
                for name, (value, protocol) in values.get(w.sample.id, {}).items():
                    ops.append(self._put_op(w.sample.id, name, value=value, protocol=protocol))
                for slot in w.slots:
                    op = self._task(w, slot, ops)
                    if op is not None:
                        ops.append(op)
                pair = self.pair
                ops.append(lambda st, i=w.sample.id: st.forget_image_error(pair.key, pair.ds, i, pair.fp))
            except Exception as e:
                ops.append(self._error_op(w.sample.id, e))
        self.writer.submit(pngs, ops)
        for w in batch:       # the plan keeps its Work items: drop their pixels, or memory grows per image
            w.out_rgb = w.clean_rgb = w.rainy_rgb = w.scored_clean = None
        if self.progress is not None:
            self.progress.update(len(batch))

    def _clean_for(self, w, ops: list):
        out_rgb, clean_rgb, pair = w.out_rgb, w.clean_rgb, self.pair
        if clean_rgb is None or clean_rgb.shape == out_rgb.shape:
            return clean_rgb
        cropped = _match_size(clean_rgb, out_rgb, w.sample, pair.derainer)
        h, wd = out_rgb.shape[:2]
        detail = {"size_policy": pair.derainer.io.size_policy, "box": list(pair.derainer.io.crop_box(*clean_rgb.shape[:2])),
                  "scored": f"{wd}x{h}", "input": f"{clean_rgb.shape[1]}x{clean_rgb.shape[0]}"}
        run_id = self.log.run_id
        ops.append(lambda st, i=w.sample.id: st.put_deviation(pair.key, pair.ds, i, "crop", detail, run_id, pair.fp))
        return cropped

    def _measure(self, works: list, ops: list) -> "_Values":
        """Each measure once per group of same-sized images (a batch), else image by image."""
        values = _Values()
        groups: dict[Any, list] = defaultdict(list)
        for w in works:
            groups[(w.out_rgb.shape, None if w.scored_clean is None else w.scored_clean.shape)].append(w)
        for group in groups.values():
            names = sorted({n for w in group for n in w.measures})
            for name in names:
                members = [w for w in group if name in w.measures and w.sample.id not in values.failed]
                if not members:
                    continue
                measure = members[0].measures[name]
                got = self._try_measure(measure, name, members, values, ops)
                for w, v in got:
                    values.setdefault(w.sample.id, {})[name] = (v, measure.info.protocol_text())
                    self.count("measured")
        return values

    def _try_measure(self, measure, name: str, members: list, values: "_Values", ops: list) -> list:
        try:
            return self._measure_batch(measure, name, members)
        except Exception as e:
            if len(members) == 1:
                values.failed.add(members[0].sample.id)
                ops.append(self._error_op(members[0].sample.id, e, prefix=f"{name}: "))
                return []
        got = []
        for w in members:      # the group failed: image by image, to find the one that fails
            got += self._try_measure(measure, name, [w], values, ops)
        return got

    def _measure_batch(self, measure, name: str, members: list) -> list:
        out = torch.cat([to_tensor(w.out_rgb) for w in members])
        clean = None
        if all(w.scored_clean is not None for w in members):
            clean = torch.cat([to_tensor(w.scored_clean) for w in members])
        with self.log.stage(f"measure {name}"):
            vals = measure(out, clean)
        return [(w, float(v)) for w, v in zip(members, vals)]

    def _task(self, w, slot, ops: list):
        if slot.unavailable is not None:
            return None
        with self._task_locks[slot.unit]:        # vision models are not thread-safe: one call at a time
            try:
                if slot.label_source != "none":
                    self._ensure_label(w, slot, ops)
                with self.log.stage(f"task {slot.task.name}"):
                    pred = slot.task.predict([w.out_rgb])[0]
            except Unavailable as e:      # the task cannot run here: skipped for the rest of the run
                slot.unavailable = str(e)
                self.log.skip("task", slot.task.name, str(e))
                return None
        self.count("task_runs")
        return self._put_op(w.sample.id, slot.unit, payload=pred, protocol=slot.protocol)

    def _ensure_label(self, w, slot, ops: list) -> None:
        pair = self.pair
        have = self.labels.have(pair, slot)
        if w.sample.id in have:
            return
        shape = w.out_rgb.shape[:2]
        error = None
        if slot.label_source == "gt":
            try:
                payload = slot.task.gt_labels(w.sample, shape)
            except BadInput as e:   # a malformed label file: one error record for (dataset, task, image), the rest goes on
                payload, error = None, f"{slot.task.name} labels: {e}"
                with self._lock:
                    self.counts["errors"] += 1
                    self.log.fail(self.pair.derainer.label, self.pair.ds, w.sample.id, error)
        else:  # pseudo: the same model on the clean image, computed once per dataset
            with self.log.stage(f"pseudo-labels {slot.task.name}"):
                payload = slot.task.pseudo_labels(slot.task.predict([w.scored_clean])[0])
        source, i = slot.label_source, w.sample.id
        ops.append(lambda st: st.put_label(pair.ds, slot.unit, i, source, payload, error=error, dataset_fp=pair.fp))
        have.add(i)

    # --- records ------------------------------------------------------------------------------
    def _put_op(self, image_id: str, unit: str, **kw):
        pair, run_id = self.pair, self.log.run_id
        d = pair.derainer
        return lambda st: st.put(model_key=pair.key, model=d.name, variant=d.variant, dataset=pair.ds,
                                 image_id=image_id, unit=unit, run_id=run_id, dataset_fp=pair.fp, **kw)

    def _deviation_op(self, image_id: str, deviation: dict | None):
        """What the derainer did differently for this image (tiling, OOM retry), replacing any
        earlier record: the output was just recomputed."""
        pair, run_id = self.pair, self.log.run_id

        def op(st):
            st.forget_deviations(pair.key, pair.ds, image_id, pair.fp)
            if deviation:
                kind = str(deviation.get("kind") or ("oom_retry" if deviation.get("oom_retries") else "tiled"))
                st.put_deviation(pair.key, pair.ds, image_id, kind, deviation, run_id, pair.fp)
        return op

    def _error_op(self, image_id: str, err: BaseException, prefix: str = ""):
        if isinstance(err, (ImageError, ValueError)):
            message = prefix + str(err)
        else:
            message = f"{prefix}{err.__class__.__name__}: {err}"
            self.log.trace("".join(traceback.format_exception(err)))
        with self._lock:
            self.counts["errors"] += 1
            self.log.fail(self.pair.derainer.label, self.pair.ds, image_id, message)
        return self._put_op(image_id, IMAGE_UNIT, error=message)

    def error(self, image_id: str, err: BaseException, prefix: str = "") -> None:
        self.writer.submit([], [self._error_op(image_id, err, prefix)])
        if self.progress is not None:
            self.progress.update(1)

    def count(self, key: str, n: float = 1) -> None:
        with self._lock:
            self.counts[key] += n


class _Values(dict):
    """image id -> {measure: (value, protocol)}, plus the ids whose measuring failed."""

    def __init__(self):
        super().__init__()
        self.failed: set[str] = set()


def _match_size(clean: np.ndarray, out: np.ndarray, sample: Sample, derainer: Derainer) -> np.ndarray:
    """A model whose size policy crops (RDMC's official test) is scored on the same crop of the GT."""
    h, w = out.shape[:2]
    top, left, ch, cw = derainer.io.crop_box(*clean.shape[:2])
    if (ch, cw) == (h, w):
        return clean[top: top + h, left: left + w]
    raise ValueError(f"{sample.id}: output {w}x{h} and ground truth {clean.shape[1]}x{clean.shape[0]} differ "
                     f"(model {derainer.label}, size policy {derainer.io.size_policy}).")
