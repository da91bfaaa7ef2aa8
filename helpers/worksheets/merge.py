"""Three-way merge of two edits of one worksheet, row by row and field by field.

``merge(schema, base, mine, theirs)``: ``base`` is the saved version both edits started from,
``mine`` the edit being saved (or a draft being restored), ``theirs`` what is saved now. Rows are
matched by their identity (:meth:`Table.row_id`), never by position, so an item added in one
notebook and a rationale edited in another both survive. The rules:

* a field changed on one side only takes that side's value;
* a text changed on both sides keeps **both texts** (unless one already contains the other, or both
  only added to the end of it: then both additions follow the old text), and the learner is told where; for a choice, number or tick box this form's value wins and that is said too;
* a row added on either side is kept; a row removed on one side goes, unless the other side changed
  it meanwhile (then it is kept, and said);
* lists of lines keep every line added on either side and drop lines removed on either side.

The rules are about the worksheet's schema (row identities, which fields are free text), which is
why this is not a generic JSON merge.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from .schema import Field, Table, get, put

BOTH_TEXTS = "\n\n— also saved elsewhere —\n"  # between this form's text and the other copy's (multi-line fields)
BOTH_LINE = " / "                              # the same for one-line fields


@dataclass
class Merged:
    """The merged record and what the learner should be told about it."""

    data: dict
    both: list[str] = field(default_factory=list)       # where both texts were kept
    mine_won: list[str] = field(default_factory=list)   # choices where this form's value was kept
    kept: list[str] = field(default_factory=list)       # rows kept although one side removed them
    added: list[str] = field(default_factory=list)      # rows (ids) the other side added

    @property
    def changed_fields_on_both_sides(self) -> bool:
        return bool(self.both or self.mine_won)

    def note(self) -> str:
        """One line for the status (empty when there is nothing to say)."""
        parts = []
        if self.added:
            parts.append(f"Kept {', '.join(self.added)}, added elsewhere while this form was open.")
        if self.both:
            parts.append(f"Changed here and elsewhere, so both texts are kept in {_listed(self.both)}: tidy them "
                         "and Save.")
        if self.mine_won:
            parts.append(f"Your choice was kept for {_listed(self.mine_won)}.")
        if self.kept:
            parts.append(f"Kept {_listed(self.kept)}: changed elsewhere after being removed here.")
        return " ".join(parts)


def _listed(names: list[str], most: int = 3) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def merge(schema: tuple, base: dict, mine: dict, theirs: dict) -> Merged:
    """Merge ``mine`` and ``theirs``, both edited from ``base`` (see the module docstring)."""
    base, mine, theirs = base or {}, mine or {}, theirs or {}
    out = Merged(copy.deepcopy(theirs))
    known = set()
    for item in schema:
        known.add(item.key.split(".")[0])
        if isinstance(item, Table):
            out.data[item.key] = _merge_rows(item, base.get(item.key) or [], mine.get(item.key) or [],
                                             theirs.get(item.key) or [], out)
        elif item.kind != "computed":
            put(out.data, item.key, _merge_value(item, get(base, item.key), get(mine, item.key),
                                                 get(theirs, item.key), item.label, out))
    for key, value in mine.items():  # anything outside the schema: this form's copy
        if key not in known:
            out.data[key] = copy.deepcopy(value)
    return out


def _merge_value(item: Field, b: Any, m: Any, t: Any, where: str, out: Merged) -> Any:
    if m == t or t == b:
        return copy.deepcopy(m)
    if m == b:
        return copy.deepcopy(t)
    if item.kind == "lines":
        b, m, t = list(b or []), list(m or []), list(t or [])
        kept = [x for x in m if x in t or x not in b]
        return kept + [x for x in t if x not in m and x not in b and x not in kept]
    if item.kind in ("text", "textarea"):
        base_text, mine_text, their_text = str(b or ""), str(m or ""), str(t or "")
        if not their_text.strip() or their_text.strip() in mine_text:
            return mine_text
        if not mine_text.strip() or mine_text.strip() in their_text:
            return their_text
        if base_text.strip() and mine_text.startswith(base_text) and their_text.startswith(base_text):
            return mine_text + their_text[len(base_text):]  # both only added to the end: keep both additions
        out.both.append(where)
        joint = BOTH_TEXTS if item.kind == "textarea" else BOTH_LINE
        return mine_text.rstrip() + joint + their_text.strip()
    out.mine_won.append(where)
    return copy.deepcopy(m)


def _values(table: Table, row: dict) -> tuple:
    return tuple(get(row, f.key) for f in table.fields if f.kind != "computed")


def _content(table: Table, row: dict) -> str:
    """A row's values without its identity (to spot the same new row added twice)."""
    return json.dumps([get(row, f.key) for f in table.fields if f.kind != "computed" and f.key != table.id_field],
                      sort_keys=True, default=str)


def _merge_row(table: Table, b: dict, m: dict, t: dict, name: str, out: Merged) -> dict:
    row = copy.deepcopy(t)
    for sub in table.fields:
        if sub.kind != "computed":
            put(row, sub.key, _merge_value(sub, get(b, sub.key), get(m, sub.key), get(t, sub.key),
                                           f"{sub.label} of {name}", out))
    return row


def _merge_rows(table: Table, base: list, mine: list, theirs: list, out: Merged) -> list:
    def by_id(rows):
        return {table.row_id(r): r for r in rows if table.row_id(r)}

    b, m, t = by_id(base), by_id(mine), by_id(theirs)
    ids = list(t) + [rid for rid in m if rid not in t]
    rows = []
    for rid in ids:
        old, me, them = b.get(rid), m.get(rid), t.get(rid)
        name = rid if table.id_field else f"“{rid}”"
        if me is not None and them is not None:
            rows.append(_merge_row(table, old or {}, me, them, name, out))
        elif them is not None:  # not in this form: removed here, or added elsewhere
            if old is None:
                rows.append(copy.deepcopy(them))
                out.added.append(name)
            elif _values(table, them) != _values(table, old):
                rows.append(copy.deepcopy(them))
                out.kept.append(name)
        elif old is None or _values(table, me) != _values(table, old):  # not saved: added here, or removed elsewhere
            rows.append(copy.deepcopy(me))
            if old is not None:
                out.kept.append(name)
    seen = {_content(table, r) for r in rows}
    for row in [r for r in mine if not table.row_id(r)] + [r for r in theirs if not table.row_id(r)]:
        if _content(table, row) not in seen:  # new rows (no ID yet); the same row added twice is kept once
            rows.append(copy.deepcopy(row))
            seen.add(_content(table, row))
    return rows
