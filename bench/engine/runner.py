"""The serial run: dataset -> derainer -> measures -> downstream -> store.

The story of a run, in the order of this file: ``prepare`` finds the datasets (fingerprinting
their content), builds the measures and readies the tasks; for every dataset each task is bound
to its label source (``bind_task``), and for every model the derainer is built (``build_pair``)
and its pair run (``run_pair``): --fresh forgets the pair, ``plan_pair`` lists the (image, unit)
work the store does not hold yet (a finished run does no forward pass, a killed run resumes where
it stopped), and ``PairRun`` does that work on the threads of bench/engine/threads.py.

Every store read and write goes through the writer, the only holder of the store's connection.
Skips and failures are told apart by exception type (bench/errors.py): ``Unavailable`` is a skip,
anything else a failure. Identity: every record carries the dataset's content fingerprint, and the
model key names the weights, the model code version and its I/O policy (``model_key_for``).
"""
from __future__ import annotations

import traceback
from dataclasses import replace
from pathlib import Path

from bench.config import RunConfig
from bench.data.base import Dataset
from bench.engine.labels import LabelIndex
from bench.engine.pair_run import PairRun
from bench.engine.plan import Pair, Prepared, TaskSlot, plan_pair
from bench.engine.threads import ScoringPool, Writer
from bench.errors import NotApplicable, Unavailable
from bench.progress import Progress
from bench.store import model_key_for
from bench.store.cache import OutputCache
from bench.summary import RunLog
from bench.units import measure_unit
from bench.units import task_unit as task_unit_info


