"""What every worksheet has in common: blank, example, validate, open, save (merging) and export."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..core.config import work_dir as _work_dir
from ..core.errors import BadInputError
from . import markdown as md
from . import schema as sch
from .merge import Merged, merge
from .store import WORKSHEETS_FOLDER, Draft, Record, Store, atomic_write_bytes, atomic_write_text
from .templates import example, guidance

EXPORTS_FOLDER = "exports"


def _nothing(_data: dict) -> list[str]:
    return []


def _fold(text) -> str:
    return " ".join(str(text or "").casefold().split()).rstrip(".")


@dataclass
class Opened:
    """What a form shows when it opens: the saved record with every open draft merged in."""

    data: dict
    record: Record | None
    drafts: list[Draft] = field(default_factory=list)  # drafts whose typing is in ``data``
    merged: Merged | None = None                      # notes from merging them

    @property
    def base_version(self) -> int:
        return self.record.version if self.record else 0


@dataclass(frozen=True)
class Worksheet:
    """One worksheet: its schema, its template and how it is checked and written out."""

    name: str
    title: str
    template: str
    schema: tuple
    body: Callable[[dict], str]                       # Markdown body (no title)
    normalise: Callable[[dict], dict] = lambda d: d   # after cleaning and IDs: canonical rows
    check: Callable[[dict], list[str]] = _nothing     # cross-field problems (block saving)
    advice: Callable[[dict], list[str]] = _nothing    # suggestions (never block)
    frame: Callable[[dict], pd.DataFrame] | None = None  # the CSV export, if tabular
    make_blank: Callable[[], dict] | None = None
    images: Callable[[dict], dict[str, bytes]] | None = None  # extra exported files, e.g. a heat map
    example_filler: Callable[[object], Record] | None = None  # when the example is more than one record
    upgrade: Callable[[dict], dict] | None = None  # data saved by an older pack, read in today's shape

    # -- records ----------------------------------------------------------------------------------
    def blank(self) -> dict:
        """The empty record a new form starts from."""
        return self.make_blank() if self.make_blank else sch.blank(self.schema)

    def example(self) -> dict:
        """The realistic example record (used by papermill/CI and as a model answer)."""
        return self.validated(example(self.name))

    def validate(self, data: dict) -> tuple[dict, list[str]]:
        """A tidied copy of ``data`` and its problems (an empty list means it can be saved).

        Rows saved for the first time get their IDs here (R1, R2, ... / M1, M2, ...).
        """
        cleaned, errors = sch.clean(self.schema, data)
        if errors:
            return cleaned, errors
        cleaned = self.normalise(self.assign_ids(cleaned))
        return cleaned, self.check(cleaned) + self._duplicate_ids(cleaned)

    def assign_ids(self, data: dict, reference: dict | None = None, fresh: bool = True) -> dict:
        """Give every row without an ID the next free one, in place; return ``data``.

        Rows of records saved before rows had IDs get theirs here when they are read (migration
        on read). With a ``reference`` record (the current one, when reading an old version), a
        row takes the ID of the reference row with the same name, so both copies agree.
        ``fresh=False`` only does the latter: rows typed as new stay new until they are saved.
        """
        for table in self.schema:
            if not (isinstance(table, sch.Table) and table.id_prefix):
                continue
            rows = data.get(table.key) or []
            pattern = re.compile(rf"{re.escape(table.id_prefix)}(\d+)", re.IGNORECASE)
            others = (reference or {}).get(table.key) or []
            numbers = [int(m.group(1)) for r in [*rows, *others]
                       if (m := pattern.fullmatch(str(r.get(table.id_field) or "").strip()))]
            next_number = max(numbers, default=0) + 1
            used = {table.row_id(r) for r in rows}
            named = {}
            if table.natural_key:
                named = {_fold(r.get(table.natural_key)): table.row_id(r) for r in others if table.row_id(r)}
            for row in rows:
                if table.row_id(row):
                    continue
                known = named.get(_fold(row.get(table.natural_key))) if table.natural_key else None
                if known and known not in used:
                    row[table.id_field] = known
                elif not fresh:
                    continue
                else:
                    row[table.id_field] = f"{table.id_prefix}{next_number}"
                    next_number += 1
                used.add(row[table.id_field])
        return data

    def _duplicate_ids(self, data: dict) -> list[str]:
        problems = []
        for table in self.schema:
            if isinstance(table, sch.Table) and table.id_field and table.id_prefix:
                seen = set()
                for row in data.get(table.key) or []:
                    rid = table.row_id(row)
                    if rid in seen:
                        problems.append(f"Two {table.row_name}s share the ID {rid}; give one of them another ID")
                    seen.add(rid)
        return problems

    def validated(self, data: dict) -> dict:
        """Like :meth:`validate` but raises :class:`BadInputError` (one line) on a problem."""
        cleaned, errors = self.validate(data)
        if errors:
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise BadInputError(f"{self.title}: {errors[0]}{more}.")
        return cleaned

    def fill_example(self, work_dir=None) -> Record:
        """Save the example data as this worksheet's record (non-interactive runs only)."""
        if self.example_filler is not None:
            return self.example_filler(work_dir)
        return self.save(self.example(), work_dir)

    # -- files ------------------------------------------------------------------------------------
    def store(self, work_dir: str | os.PathLike | None = None) -> Store:
        return Store(self.name, work_dir, upgrade=self.upgrade)

    def load(self, work_dir: str | os.PathLike | None = None) -> Record | None:
        """The saved record (rows of old files get their IDs on the way), or ``None``."""
        record = self.store(work_dir).load()
        if record is not None:
            record.data = self.assign_ids(record.data)
        return record

    def _base(self, store: Store, version: int, current: Record | None) -> dict:
        """The saved version ``version`` as the common ancestor of a merge ({} if it is gone)."""
        if version <= 0:
            return self.blank()
        old = store.version(version)
        if old is None:
            return {}  # unknown ancestor: every difference counts as changed on both sides, so nothing is dropped
        return self.assign_ids(old.data, reference=current.data if current else None)

    def open(self, work_dir=None, exclude_form: str = "") -> Opened:
        """The saved record with the typing of every open or left-behind draft merged in.

        A draft started from an older version is merged with what was saved since, never restored
        over it. A draft whose typing is already saved is stale and removed.
        """
        store = self.store(work_dir)
        with store.lock():
            record = self.load(work_dir)
            data = record.data if record else self.blank()
            opened = Opened(data, record)
            for draft in store.drafts():
                if draft.form == exclude_form:
                    continue
                if store.is_stale(draft.form, draft.seq, record):
                    draft.path.unlink(missing_ok=True)
                    continue
                typed, _problems = sch.clean(self.schema, draft.data)  # half-typed values are kept as they are
                base = self._base(store, draft.base_version, record)
                result = merge(self.schema, base, self.assign_ids(typed, base, fresh=False), opened.data)
                if result.data == opened.data:
                    draft.path.unlink(missing_ok=True)  # nothing in it that is not saved
                    continue
                opened.data = result.data
                opened.drafts.append(draft)
                if opened.merged is None:
                    opened.merged = result
                else:
                    for name in ("both", "mine_won", "kept", "added"):
                        getattr(opened.merged, name).extend(getattr(result, name))
        return opened

    def save(self, data: dict, work_dir=None, base_version: int | None = None, **stamp) -> Record:
        """Validate, save atomically as a new version, and refresh the Markdown/CSV exports.

        ``base_version`` is the version ``data`` was edited from: if something was saved since,
        the two are merged (see :mod:`.merge`) instead of one overwriting the other.
        """
        return self.save_merged(data, work_dir, base_version, **stamp)[0]

    def save_merged(self, data: dict, work_dir=None, base_version: int | None = None, *, form: str = "",
                    seq: int = 0, drafts: list[Draft] = ()) -> tuple[Record, Merged | None]:
        """:meth:`save`, also returning the merge (``None`` when nothing was saved in between).

        ``form``/``seq`` stamp the record with the form and change it saves; ``drafts`` are drafts
        whose typing ``data`` includes: they are removed once saved.
        """
        cleaned, errors = sch.clean(self.schema, data)
        if errors:
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise BadInputError(f"{self.title}: {errors[0]}{more}.")
        store = self.store(work_dir)
        merged = None
        with store.lock():
            current = self.load(work_dir)
            if base_version is not None and current is not None and base_version != current.version:
                base = self._base(store, base_version, current)
                merged = merge(self.schema, base, self.assign_ids(cleaned, base, fresh=False), current.data)
                cleaned = merged.data
            record = store.save(self.validated(cleaned), form=form, seq=seq)
            if drafts:
                store.discard(list(drafts))
        self.export(record.data, work_dir, record)
        return record, merged

    def export(self, data: dict, work_dir=None, record: Record | None = None) -> list[Path]:
        """Write ``exports/<name>.md`` (and ``.csv`` for tabular worksheets); return the paths."""
        folder = _work_dir(work_dir) / WORKSHEETS_FOLDER / EXPORTS_FOLDER
        paths = [atomic_write_text(folder / f"{self.name}.md", self.to_markdown(data, record))]
        if self.frame is not None:
            paths.append(atomic_write_text(folder / f"{self.name}.csv", self.frame(data).to_csv(index=False)))
        for filename, content in (self.images(data) if self.images else {}).items():
            paths.append(atomic_write_bytes(folder / filename, content))
        return paths

    # -- text -------------------------------------------------------------------------------------
    def to_markdown(self, data: dict, record: Record | None = None, level: int = 1) -> str:
        """The whole worksheet as readable Markdown (title, saved version, answers, advice)."""
        parts = [f"{'#' * level} {self.title}"]
        if record is not None:
            parts.append(f"_Saved {record.saved_at} (version {record.version})._")
        body = self.body(data)
        if level > 1:  # demote the body's headings under the title
            body = "\n".join(("#" * (level - 1) + line) if line.startswith("#") else line for line in body.splitlines())
        parts.append(body)
        tips = self.advice(data)
        if tips:
            parts.append(f"{'#' * (level + 1)} Advice\n\n" + md.bullets(tips))
        return "\n\n".join(parts) + "\n"

    def help_texts(self) -> dict[str, str]:
        """Guidance per section heading, from the Markdown template (empty for CSV templates)."""
        return guidance(self.template) if self.template.endswith(".md") else {}
