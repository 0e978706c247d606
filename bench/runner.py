"""The run loop: dataset -> derainer -> measures -> downstream -> store.

Work is planned per (model, dataset, image, unit) by ``plan_pair`` (a plain function an executor
can consume). A unit already in the store is skipped, so a rerun of a finished run does no
forward pass, and a killed run resumes where it stopped.

Identity: every record carries the dataset's content fingerprint, and the model key names the
weights, the model code version and its I/O policy (``bench.store.model_key_for``). The units
table (what produced each column) is written when a dataset's work is planned.
"""
from __future__ import annotations

import time
import traceback
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from bench.config import RunConfig
from bench.data.base import Dataset, Sample
from bench.imageio import ImageError, read_rgb, to_tensor, to_uint8, write_png
from bench.models.base import Batch, Derainer, ModelNotApplicable
from bench.plan import Pair, PairPlan, Prepared, TaskSlot, Work, plan_pair  # noqa: F401 (re-exported)
from bench.store import IMAGE_UNIT, Store, model_key_for, output_path  # noqa: F401 (output_path: old import site)
from bench.summary import RunLog
from bench.units import measure_unit
from bench.units import task_unit as task_unit_info


class Runner:
    def __init__(self, cfg: RunConfig, log: RunLog | None = None):
        self.cfg = cfg
        self.ctx = cfg.context
        self.device = self.ctx.device
        self.store = Store(Path(cfg.out) / "store.sqlite")
        self.log = log or RunLog(cfg)
        self._labels_cache: dict[tuple[str, str, str], set[str]] = {}
        self._fresh_labels: set[tuple[str, str]] = set()
        self.code_version = _code_version()

    # --- planning ----------------------------------------------------------------------------
    def prepare(self) -> Prepared:
        from bench.data import resolve_dataset
        from bench.measures import build_measure

        p = Prepared()
        for name in self.cfg.datasets:
            with self.log.stage("find datasets"):
                try:
                    ds = resolve_dataset(name, self.ctx)
                except LookupError as e:
                    self.log.skip("dataset", name, str(e))
                    continue
            p.datasets.append(ds)
            with self.log.stage("fingerprint datasets"):
                p.fingerprints[ds.name] = self._fingerprint(ds)
            self._report_skipped_paths(ds)
        for name in self.cfg.measures:
            try:
                p.measures[name] = build_measure(name, self.ctx)
            except Exception as e:  # skipped when an optional package is missing, else a failure
                (self.log.skip if _missing_asset(e) else self.log.fail_setup)("measure", name,
                                                                            f"{e.__class__.__name__}: {e}")
                continue
            self.store.put_unit(replace(measure_unit(name, p.measures[name]), code_version=self.code_version))
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

    def _fingerprint(self, dataset: Dataset) -> str:
        """Content fingerprint, stored with its manifest; a changed dataset is said so, once."""
        from bench.data.fingerprint import diff, fingerprint

        fp = fingerprint(dataset, self.ctx.cache_dir)
        versions = self.store.dataset_versions(dataset.name)
        if versions and fp.digest not in {v["fingerprint"] for v in versions}:
            last = versions[-1]
            self.ctx.notices.append(
                f"dataset {dataset.name} changed since it was last run (content {last['fingerprint'][:12] or '?'} -> "
                f"{fp.digest[:12]}): {diff(last['manifest'], fp.manifest)}. It is a new dataset version: nothing "
                "computed on the old one is reused, and the report keeps the two apart.")
        self.store.put_dataset(dataset.name, fp.digest, str(dataset.root), {k: list(v) for k, v in fp.manifest.items()})
        return fp.digest

    def _report_skipped_paths(self, dataset: Dataset, shown: int = 20) -> None:
        """Files in the dataset's folders that are not evaluated, once each, with the reason."""
        skipped = getattr(dataset, "skipped_paths", None)
        paths = list(skipped()) if callable(skipped) else []
        for path, reason in paths[:shown]:
            self.log.skip("path", f"{dataset.name}: {path}", reason)
        if len(paths) > shown:
            from collections import Counter

            why = "; ".join(f"{n}× {r}" for r, n in Counter(r for _, r in paths[shown:]).most_common(3))
            self.log.skip("path", f"{dataset.name}: {len(paths) - shown} more", why)

    def run(self) -> RunLog:
        from bench.models import MODELS, split_model_arg

        prepared = self.prepare()
        for dataset in prepared.datasets:
            fp = prepared.fingerprints[dataset.name]
            slots = [self._slot(t, dataset, fp) for t in prepared.tasks]
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
                self._run_pair(Pair(derainer, dataset, model_key_for(derainer), fp), prepared.measures, slots)
        self.log.finish(self.store)
        return self.log

    def _slot(self, task, dataset: Dataset, fp: str) -> TaskSlot:
        from bench.downstream.tasks import label_choice

        info = replace(task_unit_info(task), code_version=self.code_version)
        source, note = label_choice(task.config, dataset, task)
        self.store.put_unit(info)
        try:
            protocol = task.protocol(source) + (f" ({note})" if note else "")
        except Exception as e:  # a protocol that cannot be stated is recorded as such
            protocol = f"{task.name}: protocol unavailable ({e})"
        self.store.put_binding(info.unit, dataset.name, source, protocol, fp)
        return TaskSlot(task, info.unit, source, info=info, protocol=protocol)

    # --- one (model, dataset) ----------------------------------------------------------------
    def _fresh(self, pair: Pair, slots: list[TaskSlot]) -> None:
        """--fresh: records, deviations, cached outputs and (once per dataset) labels go."""
        import shutil

        self.store.clear(pair.key, pair.ds)
        cache = output_path(self.cfg.out, pair.key, pair.ds, "x", pair.fp).parent.parent
        legacy = output_path(self.cfg.out, pair.key, pair.ds, "x").parent
        for folder in (cache, legacy):
            if folder.is_dir():
                shutil.rmtree(folder)
        if (pair.ds, pair.fp) not in self._fresh_labels:
            self._fresh_labels.add((pair.ds, pair.fp))
            self.store.clear_labels(pair.ds, [s.unit for s in slots])
            self._labels_cache = {k: v for k, v in self._labels_cache.items() if k[0] != pair.ds}

    def _run_pair(self, pair: Pair, measures: dict, slots: list[TaskSlot]) -> None:
        derainer, dataset = pair.derainer, pair.dataset
        if self.cfg.fresh:
            self._fresh(pair, slots)
        self.store.put_model(pair.key, derainer.name, derainer.variant, derainer.weights_sha256, derainer.describe())
        self._record_cost(pair)
        wanted = {n: m for n, m in measures.items() if dataset.has_clean or m.info.reference == "NR"}
        protocols = {**{n: m.info.protocol_text() for n, m in wanted.items()}, **{s.unit: s.protocol for s in slots}}
        done = self.store.done_units(pair.key, pair.ds, pair.fp, protocols)   # changed protocol: recompute
        plan = plan_pair(dataset.samples(), done, wanted, slots, self.cfg.limit, self.cfg.in_shard)
        counts = self.log.pair(pair.key, pair.ds)
        counts["images"] += plan.images
        counts["skipped"] += plan.done
        pending: list[Work] = []  # same-sized images waiting for one batched forward pass
        for work in plan.todo:
            sample = work.sample
            if not self._guard(pair, sample.id, counts, self._load, pair, work, counts):
                continue
            if work.out_rgb is not None:
                self._guard(pair, sample.id, counts, self._score, pair, work, counts)
                continue
            if pending and (len(pending) >= self.cfg.batch_size or pending[0].rainy_rgb.shape != work.rainy_rgb.shape):
                self._flush(pair, pending, counts)
            pending.append(work)
        self._flush(pair, pending, counts)
        self._record_speed(pair, counts)
        self.log.progress(f"{derainer.label} on {pair.ds}: {int(counts['images'])} images, {int(counts['forwards'])} "
                          f"derained, {int(counts['skipped'])} already done, {int(counts['errors'])} errors")

    def _guard(self, pair: Pair, image_id: str, counts: dict, fn, *args) -> bool:
        """Run one step for one image; a failure becomes an error record and the run goes on."""
        try:
            fn(*args)
            return True
        except (ImageError, ValueError) as e:
            self._error(pair, image_id, str(e))
        except Exception as e:
            self._error(pair, image_id, f"{e.__class__.__name__}: {e}")
            self.log.trace(traceback.format_exc())
        counts["errors"] += 1
        return False

    def _load(self, pair: Pair, work: "Work", counts: dict) -> None:
        """Decode what this image needs: ground truth, and the output from the cache or the rainy input."""
        sample = work.sample
        if sample.error:
            raise ValueError(sample.error)
        with self.log.stage("decode"):
            work.clean_rgb = read_rgb(sample.clean) if sample.clean is not None else None
            cached = output_path(self.cfg.out, pair.key, pair.ds, sample.id, pair.fp)
            if pair.derainer.cache_output and cached.is_file():
                work.out_rgb = read_rgb(cached)
                counts["cached"] += 1
                return
            work.rainy_rgb = read_rgb(sample.rainy)
        c = work.clean_rgb
        if c is not None and c.shape != work.rainy_rgb.shape:
            raise ValueError(f"{sample.rainy}: rainy image is {work.rainy_rgb.shape[1]}x{work.rainy_rgb.shape[0]} "
                             f"but its ground truth {sample.clean} is {c.shape[1]}x{c.shape[0]}; "
                             "the pair does not match — fix or remove it.")

    def _flush(self, pair: Pair, pending: list["Work"], counts: dict) -> None:
        if not pending:
            return
        batch, pending[:] = list(pending), []
        try:
            outs, deviations = self._derain(pair.derainer, batch, counts)
        except Exception as e:
            if len(batch) > 1:  # isolate the image that fails: one at a time
                for w in batch:
                    self._flush(pair, [w], counts)
                return
            self._error(pair, batch[0].sample.id,
                        f"{batch[0].sample.rainy}: deraining failed: {e.__class__.__name__}: {e}")
            self.log.trace(traceback.format_exc())
            counts["errors"] += 1
            return
        for w, out_rgb, dev in zip(batch, outs, deviations):
            w.out_rgb = out_rgb
            self._record_deviations(pair, w.sample.id, dev)
            if pair.derainer.cache_output:
                with self.log.stage("write outputs"):
                    write_png(output_path(self.cfg.out, pair.key, pair.ds, w.sample.id, pair.fp), out_rgb)
            w.rainy_rgb = None
            self._guard(pair, w.sample.id, counts, self._score, pair, w, counts)

    def _derain(self, derainer: Derainer, batch: list["Work"], counts: dict):
        rainy = torch.cat([to_tensor(w.rainy_rgb) for w in batch])
        clean = (torch.cat([to_tensor(w.clean_rgb) for w in batch])
                 if all(w.clean_rgb is not None for w in batch) else None)
        with self.log.stage("derain"):
            t0 = time.perf_counter()
            out = derainer.derain(Batch([w.sample for w in batch], rainy, clean))
            counts["forward_s"] += time.perf_counter() - t0
        counts["forwards"] += len(batch)
        devs = list(derainer.deviations() or [])
        devs = (devs + [None] * len(batch))[: len(batch)]
        return list(to_uint8(out, derainer.io.quantise)), devs

    def _record_deviations(self, pair: Pair, image_id: str, deviation: dict | None) -> None:
        """What the derainer did differently for this image (tiling, OOM retry), replacing any
        earlier record: the output was just recomputed."""
        self.store.db.execute("DELETE FROM deviations WHERE model_key=? AND dataset=? AND dataset_fp=? AND "
                              "image_id=? AND kind != 'crop'", (pair.key, pair.ds, pair.fp, image_id))
        if deviation:
            kind = str(deviation.get("kind") or ("oom_retry" if deviation.get("oom_retries") else "tiled"))
            self.store.put_deviation(pair.key, pair.ds, image_id, kind, deviation, self.log.run_id, pair.fp)

    def _score(self, pair: Pair, work: "Work", counts: dict) -> None:
        derainer, sample = pair.derainer, work.sample
        out_rgb, clean_rgb = work.out_rgb, work.clean_rgb
        if clean_rgb is not None and clean_rgb.shape != out_rgb.shape:
            clean_rgb = _match_size(clean_rgb, out_rgb, sample, derainer)
            h, w = out_rgb.shape[:2]
            self.store.put_deviation(pair.key, pair.ds, sample.id, "crop",
                                     {"size_policy": derainer.io.size_policy, "box": list(derainer.io.crop_box(
                                         *work.clean_rgb.shape[:2])), "scored": f"{w}x{h}",
                                      "input": f"{work.clean_rgb.shape[1]}x{work.clean_rgb.shape[0]}"},
                                     self.log.run_id, pair.fp)
        out_t = to_tensor(out_rgb)
        clean_t = to_tensor(clean_rgb) if clean_rgb is not None else None
        for name, measure in work.measures.items():
            with self.log.stage(f"measure {name}"):
                value = float(measure(out_t, clean_t)[0])
            self._put(pair, sample.id, name, value=value, protocol=measure.info.protocol_text())
            counts["measured"] += 1
        for slot in work.slots:
            self._run_task(pair, sample, slot, out_rgb, clean_rgb, counts)
        self.store.clear_image_error(pair.key, pair.ds, sample.id, pair.fp)   # every pending unit succeeded

    def _put(self, pair: Pair, image_id: str, unit: str, **kw) -> None:
        d = pair.derainer
        self.store.put(model_key=pair.key, model=d.name, variant=d.variant, dataset=pair.ds, image_id=image_id,
                       unit=unit, run_id=self.log.run_id, dataset_fp=pair.fp, **kw)

    def _run_task(self, pair: Pair, sample, slot: TaskSlot, out_rgb, clean_rgb, counts) -> None:
        from bench.downstream.base import TaskUnavailable

        try:
            if slot.label_source != "none":
                self._ensure_label(pair, sample, slot, clean_rgb, out_rgb.shape[:2])
            with self.log.stage(f"task {slot.task.name}"):
                pred = slot.task.predict([out_rgb])[0]
        except TaskUnavailable as e:
            slot.unavailable = str(e)
            self.log.skip("task", slot.task.name, str(e))
            return
        self._put(pair, sample.id, slot.unit, payload=pred, protocol=slot.protocol)
        counts["task_runs"] += 1

    def _ensure_label(self, pair: Pair, sample, slot: TaskSlot, clean_rgb, shape) -> None:
        ck = (pair.ds, pair.fp, slot.unit)
        have = self._labels_cache.get(ck)
        if have is None:
            have = self._labels_cache[ck] = set(self.store.labels(pair.ds, slot.unit, pair.fp, slot.label_source))
        if sample.id in have:
            return
        if slot.label_source == "gt":
            payload = slot.task.gt_labels(sample, shape)
        else:  # pseudo: the same model on the clean image, cached once per dataset
            with self.log.stage(f"pseudo-labels {slot.task.name}"):
                payload = slot.task.pseudo_labels(slot.task.predict([clean_rgb])[0])
        self.store.put_label(pair.ds, slot.unit, sample.id, slot.label_source, payload, dataset_fp=pair.fp)
        have.add(sample.id)

    def _error(self, pair: Pair, image_id: str, message: str) -> None:
        self._put(pair, image_id, IMAGE_UNIT, error=message)
        self.log.fail(pair.derainer.label, pair.ds, image_id, message)

    def _record_cost(self, pair: Pair) -> None:
        """Params and GFLOPs at the stated size, once per model key (counted on shapes, cheap)."""
        derainer = pair.derainer
        if self.store.model_info(pair.key).get("gflops") is not None:
            return
        try:
            with self.log.stage("cost"):
                cost = derainer.cost()
        except Exception:  # a cost column is never worth failing a run over
            self.log.trace(traceback.format_exc())
            return
        if cost is None:     # oracles and precomputed outputs have no cost
            return
        self.store.put_model(pair.key, derainer.name, derainer.variant, derainer.weights_sha256, cost)

    def _record_speed(self, pair: Pair, counts: dict) -> None:
        derainer = pair.derainer
        if counts["forwards"] and self.store.model_info(pair.key).get("gflops") is not None:
            # only networks (those with a cost) have a forward time worth reporting
            ms = 1000.0 * counts["forward_s"] / counts["forwards"]
            self.store.put_model(pair.key, derainer.name, derainer.variant, derainer.weights_sha256,
                                 {"ms_per_image": round(ms, 2), "device": self.device})


