"""bench/report/ is layered: labels and order at the bottom, then tables/, stats/, figures/, and
the page builders on top. Every import (also those inside functions) points down or stays within
its own layer, and no module takes another module's private (``_name``) helpers."""
from __future__ import annotations

import ast
from pathlib import Path

import bench.report

ROOT = Path(bench.report.__file__).parent
LAYERS = {"labels": 0, "order": 1, "tables": 2, "stats": 3, "figures": 4}
TOP = 5   # build.py, html.py, outputs.py, stats_report.py


def _layer(module: str) -> int:
    part = module.split(".")[2]
    return LAYERS.get(part, TOP)


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("bench.report"):
            names = [a.name for a in node.names]
            if node.module == "bench.report":      # `from bench.report import tables`: the names are modules
                yield from ((f"bench.report.{n}", []) for n in names)
            else:
                yield node.module, names
        elif isinstance(node, ast.Import):
            yield from ((a.name, []) for a in node.names if a.name.startswith("bench.report."))


def _modules():
    files = sorted(ROOT.rglob("*.py"))
    assert len(files) >= 30, [str(f) for f in files]     # 4 packages' __init__ + the modules
    for f in files:
        rel = f.relative_to(ROOT.parent.parent).with_suffix("")
        yield ".".join(rel.parts), f


def test_every_import_points_down_or_stays_in_its_layer():
    bad = []
    for module, path in _modules():
        if module == "bench.report.__init__":
            continue
        for target, _ in _imports(path):
            if target.count(".") >= 2 and _layer(target) > _layer(module):
                bad.append(f"{module} imports {target}")
    assert not bad, bad


def test_no_module_takes_a_private_helper_of_another():
    bad = [f"{module}: {target}.{n}" for module, path in _modules() for target, names in _imports(path)
           for n in names if n.startswith("_")]
    assert not bad, bad


def test_the_layers_are_what_the_issue_names():
    have = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert have == {"tables", "stats", "figures"}
    top = {p.stem for p in ROOT.glob("*.py")} - {"__init__"}
    assert top == {"build", "html", "outputs", "stats_report", "labels", "order"}
    assert not (ROOT / "names.py").exists()
