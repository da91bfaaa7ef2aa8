"""The three-way merge of two edits of a worksheet, and reading records saved before rows had IDs."""

import json

from helpers.worksheets import MoscowBoard, RiskRegister
from helpers.worksheets.merge import BOTH_TEXTS, merge
from helpers.worksheets.moscow import SCHEMA as MOSCOW
from helpers.worksheets.registry import get_spec
from helpers.worksheets.risk_register import SCHEMA as REGISTER


def _item(rid, text, rationale="", priority="Must"):
    return {"id": rid, "priority": priority, "text": text, "rationale": rationale, "story": "", "done": ""}


def test_each_side_keeps_what_only_it_changed():
    base = {"items": [_item("M1", "Upload", "old"), _item("M2", "Log", "old")]}
    mine = {"items": [_item("M1", "Upload", "mine"), _item("M2", "Log", "old")]}
    theirs = {"items": [_item("M1", "Upload", "old"), _item("M2", "Log", "theirs", "Should")]}
    result = merge(MOSCOW, base, mine, theirs)
    assert result.data["items"] == [_item("M1", "Upload", "mine"), _item("M2", "Log", "theirs", "Should")]
    assert result.note() == ""


def test_rows_are_matched_by_identity_not_position():
    base = {"items": [_item("M1", "A"), _item("M2", "B")]}
    mine = {"items": [_item("M2", "B", "why B")]}                      # removed A, explained B
    theirs = {"items": [_item("M1", "A"), _item("M2", "B"), _item("M3", "C")]}  # added C
    result = merge(MOSCOW, base, mine, theirs)
    assert [(i["id"], i["rationale"]) for i in result.data["items"]] == [("M2", "why B"), ("M3", "")]
    assert result.added == ["M3"] and "Kept M3, added elsewhere" in result.note()


def test_same_text_changed_in_both_places_keeps_both_and_says_where():
    base = {"items": [_item("M1", "Upload", "first idea")]}
    mine = {"items": [_item("M1", "Upload", "GPs asked for it")]}
    theirs = {"items": [_item("M1", "Upload", "The brief requires it")]}
    result = merge(MOSCOW, base, mine, theirs)
    assert result.data["items"][0]["rationale"] == "GPs asked for it" + BOTH_TEXTS + "The brief requires it"
    note = result.note()
    assert "both texts are kept in Rationale of M1" in note and "\n" not in note


def test_a_text_that_extends_the_other_is_not_doubled():
    base = {"items": [_item("M1", "Upload", "")]}
    mine = {"items": [_item("M1", "Upload", "GPs asked for it, and the brief too")]}
    theirs = {"items": [_item("M1", "Upload", "GPs asked for it")]}
    assert merge(MOSCOW, base, mine, theirs).data["items"][0]["rationale"] == "GPs asked for it, and the brief too"


def test_additions_at_the_end_on_both_sides_follow_the_old_text_once():
    base = {"items": [_item("M1", "Upload", "GPs asked for it.")]}
    mine = {"items": [_item("M1", "Upload", "GPs asked for it. So did the practice nurse.")]}
    theirs = {"items": [_item("M1", "Upload", "GPs asked for it.\n\nFinding from notebook 06: drift.")]}
    result = merge(MOSCOW, base, mine, theirs)
    assert result.data["items"][0]["rationale"] == (
        "GPs asked for it. So did the practice nurse.\n\nFinding from notebook 06: drift.")
    assert result.both == []


def test_a_row_removed_here_but_changed_elsewhere_is_kept():
    base = {"items": [_item("M1", "A", "old")]}
    theirs = {"items": [_item("M1", "A", "changed elsewhere")]}
    result = merge(MOSCOW, base, {"items": []}, theirs)
    assert result.data["items"] == theirs["items"] and result.kept == ["M1"]
    assert merge(MOSCOW, base, {"items": []}, base).data["items"] == []  # untouched elsewhere: removed


def test_new_rows_from_both_sides_are_kept_once_each():
    base = {"risks": []}
    row = {"id": "", "description": "Cold starts", "category": "User", "likelihood": 3, "impact": 2,
           "mitigation": "", "owner": "", "status": "Open", "notes": "", "source": ""}
    mine = {"risks": [row, dict(row, description="Bias")]}
    theirs = {"risks": [dict(row, id="R1")]}
    result = merge(REGISTER, base, mine, theirs)
    assert [r["description"] for r in result.data["risks"]] == ["Cold starts", "Bias"]


def test_choices_keep_this_forms_value_and_say_so():
    base = {"items": [_item("M1", "A", priority="Must")]}
    mine = {"items": [_item("M1", "A", priority="Could")]}
    theirs = {"items": [_item("M1", "A", priority="Should")]}
    result = merge(MOSCOW, base, mine, theirs)
    assert result.data["items"][0]["priority"] == "Could"
    assert "Your choice was kept for Priority of M1" in result.note()


