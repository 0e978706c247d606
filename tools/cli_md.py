"""Write docs/cli.md from the real argument parsers (bench.cli.build_parser), so the page lists exactly
the commands and flags the code defines. Run after changing a flag:  python tools/cli_md.py
tests/test_docs.py checks the page against the parsers."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # this checkout's bench, not an installed one
from bench.cli import build_parser  # noqa: E402

HEADER = """# Command line reference

Generated from the argument parsers by `python tools/cli_md.py`; `tests/test_docs.py` fails when a
flag here and a flag in the code disagree. Exit codes for every command: 0 when everything that could
run succeeded (the only skips were missing optional assets, each printed with its fix), 1 when
something failed (an image, a model, a measure or a task; see the run summary), 2 for usage errors
(bad arguments, unknown names, bad config files).
"""


def _flag_line(action: argparse.Action) -> str:
    names = ", ".join(f"`{s}`" for s in action.option_strings)
    if action.nargs == 0:
        meta = ""
    else:
        meta = action.metavar or (action.dest.upper() if action.option_strings else action.dest)
        meta = f" `{meta if isinstance(meta, str) else ' '.join(meta)}`"
        if action.nargs == "?":
            meta = f" [{meta.strip()}]"
    help_text = (action.help or "").replace("%(default)s", str(action.default)).replace("%%", "%")
    if action.choices and not isinstance(action, argparse._SubParsersAction):
        help_text += f" (one of: {', '.join(map(str, action.choices))})"
    return f"- {names}{meta}: {help_text}".rstrip(": ")


def _positional_line(action: argparse.Action) -> str:
    meta = action.metavar or action.dest
    return f"- `{meta}`: {action.help or ''}".rstrip(": ")


def sections(parser: argparse.ArgumentParser, path: str = ""):
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if path:
        lines = [f"## `bench {path}`", "", (parser.description or "").strip(), ""]
        pos = [a for a in parser._actions if not a.option_strings and not isinstance(a, argparse._SubParsersAction)]
        opts = [a for a in parser._actions if a.option_strings and "--help" not in a.option_strings]
        if pos:
            lines += ["Arguments:", "", *map(_positional_line, pos), ""]
        if opts:
            lines += ["Options:", "", *map(_flag_line, opts), ""]
        if subs:
            lines += ["Subcommands: " + ", ".join(f"`bench {path} {n}`" for n in subs[0].choices), ""]
        yield "\n".join(lines)
    for a in subs:
        for name, sub in a.choices.items():
            yield from sections(sub, f"{path} {name}".strip())


def render() -> str:
    parser, _ = build_parser()
    return HEADER + "\n" + "\n".join(sections(parser))


if __name__ == "__main__":
    out = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
    out.write_text(render(), encoding="utf-8")
    print(f"wrote {out}")
