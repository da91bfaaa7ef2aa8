"""Describe a worksheet's fields once; check and clean records against that description.

A schema is a tuple of :class:`Field` (one value) and :class:`Table` (repeating rows). The same
schema drives the form, validation and the Markdown export, so they cannot drift apart. Keys may
be dotted (``"screening.large_scale"``) to reach into nested dicts.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

KINDS = ("text", "textarea", "choice", "int", "bool", "lines", "computed")


@dataclass(frozen=True)
class Field:
    """One value. ``kind`` is one of :data:`KINDS`; ``options`` for choices (and text suggestions)."""

    key: str
    label: str
    kind: str = "text"
    options: tuple = ()
    help: str = ""
    required: bool = False
    readonly: bool = False
    low: int = 1
    high: int = 5
    default: Any = None
    live: bool = False  # update on every keystroke (e.g. for a live word count)
    compute: Callable[[dict], str] | None = None  # kind "computed": shown in the form, never stored


@dataclass(frozen=True)
class Table:
    """Repeating rows of fields. ``fixed`` tables keep the rows of the blank record (a checklist).

    Every row has an identity, so edits from two open forms can be merged row by row: the value of
    ``id_field``, given on save as ``<id_prefix>1``, ``<id_prefix>2``, ... when ``id_prefix`` is set
    (a row without one is new); for fixed tables, the first field (the checklist item).
    """

    key: str
    label: str
    fields: tuple
    fixed: bool = False
    help: str = ""
    row_name: str = "row"
    id_field: str = ""
    id_prefix: str = ""
    natural_key: str = ""  # the field that names a row, for giving old rows saved without an ID theirs

    def row_id(self, row: dict) -> str:
        """The row's identity ("" for a row not saved yet)."""
        key = self.fields[0].key if self.fixed else self.id_field
        return str(get(row, key) or "").strip() if key else ""


def get(data: dict, key: str, default: Any = None) -> Any:
    """``data["a"]["b"]`` for ``key="a.b"``; ``default`` when any step is missing."""
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def put(data: dict, key: str, value: Any) -> None:
    """Set ``data["a"]["b"] = value`` for ``key="a.b"``, creating dicts on the way."""
    parts = key.split(".")
    node = data
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def empty_value(item: Field) -> Any:
    """What an untouched field holds."""
    if item.default is not None:
        return item.default
    return {"int": None, "bool": False, "lines": []}.get(item.kind, "")


def blank_row(table: Table) -> dict:
    """A new, untouched row of ``table``."""
    row: dict = {}
    for item in table.fields:
        if item.kind != "computed":
            put(row, item.key, copy.deepcopy(empty_value(item)))
    return row


def blank(schema: tuple) -> dict:
    """A record with every field untouched and every table empty."""
    data: dict = {}
    for item in schema:
        if isinstance(item, Table):
            data[item.key] = []
        elif item.kind != "computed":
            put(data, item.key, copy.deepcopy(empty_value(item)))
    return data


def is_blank_row(table: Table, row: dict) -> bool:
    """True when nothing was typed into the row's free-text fields (choices keep defaults)."""
    for item in table.fields:
        if item.kind in ("text", "textarea", "lines") and not item.readonly:
            value = get(row, item.key)
            if (value.strip() if isinstance(value, str) else value):
                return False
    return True


def _fold(value: Any) -> str:
    """Compare choices ignoring case, spacing and punctuation ("won’t" == "Won't" == "wont")."""
    return "".join(ch for ch in str(value).casefold() if ch.isalnum())


def _clean_value(item: Field, value: Any) -> tuple[Any, str | None]:
    kind = item.kind
    if value is None and item.default is not None:
        value = copy.deepcopy(item.default)
    if kind in ("text", "textarea"):
        value = "" if value is None else value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            return value, f"{item.label} must be text"
        if item.required and not value.strip():
            return value, f"{item.label} is empty"
        return value, None
    if kind == "choice":
        value = "" if value is None else str(value).strip()
        if value == "" and not item.required:
            return value, None
        for option in item.options:
            if _fold(value) == _fold(option):
                return option, None
        shown = ", ".join(str(o) for o in item.options if o != "")
        return value, f"{item.label} must be one of {shown} (got {value!r})"
    if kind == "int":
        if value is None or value == "":
            return None, (f"{item.label} is empty" if item.required else None)
        try:
            if isinstance(value, bool) or float(value) != int(float(value)):
                raise ValueError
            number = int(float(value))
        except (TypeError, ValueError):
            return value, f"{item.label} must be a whole number from {item.low} to {item.high} (got {value!r})"
        if not item.low <= number <= item.high:
            return number, f"{item.label} must be from {item.low} to {item.high} (got {number})"
        return number, None
    if kind == "bool":
        if value is None:
            return False, None
        if not isinstance(value, bool):
            return value, f"{item.label} must be yes or no (True/False), got {value!r}"
        return value, None
    if kind == "lines":
        if value is None:
            return [], None
        if isinstance(value, str):
            value = value.splitlines()
        if not isinstance(value, (list, tuple)):
            return value, f"{item.label} must be a list of lines"
        return [str(v).strip() for v in value if str(v).strip()], None
    return value, None


def clean(schema: tuple, data: dict) -> tuple[dict, list[str]]:
    """A tidied copy of ``data`` and a list of one-line problems (empty if it is valid).

    Tidying: numbers typed as text become ints, choices take their canonical spelling, and rows
    of non-fixed tables into which nothing was typed are dropped.
    """
    if not isinstance(data, dict):
        return {}, [f"A worksheet record must be a dict, got {type(data).__name__}"]
    out = copy.deepcopy(data)
    errors: list[str] = []
    for item in schema:
        if isinstance(item, Table):
            rows = out.get(item.key) or []
            if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                errors.append(f"{item.label} must be a list of rows")
                continue
            kept = []
            for number, row in enumerate(rows, start=1):
                if not item.fixed and is_blank_row(item, row):
                    continue
                for sub in item.fields:
                    if sub.kind == "computed":
                        continue
                    value, problem = _clean_value(sub, get(row, sub.key))
                    put(row, sub.key, value)
                    if problem:
                        ident = f" ({row['id']})" if str(row.get("id") or "").strip() else ""
                        errors.append(f"{item.row_name.capitalize()} {number}{ident}: {problem}")
                kept.append(row)
            out[item.key] = kept
        elif item.kind != "computed":
            value, problem = _clean_value(item, get(out, item.key))
            put(out, item.key, value)
            if problem:
                errors.append(problem)
    return out, errors
