"""The run loop: dataset -> derainer -> measures -> downstream -> store.

Work is planned per (model, dataset, image, unit) by ``plan_pair`` (a plain function an executor
can consume). A unit already in the store is skipped, so a rerun of a finished run does no
forward pass, and a killed run resumes where it stopped.

Identity: every record carries the dataset's content fingerprint, and the model key names the
weights, the model code version and its I/O policy (``bench.store.model_key_for``). The units
table (what produced each column) is written when a dataset's work is planned.
"""
from __future__ import annotations

import traceback
from dataclasses import replace
from pathlib import Path


from bench.config import RunConfig
from bench.data.base import Dataset
from bench.execute import PairRun
from bench.models.base import ModelNotApplicable
from bench.pipeline import ScoringPool, Writer
from bench.plan import Pair, PairPlan, Prepared, TaskSlot, Work, plan_pair  # noqa: F401 (re-exported)
from bench.progress import Progress
from bench.store import IMAGE_UNIT, Store, model_key_for, output_dirs, output_path  # noqa: F401 (output_path: old import site)
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
        self.writer, self.scoring = Writer(self.store.path), ScoringPool(workers=2, bound=2)
        try:
            self._run_all()
        finally:
            self.scoring.close()
            self.writer.close()
        self.log.finish(self.store)
        return self.log

    def _run_all(self) -> None:
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
        for folder in output_dirs(self.cfg.out, pair.key, pair.ds):
            shutil.rmtree(folder, ignore_errors=True)
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
        for slot in slots:
            if slot.label_source != "none":
                self.labels_have(pair, slot)
        progress = Progress(len(plan.todo), f"{derainer.label} on {pair.ds}")
        try:
            PairRun(self, pair, counts, progress).run(plan.todo)
            self.scoring.drain()
            self.writer.drain()
        finally:
            progress.close()
        self._record_speed(pair, counts)
        self.log.progress(f"{derainer.label} on {pair.ds}: {int(counts['images'])} images, {int(counts['forwards'])} "
                          f"derained, {int(counts['skipped'])} already done, {int(counts['errors'])} errors")

    def labels_have(self, pair: Pair, slot: TaskSlot) -> set[str]:
        """Image ids that already have labels for (dataset version, task unit); loaded once, on the
        main thread, and kept up to date by the scoring threads."""
        ck = (pair.ds, pair.fp, slot.unit)
        if ck not in self._labels_cache:
            self._labels_cache[ck] = set(self.store.labels(pair.ds, slot.unit, pair.fp, slot.label_source))
        return self._labels_cache[ck]

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
