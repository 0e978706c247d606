"""The run loop: dataset -> derainer -> measures -> downstream -> store.

Work is planned per (model, dataset, image, unit). A unit already in the store is skipped, so a
rerun of a finished run does no forward pass, and a killed run resumes where it stopped.
"""
from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench.config import RunConfig
from bench.data.base import Dataset, Sample
from bench.imageio import ImageError, read_rgb, to_tensor, to_uint8, write_png
from bench.models.base import Batch, Derainer, ModelNotApplicable
from bench.store import IMAGE_UNIT, Store
from bench.summary import RunLog


@dataclass
class TaskSlot:
    """A downstream task bound to one dataset: which labels it scores against."""

    task: Any
    unit: str
    label_source: str           # gt | pseudo | none
    unavailable: str | None = None


@dataclass
class Work:
    """One image on its way through the pipeline."""

    sample: Sample
    measures: dict[str, Any]
    slots: list[TaskSlot]
    clean_rgb: np.ndarray | None = None
    rainy_rgb: np.ndarray | None = None
    out_rgb: np.ndarray | None = None


@dataclass
class Prepared:
    datasets: list[Dataset] = field(default_factory=list)
    measures: dict[str, Any] = field(default_factory=dict)
    tasks: list[Any] = field(default_factory=list)


def output_path(out: Path, model_key: str, dataset: str, image_id: str) -> Path:
    safe = model_key.replace("#", "_").replace("@", "_").replace("/", "_")
    return Path(out) / "cache" / safe / dataset / f"{image_id}.png"