class Runner:
    def __init__(self, cfg: RunConfig, log: RunLog | None = None, *, writer: Writer | None = None,
                 scoring: ScoringPool | None = None):
        self.cfg = cfg
        self.ctx = cfg.context
        self.log = log or RunLog(cfg)
        self.writer = writer or Writer(Path(cfg.out) / "store.sqlite")
        self.scoring = scoring or ScoringPool(workers=2, bound=2)
        self.labels = LabelIndex(self.writer)
        self.outputs = OutputCache(cfg.out)
        self.code_version = _code_version()
        self._fresh_datasets: set[tuple[str, str]] = set()

    def run(self) -> RunLog:
        """The whole run; the writer and the scoring pool are closed at the end."""
        try:
            try:
                self._run_all()
            finally:
                self.scoring.close()
            self.writer.call(self.log.finish)
        finally:
            self.writer.close()
        return self.log

    def _run_all(self) -> None:
        prepared = self.prepare()
        for dataset in prepared.datasets:
            fp = prepared.fingerprints[dataset.name]
            slots = [self.bind_task(t, dataset, fp) for t in prepared.tasks]
            for model_name in self.cfg.models:
                pair = self.build_pair(model_name, dataset, fp)
                if pair is not None:
                    self.run_pair(pair, prepared.measures, slots)

    # --- planning ----------------------------------------------------------------------------
    def prepare(self) -> Prepared:
        from bench.data import resolve_dataset
        from bench.downstream.tasks import build_task
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
            except Unavailable as e:       # an optional package or file is absent
                self.log.skip("measure", name, f"{e.__class__.__name__}: {e}")
                continue
            except Exception as e:
                self.log.fail_setup("measure", name, f"{e.__class__.__name__}: {e}")
                continue
            self._write(lambda st, u=replace(measure_unit(name, p.measures[name]), code_version=self.code_version):
                        st.put_unit(u))
        for name in self.cfg.tasks:
            try:
                task = build_task(name, self.ctx)
                with self.log.stage(f"load task {name}"):
                    task.ensure_ready()  # a task that cannot run is skipped here, before any image work
                p.tasks.append(task)
            except Unavailable as e:       # weights, labels or packages missing
                self.log.skip("task", name, f"{e.__class__.__name__}: {e}")
            except Exception as e:
                self.log.fail_setup("task", name, f"{e.__class__.__name__}: {e}")
                self.log.trace(traceback.format_exc())
        return p

    def bind_task(self, task, dataset: Dataset, fp: str) -> TaskSlot:
        """A task on one dataset: its label source and protocol, recorded in the store's bindings."""
        from bench.downstream.tasks import label_choice

        info = replace(task_unit_info(task), code_version=self.code_version)
        source, note = label_choice(task.config, dataset, task)
        try:
            protocol = task.protocol(source) + (f" ({note})" if note else "")
        except Exception as e:  # a protocol that cannot be stated is recorded as such
            protocol = f"{task.name}: protocol unavailable ({e})"
        self._write(lambda st: st.put_unit(info))
        self._write(lambda st: st.put_binding(info.unit, dataset.name, source, protocol, fp))
        return TaskSlot(task, info.unit, source, info=info, protocol=protocol)

    def build_pair(self, model_name: str, dataset: Dataset, fp: str) -> Pair | None:
        """The derainer for one dataset, or None (skipped or failed, and said so)."""
        from bench.models import MODELS, split_model_arg

        spec_name, variant = split_model_arg(model_name)
        try:
            spec = MODELS.load(spec_name)
        except Exception as e:   # an unknown model name is a skip, as an unknown dataset is
            self.log.skip("model", model_name, f"{e.__class__.__name__}: {e}")
            return None
        try:
            with self.log.stage("load models"):
                derainer = spec.build(variant or None, self.ctx, dataset)
        except Unavailable as e:   # not for this dataset; or weights missing, the same for every dataset
            self.log.skip("model", f"{model_name} on {dataset.name}" if isinstance(e, NotApplicable) else model_name,
                          str(e))
            return None
        except Exception as e:
            self.log.fail(model_name, dataset.name, "", f"could not build: {e.__class__.__name__}: {e}")
            return None
        return Pair(derainer, dataset, model_key_for(derainer), fp)

    # --- one (model, dataset) ----------------------------------------------------------------
    def run_pair(self, pair: Pair, measures: dict, slots: list[TaskSlot]) -> None:
        derainer, dataset = pair.derainer, pair.dataset
        if self.cfg.fresh:
            self._forget(pair, slots)
        self._write(lambda st: st.put_model(pair.key, derainer.name, derainer.variant, derainer.weights_sha256,
                                            derainer.describe()))
        self._record_cost(pair)
        wanted = {n: m for n, m in measures.items() if dataset.has_clean or m.info.reference == "NR"}
        protocols = {**{n: m.info.protocol_text() for n, m in wanted.items()}, **{s.unit: s.protocol for s in slots}}
        done = self.writer.call(lambda st: st.done_units(pair.key, pair.ds, pair.fp, protocols))  # changed protocol: redo
        plan = plan_pair(dataset.samples(), done, wanted, slots, self.cfg.limit, self.cfg.in_shard)
        counts = self.log.pair(pair.key, pair.ds)
        counts["images"] += plan.images
        counts["skipped"] += plan.done
        for slot in slots:
            if slot.label_source != "none":
                self.labels.have(pair, slot)        # loaded here, on the main thread
        progress = Progress(len(plan.todo), f"{derainer.label} on {pair.ds}")
        try:
            PairRun(pair, log=self.log, scoring=self.scoring, writer=self.writer, labels=self.labels,
                    outputs=self.outputs, counts=counts, batch_size=self.cfg.batch_size,
                    progress=progress).run(plan.todo)
            self.scoring.drain()
            self.writer.drain()
        finally:
            progress.close()
        self._record_speed(pair, counts)
        self.log.progress(f"{derainer.label} on {pair.ds}: {int(counts['images'])} images, {int(counts['forwards'])} "
                          f"derained, {int(counts['skipped'])} already done, {int(counts['errors'])} errors")

    def _forget(self, pair: Pair, slots: list[TaskSlot]) -> None:
        """--fresh: records, deviations, cached outputs and (once per dataset version) labels go."""
        self._write(lambda st: st.forget_pair(pair.key, pair.ds))
        if (pair.ds, pair.fp) not in self._fresh_datasets:
            self._fresh_datasets.add((pair.ds, pair.fp))
            self._write(lambda st: st.forget_labels(pair.ds, [s.unit for s in slots]))
            self.labels.forget_dataset(pair.ds)

    def _write(self, op) -> None:
        """One store operation, queued on the writer (in order with everything else it writes)."""
        self.writer.submit([], [op])

    def _fingerprint(self, dataset: Dataset) -> str:
        """Content fingerprint, stored with its manifest; a changed dataset is said so, once."""
        from bench.data.fingerprint import diff, fingerprint

        fp = fingerprint(dataset, self.ctx.cache_dir)
        versions = self.writer.call(lambda st: st.dataset_versions(dataset.name))
        if versions and fp.digest not in {v["fingerprint"] for v in versions}:
            last = versions[-1]
            self.ctx.notices.append(
                f"dataset {dataset.name} changed since it was last run (content {last['fingerprint'][:12] or '?'} -> "
                f"{fp.digest[:12]}): {diff(last['manifest'], fp.manifest)}. It is a new dataset version: nothing "
                "computed on the old one is reused, and the report keeps the two apart.")
        manifest = {k: list(v) for k, v in fp.manifest.items()}
        self._write(lambda st: st.put_dataset(dataset.name, fp.digest, str(dataset.root), manifest))
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

    def _record_cost(self, pair: Pair) -> None:
        """Params and GFLOPs at the stated size, once per model key (counted on shapes, cheap)."""
        derainer = pair.derainer
        if self.writer.call(lambda st: st.model_info(pair.key)).get("gflops") is not None:
            return
        try:
            with self.log.stage("cost"):
                cost = derainer.cost()
        except Exception:  # a cost column is never worth failing a run over
            self.log.trace(traceback.format_exc())
            return
        if cost is None:     # oracles and precomputed outputs have no cost
            return
        self._write(lambda st: st.put_model(pair.key, derainer.name, derainer.variant, derainer.weights_sha256, cost))

    def _record_speed(self, pair: Pair, counts: dict) -> None:
        derainer = pair.derainer
        if counts["forwards"] and self.writer.call(lambda st: st.model_info(pair.key)).get("gflops") is not None:
            # only networks (those with a cost) have a forward time worth reporting
            speed = {"ms_per_image": round(1000.0 * counts["forward_s"] / counts["forwards"], 2),
                     "device": self.ctx.device}
            self._write(lambda st: st.put_model(pair.key, derainer.name, derainer.variant, derainer.weights_sha256,
                                                speed))


def _code_version() -> str:
    """The package version and, in a checkout, its git commit (+dirty): recorded with every unit."""
    from bench.summary import git_state
    from bench.units import CODE_VERSION

    git = git_state()
    commit = git.get("commit")
    return CODE_VERSION + (f" ({commit[:12]}{'+dirty' if git.get('dirty') else ''})" if commit else "")
