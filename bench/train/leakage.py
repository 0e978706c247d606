"""Training images against the test sets: refuse, drop or (recorded) allow the leaked ones."""
from __future__ import annotations

from pathlib import Path

from bench.train import data as D


class LeakageRefused(RuntimeError):
    pass


# cfg: a bench.train.loop.TrainConfig (not imported: loop imports this module)
def check_leakage(cfg, tset: D.TrainingSet, real: list[Path], ctx) -> tuple[dict, list[D.Pair]]:
    """Leakage report of the clean training images (and --real photos) against the test sets;
    refuses leaked pairs unless --allow-leakage (keep) or --drop-leaked (remove)."""
    from bench.data import resolve_dataset
    from bench.data.leakage import dataset_images, format_report, leakage_report

    against, missing = {}, []
    names = list(cfg.against) + (["internet-data"] if real else [])
    for name in names:
        try:
            against[name] = dataset_images(resolve_dataset(name, ctx))
        except LookupError:
            missing.append(name)
    paths = [p.clean for p in tset.pairs] + real
    rep = leakage_report(paths, against, Path(ctx.cache_dir))
    rep["not_checked"] = missing
    leaked = set(rep["leaked_train"])
    pairs = tset.pairs
    bad_pairs = [p for p in pairs if str(p.clean) in leaked]
    bad_real = [p for p in real if str(p) in leaked]
    if (bad_real or (bad_pairs and not cfg.drop_leaked)) and not cfg.allow_leakage:
        raise LeakageRefused(format_report(rep) + "\nrefusing to train on test images: pass --drop-leaked to "
                             "leave leaked pairs out, or --allow-leakage to keep them (recorded in the "
                             "provenance; the checkpoint is then never evaluated on those test sets)")
    if cfg.drop_leaked and bad_pairs:
        pairs = [p for p in pairs if str(p.clean) not in leaked]
        rep["dropped"] = len(tset.pairs) - len(pairs)
    kept = {str(p.clean) for p in pairs} | {str(p) for p in real}
    # test sets whose images stay in training: `bench run` will not evaluate the checkpoint there
    rep["seen_test_sets"] = sorted(n for n, r in rep["against"].items()
                                   if any(lk["train"] in kept for lk in r["leaks"]))
    rep["policy"] = ("allowed" if cfg.allow_leakage and rep["seen_test_sets"] else
                     "dropped" if rep.get("dropped") else "refuse")
    return rep, pairs