def test_lines_keep_additions_from_both_sides():
    spec = get_spec("curveball_notes")
    entry = {"card_id": "budget_cut", "what_changed": "", "how_adapted": "", "who_led": "",
             "new_risks": ["R1 — a"], "moscow_changes": ["one"], "reflection": {}}
    mine = dict(entry, moscow_changes=["one", "two"])
    theirs = dict(entry, new_risks=["R1 — a", "R2 — b"], moscow_changes=["one", "three"])
    merged = merge(spec.schema, {"entries": [entry]}, {"entries": [mine]}, {"entries": [theirs]}).data
    assert merged["entries"][0]["new_risks"] == ["R1 — a", "R2 — b"]
    assert merged["entries"][0]["moscow_changes"] == ["one", "two", "three"]


# -- records saved before rows had IDs ---------------------------------------------------------------

def _write_old(wd, name, versions):
    """Write ``versions`` (oldest first) the way earlier releases did: no IDs, one draft.json."""
    folder = wd / "worksheets" / name
    (folder / "history").mkdir(parents=True)
    for number, data in enumerate(versions, start=1):
        text = json.dumps({"worksheet": name, "version": number, "saved_at": f"2026-01-0{number}T10:00:00+00:00",
                           "data": data})
        (folder / "history" / f"v{number:04d}.json").write_text(text)
        (folder / "record.json").write_text(text)
    return folder


def _old_item(text, rationale=""):
    return {"priority": "Must", "text": text, "rationale": rationale, "story": "", "done": ""}


def test_old_records_get_ids_when_read_and_keep_them_on_save(tmp_path):
    wd = tmp_path / "work"
    _write_old(wd, "moscow", [{"items": [_old_item("A"), _old_item("B")]}])
    board = MoscowBoard(wd)
    assert [i["id"] for i in board.items] == ["M1", "M2"]
    board.add_item("Could", "C", "nice to have")
    saved = json.loads((wd / "worksheets" / "moscow" / "record.json").read_text())
    assert [(i["id"], i["text"]) for i in saved["data"]["items"]] == [("M1", "A"), ("M2", "B"), ("M3", "C")]


def test_an_old_base_version_is_matched_to_the_current_rows_by_name(tmp_path):
    """v1 had A, B; v2 (saved elsewhere) dropped B and added D: an edit of A from v1 merges cleanly."""
    wd = tmp_path / "work"
    _write_old(wd, "moscow", [{"items": [_old_item("A"), _old_item("B")]},
                              {"items": [_old_item("A"), _old_item("D")]}])
    spec = get_spec("moscow")
    record = spec.save({"items": [_old_item("A", "edited from v1"), _old_item("B")]}, wd, base_version=1)
    assert [(i["text"], i["rationale"]) for i in record.data["items"]] == [("A", "edited from v1"), ("D", "")]


def test_an_old_single_draft_is_merged_not_restored_over_newer_work(tmp_path):
    """Earlier releases kept one draft.json; a 2-item draft must not hide 15 saved items."""
    wd = tmp_path / "work"
    two = [_old_item("Item 1"), _old_item("Item 2", "typed, never saved")]
    fifteen = [_old_item(f"Item {n}") for n in range(1, 16)]
    folder = _write_old(wd, "moscow", [{"items": two[:1] + [_old_item("Item 2")]}, {"items": fifteen}])
    (folder / "draft.json").write_text(json.dumps({"worksheet": "moscow", "base_version": 1,
                                                   "saved_at": "2026-01-01T11:00:00+00:00", "data": {"items": two}}))
    form = get_spec("moscow")
    from helpers.worksheets.forms import WorksheetForm

    form = WorksheetForm(form, wd)
    shown = form.value()["items"]
    assert len(shown) == 15
    assert shown[1]["rationale"] == "typed, never saved"
    assert "merged with version 2 saved since" in form.status.value
    assert form.save()
    assert not (folder / "draft.json").exists()
    assert len(MoscowBoard(wd).items) == 15


def test_register_ids_stay_unique_when_two_copies_add_risks(tmp_path):
    wd = tmp_path / "work"
    here, there = RiskRegister(wd), RiskRegister(wd)
    first = here.add_risk("Cold starts frustrate GPs", "User", 3, 3)
    second = there.add_risk("Skin-tone coverage unknown", "Data", 4, 4)  # `there` still thinks version 0
    assert (first, second) == ("R1", "R2")
    assert [r["id"] for r in RiskRegister(wd).risks] == ["R1", "R2"]
