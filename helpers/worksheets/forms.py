"""The ipywidgets form for any worksheet, built from its schema.

A form opens on the saved record with the typing of any open or left-behind draft merged in
(:meth:`Worksheet.open`), so re-running a cell, Run All, a kernel restart or a page reload never
loses or hides typing, and a draft never hides a newer save. Every change is sent to the kernel as
it is typed and kept at once in this form's own draft; Save writes a new version, merging with
anything saved elsewhere since the form opened (the previous version stays in history).

A keystroke typed just before Save can reach the kernel just after it (the browser holds a
widget's update back while its previous one is in flight, but sends the click at once). A change
that arrives within :data:`FOLD_SECONDS` after a Save click is handled is therefore saved too, so the saved
record always includes the last keystroke and no draft is left behind it.
"""

from __future__ import annotations

import html
import os
import time
import uuid

import ipywidgets as widgets

from ..core.config import work_dir as _work_dir
from ..core.display import RERUN_UP_TO_HERE, RestartHint
from ..core.errors import DermAssistError
from . import form_extras
from .base import Opened, Worksheet
from .portfolio import PORTFOLIO_FILE, REBUILD
from .schema import Field, Table, blank_row, get, put

ERROR, OK, NOTE = "#8b0000", "#1b5e20", "#333333"  # all at least 7:1 on white
FOLD_SECONDS = 0.5  # the held-back update is already queued when Save finishes; typing after that is new


def _full() -> widgets.Layout:
    return widgets.Layout(width="100%")


def _esc(text) -> str:
    return html.escape(str(text))


