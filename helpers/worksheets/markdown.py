"""Small Markdown writers shared by the worksheet exports (text in, text out)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .schema import Field, Table, get

NOT_FILLED = "_(not filled in yet)_"


def cell(value) -> str:
    """One table cell: a single line with pipes escaped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        value = "; ".join(str(v) for v in value)
    return " ".join(str(value).split()).replace("|", "\\|")


def table(headers: Sequence[str], rows: Iterable[Sequence]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def text(value) -> str:
    """A free-text answer as a paragraph, or a visible placeholder when empty."""
    if isinstance(value, (list, tuple)):
        return "\n".join(f"- {v}" for v in value) if value else NOT_FILLED
    if isinstance(value, bool):
        return "Yes" if value else "No"
    value = "" if value is None else str(value).strip()
    return value if value else NOT_FILLED


def bullets(items: Iterable[str], empty: str = "") -> str:
    """A bullet list (or ``empty`` when there is nothing)."""
    items = list(items)
    return "\n".join(f"- {i}" for i in items) if items else empty


def fields(schema: Iterable, data: dict, level: int = 2) -> str:
    """Each plain field of ``schema`` as a heading and its answer (tables are skipped)."""
    parts = []
    for item in schema:
        if isinstance(item, Table) or item.kind == "computed":
            continue
        parts.append(f"{'#' * level} {item.label}\n\n{text(get(data, item.key))}")
    return "\n\n".join(parts)


def rows(table_spec: Table, data: dict) -> str:
    """A table's rows as a Markdown table (computed columns skipped)."""
    columns: list[Field] = [f for f in table_spec.fields if f.kind != "computed"]
    body = [[get(row, f.key) for f in columns] for row in data.get(table_spec.key) or []]
    if not body:
        return NOT_FILLED
    return table([f.label for f in columns], body)
