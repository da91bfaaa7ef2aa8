"""Atomic, versioned JSON records and the drafts of open forms: nothing a learner typed is ever lost.

Layout inside the learner's work folder::

    worksheets/<name>/record.json            the current record
    worksheets/<name>/history/v0001.json     every saved version, oldest first
    worksheets/<name>/drafts/<form>.json     unsaved typing of one open form (removed once saved)
    worksheets/<name>/.lock                  held while a record or draft is read-modified-written

Every write goes to a temporary file in the same folder and is then ``os.replace``-d over the
target: a crash leaves the old file or the new one, never half of one. Notebooks in other tabs run
in other kernels (processes), so writers take a file lock (``filelock``) around each
read-modify-write; inside one process the lock is shared and re-entrant.

Each open form keeps its own draft file, stamped with the version it started from (``base_version``),
the form's id and a change counter (``seq``). A save records which form saved and up to which
change, so a draft that arrives after its own form saved the same typing is recognised as stale.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from ..core.config import work_dir as _work_dir
from ..core.errors import DermAssistError
from ..core.files import atomic_write_bytes, atomic_write_text  # noqa: F401  (re-exported for the worksheets)

WORKSHEETS_FOLDER = "worksheets"
LOCK_SECONDS = 20  # a save takes milliseconds; waiting longer means something is stuck


class ConflictError(DermAssistError):
    """The record was saved elsewhere (another form or notebook) after this copy was loaded."""


@dataclass
class Record:
    """One saved version of a worksheet."""

    data: dict
    version: int
    saved_at: str
    extra: dict = field(default_factory=dict)


@dataclass
class Draft:
    """Unsaved typing of one open form, and where it started from."""

    data: dict
    base_version: int
    saved_at: str
    form: str
    seq: int
    path: Path


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _read(path: Path) -> dict | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DermAssistError(
            f"{path} is damaged ({exc}). Fix it by hand, or copy the newest file from "
            f"{path.parent / 'history'} over it."
        ) from None


def _dump(payload: dict) -> str:
    return json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


class Store:
    """The saved versions and open drafts of one worksheet in one work folder.

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
        self.drafts_dir = self.folder / "drafts"
        self.legacy_draft_path = self.folder / "draft.json"  # the one draft file of earlier releases

    # -- locking ----------------------------------------------------------------------------------
    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the worksheet's lock: other processes (and threads) wait; nested use in one thread is fine."""
        self.folder.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.folder / ".lock", timeout=LOCK_SECONDS, is_singleton=True)
        try:
            with lock:
                yield
        except Timeout:
            raise DermAssistError(
                f"The {self.name} worksheet is busy (another notebook has held {lock.lock_file} for "
                f"{LOCK_SECONDS} s). Your typing is kept; press Save again in a moment."
            ) from None

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

    def save(self, data: dict, expected_version: int | None = None, *, form: str = "", seq: int = 0,
             **extra) -> Record:
        """Save ``data`` as a new version; the old one stays in history.

        ``expected_version`` is the version the caller started from: if someone saved after that,
        :class:`ConflictError` is raised and nothing is written (:meth:`Worksheet.save` merges
        instead). ``form``/``seq`` say which form saved and up to which change (its draft is then
        removed, and later drafts of it up to ``seq`` count as stale). Saving unchanged data is a
        no-op apart from that.
        """
        with self.lock():
            current = self.load()
            current_version = current.version if current else 0
            if expected_version is not None and expected_version != current_version:
                raise ConflictError(
                    f"The {self.name} worksheet was saved elsewhere (now version {current_version}, "
                    f"this copy started from version {expected_version})."
                )
            if form:
                self.clear_draft(form)
            if current is not None and current.data == data:
                return current
            version = max([current_version, *self.versions()]) + 1
            stamp = {"form": form, "seq": seq} if form else {}
            payload = {"worksheet": self.name, "version": version, "saved_at": now(), **stamp, **extra, "data": data}
            text = _dump(payload)
            atomic_write_text(self.history_dir / f"v{version:04d}.json", text)
            atomic_write_text(self.record_path, text)
            return self._record(payload)

    # -- drafts (unsaved typing in open forms) ----------------------------------------------------
    def draft_path(self, form: str) -> Path:
        return self.drafts_dir / f"{form}.json"

    def save_draft(self, data: dict, base_version: int, form: str = "form", seq: int = 0) -> bool:
        """Keep one form's unsaved typing so a re-run, restart or reload cannot lose it.

        Returns False (and writes nothing) when the draft is stale: its form already saved this
        change or a later one. Atomic, not fsync'd (it is rewritten on every change).
        """
        with self.lock():
            if self.is_stale(form, seq, self.load()):
                return False
            payload = {"worksheet": self.name, "form": form, "seq": seq, "base_version": base_version,
                       "saved_at": now(), "data": data}
            atomic_write_text(self.draft_path(form), _dump(payload), durable=False)
            return True

    def drafts(self) -> list[Draft]:
        """Every draft left by a form, oldest first (including the single draft of earlier releases)."""
        paths = sorted(self.drafts_dir.glob("*.json")) if self.drafts_dir.is_dir() else []
        if self.legacy_draft_path.exists():
            paths.insert(0, self.legacy_draft_path)
        found = []
        for path in paths:
            try:
                raw = _read(path)
            except DermAssistError:
                continue  # a damaged draft must not stop the form from opening; the file stays for a look
            if raw is None or not isinstance(raw.get("data"), dict):
                continue
            found.append(Draft(self._upgraded(raw["data"]), int(raw.get("base_version", 0)), str(raw.get("saved_at", "")),
                               str(raw.get("form") or path.stem), int(raw.get("seq", 0)), path))
        return sorted(found, key=lambda d: d.saved_at)

    def load_draft(self) -> Record | None:
        """The newest draft as a record whose ``version`` is the version it started from (``None`` if none)."""
        drafts = self.drafts()
        if not drafts:
            return None
        newest = drafts[-1]
        return Record(newest.data, newest.base_version, newest.saved_at, {"form": newest.form, "seq": newest.seq})

    @staticmethod
    def is_stale(form: str, seq: int, record: Record | None) -> bool:
        """True when ``record`` was saved by ``form`` at change ``seq`` or later."""
        return bool(record and form and record.extra.get("form") == form and int(record.extra.get("seq", -1)) >= seq)

    def clear_draft(self, form: str) -> None:
        """Forget one form's draft (after it was saved)."""
        self.draft_path(form).unlink(missing_ok=True)

    def discard(self, drafts: list[Draft]) -> None:
        """Remove drafts whose typing is now saved, unless their form has written newer typing since."""
        with self.lock():
            for draft in drafts:
                raw = _read(draft.path) if draft.path.exists() else None
                if raw is not None and int(raw.get("seq", 0)) == draft.seq and raw.get("saved_at") == draft.saved_at:
                    draft.path.unlink(missing_ok=True)

    def _upgraded(self, data: dict) -> dict:
        return self.upgrade(data) if self.upgrade else data

    def _record(self, raw: dict | None) -> Record | None:
        if raw is None:
            return None
        extra = {k: v for k, v in raw.items() if k not in ("data", "version", "saved_at", "worksheet")}
        data = self._upgraded(dict(raw.get("data") or {}))
        return Record(data, int(raw.get("version", 0)), str(raw.get("saved_at", "")), extra)