class WorksheetForm(RestartHint, widgets.VBox):
    """A worksheet as a form with a Save button and a status line."""

    def __init__(self, spec: Worksheet, work_dir: str | os.PathLike | None = None):
        super().__init__(layout=widgets.Layout(width="100%", max_width="1000px"))
        self.spec = spec
        self.work_dir = _work_dir(work_dir)
        self.store = spec.store(self.work_dir)
        self.form_id = uuid.uuid4().hex[:12]
        self.plain_name = f"The {spec.title} form"
        self.restart_hint = (f"If the form is missing here (after a kernel restart or when the notebook is reopened), "
                             f"{RERUN_UP_TO_HERE}: your saved work, and anything typed but not saved, comes back.")
        self._help = spec.help_texts()
        self._quiet = False
        self._seq = 0              # changes seen by this form
        self._fold_until = 0.0     # changes arriving before this (monotonic) time belong to the last Save
        self._fields: dict[str, widgets.Widget] = {}
        self._rows: dict[str, list[dict[str, widgets.Widget]]] = {}
        self._row_parts: dict[str, list[tuple[widgets.Box, widgets.HTML]]] = {}
        self._boxes: dict[str, widgets.Box] = {}
        self._computed: list[tuple[Field, widgets.HTML, str | None, dict | None]] = []
        self._removed: list[dict] = []  # cells of rows removed from the form
        self._successors: dict[int, tuple[dict, dict]] = {}  # id(old row cells) -> (old, the same row's cells now)
        self.on_change: list = []  # extra callbacks (data) -> None
        self.after_save: list = []

        opened = spec.open(self.work_dir)
        self.base_version = opened.base_version
        self._drafts = opened.drafts  # drafts whose typing this form shows; removed once it is saved
        self.status = widgets.HTML()
        self.save_button = widgets.Button(description="Save", button_style="primary", icon="save",
                                          tooltip="Save a new version (the previous one stays in history)")
        self.save_button.on_click(self.save)
        self._body = widgets.VBox(layout=_full())
        self._set_data(opened.data)
        extras = form_extras.build(self)
        self.children = [widgets.HTML(f"<h3>{_esc(spec.title)}</h3>"), self._body, *extras,
                         widgets.HBox([self.save_button, self.status], layout=widgets.Layout(align_items="center"))]
        self._refresh()
        self._set_status(*self._opening_note(opened))

    # -- loading ------------------------------------------------------------------------------------
    def _opening_note(self, opened: Opened) -> tuple[str, str]:
        if opened.drafts:
            when = max(d.saved_at for d in opened.drafts)
            since = any(d.base_version < opened.base_version for d in opened.drafts)
            merged = f", merged with version {opened.base_version} saved since" if since else ""
            note = opened.merged.note() if opened.merged else ""
            return " ".join(filter(None, [f"Restored unsaved changes from {when}{merged}. Press Save to keep them.",
                                          note])), NOTE
        if opened.record is not None:
            return self._saved_line(opened.record), OK
        return "Not saved yet: fill in the form and press Save.", NOTE

    def _saved_line(self, record) -> str:
        return f"Saved {record.saved_at} · version {record.version} ({len(self.store.versions())} in history)."

    # -- building -----------------------------------------------------------------------------------
    def _set_data(self, data: dict) -> None:
        """Show ``data`` in the form, building every widget afresh, without writing a draft."""
        previous = {key: list(rows) for key, rows in self._rows.items()}
        self._quiet = True
        try:
            self._fields.clear()
            self._computed = []
            children = []
            for item in self.spec.schema:
                if isinstance(item, Table):
                    children.append(self._table(item, data.get(item.key) or []))
                else:
                    children.append(self._field(item, data, (None, 0, item.key, None), self._fields))
            self._body.children = children
        finally:
            self._quiet = False
        self._link_rebuilt_rows(previous)
        self._refresh()

    def _link_rebuilt_rows(self, previous: dict[str, list[dict]]) -> None:
        """Remember which new row each row of the old widgets became (by identity, not position), so
        typing that reaches an old box after a rebuild lands in the same row."""
        for table in self.spec.schema:
            if not isinstance(table, Table) or not previous.get(table.key):
                continue
            old = previous[table.key]
            new = self._rows.get(table.key, [])
            matches = match_rows(table, [self._row_value(table, c) for c in old],
                                 [self._row_value(table, c) for c in new])
            for cells, index in zip(old, matches):
                if index is not None:
                    self._successors[id(cells)] = (cells, new[index])

    def _show(self, data: dict) -> None:
        """Show ``data`` in place: values change in the widgets already shown, and every row keeps its
        widgets (matched by identity, not position), so the box being typed in stays, in the browser
        too. Rows added elsewhere are appended after the rows shown; rows gone are removed."""
        self._quiet = True
        try:
            for item in self.spec.schema:
                if isinstance(item, Table):
                    self._show_rows(item, data.get(item.key) or [])
                elif item.kind != "computed":
                    write_widget(item, self._fields[item.key], get(data, item.key))
        finally:
            self._quiet = False
        self._refresh()

    def _show_rows(self, table: Table, rows: list[dict]) -> None:
        shown = self._rows.get(table.key, [])
        parts = self._row_parts.get(table.key, [])
        matches = match_rows(table, [self._row_value(table, c) for c in shown], rows)
        kept = [(cells, part, index) for cells, part, index in zip(shown, parts, matches) if index is not None]
        gone = [cells for cells, index in zip(shown, matches) if index is None]
        self._computed = [c for c in self._computed if not any(c[3] is g for g in gone)]
        for cells, _part, index in kept:
            for sub in table.fields:
                if sub.kind != "computed":
                    write_widget(sub, cells[sub.key], get(rows[index], sub.key))
        self._rows[table.key] = [cells for cells, _part, _index in kept]
        self._row_parts[table.key] = [part for _cells, part, _index in kept]
        taken = {index for _cells, _part, index in kept}
        for index, row in enumerate(rows):
            if index not in taken:
                self._row(table, row)
        if not self._rows[table.key] and not table.fixed:
            self._row(table, blank_row(table))
        self._boxes[table.key].children = tuple(box for box, _title in self._row_parts[table.key])
        if not table.fixed:
            for number, (_box, title) in enumerate(self._row_parts[table.key]):
                title.value = f"<b>{_esc(self._row_title(table, {}, number))}</b>"

    def _label(self, item: Field) -> widgets.HTML:
        help_text = self._help.get(item.label) or item.help
        hint = f"<br><span style='color:{NOTE};font-size:90%'>{_esc(help_text)}</span>" if help_text else ""
        return widgets.HTML(f"<b>{_esc(item.label)}</b>{hint}")

    def _field(self, item: Field, data: dict, address: tuple, store: dict) -> widgets.Widget:
        """One field's widget with its label; ``address`` is (table, row index, key, row cells)."""
        if item.kind == "computed":
            output = widgets.HTML()
            self._computed.append((item, output, address[0], address[3]))
            return widgets.VBox([self._label(item), output])
        widget = make_widget(item, get(data, item.key))
        widget.observe(lambda change, where=address: self._on_value(change, where), names="value")
        store[item.key] = widget
        if item.kind == "bool":  # a wrapping label: long screening questions stay readable
            return widgets.HBox([widget, widgets.HTML(_esc(item.label))], layout=_full())
        if item.kind in ("textarea", "lines"):
            return widgets.VBox([self._label(item), widget], layout=_full())
        if item.kind == "text" and not item.readonly:  # one-line text grows with the row: the item is readable
            return widgets.VBox([self._label(item), widget], layout=widgets.Layout(flex="1 1 24em", min_width="16em"))
        return widgets.VBox([self._label(item), widget])

    def _table(self, table: Table, rows: list[dict]) -> widgets.Widget:
        self._rows[table.key] = []
        self._row_parts[table.key] = []
        box = widgets.VBox(layout=_full())
        self._boxes[table.key] = box
        if not rows and not table.fixed:
            rows = [blank_row(table)]
        box.children = [self._row(table, row) for row in rows]
        parts = [widgets.HTML(f"<h4>{_esc(table.label)}</h4>"), box]
        if not table.fixed:
            add = widgets.Button(description=f"Add {table.row_name}", icon="plus", layout=widgets.Layout(width="auto"))
            add.on_click(lambda _b, t=table: self.add_row(t.key))
            parts.append(add)
        return widgets.VBox(parts, layout=_full())

    def _row(self, table: Table, row: dict) -> widgets.Widget:
        cells: dict[str, widgets.Widget] = {}
        index = len(self._rows[table.key])
        self._rows[table.key].append(cells)
        short, long = [], []
        for item in table.fields:
            part = self._field(item, row, (table.key, index, item.key, cells), cells)
            (long if item.kind in ("textarea", "lines") else short).append(part)
        title = widgets.HTML(f"<b>{_esc(self._row_title(table, row, index))}</b>")
        head = [title]
        if not table.fixed:
            remove = widgets.Button(description="Remove", icon="trash", layout=widgets.Layout(width="auto"),
                                    tooltip="Remove this row (press Save to keep the change)")
            remove.on_click(lambda _b, t=table.key, c=cells: self.remove_row(t, c))
            head.append(remove)
        if table.fixed:
            short = short[1:]  # the row title already shows the fixed first column
        box = widgets.VBox([widgets.HBox(head, layout=widgets.Layout(align_items="center")),
                            widgets.HBox(short, layout=widgets.Layout(flex_flow="row wrap", width="100%")), *long],
                           layout=widgets.Layout(border="1px solid #888", padding="6px", margin="4px 0", width="100%"))
        self._row_parts[table.key].append((box, title))
        return box

    @staticmethod
    def _row_title(table: Table, row: dict, index: int) -> str:
        return str(get(row, table.fields[0].key)) if table.fixed else f"{table.row_name.capitalize()} {index + 1}"

    def add_row(self, table_key: str) -> None:
        """Add an empty row to a table (kept as a draft until Save)."""
        table = self._table_spec(table_key)
        self._quiet = True
        try:
            box = self._row(table, blank_row(table))
        finally:
            self._quiet = False
        self._boxes[table_key].children = (*self._boxes[table_key].children, box)
        self._changed()

    def remove_row(self, table_key: str, cells: dict) -> None:
        """Remove one row (kept as a draft until Save; saved versions stay in history)."""
        index = next(n for n, c in enumerate(self._rows[table_key]) if c is cells)
        self._rows[table_key].pop(index)
        self._removed.append(cells)
        box, _title = self._row_parts[table_key].pop(index)
        self._boxes[table_key].children = tuple(c for c in self._boxes[table_key].children if c is not box)
        self._computed = [c for c in self._computed if c[3] is not cells]
        table = self._table_spec(table_key)
        for number, (_box, title) in enumerate(self._row_parts[table_key]):
            title.value = f"<b>{_esc(self._row_title(table, {}, number))}</b>"
        self._changed()

    def _table_spec(self, table_key: str) -> Table:
        return next(t for t in self.spec.schema if isinstance(t, Table) and t.key == table_key)

    # -- reading ------------------------------------------------------------------------------------
    def value(self) -> dict:
        """What the form holds now, as a record (not yet validated)."""
        data: dict = {}
        for item in self.spec.schema:
            if isinstance(item, Table):
                data[item.key] = [self._row_value(item, cells) for cells in self._rows.get(item.key, [])]
            elif item.kind != "computed":
                put(data, item.key, read_widget(item, self._fields[item.key]))
        return data

    @staticmethod
    def _row_value(table: Table, cells: dict) -> dict:
        row: dict = {}
        for sub in table.fields:
            if sub.kind != "computed":
                put(row, sub.key, read_widget(sub, cells[sub.key]))
        return row

    # -- reacting -----------------------------------------------------------------------------------
    def _on_value(self, change, address: tuple) -> None:
        if self._quiet:
            return
        table, index, key, cells = address
        if table is None:
            shown = self._fields.get(key) is change["owner"]
        else:
            shown = any(c is cells for c in self._rows.get(table, []))
        if not shown:
            if any(c is cells for c in self._removed):
                return  # typing in a row that was removed
            # Typing that reached a box the form has just rebuilt: it belongs in the same field of the
            # same row (found by the row's identity: rows added elsewhere may now stand at its place).
            current = self._fields.get(key) if table is None else self._successor_box(table, cells, key)
            if current is not None and current.value != change["new"]:
                current.value = change["new"]
            return
        self._changed()

    def _successor_box(self, table_key: str, cells: dict, key: str) -> widgets.Widget:
        """The box of ``key`` in the row that ``cells`` (widgets of a rebuilt row) became; a row the
        rebuilt form lacks is added again (with what it held), so the typing is never lost."""
        rows = self._rows.get(table_key, [])
        for _hop in range(len(self._successors) + 1):
            if any(c is cells for c in rows):
                return cells[key]
            if id(cells) not in self._successors:
                break
            cells = self._successors[id(cells)][1]
        table = self._table_spec(table_key)
        self._quiet = True
        try:
            box = self._row(table, self._row_value(table, cells))
        finally:
            self._quiet = False
        self._boxes[table_key].children = (*self._boxes[table_key].children, box)
        return self._rows[table_key][-1][key]

    def _changed(self, _change=None) -> None:
        if self._quiet:
            return
        data = self._refresh()
        self._seq += 1
        try:
            self.store.save_draft(data, self.base_version, self.form_id, self._seq)
        except (OSError, DermAssistError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else str(exc)
            self._set_status(f"Could not keep a draft ({reason}); press Save soon.", ERROR)
            return
        if time.monotonic() < self._fold_until:  # typed before the Save click, arrived after it
            self._fold_until = 0.0
            if self.save():
                return
        self._set_status("Unsaved changes (kept as a draft): press Save to save a new version.", NOTE)

    def _refresh(self) -> dict:
        data = self.value()
        for item, output, table, cells in self._computed:
            source = data if table is None else self._row_value(self._table_spec(table), cells)
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
        """Validate and save a new version, merged with anything saved elsewhere since this form
        opened. Problems go to the status line; typing is never lost."""
        data = self.value()
        _cleaned, errors = self.spec.validate(data)
        if errors:
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            self._set_status(f"Not saved: {errors[0]}{more}. Your typing is kept.", ERROR)
            return False
        try:
            record, merged = self.spec.save_merged(data, self.work_dir, self.base_version, form=self.form_id,
                                                   seq=self._seq, drafts=self._drafts)
        except DermAssistError as exc:
            self._set_status(f"Not saved: {exc} Your typing is kept.", ERROR)
            return False
        except OSError as exc:
            self._set_status(f"Not saved: could not write to {self.store.folder} ({exc.strerror}). "
                             "Your typing is kept.", ERROR)
            return False
        self.base_version = record.version
        self._drafts = []
        note = merged.note() if merged else ""
        # Say it is saved as soon as it is: redrawing the rows, heat map and advice can take seconds.
        self._set_status(" ".join(filter(None, [self._saved_line(record), note])), OK)
        self._show(record.data)
        for callback in self.after_save:
            callback(record.data)
        if (self.work_dir / PORTFOLIO_FILE).exists():
            note += f" To put this in your portfolio, {REBUILD}."
        self._set_status(" ".join(filter(None, [self._saved_line(record), note.strip()])), OK,
                         self.spec.advice(record.data))
        self._fold_until = time.monotonic() + FOLD_SECONDS if _button is not None else 0.0
        return True


def _same(value) -> object:
    return " ".join(value.split()) if isinstance(value, str) else value


def match_rows(table: Table, old: list[dict], new: list[dict]) -> list[int | None]:
    """For each row of ``old`` (a form's rows before a rebuild), the index of the same row in ``new``
    (``None`` if it is not there). Rows with an identity match by it; rows not saved yet (no ID when
    the old form was built) match a new row the old form did not have, first by every value, then by
    the row's name (e.g. a risk's description) — never by position, as a row added elsewhere may
    stand there now."""
    index = {table.row_id(r): n for n, r in enumerate(new) if table.row_id(r)}
    held = {table.row_id(r) for r in old if table.row_id(r)}
    found: list[int | None] = [index.get(table.row_id(r)) if table.row_id(r) else None for r in old]
    claimed = {n for n in found if n is not None}
    free = [n for n, r in enumerate(new) if table.row_id(r) not in held or not table.row_id(r)]
    keys = [f.key for f in table.fields if f.kind != "computed" and f.key != table.id_field]
    tests = [lambda r: tuple(_same(get(r, k)) for k in keys)]
    if table.natural_key:
        tests.append(lambda r: " ".join(str(get(r, table.natural_key) or "").casefold().split()))
    for test in tests:
        for n, row in enumerate(old):
            if found[n] is not None or table.row_id(row):
                continue
            wanted = test(row)
            match = next((m for m in free if m not in claimed and test(new[m]) == wanted), None)
            if match is not None:
                found[n] = match
                claimed.add(match)
    return found


def make_widget(item: Field, value) -> widgets.Widget:
    """One input widget for one field, showing ``value``. Text is sent to the kernel as it is typed,
    so nothing typed lives only in the browser."""
    disabled = item.readonly
    if item.kind == "textarea":
        return widgets.Textarea(value=str(value or ""), rows=12 if item.live else 3, continuous_update=True,
                                layout=_full(), disabled=disabled)
    if item.kind == "lines":
        return widgets.Textarea(value="\n".join(str(v) for v in value or []), rows=3, continuous_update=True,
                                layout=_full(), disabled=disabled, placeholder="One per line")
    if item.kind == "choice":
        return widgets.Dropdown(options=_choices(item, value), value=value, disabled=disabled)
    if item.kind == "int":
        return widgets.IntText(value=value if isinstance(value, int) else (item.default or 0), continuous_update=True,
                               layout=widgets.Layout(width="90px"), disabled=disabled)
    if item.kind == "bool":
        return widgets.Checkbox(value=bool(value), indent=False, tooltip=item.label, disabled=disabled,
                                layout=widgets.Layout(width="28px", flex="0 0 auto"))
    layout = widgets.Layout(width="6em") if item.readonly else _full()
    if item.options:
        return widgets.Combobox(value=str(value or ""), options=list(item.options), ensure_option=False,
                                continuous_update=True, disabled=disabled, layout=layout)
    return widgets.Text(value=str(value or ""), continuous_update=True, disabled=disabled, layout=layout)


def _choices(item: Field, value) -> list[tuple[str, object]]:
    options = [("— choose —" if o == "" else str(o), o) for o in item.options]
    if value not in item.options:  # keep an unexpected value visible rather than dropping it
        options.append((str(value), value))
    return options


def read_widget(item: Field, widget: widgets.Widget):
    """The record value a widget holds."""
    if item.kind == "lines":
        return [line for line in widget.value.splitlines() if line.strip()]
    return widget.value


def write_widget(item: Field, widget: widgets.Widget, value) -> None:
    """Show ``value`` in ``widget`` (nothing is sent when it already shows it)."""
    if item.kind == "lines":
        value = "\n".join(str(v) for v in value or [])
    elif item.kind == "choice":
        if value not in [v for _label, v in widget.options]:
            widget.options = _choices(item, value)
    elif item.kind == "int":
        value = value if isinstance(value, int) else (item.default or 0)
    elif item.kind == "bool":
        value = bool(value)
    else:
        value = str(value or "")
    if widget.value != value:
        widget.value = value
