"""The ipywidgets form for any worksheet, built from its schema.

A fresh form starts from the saved record (or the blank template), or from the unsaved draft an
earlier form left behind, so re-running a cell never loses typing. Every change is kept as a
draft; only the Save button writes a new version, and the previous one stays in history.
"""

from __future__ import annotations

import html
import os

import ipywidgets as widgets

from ..core.config import work_dir as _work_dir
from ..core.errors import DermAssistError
from . import form_extras
from .base import Worksheet
from .schema import Field, Table, blank_row, get, put
from .store import ConflictError

ERROR, OK, NOTE = "#8b0000", "#1b5e20", "#333333"  # all at least 7:1 on white


def _full() -> widgets.Layout:
    return widgets.Layout(width="100%")


def _esc(text) -> str:
    return html.escape(str(text))


class WorksheetForm(widgets.VBox):
    """A worksheet as a form with a Save button and a status line."""

    def __init__(self, spec: Worksheet, work_dir: str | os.PathLike | None = None):
        super().__init__(layout=widgets.Layout(width="100%", max_width="1000px"))
        self.spec = spec
        self.work_dir = _work_dir(work_dir)
        self.store = spec.store(self.work_dir)
        self._help = spec.help_texts()
        self._quiet = False
        self._force_next_save = False
        self._fields: dict[str, widgets.Widget] = {}
        self._rows: dict[str, list[dict[str, widgets.Widget]]] = {}
        self._computed: list[tuple[Field, widgets.HTML, str | None, int]] = []
        self.on_change: list = []  # extra callbacks (data) -> None
        self.after_save: list = []

        data, note = self._starting_data()
        self.status = widgets.HTML()
        self.save_button = widgets.Button(description="Save", button_style="primary", icon="save",
                                          tooltip="Save a new version (the previous one stays in history)")
        self.save_button.on_click(self.save)
        self._body = widgets.VBox(layout=_full())
        self._set_data(data)
        extras = form_extras.build(self)
        self.children = [widgets.HTML(f"<h3>{_esc(spec.title)}</h3>"), self._body, *extras,
                         widgets.HBox([self.save_button, self.status], layout=widgets.Layout(align_items="center"))]
        self._refresh()
        self._set_status(*note)

    # -- loading ------------------------------------------------------------------------------------
    def _starting_data(self) -> tuple[dict, tuple[str, str]]:
        record, draft = self.store.load(), self.store.load_draft()
        self.base_version = record.version if record else 0
        if draft is not None:
            self.base_version = draft.version
            return draft.data, (f"Restored unsaved changes from {draft.saved_at}. Press Save to keep them.", NOTE)
        if record is not None:
            return record.data, (self._saved_line(record), OK)
        return self.spec.blank(), ("Not saved yet: fill in the form and press Save.", NOTE)

    def _saved_line(self, record) -> str:
        return f"Saved {record.saved_at} · version {record.version} ({len(self.store.versions())} in history)."

    # -- building -----------------------------------------------------------------------------------
    def _set_data(self, data: dict) -> None:
        """Show ``data`` in the form (rebuilding table rows) without writing a draft."""
        self._quiet = True
        try:
            self._fields.clear()
            self._computed = []
            children = []
            for item in self.spec.schema:
                if isinstance(item, Table):
                    children.append(self._table(item, data.get(item.key) or []))
                else:
                    children.append(self._field(item, data, None, 0, self._fields))
            self._body.children = children
        finally:
            self._quiet = False
        self._refresh()

    def _label(self, item: Field) -> widgets.HTML:
        help_text = self._help.get(item.label) or item.help
        hint = f"<br><span style='color:{NOTE};font-size:90%'>{_esc(help_text)}</span>" if help_text else ""
        return widgets.HTML(f"<b>{_esc(item.label)}</b>{hint}")

    def _field(self, item: Field, data: dict, table: str | None, index: int, store: dict) -> widgets.Widget:
        if item.kind == "computed":
            output = widgets.HTML()
            self._computed.append((item, output, table, index))
            return widgets.VBox([self._label(item), output])
        widget = make_widget(item, get(data, item.key))
        widget.observe(self._changed, names="value")
        store[item.key] = widget
        if item.kind == "bool":  # a wrapping label: long screening questions stay readable
            return widgets.HBox([widget, widgets.HTML(_esc(item.label))], layout=_full())
        wide = item.kind in ("textarea", "lines")
        return widgets.VBox([self._label(item), widget], layout=_full() if wide else widgets.Layout())

    def _table(self, table: Table, rows: list[dict]) -> widgets.Widget:
        self._rows[table.key] = []
        box = widgets.VBox(layout=_full())
        box.children = [self._row(table, row, n) for n, row in enumerate(rows)]
        parts = [widgets.HTML(f"<h4>{_esc(table.label)}</h4>"), box]
        if not table.fixed:
            add = widgets.Button(description=f"Add {table.row_name}", icon="plus")
            add.on_click(lambda _b, t=table: self.add_row(t.key))
            parts.append(add)
            if not rows:
                box.children = [self._row(table, blank_row(table), 0)]
        return widgets.VBox(parts, layout=_full())

    def _row(self, table: Table, row: dict, index: int) -> widgets.Widget:
        cells: dict[str, widgets.Widget] = {}
        self._rows[table.key].append(cells)
        short, long = [], []
        for item in table.fields:
            part = self._field(item, row, table.key, index, cells)
            (long if item.kind in ("textarea", "lines") else short).append(part)
        title = get(row, table.fields[0].key) if table.fixed else f"{table.row_name.capitalize()} {index + 1}"
        head = [widgets.HTML(f"<b>{_esc(title)}</b>")]
        if not table.fixed:
            remove = widgets.Button(description="Remove", icon="trash", layout=widgets.Layout(width="auto"),
                                    tooltip="Remove this row (press Save to keep the change)")
            remove.on_click(lambda _b, t=table.key, c=cells: self.remove_row(t, c))
            head.append(remove)
        if table.fixed:
            short = short[1:]  # the row title already shows the fixed first column
        return widgets.VBox([widgets.HBox(head), widgets.HBox(short, layout=widgets.Layout(flex_flow="row wrap")),
                             *long], layout=widgets.Layout(border="1px solid #888", padding="6px", margin="4px 0"))

    def add_row(self, table_key: str) -> None:
        """Add an empty row to a table (kept as a draft until Save)."""
        data = self.value()
        table = next(t for t in self.spec.schema if isinstance(t, Table) and t.key == table_key)
        data[table_key] = list(data.get(table_key) or []) + [blank_row(table)]
        self._set_data(data)
        self._changed()

    def remove_row(self, table_key: str, cells: dict) -> None:
        """Remove one row (kept as a draft until Save; saved versions stay in history)."""
        data = self.value()
        index = self._rows[table_key].index(cells)
        data[table_key] = [r for n, r in enumerate(data.get(table_key) or []) if n != index]
        self._set_data(data)
        self._changed()

    # -- reading ------------------------------------------------------------------------------------
    def value(self) -> dict:
        """What the form holds now, as a record (not yet validated)."""
        data: dict = {}
        for item in self.spec.schema:
            if isinstance(item, Table):
                rows = []
                for cells in self._rows.get(item.key, []):
                    row: dict = {}
                    for sub in item.fields:
                        if sub.kind != "computed":
                            put(row, sub.key, read_widget(sub, cells[sub.key]))
                    rows.append(row)
                data[item.key] = rows
            elif item.kind != "computed":
                put(data, item.key, read_widget(item, self._fields[item.key]))
        return data

    # -- reacting -----------------------------------------------------------------------------------
    def _changed(self, _change=None) -> None:
        if self._quiet:
            return
        data = self._refresh()
        try:
            self.store.save_draft(data, self.base_version)
        except OSError as exc:
            self._set_status(f"Could not keep a draft ({exc.strerror}); press Save soon.", ERROR)
            return
        self._set_status("Unsaved changes (kept as a draft): press Save to save a new version.", NOTE)

    def _refresh(self) -> dict:
        data = self.value()
        for item, output, table, index in self._computed:
            source = data if table is None else (data.get(table) or [{}] * (index + 1))[index]
            try:
                output.value = _esc(item.compute(source))
            except (DermAssistError, ValueError, TypeError):  # a half-typed value must not break the form; a bug still shows
                output.value = "—"
        for callback in self.on_change:
            callback(data)
        return data

    def _set_status(self, message: str, colour: str = NOTE, tips: list[str] | None = None) -> None:
        tips_html = "".join(f"<li>{_esc(t)}</li>" for t in tips or [])
        extra = f"<ul style='margin:2px 0'>{tips_html}</ul>" if tips_html else ""
        self.status.value = f"<div role='status' style='color:{colour}'>{_esc(message)}</div>{extra}"

    # -- saving -------------------------------------------------------------------------------------
    def save(self, _button=None) -> bool:
        """Validate and save a new version. Problems go to the status line; typing is never lost."""
        cleaned, errors = self.spec.validate(self.value())
        if errors:
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            self._set_status(f"Not saved: {errors[0]}{more}. Your typing is kept.", ERROR)
            return False
        note = ""
        try:
            expected = None if self._force_next_save else self.base_version
            try:
                record = self.spec.save(cleaned, self.work_dir, expected_version=expected)
            except ConflictError:
                current = self.store.load()
                if self.spec.merge is None:
                    self._force_next_save = True
                    self._set_status(
                        f"Not saved: this worksheet was saved elsewhere after this form opened (now version "
                        f"{current.version}). Press Save again to keep your version (version {current.version} "
                        "stays in history), or re-run the cell to load it.", ERROR)
                    return False
                base = self.store.version(self.base_version) if self.base_version else None
                merged, note = self.spec.merge(base.data if base else {}, cleaned, current.data)
                record = self.spec.save(merged, self.work_dir, expected_version=current.version)
        except DermAssistError as exc:
            self._set_status(f"Not saved: {exc} Your typing is kept.", ERROR)
            return False
        except OSError as exc:
            self._set_status(f"Not saved: could not write to {self.store.folder} ({exc.strerror}). "
                             "Your typing is kept.", ERROR)
            return False
        self._force_next_save = False
        self.base_version = record.version
        self._set_data(record.data)
        for callback in self.after_save:
            callback(record.data)
        self._set_status(" ".join(filter(None, [self._saved_line(record), note])), OK, self.spec.advice(record.data))
        return True


