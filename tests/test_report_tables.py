"""Tables from a hand-made leaderboard with known values, compared exactly (marks, ties, deltas, notes)."""
import pandas as pd
import pytest
from report_fixtures import hand_leaderboard

from bench.report.tables import layouts
from bench.report.tables.layouts import leaderboard_table, paper_table, rank_marks
from bench.report.tables.render import to_html, to_latex, to_markdown

PAPER_MD = """\
**Rain100L / Rain100H**

| Model | Rain100L PSNR-Y ↑ | Rain100L SSIM-Y ↑ | Rain100H PSNR-Y ↑ | Rain100H SSIM-Y ↑ |
|:---|---:|---:|---:|---:|
| Rainy input | 26.90 | 0.8384 | 13.56 | 0.3787 |
| DRD-Net | <ins>37.00</ins> | 0.9700 | <ins>28.00</ins> | 0.8800 |
| PReNet | **37.48** | <ins>0.9790</ins> | **29.46** | <ins>0.8990</ins> |
| SAPNet | <ins>37.00</ins> | **0.9800** | **29.46** | **0.9100** |
| Ground truth | – | – | 100.00 | 1.0000 |

- ↑ higher is better, ↓ lower is better. Bold: best, underlined: second best per dataset among the \
compared methods that cover the same images (the rainy input and the ground truth are references, not \
ranked); values equal at \
the printed precision share a mark.
- Every value of a row is over the same images: those on which every measure and task of the row succeeded. \
† incomplete: the row covers other images than the compared methods together; not ranked.
- PSNR-Y ↑: prenet-matlab: Y float, PSNR cap 100 dB
- SSIM-Y ↑: prenet-matlab: Y float, SSIM wang2004
- Checkpoints: PReNet Rain100L on Rain100L; PReNet Rain100H on Rain100H.
"""


def test_rank_marks_dense_ties_and_direction():
    # two tied bests both bold, the next distinct value underlined; references (eligible False) unmarked
    assert rank_marks([29.4647, 29.4612, 28.0, 15.0, 100.0], True, 2, [True, True, True, True, False]) == \
        ["best", "best", "second", None, None]
    # lower is better; a missing value is never marked
    assert rank_marks([3.1, None, 3.5, 3.5, 4.0], False, 2, [True] * 5) == ["best", None, "second", "second", None]
    # printed precision decides: 0.91004 and 0.91001 are one value at 4 decimals
    assert rank_marks([0.91004, 0.91001, 0.9], True, 4, [True] * 3) == ["best", "best", "second"]
    assert rank_marks([1.0], True, 2, [True]) == ["best"]


def test_paper_layout_markdown_exact():
    t = paper_table(hand_leaderboard(), datasets=["rain100l", "rain100h"], title="Rain100L / Rain100H")
    assert to_markdown(t) == PAPER_MD


def test_paper_layout_latex_groups_and_marks():
    tex = to_latex(paper_table(hand_leaderboard(), datasets=["rain100l", "rain100h"]))
    assert r" & \multicolumn{2}{c}{Rain100L} & \multicolumn{2}{c}{Rain100H} \\" in tex
    assert r"\cmidrule(lr){2-3} \cmidrule(lr){4-5}" in tex
    assert r"PReNet & \textbf{37.48} & \underline{0.9790} & \textbf{29.46} & \underline{0.8990} \\" in tex
    assert r"SAPNet & \underline{37.00} & \textbf{0.9800} & \textbf{29.46} & \textbf{0.9100} \\" in tex
    assert r"Ground truth & -- & -- & 100.00 & 1.0000 \\" in tex
    assert r"PSNR-Y $\uparrow$: prenet-matlab: Y float, PSNR cap 100 dB\\" in tex


