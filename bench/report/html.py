"""One static, self-contained HTML page: tables, figures (base64 PNG), run metadata.

No scripts, no external URLs: the page opens offline from any folder.
"""
from __future__ import annotations

import base64
import datetime as dt
import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1400px;
     color:#222;padding:0 16px}
h1{font-size:1.6em;margin-bottom:4px} h2{font-size:1.25em;margin-top:32px;border-bottom:1px solid #ccc}
.meta{color:#555;font-size:.9em}
table.lb{border-collapse:collapse;font-size:.88em;margin:8px 0}
table.lb caption{text-align:left;font-weight:600;padding:4px 0}
table.lb th,table.lb td{padding:3px 8px;border-bottom:1px solid #e3e3e3}
table.lb thead th{border-bottom:2px solid #444;background:#f6f6f6}
table.lb td.num{text-align:right;font-variant-numeric:tabular-nums}
table.lb tr.section td{border-top:2px solid #888}
small.delta{color:#666}
ul.notes{font-size:.8em;color:#444;margin-top:2px}
figure{margin:12px 0 24px 0} figure img{max-width:100%;border:1px solid #ddd}
figcaption{font-size:.85em;color:#444}
table.kv td{padding:2px 10px;font-size:.85em;vertical-align:top} table.kv td:first-child{color:#555}
pre{background:#f6f6f6;padding:8px;font-size:.78em;overflow:auto;max-height:420px}
.missing{color:#a40}
"""


@dataclass
class Page:
    title: str = "derain-bench report"
    subtitle: str = ""
    sections: list[tuple[str, str]] = field(default_factory=list)   # (heading, trusted html)

    def add_html(self, heading: str, body: str) -> None:
        self.sections.append((heading, body))

    def add_text(self, heading: str, lines: list[str], css_class: str = "") -> None:
        cls = f' class="{css_class}"' if css_class else ""
        self.sections.append((heading, f"<ul{cls}>" + "".join(f"<li>{html.escape(x)}</li>" for x in lines) + "</ul>"))

    def add_figures(self, heading: str, figures: list[tuple[str, Path]]) -> None:
        self.sections.append((heading, "\n".join(figure_html(caption, path) for caption, path in figures)))

    def render(self) -> str:
        body = [f"<h1>{html.escape(self.title)}</h1>",
                f'<p class="meta">{html.escape(self.subtitle)}</p>' if self.subtitle else ""]
        for heading, content in self.sections:
            anchor = "".join(ch if ch.isalnum() else "-" for ch in heading.lower()).strip("-")
            body.append(f'<section id="{anchor}"><h2>{html.escape(heading)}</h2>\n{content}\n</section>')
        return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>{html.escape(self.title)}</title><style>{CSS}</style></head>\n<body>\n"
                + "\n".join(body) + "\n</body></html>\n")

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(self.render(), encoding="utf-8")
        tmp.replace(path)
        return path


def figure_html(caption: str, png: Path) -> str:
    data = base64.b64encode(Path(png).read_bytes()).decode("ascii")
    cap = html.escape(caption)
    return (f'<figure><img alt="{cap}" src="data:image/png;base64,{data}">'
            f"<figcaption>{cap}</figcaption></figure>")


def load_runs(out_dir: str | Path) -> list[dict[str, Any]]:
    """Every ``runs/<id>/run.json`` under the output folder, newest first (by file time)."""
    runs = []
    for p in sorted(Path(out_dir).glob("runs/*/run.json"), key=lambda p: p.stat().st_mtime, reverse=True):
        try:
            record = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            record = {"error": f"unreadable run record {p}: {e}"}
        runs.append({"run_id": p.parent.name, "path": str(p), **record} if isinstance(record, dict)
                    else {"run_id": p.parent.name, "path": str(p), "record": record})
    return runs


def _short(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def runs_html(runs: list[dict[str, Any]], detail: int = 1) -> str:
    """A summary row per run (scalar fields), and the full JSON of the newest ``detail`` runs."""
    if not runs:
        return '<p class="missing">No run records (results/runs/&lt;id&gt;/run.json) found.</p>'
    out = []
    for i, run in enumerate(runs):
        scalars = {k: v for k, v in run.items() if not isinstance(v, (dict, list))}
        nested = {k: v for k, v in run.items() if isinstance(v, (dict, list))}
        rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(_short(v))}</td></tr>"
                       for k, v in scalars.items())
        rows += "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(_short(v))}</td></tr>"
                        for k, v in nested.items())
        out.append(f'<h3>Run {html.escape(str(run.get("run_id")))}</h3><table class="kv">{rows}</table>')
        if i < detail:
            out.append("<details><summary>run.json</summary><pre>"
                       + html.escape(json.dumps(run, indent=2, default=str)) + "</pre></details>")
    return "\n".join(out)


def generated_line(store_path: str | Path) -> str:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"Generated {now} by `bench report` from {store_path}. Nothing here re-ran a model."
