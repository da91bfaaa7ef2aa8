"""Atomic, versioned saving of worksheet records."""

import json
import os

import pytest

from helpers.core.errors import DermAssistError
from helpers.worksheets.store import ConflictError, Store, atomic_write_text


@pytest.fixture
def store(tmp_path):
    return Store("moscow", tmp_path / "work")


def test_nothing_saved_yet(store):
    assert store.load() is None
    assert store.versions() == []
    assert store.previous() is None


def test_save_writes_record_and_history(store):
    first = store.save({"items": [1]})
    second = store.save({"items": [1, 2]})
    assert (first.version, second.version) == (1, 2)
    assert store.load().data == {"items": [1, 2]}
    assert store.versions() == [1, 2]
    assert store.version(1).data == {"items": [1]}
    assert store.previous().data == {"items": [1]}
    on_disk = json.loads(store.record_path.read_text())
    assert on_disk["worksheet"] == "moscow" and on_disk["version"] == 2


def test_saving_unchanged_data_adds_no_version(store):
    store.save({"a": 1})
    assert store.save({"a": 1}).version == 1
    assert store.versions() == [1]


def test_stale_copy_raises_conflict_and_writes_nothing(store):
    store.save({"a": 1})
    store.save({"a": 2}, expected_version=1)
    with pytest.raises(ConflictError):
        store.save({"a": 3}, expected_version=1)
    assert store.load().data == {"a": 2}
    assert store.versions() == [1, 2]


def test_failed_replace_keeps_old_file_and_no_temp_files(store, monkeypatch):
    store.save({"a": 1})

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        store.save({"a": 2})
    monkeypatch.undo()
    assert store.load().data == {"a": 1}
    leftovers = [p.name for p in store.folder.rglob("*.tmp")]
    assert leftovers == []


def test_atomic_write_replaces_whole_file(tmp_path):
    path = tmp_path / "f.txt"
    atomic_write_text(path, "old")
    atomic_write_text(path, "new")
    assert path.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]


def test_draft_round_trip_and_cleared_by_save(store):
    store.save_draft({"a": "typing"}, base_version=0)
    draft = store.load_draft()
    assert draft.data == {"a": "typing"} and draft.version == 0
    store.save({"a": "typing"})
    assert store.load_draft() is None


def test_damaged_record_gives_one_line_error(store):
    store.save({"a": 1})
    store.record_path.write_text("{not json")
    with pytest.raises(DermAssistError) as info:
        store.load()
    assert "\n" not in str(info.value) and "history" in str(info.value)
