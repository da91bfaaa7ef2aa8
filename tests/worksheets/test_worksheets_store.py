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


def test_draft_round_trip_and_cleared_by_its_forms_save(store):
    assert store.save_draft({"a": "typing"}, base_version=0, form="f1", seq=1)
    store.save_draft({"a": "other tab"}, base_version=0, form="f2", seq=4)
    assert [(d.data, d.base_version, d.form, d.seq) for d in store.drafts()] == [
        ({"a": "typing"}, 0, "f1", 1), ({"a": "other tab"}, 0, "f2", 4)]
    store.save({"a": "typing"}, form="f1", seq=1)
    assert [d.form for d in store.drafts()] == ["f2"]  # another form's typing is never removed by this save
    newest = store.load_draft()
    assert (newest.data, newest.version, newest.extra["form"]) == ({"a": "other tab"}, 0, "f2")


def test_a_draft_arriving_after_its_own_save_is_stale(store):
    """The register race: Save wrote version N, then a draft of the same typing (based on N-1) landed."""
    store.save({"a": 1})
    store.save({"a": 2}, form="f1", seq=7)
    assert store.save_draft({"a": 2}, base_version=1, form="f1", seq=7) is False
    assert store.save_draft({"a": 2}, base_version=1, form="f1", seq=6) is False
    assert store.drafts() == []
    assert store.save_draft({"a": 3}, base_version=2, form="f1", seq=8) is True  # typing after the save is kept


def test_lock_is_reentrant_in_one_thread(store):
    with store.lock(), store.lock():
        store.save({"a": 1})
    assert store.load().version == 1


def test_damaged_record_gives_one_line_error(store):
    store.save({"a": 1})
    store.record_path.write_text("{not json")
    with pytest.raises(DermAssistError) as info:
        store.load()
    assert "\n" not in str(info.value) and "history" in str(info.value)
