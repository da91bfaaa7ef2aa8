"""Widgets some forms add below their fields: the register's heat map and diff, and the
curveball form's "add a risk to the register" box."""

from __future__ import annotations

import html

import ipywidgets as widgets

from ..core.errors import DermAssistError
from . import heatmap
from .risk_register import CATEGORIES, RiskRegister, diff_risks


def build(form) -> list[widgets.Widget]:
    """Extra widgets for ``form`` (wiring their callbacks into it); none for most worksheets."""
    builder = {"risk_register": _register, "curveball_notes": _curveball}.get(form.spec.name)
    return builder(form) if builder else []


def _register(form) -> list[widgets.Widget]:
    image = widgets.Image(format="png", layout=widgets.Layout(max_width="560px"))
    alt = widgets.HTML()
    changes = widgets.HTML()

    drawn = []  # what the heat map shows now: redraw only when a risk moves, not on every keystroke

    def redraw(data: dict) -> None:
        risks = [r for r in data.get("risks", []) if str(r.get("description", "")).strip()]
        placed = [(r.get("id"), r.get("likelihood"), r.get("impact"), r.get("status")) for r in risks]
        if drawn and drawn[0] == placed:
            return
        drawn[:] = [placed]
        try:
            image.value = heatmap.png(risks)
            alt.value = f"<small>{html.escape(heatmap.alt_text(risks))}</small>"
        except DermAssistError:
            alt.value = "<small>Heat map: fix likelihood/impact (1–5) to place every risk.</small>"

    def show_diff(_data: dict = None) -> None:
        previous, current = form.store.previous(), form.store.load()
        if current is None:
            changes.value = "<i>Nothing saved yet.</i>"
            return
        table = diff_risks(previous.data.get("risks", []) if previous else [], current.data.get("risks", []))
        since = f"version {previous.version}" if previous else "the empty register"
        body = table.to_html(index=False, border=0) if len(table) else "<i>No changes.</i>"
        changes.value = f"<b>Changes in version {current.version} since {since}</b>{body}"

    form.on_change.append(redraw)
    form.after_save.append(show_diff)
    show_diff()  # the form draws the heat map when it first refreshes
    return [widgets.HTML("<h4>Heat map</h4>"), image, alt, widgets.HTML("<h4>What changed</h4>"), changes]


def _curveball(form) -> list[widgets.Widget]:
    description = widgets.Textarea(placeholder="What could go wrong now?", layout=widgets.Layout(width="100%"))
    category = widgets.Dropdown(options=CATEGORIES, description="Category")
    likelihood = widgets.IntText(value=3, description="Likelihood", layout=widgets.Layout(width="180px"))
    impact = widgets.IntText(value=3, description="Impact", layout=widgets.Layout(width="180px"))
    mitigation = widgets.Textarea(placeholder="Mitigation", layout=widgets.Layout(width="100%"))
    owner = widgets.Text(description="Owner")
    button = widgets.Button(description="Add to risk register", icon="plus", layout=widgets.Layout(width="auto"))
    message = widgets.HTML()

    def add(_button=None) -> None:
        rows = form._rows.get("entries") or []
        if not rows:
            message.value = "<span style='color:#8b0000'>Add a curveball row first.</span>"
            return
        cells = rows[-1]
        card = cells["card_id"].value.strip() or "curveball"
        try:
            risk_id = RiskRegister(form.work_dir).add_risk(
                description.value, category.value, likelihood.value, impact.value, mitigation=mitigation.value,
                owner=owner.value, source=f"curveball: {card}")
        except DermAssistError as exc:  # typing stays in the boxes
            message.value = f"<span style='color:#8b0000'>Not added: {html.escape(str(exc))}</span>"
            return
        line = f"{risk_id} — {' '.join(description.value.split())}"
        lines = [l for l in cells["new_risks"].value.splitlines() if l.strip()]
        if line not in lines:
            cells["new_risks"].value = "\n".join(lines + [line])  # triggers a draft of the notes
        description.value = mitigation.value = ""
        message.value = (f"<span style='color:#1b5e20'>Added {risk_id} to the risk register (saved). "
                         "Press Save to keep these notes.</span>")

    button.on_click(add)
    return [widgets.HTML("<h4>Add a new risk to the register (for the last curveball above)</h4>"),
            description, widgets.HBox([category, likelihood, impact]), mitigation, owner,
            widgets.HBox([button, message])]
