"""What every worksheet has in common: blank, example, validate, save, load and export."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..core.config import work_dir as _work_dir
from ..core.errors import BadInputError
from . import markdown as md
from . import schema as sch
from .store import WORKSHEETS_FOLDER, Record, Store, atomic_write_bytes, atomic_write_text
from .templates import example, guidance

EXPORTS_FOLDER = "exports"


def _nothing(_data: dict) -> list[str]:
    return []


@dataclass(frozen=True)
class Worksheet:
    """One worksheet: its schema, its template and how it is checked and written out."""

    name: str
    title: str
    template: str
    schema: tuple
    body: Callable[[dict], str]                       # Markdown body (no title)
    normalise: Callable[[dict], dict] = lambda d: d   # after cleaning: ids, canonical rows
    check: Callable[[dict], list[str]] = _nothing     # cross-field problems (block saving)
    advice: Callable[[dict], list[str]] = _nothing    # suggestions (never block)
    frame: Callable[[dict], pd.DataFrame] | None = None  # the CSV export, if tabular
    make_blank: Callable[[], dict] | None = None
    merge: Callable[[dict, dict, dict], tuple[dict, str]] | None = None  # (base, mine, theirs)
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
        """A tidied copy of ``data`` and its problems (an empty list means it can be saved)."""
        cleaned, errors = sch.clean(self.schema, data)
        if errors:
            return cleaned, errors
        cleaned = self.normalise(cleaned)
        return cleaned, self.check(cleaned)

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
        """The saved record, or ``None``."""
        return self.store(work_dir).load()

    def save(self, data: dict, work_dir=None, expected_version: int | None = None) -> Record:
        """Validate, save atomically as a new version, and refresh the Markdown/CSV exports."""
        cleaned = self.validated(data)
        record = self.store(work_dir).save(cleaned, expected_version=expected_version)
        self.export(record.data, work_dir, record)
        return record

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
