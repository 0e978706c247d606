"""The documents are true to the code: every `bench …` command quoted in README.md and docs/ parses
with the real argument parsers, every relative link points at a file, and docs/cli.md lists every
command and flag the parsers define (and no flag they don't)."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from bench.cli import COMMANDS, build_parser

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
COMMAND = re.compile(r"(?:^|[\s;(&|`])(?:python -m bench|bench)\s+(" + "|".join(COMMANDS) + r")\b")


def _logical_lines(block: str):
    """Code-block lines with backslash continuations joined and comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", block)
    for line in joined.splitlines():
        yield line.split(" #", 1)[0].strip()


def quoted_commands(text: str) -> list[tuple[str, bool]]:
    """(command line after 'bench', from_code_block) for every quoted bench command."""
    found = []
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S)
    for block in blocks:
        for line in _logical_lines(block):
            for m in COMMAND.finditer(" " + line):
                rest = (" " + line)[m.start(1):]
                rest = re.split(r"\s(?:&&|\|\||\||;|>)\s?", rest)[0]
                found.append((rest.strip(), True))
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    for span in re.findall(r"`([^`\n]+)`", prose):
        m = COMMAND.search(" " + span)
        if m:
            found.append(((" " + span)[m.start(1):].strip(), False))
    return found


def _parse(parser, line: str):
    argv = shlex.split(line)
    return parser.parse_args(argv)


@pytest.fixture(scope="module")
def parser():
    return build_parser()[0]


def test_every_quoted_bench_command_parses(parser, capsys):
    checked, bad = 0, []
    for doc in DOCS:
        for line, in_block in quoted_commands(doc.read_text(encoding="utf-8")):
            try:
                _parse(parser, line)
                checked += 1
            except SystemExit:
                err = capsys.readouterr().err
                # prose may name a command without its required arguments (`bench train`)
                if not in_block and "the following arguments are required" in err:
                    continue
                bad.append(f"{doc.relative_to(REPO)}: bench {line}\n    {err.strip().splitlines()[-1]}")
    assert not bad, "commands in the documents that the parsers reject:\n" + "\n".join(bad)
    assert checked >= 30     # the README and docs quote many commands; none may slip through unparsed


def test_relative_links_in_documents_point_at_files():
    missing = []
    for doc in DOCS:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (doc.parent / target).exists():
                missing.append(f"{doc.relative_to(REPO)} -> {target}")
    assert not missing, missing


def _flags(parser) -> dict[str, set[str]]:
    """command path ('run', 'data fetch') -> its long options."""
    import argparse

    out: dict[str, set[str]] = {}

    def walk(p, path):
        opts = {s for a in p._actions for s in a.option_strings if s.startswith("--") and s != "--help"}
        out[path] = opts
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                for name, sub in a.choices.items():
                    walk(sub, f"{path} {name}".strip())

    walk(parser, "")
    out.pop("", None)
    return out


def test_cli_page_lists_every_command_and_flag(parser):
    page = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    sections = dict(re.findall(r"^##+ `bench ([^`]+)`\n(.*?)(?=^##+ `bench |\Z)", page, flags=re.S | re.M))
    missing, extra = [], []
    for path, flags in _flags(parser).items():
        if path not in sections:
            missing.append(f"section for `bench {path}`")
            continue
        documented = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", sections[path]))
        missing += [f"bench {path} {f}" for f in sorted(flags - documented)]
        extra += [f"bench {path} {f}" for f in sorted(documented - flags)]
    assert not missing, f"docs/cli.md lacks: {missing}"
    assert not extra, f"docs/cli.md names flags the parser does not define: {extra}"


def _tool(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, REPO / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _between_markers(path: Path, tag: str) -> str:
    text = path.read_text(encoding="utf-8")
    m = re.search(rf"<!-- {tag}:begin -->\n(.*?)\n<!-- {tag}:end -->", text, flags=re.S)
    assert m, f"{path.name}: no <!-- {tag}:begin --> … <!-- {tag}:end --> block"
    return m.group(1).strip()


def test_downstream_tables_are_the_committed_results():
    """The README's downstream table and results/downstream/README.md's tables are exactly what
    tools/downstream_table.py makes from the committed report CSVs (no number typed by hand)."""
    table = _tool("downstream_table")
    results = REPO / "results" / "downstream"
    assert _between_markers(REPO / "README.md", "downstream") == table.readme_table(results).strip()
    assert _between_markers(results / "README.md", "downstream-full") == table.full_tables(results).strip()
