"""Display names come from the model registry (``ModelSpec.title``) and every table, figure and
grid orders its rows with the one ``order_rows``."""
from __future__ import annotations

import pandas as pd
from report_fixtures import hand_leaderboard

from bench.models import MODELS
from bench.models.baselines import RAINY
from bench.report.figures.sources import grid_columns
from bench.report.labels import model_label
from bench.report.order import order_rows
from bench.report.tables.layouts import leaderboard_table
from bench.report.tables.render import to_markdown

# Official method names as the papers print them: independent of the code under test.
OFFICIAL = {"prenet": "PReNet", "sapnet": "SAPNet", "semi-drdnet": "Semi-DRDNet", "drdnet": "DRD-Net",
            "dgnlnet": "DGNL-Net", "jorder_e": "JORDER-E", "rain_over_me": "Rain O'er Me", "nlcl": "NLCL",
            "rainy": "Rainy input", "clean": "Ground truth", "precomputed": "Precomputed"}


def test_every_registered_model_has_a_short_title_and_a_description_line():
    names = MODELS.names()
    assert len(names) == 25, names          # 24 derainers and references + precomputed
    for name in names:
        spec = MODELS.load(name)
        assert spec.title and spec.title != name, name
        assert len(spec.title) <= 24 and "(" not in spec.title, (name, spec.title)
        assert "\n" not in spec.description, name
    for name, title in OFFICIAL.items():
        assert MODELS.load(name).title == title
    assert len({MODELS.load(n).title for n in names}) == len(names), "two models share a title"


def test_model_label_uses_the_title_and_falls_back_to_the_name():
    assert model_label("semi-drdnet") == "Semi-DRDNet"
    assert model_label("prenet", "Rain100H") == "PReNet (Rain100H)"
    assert model_label("prenet", float("nan")) == "PReNet"
    assert model_label("not-a-registered-model", "v1") == "not-a-registered-model (v1)"


def test_describe_carries_the_title():
    assert RAINY.build().describe()["title"] == "Rainy input"


def test_the_leaderboard_shows_titles_not_registry_names():
    md = to_markdown(leaderboard_table(hand_leaderboard()))
    rows = [line for line in md.splitlines() if line.startswith("| Rain100")]
    models = [line.split("|")[2].strip() for line in rows]
    assert models[:6] == ["Rainy input", "DRD-Net", "PReNet (Rain100H)", "PReNet (Rain100L)", "SAPNet",
                          "Ground truth"]
    assert "| drdnet |" not in md and "| sapnet |" not in md


def _frame(models: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"model": models, "variant": [None] * len(models),
                         "model_key": [f"{m}#{i}" for i, m in enumerate(models)], "dataset": "d"})


def test_order_rows_puts_rainy_first_clean_last_and_the_others_by_label():
    df = _frame(["clean", "sapnet", "prenet", "rainy", "drdnet"])
    out = order_rows(df)
    assert list(out["model"]) == ["rainy", "drdnet", "prenet", "sapnet", "clean"]   # DRD-Net < PReNet < SAPNet
    assert list(out.index) == [3, 4, 2, 1, 0]                                       # rows keep their index
    # equal labels (two stores' versions of one model) keep their given order
    twins = _frame(["prenet", "clean", "prenet", "rainy"])
    assert list(order_rows(twins)["model_key"]) == ["rainy#3", "prenet#0", "prenet#2", "clean#1"]


def test_grids_and_tables_share_the_order():
    df = _frame(["clean", "sapnet", "rainy", "prenet"])
    assert [c.model_key for c in grid_columns(df)] == list(order_rows(df)["model_key"])
    assert [c.label for c in grid_columns(df)] == ["Rainy input", "PReNet", "SAPNet", "Ground truth"]