def _missing_asset(e: Exception) -> bool:
    """A skip that leaves the exit code 0: something optional is absent (weights, data, packages)."""
    from bench.downstream.base import TaskUnavailable

    names = {c.__name__ for c in type(e).__mro__}
    return isinstance(e, (TaskUnavailable, FileNotFoundError, ImportError)) or "MeasureUnavailable" in names


def _code_version() -> str:
    """The package version and, in a checkout, its git commit (+dirty): recorded with every unit."""
    from bench.summary import git_state
    from bench.units import CODE_VERSION

    git = git_state()
    commit = git.get("commit")
    return CODE_VERSION + (f" ({commit[:12]}{'+dirty' if git.get('dirty') else ''})" if commit else "")


def task_unit(task) -> str:
    """Store unit key of a built task (bench.units.task_unit_key: name + settings/weights hash)."""
    return task_unit_info(task).unit


def _match_size(clean: np.ndarray, out: np.ndarray, sample: Sample, derainer: Derainer) -> np.ndarray:
    """A model whose size policy crops (RDMC's official test) is scored on the same crop of the GT."""
    h, w = out.shape[:2]
    top, left, ch, cw = derainer.io.crop_box(*clean.shape[:2])
    if (ch, cw) == (h, w):
        return clean[top: top + h, left: left + w]
    raise ValueError(f"{sample.id}: output {w}x{h} and ground truth {clean.shape[1]}x{clean.shape[0]} differ "
                     f"(model {derainer.label}, size policy {derainer.io.size_policy}).")