def test_leaderboard_rows_marks_deltas_costs():
    lines = to_markdown(leaderboard_table(hand_leaderboard())).splitlines()
    assert lines[2] == ("| Dataset | Model | Images | Errors | PSNR-Y ↑ | SSIM-Y ↑ | NIQE ↓ | Det mAP50-95 ↑ "
                        "| Params (M) ↓ | GFLOPs ↓ | ms/image ↓ |")
    rows = {tuple(c.strip() for c in l.strip("|").split("|")[:2]): l for l in lines if l.startswith("| Rain")}
    # rainy: no delta, no cost
    assert rows["Rain100H", "Rainy input"] == \
        "| Rain100H | Rainy input | 100 | 0 | 13.56 | 0.3787 | 5.00 | 0.1000 | – | – | – |"
    # delta from unrounded means: 29.4647 - 13.556 = 15.9087; NIQE is lower-is-better: 3.10 best
    assert rows["Rain100H", "DRD-Net"] == ("| Rain100H | DRD-Net | 100 | 0 | <ins>28.00</ins> (+14.44) | "
                                           "0.8800 (+0.5013) | **3.10** (-1.90) | <ins>0.4500</ins> (+0.3500) "
                                           "| 5.200 | 700.00 | 900.0 |")
    assert rows["Rain100H", "PReNet (Rain100H)"] == (
        "| Rain100H | PReNet (Rain100H) | 100 | 0 | **29.46** (+15.91) | <ins>0.8990</ins> (+0.5203) | "
        "<ins>3.50</ins> (-1.50) | **0.5000** (+0.4000) | 0.169 | 66.60 | 120.0 |")
    assert rows["Rain100H", "SAPNet"].startswith("| Rain100H | SAPNet | 100 | 2 | **29.46** (+15.91) | **0.9100**")
    # the ground truth is shown with its delta but never marked even though it is the best value
    assert rows["Rain100H", "Ground truth"].startswith("| Rain100H | Ground truth | 100 | 0 | 100.00 (+86.44) |")
    assert rows["Rain100L", "DRD-Net"].startswith("| Rain100L | DRD-Net | 100 | 0 | <ins>37.00</ins> (+10.10) |")
    assert rows["Rain100L", "SAPNet"].startswith("| Rain100L | SAPNet | 100 | 0 | <ins>37.00</ins> (+10.10) |")
    notes = [l for l in lines if l.startswith("- ")]
    assert notes[1].startswith("- Every value of a row is over the same images")
    assert notes[2:] == ["- PSNR-Y ↑: prenet-matlab: Y float, PSNR cap 100 dB",
                         "- SSIM-Y ↑: prenet-matlab: Y float, SSIM wang2004",
                         "- NIQE ↓: niqe-original: 96×96 blocks",
                         "- Det mAP50-95 ↑: yolo11n conf 0.25, pseudo labels",
                         "- Params (M): parameters of the deraining network (millions)",
                         "- GFLOPs: multiply-adds ×2 per image, as stored in the models table",
                         "- ms/image: mean forward time per image, as stored in the models table"]
    assert "from unrounded means" in notes[0]


def test_latex_and_html_escape_and_mark():
    lb = hand_leaderboard()
    tex = to_latex(leaderboard_table(lb, datasets=["rain100h"], metrics=["psnr_y"], costs=False))
    assert r"Rain100H & SAPNet & 100 & 2 & \textbf{29.46} {\scriptsize (+15.91)} \\" in tex
    assert r"Rain100H & DRD-Net & 100 & 0 & \underline{28.00} {\scriptsize (+14.44)} \\" in tex
    assert "Params" not in tex
    page = to_html(leaderboard_table(lb, deltas=False))
    assert "<td class=\"num\"><b>29.46</b></td>" in page and "<td class=\"num\"><u>28.00</u></td>" in page
    assert "(+" not in page


def test_variant_choice_is_explicit_when_ambiguous():
    lb = hand_leaderboard()
    lb.table.loc[lb.table["model_key"].str.startswith("prenet@Rain100H"), "variant"] = "Rain1400"
    with pytest.raises(ValueError, match="variants of 'prenet' on 'rain100h'"):
        paper_table(lb, datasets=["rain100h"])
    t = paper_table(lb, datasets=["rain100h"], variants={"prenet": {"rain100h": "Rain1400"}})
    assert [c.text for c in t.rows[2]] == ["PReNet", "29.46", "0.8990"]


def test_unknown_dataset_or_metric_is_named():
    with pytest.raises(KeyError, match="rain1400"):
        paper_table(hand_leaderboard(), datasets=["rain1400"])
    with pytest.raises(KeyError, match="lpips"):
        leaderboard_table(hand_leaderboard(), metrics=["lpips"])


def test_csvs_overall_and_per_dataset(tmp_path):
    paths = layouts.write_csvs(hand_leaderboard(), tmp_path)
    assert [p.name for p in paths] == ["leaderboard.csv", "leaderboard_rain100h.csv", "leaderboard_rain100l.csv"]
    overall = pd.read_csv(paths[0])
    assert len(overall) == 10 and overall["psnr_y"].iloc[1] == 29.4647   # stored values, unrounded
    assert overall["protocol"].iloc[1].startswith("psnr_y: prenet-matlab: Y float, PSNR cap 100 dB | ssim_y: ")
    assert len(pd.read_csv(paths[2])) == 4
