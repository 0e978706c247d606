"""Units-table rows for hand-made stores (what `bench run` writes when it plans a run)."""
from __future__ import annotations

import yaml

from bench.columns import ColumnInfo
from bench.config import packaged_dir
from bench.units import UnitInfo

MEASURES = {  # name -> (higher is better, range): as the measures declare them
    "psnr_y": (True, (0.0, 100.0)), "ssim_y": (True, (-1.0, 1.0)), "psnr_y_uint8": (True, (0.0, 100.0)),
    "niqe": (False, (0.0, float("inf"))),
}


def put_measure_units(store, names, protocol: str) -> None:
    for n in names:
        hib, rng = MEASURES[n]
        store.put_unit(UnitInfo(unit=n, kind="measure", type=n, protocol=protocol,
                                columns=[ColumnInfo(n, higher_is_better=hib, value_range=rng, protocol=protocol)]))


def hog_params() -> dict:
    data = yaml.safe_load((packaged_dir("tasks") / "hog_people.yaml").read_text())
    return {k: v for k, v in data.items() if k not in ("name", "type", "label_source", "description")}


def put_hog_unit(store, unit: str, dataset: str, source: str = "pseudo", protocol: str = "hand-made hog protocol",
                 params: dict | None = None, dataset_fp: str = "") -> None:
    cols = [ColumnInfo(f"hog_{m}", reference="", higher_is_better=True, value_range=(0.0, 1.0), kind="task")
            for m in ("map50_95", "map50")]
    cols += [ColumnInfo(f"hog_{m}", reference="", higher_is_better=True, value_range=(0.0, float("inf")),
                        kind="task") for m in ("proxy_count", "proxy_conf")]
    store.put_unit(UnitInfo(unit=unit, kind="task", type="hog_people", params=params or hog_params(),
                            protocol="hog", columns=cols))
    store.put_binding(unit, dataset, source, protocol, dataset_fp)
