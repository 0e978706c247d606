"""Which images already have labels, per (dataset version, task unit): read from the store once,
through the writer (the only holder of the store's connection), then kept up to date as label
records are queued, so each label is computed once per dataset version."""
from __future__ import annotations

from bench.engine.plan import Pair, TaskSlot
from bench.engine.threads import Writer


class LabelIndex:
    def __init__(self, writer: Writer):
        self._writer = writer
        self._have: dict[tuple[str, str, str], set[str]] = {}

    def have(self, pair: Pair, slot: TaskSlot) -> set[str]:
        """The ids with labels for (dataset version, task unit): a live set the caller adds to
        when it queues a label. Loaded on first use (the runner loads it on the main thread)."""
        key = (pair.ds, pair.fp, slot.unit)
        if key not in self._have:
            self._have[key] = set(self._writer.call(
                lambda st: st.labels(pair.ds, slot.unit, pair.fp, slot.label_source)))
        return self._have[key]

    def forget_dataset(self, dataset: str) -> None:
        """--fresh dropped the dataset's labels: read them again."""
        self._have = {k: v for k, v in self._have.items() if k[0] != dataset}