class Runner:
    def __init__(self, cfg: RunConfig, log: RunLog | None = None):
        self.cfg = cfg
        self.ctx = cfg.context
        self.device = self.ctx.device
        self.store = Store(Path(cfg.out) / "store.sqlite")
        self.log = log or RunLog(cfg)
        self._labels_cache: dict[tuple[str, str], set[str]] = {}

    # --- planning ----------------------------------------------------------------------------
    def prepare(self) -> Prepared:
        from bench.data import resolve_dataset
        from bench.measures import build_measure

        p = Prepared()
        for name in self.cfg.datasets:
            with self.log.stage("find datasets"):
                try:
                    p.datasets.append(resolve_dataset(name, self.ctx))
                except LookupError as e:
                    self.log.skip("dataset", name, str(e))
        for name in self.cfg.measures:
            try:
                p.measures[name] = build_measure(name, self.ctx)
            except Exception as e:  # skipped when an optional package is missing, else a failure
                (self.log.skip if _missing_asset(e) else self.log.fail_setup)("measure", name,
                                                                            f"{e.__class__.__name__}: {e}")
        for name in self.cfg.tasks:
            try:
                from bench.downstream.tasks import build_task

                task = build_task(name, self.ctx)
                with self.log.stage(f"load task {name}"):
                    task.ensure_ready()  # a task that cannot run is skipped here, before any image work
                p.tasks.append(task)
            except Exception as e:  # TaskUnavailable (weights, labels, packages missing): a skip
                (self.log.skip if _missing_asset(e) else self.log.fail_setup)("task", name,
                                                                            f"{e.__class__.__name__}: {e}")
                if not _missing_asset(e):
                    self.log.trace(traceback.format_exc())
        return p

    def run(self) -> RunLog:
        from bench.models import MODELS, split_model_arg

        prepared = self.prepare()
        for dataset in prepared.datasets:
            slots = [self._slot(t, dataset) for t in prepared.tasks]
            for model_name in self.cfg.models:
                spec_name, variant = split_model_arg(model_name)
                try:
                    spec = MODELS.load(spec_name)
                except Exception as e:
                    self.log.skip("model", model_name, f"{e.__class__.__name__}: {e}")
                    continue
                try:
                    with self.log.stage("load models"):
                        derainer = spec.build(variant or None, self.ctx, dataset)
                except ModelNotApplicable as e:
                    self.log.skip("model", f"{model_name} on {dataset.name}", str(e))
                    continue
                except FileNotFoundError as e:  # WeightsMissing: the same for every dataset, reported once
                    self.log.skip("model", model_name, str(e))
                    continue
                except Exception as e:
                    self.log.fail(model_name, dataset.name, "", f"could not build: {e.__class__.__name__}: {e}")
                    continue
                self._run_pair(derainer, dataset, prepared.measures, slots)
        self.log.finish(self.store)
        return self.log

    def _slot(self, task, dataset: Dataset) -> TaskSlot:
        from bench.downstream.tasks import label_source_for

        return TaskSlot(task, task_unit(task), label_source_for(task.config, dataset))

    # --- one (model, dataset) ----------------------------------------------------------------
    def _run_pair(self, derainer: Derainer, dataset: Dataset, measures: dict, slots: list[TaskSlot]) -> None:
        key, ds = derainer.key, dataset.name
        if self.cfg.fresh:
            self.store.clear(key, ds)
        self.store.put_model(key, derainer.name, derainer.variant, derainer.weights_sha256, derainer.describe())
        self._record_cost(derainer)
        wanted = {n: m for n, m in measures.items() if dataset.has_clean or m.info.reference == "NR"}
        done = self.store.done_units(key, ds)
        counts = self.log.pair(key, ds)
        pending: list[Work] = []  # same-sized images waiting for one batched forward pass
        for i, sample in enumerate(dataset.samples()):
            if self.cfg.limit is not None and i >= self.cfg.limit:
                break
            if not self.cfg.in_shard(i):
                continue
            finished = done.get(sample.id, set())
            work = Work(sample, {n: m for n, m in wanted.items() if n not in finished},
                        [s for s in slots if s.unavailable is None and s.unit not in finished])
            counts["images"] += 1
            if not work.measures and not work.slots:
                counts["skipped"] += 1
                continue
            if not self._guard(derainer, ds, sample.id, counts, self._load, derainer, dataset, work, counts):
                continue
            if work.out_rgb is not None:
                self._guard(derainer, ds, sample.id, counts, self._score, derainer, dataset, work, counts)
                continue
            if pending and (len(pending) >= self.cfg.batch_size or pending[0].rainy_rgb.shape != work.rainy_rgb.shape):
                self._flush(derainer, dataset, pending, counts)
            pending.append(work)
        self._flush(derainer, dataset, pending, counts)
        self._record_speed(derainer, counts)
        self.log.progress(f"{derainer.label} on {ds}: {int(counts['images'])} images, {int(counts['forwards'])} "
                          f"derained, {int(counts['skipped'])} already done, {int(counts['errors'])} errors")

    def _guard(self, derainer: Derainer, ds: str, image_id: str, counts: dict, fn, *args) -> bool:
        """Run one step for one image; a failure becomes an error record and the run goes on."""
        try:
            fn(*args)
            return True
        except (ImageError, ValueError) as e:
            self._error(derainer, ds, image_id, str(e))
        except Exception as e:
            self._error(derainer, ds, image_id, f"{e.__class__.__name__}: {e}")
            self.log.trace(traceback.format_exc())
        counts["errors"] += 1
        return False

    def _load(self, derainer: Derainer, dataset: Dataset, work: "Work", counts: dict) -> None:
        """Decode what this image needs: ground truth, and the output from the cache or the rainy input."""
        sample = work.sample
        if sample.error:
            raise ValueError(sample.error)
        with self.log.stage("decode"):
            work.clean_rgb = read_rgb(sample.clean) if sample.clean is not None else None
            cached = output_path(self.cfg.out, derainer.key, dataset.name, sample.id)
            if derainer.cache_output and cached.is_file():
                work.out_rgb = read_rgb(cached)
                counts["cached"] += 1
                return
            work.rainy_rgb = read_rgb(sample.rainy)
        c = work.clean_rgb
        if c is not None and c.shape != work.rainy_rgb.shape:
            raise ValueError(f"{sample.rainy}: rainy image is {work.rainy_rgb.shape[1]}x{work.rainy_rgb.shape[0]} "
                             f"but its ground truth {sample.clean} is {c.shape[1]}x{c.shape[0]}; "
                             "the pair does not match — fix or remove it.")

    def _flush(self, derainer: Derainer, dataset: Dataset, pending: list["Work"], counts: dict) -> None:
        if not pending:
            return
        batch, pending[:] = list(pending), []
        try:
            outs = self._derain(derainer, batch, counts)
        except Exception as e:
            if len(batch) > 1:  # isolate the image that fails: one at a time
                for w in batch:
                    self._flush(derainer, dataset, [w], counts)
                return
            self._error(derainer, dataset.name, batch[0].sample.id,
                        f"{batch[0].sample.rainy}: deraining failed: {e.__class__.__name__}: {e}")
            self.log.trace(traceback.format_exc())
            counts["errors"] += 1
            return
        for w, out_rgb in zip(batch, outs):
            w.out_rgb = out_rgb
            if derainer.cache_output:
                with self.log.stage("write outputs"):
                    write_png(output_path(self.cfg.out, derainer.key, dataset.name, w.sample.id), out_rgb)
            w.rainy_rgb = None
            self._guard(derainer, dataset.name, w.sample.id, counts, self._score, derainer, dataset, w, counts)

    def _derain(self, derainer: Derainer, batch: list["Work"], counts: dict) -> list[np.ndarray]:
        rainy = torch.cat([to_tensor(w.rainy_rgb) for w in batch])
        clean = (torch.cat([to_tensor(w.clean_rgb) for w in batch])
                 if all(w.clean_rgb is not None for w in batch) else None)
        with self.log.stage("derain"):
            t0 = time.perf_counter()
            out = derainer.derain(Batch([w.sample for w in batch], rainy, clean))
            counts["forward_s"] += time.perf_counter() - t0
        counts["forwards"] += len(batch)
        return list(to_uint8(out, derainer.io.quantise))

    def _score(self, derainer: Derainer, dataset: Dataset, work: "Work", counts: dict) -> None:
        key, ds, sample = derainer.key, dataset.name, work.sample
        out_rgb, clean_rgb = work.out_rgb, work.clean_rgb
        if clean_rgb is not None and clean_rgb.shape != out_rgb.shape:
            clean_rgb = _match_size(clean_rgb, out_rgb, sample, derainer)
        out_t = to_tensor(out_rgb)
        clean_t = to_tensor(clean_rgb) if clean_rgb is not None else None
        for name, measure in work.measures.items():
            with self.log.stage(f"measure {name}"):
                value = float(measure(out_t, clean_t)[0])
            self.store.put(model_key=key, model=derainer.name, variant=derainer.variant, dataset=ds,
                           image_id=sample.id, unit=name, value=value, protocol=measure.info.protocol_text(),
                           run_id=self.log.run_id)
            counts["measured"] += 1
        for slot in work.slots:
            self._run_task(derainer, dataset, sample, slot, out_rgb, clean_rgb, counts)

    def _run_task(self, derainer, dataset, sample, slot: TaskSlot, out_rgb, clean_rgb, counts) -> None:
        from bench.downstream.base import TaskUnavailable

        key, ds = derainer.key, dataset.name
        try:
            if slot.label_source != "none":
                self._ensure_label(dataset, sample, slot, clean_rgb, out_rgb.shape[:2])
            with self.log.stage(f"task {slot.task.name}"):
                pred = slot.task.predict([out_rgb])[0]
        except TaskUnavailable as e:
            slot.unavailable = str(e)
            self.log.skip("task", slot.task.name, str(e))
            return
        self.store.put(model_key=key, model=derainer.name, variant=derainer.variant, dataset=ds,
                       image_id=sample.id, unit=slot.unit, payload=pred,
                       protocol=slot.task.protocol(slot.label_source), run_id=self.log.run_id)
        counts["task_runs"] += 1

    def _ensure_label(self, dataset, sample, slot: TaskSlot, clean_rgb, shape) -> None:
        have = self._labels_cache.get((dataset.name, slot.unit))
        if have is None:
            have = self._labels_cache[(dataset.name, slot.unit)] = set(self.store.labels(dataset.name, slot.unit))
        if sample.id in have:
            return
        if slot.label_source == "gt":
            payload = slot.task.gt_labels(sample, shape)
        else:  # pseudo: the same model on the clean image, cached once per dataset
            with self.log.stage(f"pseudo-labels {slot.task.name}"):
                payload = slot.task.pseudo_labels(slot.task.predict([clean_rgb])[0])
        self.store.put_label(dataset.name, slot.unit, sample.id, slot.label_source, payload)
        have.add(sample.id)

    def _error(self, derainer: Derainer, dataset: str, image_id: str, message: str) -> None:
        self.store.put(model_key=derainer.key, model=derainer.name, variant=derainer.variant, dataset=dataset,
                       image_id=image_id, unit=IMAGE_UNIT, error=message, run_id=self.log.run_id)
        self.log.fail(derainer.label, dataset, image_id, message)

    def _record_cost(self, derainer: Derainer) -> None:
        """Params and GFLOPs at the stated size, once per model key (counted on shapes, cheap)."""
        if self.store.model_info(derainer.key).get("gflops") is not None:
            return
        try:
            with self.log.stage("cost"):
                cost = derainer.cost()
        except Exception:  # a cost column is never worth failing a run over
            self.log.trace(traceback.format_exc())
            return
        if cost is None:     # oracles and precomputed outputs have no cost
            return
        self.store.put_model(derainer.key, derainer.name, derainer.variant, derainer.weights_sha256, cost)

    def _record_speed(self, derainer: Derainer, counts: dict) -> None:
        if counts["forwards"] and self.store.model_info(derainer.key).get("gflops") is not None:
            # only networks (those with a cost) have a forward time worth reporting
            ms = 1000.0 * counts["forward_s"] / counts["forwards"]
            self.store.put_model(derainer.key, derainer.name, derainer.variant, derainer.weights_sha256,
                                 {"ms_per_image": round(ms, 2), "device": self.device})