def make_widget(item: Field, value) -> widgets.Widget:
    """One input widget for one field, showing ``value``."""
    disabled = item.readonly
    if item.kind == "textarea":
        return widgets.Textarea(value=str(value or ""), rows=12 if item.live else 3, continuous_update=item.live,
                                layout=_full(), disabled=disabled)
    if item.kind == "lines":
        return widgets.Textarea(value="\n".join(str(v) for v in value or []), rows=3, continuous_update=False,
                                layout=_full(), disabled=disabled, placeholder="One per line")
    if item.kind == "choice":
        options = [("— choose —" if o == "" else str(o), o) for o in item.options]
        if value not in item.options:  # keep an unexpected value visible rather than dropping it
            options.append((str(value), value))
        return widgets.Dropdown(options=options, value=value, disabled=disabled)
    if item.kind == "int":
        return widgets.IntText(value=value if isinstance(value, int) else (item.default or 0),
                               layout=widgets.Layout(width="90px"), disabled=disabled)
    if item.kind == "bool":
        return widgets.Checkbox(value=bool(value), indent=False, tooltip=item.label, disabled=disabled,
                                layout=widgets.Layout(width="28px", flex="0 0 auto"))
    if item.options:
        return widgets.Combobox(value=str(value or ""), options=list(item.options), ensure_option=False,
                                continuous_update=False, disabled=disabled)
    return widgets.Text(value=str(value or ""), continuous_update=False, disabled=disabled)


def read_widget(item: Field, widget: widgets.Widget):
    """The record value a widget holds."""
    if item.kind == "lines":
        return [line for line in widget.value.splitlines() if line.strip()]
    return widget.value
