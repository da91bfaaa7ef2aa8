"""Atomic, versioned JSON records: nothing a learner saved is ever lost.

Layout inside the learner's work folder::

    worksheets/<name>/record.json          the current record
    worksheets/<name>/history/v0001.json   every saved version, oldest first
    worksheets/<name>/draft.json           unsaved typing from an open form (removed on Save)

Every write goes to a temporary file in the same folder, is flushed and fsync'd, and then
``os.replace``-d over the target: a crash leaves the old file or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..core.config import work_dir as _work_dir
from ..core.errors import DermAssistError
from ..core.files import atomic_write_bytes, atomic_write_text  # noqa: F401  (re-exported for the worksheets)

WORKSHEETS_FOLDER = "worksheets"


class ConflictError(DermAssistError):
    """The record was saved elsewhere (another form or notebook) after this copy was loaded."""


@dataclass
class Record:
    """One saved version of a worksheet."""

    data: dict
    version: int
    saved_at: str
    extra: dict = field(default_factory=dict)


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _read(path: Path) -> dict | None:
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DermAssistError(
            f"{path} is damaged ({exc}). Fix it by hand, or copy the newest file from "
            f"{path.parent / 'history'} over it."
        ) from None


def _dump(payload: dict) -> str:
    return json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


class Store:
    """The saved versions of one worksheet in one work folder.

    ``upgrade`` turns data saved by an older version of the pack into today's shape (e.g. a
    renamed id); it is applied to everything read (records, history, drafts), never written back.
    """

    def __init__(self, name: str, work_dir: str | os.PathLike | None = None,
                 upgrade: Callable[[dict], dict] | None = None):
        self.name = name
        self.upgrade = upgrade
        self.folder = _work_dir(work_dir) / WORKSHEETS_FOLDER / name
        self.record_path = self.folder / "record.json"
        self.history_dir = self.folder / "history"
        self.draft_path = self.folder / "draft.json"

    # -- saved versions -------------------------------------------------------------------------
    def load(self) -> Record | None:
        """The current record, or ``None`` if nothing was saved yet."""
        return self._record(_read(self.record_path))

    def versions(self) -> list[int]:
        """Version numbers kept in history, oldest first."""
        if not self.history_dir.is_dir():
            return []
        found = []
        for path in self.history_dir.glob("v*.json"):
            try:
                found.append(int(path.stem[1:]))
            except ValueError:
                continue
        return sorted(found)

    def version(self, number: int) -> Record | None:
        """One version from history, or ``None`` if there is no such version."""
        return self._record(_read(self.history_dir / f"v{number:04d}.json"))

    def previous(self) -> Record | None:
        """The version saved before the current one (``None`` if there is none)."""
        current = self.load()
        older = [v for v in self.versions() if current is None or v < current.version]
        return self.version(older[-1]) if older else None

    def save(self, data: dict, expected_version: int | None = None, **extra) -> Record:
        """Save ``data`` as a new version; the old one stays in history.

        ``expected_version`` is the version the caller started from: if someone saved after that,
        :class:`ConflictError` is raised and nothing is written. Saving unchanged data is a no-op.
        """
        current = self.load()
        current_version = current.version if current else 0
        if expected_version is not None and expected_version != current_version:
            raise ConflictError(
                f"The {self.name} worksheet was saved elsewhere (now version {current_version}, "
                f"this copy started from version {expected_version})."
            )
        if current is not None and current.data == data:
            self.clear_draft()
            return current
        version = max([current_version, *self.versions()]) + 1
        payload = {"worksheet": self.name, "version": version, "saved_at": now(), **extra, "data": data}
        text = _dump(payload)
        atomic_write_text(self.history_dir / f"v{version:04d}.json", text)
        atomic_write_text(self.record_path, text)
        self.clear_draft()
        return self._record(payload)

    # -- drafts (unsaved typing in an open form) ------------------------------------------------
    def save_draft(self, data: dict, base_version: int) -> None:
        """Keep unsaved typing so re-running a cell cannot lose it (atomic, not fsync'd)."""
        payload = {"worksheet": self.name, "base_version": base_version, "saved_at": now(), "data": data}
        atomic_write_text(self.draft_path, _dump(payload), durable=False)

    def load_draft(self) -> Record | None:
        """The unsaved draft, if any; ``version`` is the saved version it started from."""
        raw = _read(self.draft_path)
        if raw is None or not isinstance(raw.get("data"), dict):
            return None
        return Record(self._upgraded(raw["data"]), int(raw.get("base_version", 0)), str(raw.get("saved_at", "")))

    def clear_draft(self) -> None:
        """Forget the draft (after a successful save)."""
        self.draft_path.unlink(missing_ok=True)

    def _upgraded(self, data: dict) -> dict:
        return self.upgrade(data) if self.upgrade else data

    def _record(self, raw: dict | None) -> Record | None:
        if raw is None:
            return None
        extra = {k: v for k, v in raw.items() if k not in ("data", "version", "saved_at", "worksheet")}
        data = self._upgraded(dict(raw.get("data") or {}))
        return Record(data, int(raw.get("version", 0)), str(raw.get("saved_at", "")), extra)
