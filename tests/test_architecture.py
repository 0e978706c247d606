"""The package's shape: no import circles, one module that reads the environment, resources in place.

The import graph is read from the source with ``ast`` (nothing is imported). Two graphs:

- module-level imports (also those under a top-level ``if``/``try``/``with``): a circle there can
  fail at import time, so none is allowed;
- every import, function-level ones included: a function-level import cannot fail on a half-loaded
  module, but a circle through it is still two modules that need each other (the issue-22 circles
  config <-> models.weights <-> offline and models.base <-> models.cost were of this kind), so
  none is allowed either. Only ``if TYPE_CHECKING:`` blocks are left out (they never run).

``from bench.x import y`` is an edge to ``bench.x.y`` when that is a module, else to ``bench.x``.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "bench"


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(REPO).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _all_imports(tree: ast.Module):
    """Every import statement, function bodies included, except under ``if TYPE_CHECKING:``."""
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and _is_type_checking(node)
               for stmt in node.body for n in ast.walk(stmt)}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in skipped:
            yield node


def _top_level_imports(tree: ast.Module):
    """Import statements that run when the module is imported (not inside def/class bodies)."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node):
                stack.extend(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            stack.extend(node.body + node.orelse + node.finalbody + [s for h in node.handlers for s in h.body])
        elif isinstance(node, ast.With):
            stack.extend(node.body)


def import_graph(function_level: bool = False) -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in (_all_imports if function_level else _top_level_imports)(tree):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:   # relative import
                    anchor = name.split(".") if is_package else name.split(".")[:-1]
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    targets.append(full if full in modules else base)
            for target in targets:
                while target and target not in modules:   # `import bench.x.y` where y is an attribute
                    target = target.rpartition(".")[0]
                if target and target != name and target.startswith("bench"):
                    graph[name].add(target)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each as a sorted list."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _explain(cycle: list[str], graph: dict[str, set[str]]) -> str:
    members = set(cycle)
    return "; ".join(f"{m} -> {', '.join(sorted(graph[m] & members))}" for m in cycle)


def test_the_graph_walker_sees_a_known_edge_and_a_planted_circle():
    graph = import_graph()
    assert "bench.config" in graph["bench.models.weights"]        # a module-level import it must see
    assert len(graph) > 50
    planted = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(planted) == [["a", "b", "c"]]


def test_no_import_circle_between_modules():
    graph = import_graph()
    cycles = find_cycles(graph)
    assert not cycles, "import circles:\n" + "\n".join(_explain(c, graph) for c in cycles)


# Circles among modules that another change is still working on: tolerated as an expected failure
# (the circle is printed) until it is removed; any other circle fails.
BEING_RESTRUCTURED: set[str] = set()


def test_no_import_circle_even_through_function_level_imports():
    graph = import_graph(function_level=True)
    assert "bench.models.cost" in graph["bench.models.base"]      # a function-level edge it must see
    cycles = find_cycles(graph)
    text = "import circles:\n" + "\n".join(_explain(c, graph) for c in cycles)
    if cycles and all(set(c) <= BEING_RESTRUCTURED for c in cycles):
        pytest.xfail(text)
    assert not cycles, text


def test_only_config_reads_the_environment():
    readers = sorted(str(p.relative_to(REPO)) for p in PACKAGE.rglob("*.py")
                     if re.search(r"environ|getenv", p.read_text(encoding="utf-8")))
    assert readers == ["bench/config.py"], readers


def test_configs_and_tasks_live_at_the_top_of_the_repository():
    """configs/ and tasks/ sit next to bench/ (the wheel maps them into the package); a stray copy
    inside bench/ would shadow them (bench.config.packaged_dir prefers the installed place)."""
    assert (REPO / "configs" / "suite.yaml").is_file() and (REPO / "tasks").is_dir()
    assert not (PACKAGE / "configs").exists() and not (PACKAGE / "tasks").exists()
