"""One self-contained HTML portfolio of every worksheet and the demo figures, for the coach.

Everything is inline (CSS, base64 images): the file opens offline, prints cleanly and can be
attached to a submission as it is. Learner text is escaped, never trusted as HTML.
"""

from __future__ import annotations

import base64
import html
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import mistune

from ..core.config import work_dir as _work_dir
from . import heatmap
from .registry import WORKSHEETS
from .risk_register import diff_risks
from .store import atomic_write_text

FIGURES_FOLDER = "figures"
PORTFOLIO_FILE = "portfolio.html"
REBUILD = "re-run the cell that builds the portfolio (notebook 99)"
_markdown = mistune.create_markdown(escape=True, plugins=["table", "task_lists", "strikethrough"])

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1a1a1a;background:#fff;
 line-height:1.5;margin:0 auto;max-width:62rem;padding:1.5rem}
h1,h2,h3,h4{line-height:1.25}h2{border-bottom:2px solid #1a1a1a;padding-bottom:.2rem;margin-top:2.5rem}
a{color:#0b4f9c}table{border-collapse:collapse;width:100%;margin:.75rem 0;font-size:.92rem}
th,td{border:1px solid #767676;padding:.35rem .5rem;text-align:left;vertical-align:top}th{background:#e9e9e9}
.not-started{color:#555;font-style:italic}.meta{color:#444}
figure{margin:1.5rem 0;break-inside:avoid}figure img{max-width:100%;height:auto;border:1px solid #ccc}
figcaption{font-size:.92rem;color:#333}ul.contains-task-list{list-style:none;padding-left:1rem}
@media print{body{max-width:none;padding:0}a{color:#1a1a1a;text-decoration:none}section{break-before:page}
 nav{display:none}}
"""


def _figures(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".png")


def _slug(name: str) -> str:
    return "fig-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _alt(path: Path) -> str:
    for sidecar in (path.with_suffix(".txt"), path.with_name(path.name + ".txt")):
        if sidecar.is_file():
            text = " ".join(sidecar.read_text(encoding="utf-8", errors="replace").split())
            if text:
                return text
    return f"Figure {path.stem.replace('_', ' ')} (no description provided)"


def _img(data: bytes, alt: str) -> str:
    encoded = base64.b64encode(data).decode("ascii")
    return f'<img src="data:image/png;base64,{encoded}" alt="{html.escape(alt)}">'


def _link_figures(fragment: str, figures: list[Path]) -> str:
    """Turn mentions of a figure's file name (e.g. in AI Act evidence) into links to it."""
    for path in figures:
        name = html.escape(path.name)
        fragment = re.sub(rf"(?<![\w./-])(?:[\w./-]*/)?{re.escape(name)}",
                          lambda m, p=path: f'<a href="#{_slug(p.name)}">{m.group(0)}</a>', fragment)
    return fragment


def _register_extras(data: dict, store) -> str:
    risks = data.get("risks", [])
    parts = [f"<figure>{_img(heatmap.png(risks), heatmap.alt_text(risks))}"
             "<figcaption>Risk heat map: likelihood × impact, risk IDs in their cells "
             "(closed risks in brackets).</figcaption></figure>"]
    previous = store.previous()
    if previous is not None:
        changes = diff_risks(previous.data.get("risks", []), risks)
        table = changes.to_html(index=False, border=0, escape=True) if len(changes) else "<p>No changes.</p>"
        parts.append(f"<h3>Changes since version {previous.version}</h3>{table}")
    return "".join(parts)


def build_portfolio(work_dir: str | os.PathLike | None = None, out_path: str | os.PathLike | None = None) -> Path:
    """Write the portfolio HTML (default ``<work_dir>/portfolio.html``) and return its path."""
    folder = _work_dir(work_dir)
    out = Path(out_path).expanduser() if out_path else folder / PORTFOLIO_FILE
    figures = _figures(folder / FIGURES_FOLDER)
    sections, rows = [], []
    author = ""
    for spec in WORKSHEETS.values():
        store = spec.store(folder)
        record = store.load()
        anchor = f"ws-{spec.name}"
        if record is None:
            state = (f"Typed but not saved: press Save in its form, then {REBUILD}." if store.drafts()
                     else "Not started.")
            rows.append(f'<tr><td><a href="#{anchor}">{html.escape(spec.title)}</a></td>'
                        f"<td>{html.escape(state.removesuffix('.'))}</td></tr>")
            sections.append(f'<section id="{anchor}"><h2>{html.escape(spec.title)}</h2>'
                            f'<p class="not-started">{html.escape(state)}</p></section>')
            continue
        rows.append(f'<tr><td><a href="#{anchor}">{html.escape(spec.title)}</a></td>'
                    f"<td>Version {record.version}, saved {html.escape(record.saved_at)}</td></tr>")
        body = _link_figures(_markdown(spec.to_markdown(record.data, record, level=2)), figures)
        if spec.name == "risk_register":
            body += _register_extras(record.data, store)
        if spec.name == "reflection":
            author = str(record.data.get("author", "")).strip()
        sections.append(f'<section id="{anchor}">{body}</section>')

    figure_html = "".join(
        f'<figure id="{_slug(p.name)}">{_img(p.read_bytes(), _alt(p))}<figcaption>{html.escape(p.name)}'
        "</figcaption></figure>" for p in figures
    ) or '<p class="not-started">No figures yet: the demo notebooks save them into the figures folder.</p>'
    sections.append(f'<section id="figures"><h2>Demo figures</h2>{figure_html}</section>')

    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    who = f" — {html.escape(author)}" if author else ""
    page = f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Derm-Assist workshop portfolio{who}</title><style>{CSS}</style></head>
<body><header><h1>Derm-Assist workshop portfolio{who}</h1>
<p class="meta">Generated {generated}. Derm-Assist is decision support for GPs, not a diagnosis;
the skin images used in the workshop are synthetic.</p></header>
<nav aria-label="Contents"><h2>Contents</h2><table><thead><tr><th scope="col">Worksheet</th>
<th scope="col">Status</th></tr></thead><tbody>{''.join(rows)}
<tr><td><a href="#figures">Demo figures</a></td><td>{len(figures)} figure(s)</td></tr></tbody></table></nav>
<main>{''.join(sections)}</main></body></html>
"""
    return atomic_write_text(out, page)


def describe_portfolio(path: str | os.PathLike, work_dir: str | os.PathLike | None = None) -> str:
    """One line for the notebook: where the portfolio is, and what is not in it yet and how to add it.

    Run All builds the portfolio before the learner has written (and saved) the reflection above
    it, so this says which worksheets are missing and how to rebuild.
    """
    folder = _work_dir(work_dir)
    missing, unsaved = [], []
    for spec in WORKSHEETS.values():
        store = spec.store(folder)
        if store.load() is None:
            missing.append(spec.title)
        elif store.drafts():
            unsaved.append(spec.title)
    line = f"Portfolio: {path}."
    if not missing and not unsaved:
        return line + " Every worksheet is in it; send this file to your coach."
    if missing:
        line += f" Not in it yet (not saved): {', '.join(missing)}."
    if unsaved:
        line += f" Unsaved changes not in it: {', '.join(unsaved)}."
    return line + " Press Save in those forms, then re-run this cell to rebuild the portfolio."