def _missing_asset(e: Exception) -> bool:
    """A skip that leaves the exit code 0: something optional is absent (weights, data, packages)."""
    from bench.downstream.base import TaskUnavailable

    names = {c.__name__ for c in type(e).__mro__}
    return isinstance(e, (TaskUnavailable, FileNotFoundError, ImportError)) or "MeasureUnavailable" in names


def task_unit(task) -> str:
    """Store unit for a task: its name plus a hash of its settings, so changed settings never
    silently reuse old predictions."""
    import hashlib
    import json

    blob = json.dumps({"params": task.config.params, "type": task.config.type}, sort_keys=True, default=str)
    return f"{task.name}#{hashlib.sha1(blob.encode()).hexdigest()[:8]}"


def _match_size(clean: np.ndarray, out: np.ndarray, sample: Sample, derainer: Derainer) -> np.ndarray:
    """A model whose size policy crops (RDMC's official test) is scored on the same crop of the GT."""
    h, w = out.shape[:2]
    top, left, ch, cw = derainer.io.crop_box(*clean.shape[:2])
    if (ch, cw) == (h, w):
        return clean[top: top + h, left: left + w]
    raise ValueError(f"{sample.id}: output {w}x{h} and ground truth {clean.shape[1]}x{clean.shape[0]} differ "
                     f"(model {derainer.label}, size policy {derainer.io.size_policy}).")
