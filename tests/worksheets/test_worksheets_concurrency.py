"""One worksheet, several writers: two open forms in one kernel, code cells of another notebook,
separate kernels (processes), and the Save-versus-last-keystroke race. Nothing typed is lost or hidden."""

import multiprocessing
import time

import pytest

from helpers.worksheets import MoscowBoard, RiskRegister, show
from helpers.worksheets import forms as forms_module
from helpers.worksheets.merge import BOTH_TEXTS
from helpers.worksheets.registry import get_spec


@pytest.fixture
def wd(tmp_path):
    return tmp_path / "work"


def _texts(wd):
    return [i["text"] for i in MoscowBoard(wd).items]


def test_the_two_tab_scenario_keeps_every_item_without_a_manual_merge(wd):
    """00 open in one tab; 05 in another adds three items; back in 00 a rationale is edited;
    05's board cell is re-run and saved; then 00 saves too."""
    show("moscow", wd, interactive=False)                 # the board as filled in 00
    tab_00 = show("moscow", wd)
    card = MoscowBoard(wd)                                 # notebook 05's card, through code
    for text in ("Serverless endpoint", "Cold-start warning", "Cost dashboard"):
        card.add_item("Should", text, "budget cut")
    tab_00._rows["items"][0]["rationale"].value = "Edited in 00 after the card"   # a draft against the old version

    tab_05 = show("moscow", wd)                            # re-running 05's board cell
    shown = [row["text"] for row in tab_05.value()["items"]]
    assert {"Serverless endpoint", "Cold-start warning", "Cost dashboard"} <= set(shown)
    assert tab_05.value()["items"][0]["rationale"] == "Edited in 00 after the card"
    assert "Restored unsaved changes" in tab_05.status.value
    assert tab_05.save()                                   # one press
    assert tab_00.save()                                   # and the stale tab saves without losing anything
    items = MoscowBoard(wd).items
    assert len(items) == 9 and len({i["id"] for i in items}) == 9
    assert items[0]["rationale"] == "Edited in 00 after the card"
    assert "also saved elsewhere" not in items[0]["rationale"]  # the same edit on both sides is not doubled
    assert show("moscow", wd).status.value.count("Saved") == 1  # nothing left over to restore


def test_both_tabs_changing_the_same_field_keep_both_texts_and_say_so_in_one_line(wd):
    show("moscow", wd, interactive=False)
    first, second = show("moscow", wd), show("moscow", wd)
    first._rows["items"][0]["rationale"].value = "Typed in the first tab"
    second._rows["items"][0]["rationale"].value = "Typed in the second tab"
    assert first.save() and second.save()
    saved = MoscowBoard(wd).items[0]["rationale"]
    assert saved == "Typed in the second tab" + BOTH_TEXTS + "Typed in the first tab"
    status = second.status.value
    assert "both texts are kept in Rationale of M1" in status
    assert second._rows["items"][0]["rationale"].value == saved  # the form shows what was saved


def test_rows_added_in_two_forms_get_distinct_ids(wd):
    first, second = show("risk_register", wd), show("risk_register", wd)
    first._rows["risks"][0]["description"].value = "GP over-trusts a confident output"
    second._rows["risks"][0]["description"].value = "Skin-tone coverage unknown"
    assert first.save() and second.save()
    risks = RiskRegister(wd).risks
    assert [(r["id"], r["description"]) for r in risks] == [
        ("R1", "GP over-trusts a confident output"), ("R2", "Skin-tone coverage unknown")]
    assert "Kept R1, added elsewhere" in second.status.value


def test_a_draft_never_hides_a_newer_save_after_rerun_restart_or_reload(wd):
    show("risk_register", wd, interactive=False)
    typed = show("risk_register", wd)
    typed._rows["risks"][0]["notes"].value = "Half-typed note"   # then the kernel restarts: the form is gone
    del typed
    new_id = RiskRegister(wd).add_risk("Cold starts frustrate GPs", "User", 3, 3)  # saved by another notebook
    for _ in range(2):                                           # re-run, then Run All again
        form = show("risk_register", wd)
        values = form.value()["risks"]
        assert values[0]["notes"] == "Half-typed note" and new_id in [r["id"] for r in values]
    assert form.save()
    assert RiskRegister(wd).risks[0]["notes"] == "Half-typed note"
    assert get_spec("risk_register").store(wd).drafts() == []


def test_typing_in_an_old_form_after_a_rerun_is_still_kept(wd):
    old = show("reflection", wd)
    old._fields["text"].value = "first words"
    new = show("reflection", wd)                   # the cell re-run: shows the draft
    assert new._fields["text"].value == "first words"
    old._fields["text"].value = "first words and more"   # the old form keeps typing (another view of it)
    reload = show("reflection", wd)
    assert reload._fields["text"].value == "first words and more"


def test_save_then_late_keystroke_is_saved_and_leaves_no_stale_draft(wd):
    """The register race: the click reaches the kernel before the last keystroke's update."""
    show("risk_register", wd, interactive=False)
    form = show("risk_register", wd)
    cell = form._rows["risks"][0]["mitigation"]
    cell.value = "Second reader for"                 # the update that made it in time
    form.save_button.click()                         # Save is processed ...
    cell.value = "Second reader for Red results"     # ... then the held-back keystrokes arrive
    record = get_spec("risk_register").load(wd)
    assert record.data["risks"][0]["mitigation"] == "Second reader for Red results"
    assert f"version {record.version}" in form.status.value and "Saved" in form.status.value
    assert get_spec("risk_register").store(wd).drafts() == []
    rerun = show("risk_register", wd)
    assert "Restored" not in rerun.status.value and all(r["id"] for r in rerun.value()["risks"])


def test_typing_long_after_a_save_is_a_draft_not_a_save(wd, monkeypatch):
    form = show("reflection", wd)
    form._fields["text"].value = "saved words"
    form.save_button.click()
    clock = time.monotonic() + forms_module.FOLD_SECONDS + 1
    monkeypatch.setattr(forms_module.time, "monotonic", lambda: clock)
    form._fields["text"].value = "saved words, then more"
    assert get_spec("reflection").load(wd).data["text"] == "saved words"
    assert "Unsaved changes" in form.status.value
    assert [d.data["text"] for d in get_spec("reflection").store(wd).drafts()] == ["saved words, then more"]


def test_a_keystroke_after_a_save_that_added_rows_lands_in_the_box_still_shown(wd):
    show("moscow", wd, interactive=False)
    form = show("moscow", wd)
    old_box = form._rows["items"][0]["rationale"]
    MoscowBoard(wd).add_item("Could", "Added elsewhere", "")
    assert form.save()                                # merged: a row more, appended; the rows shown keep their boxes
    assert form._rows["items"][0]["rationale"] is old_box
    assert form._rows["items"][-1]["text"].value == "Added elsewhere"
    old_box.value = "typed into the old box"
    assert form._rows["items"][0]["rationale"].value == "typed into the old box"
    assert [d.data["items"][0]["rationale"] for d in get_spec("moscow").store(wd).drafts()] == [
        "typed into the old box"]


def test_a_late_keystroke_in_a_new_row_lands_in_that_row_when_another_writer_added_rows(wd):
    """The register race with the card's risks saved while the form was open: Save merges them in (the
    learner's row is saved after the card's), then the held-back keystroke arrives in the learner's box.
    It belongs to the learner's row (matched by identity), never to the row saved at its old position
    (the card's first risk), and the box stays shown, so the browser keeps typing into it."""
    form = show("risk_register", wd)                  # nothing saved yet: one blank row
    register = RiskRegister(wd)                       # the card, in another notebook
    card = [register.add_risk("Clinical data is reused for marketing without a lawful basis", "Ethical/Compliance", 3, 4),
            register.add_risk("Patients are not told their photos train the model", "Ethical/Compliance", 2, 4)]
    before = {r["id"]: r for r in RiskRegister(wd).risks}
    old_box = form._rows["risks"][0]["description"]
    old_box.value = "Model misses melanoma on "        # the update that made it in time
    form.save_button.click()                           # merged with the card's risks
    assert any(c["description"] is old_box for c in form._rows["risks"]), "the box being typed in was replaced"
    old_box.value = "Model misses melanoma on darker skin"  # the held-back keystrokes reach the box
    risks = {r["id"]: r for r in RiskRegister(wd).risks}
    assert all(risks[rid] == before[rid] for rid in card), f"a card's risk was overwritten: {risks}"
    mine = [r for rid, r in risks.items() if rid not in card]
    assert [r["description"] for r in mine] == ["Model misses melanoma on darker skin"]
    shown = sorted(c["description"].value for c in form._rows["risks"])
    assert shown == sorted(r["description"] for r in risks.values()), shown
    assert get_spec("risk_register").store(wd).drafts() == []
    assert "Saved" in form.status.value


def test_removing_a_row_keeps_the_other_rows_typing_in_place(wd):
    form = show("moscow", wd)
    form.add_row("items")
    form.add_row("items")
    rows = form._rows["items"]
    third = rows[2]["text"]
    form.remove_row("items", rows[0])
    third.value = "typed in the third row"
    assert [c["text"].value for c in form._rows["items"]] == ["", "typed in the third row"]
    assert "Item 2" in form._row_parts["items"][1][1].value


def test_forms_have_a_restart_hint_and_no_raw_widget_repr(wd, monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append(obj))
    monkeypatch.setattr("helpers.core.display._shell", lambda: object())
    form = show("moscow", wd)
    form._ipython_display_()
    widget, hint = shown
    assert "application/vnd.jupyter.widget-view+json" in widget
    assert "VBox(" not in widget["text/plain"] and "MoSCoW board" in widget["text/plain"]
    # After a restart the form's cell needs ``ctx`` from the cells above: the hint says to run those first.
    for text in (hint["text/plain"], hint["text/html"]):
        assert "Run All Above Selected Cell" in text and "then run this cell" in text, text


# -- separate kernels: processes ----------------------------------------------------------------------

def _add_items(work_dir, prefix, count, start):
    start.wait()
    board = MoscowBoard(work_dir)
    for n in range(count):
        board.add_item("Could", f"{prefix} {n}", "from another kernel")


def _save_form(work_dir, field, text, start):
    form = show("reflection", work_dir)
    form._fields[field].value = text
    start.wait()
    assert form.save()


def _run(target, args_list):
    context = multiprocessing.get_context("spawn")  # separate interpreters, like two notebook kernels
    start = context.Barrier(len(args_list))
    workers = [context.Process(target=target, args=(*args, start)) for args in args_list]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0] * len(workers)


def test_two_kernels_adding_items_at_once_lose_nothing(wd):
    _run(_add_items, [(wd, "Kernel A", 6), (wd, "Kernel B", 6)])
    texts = _texts(wd)
    assert sorted(texts) == sorted([f"Kernel A {n}" for n in range(6)] + [f"Kernel B {n}" for n in range(6)])
    items = MoscowBoard(wd).items
    assert len({i["id"] for i in items}) == 12
    store = get_spec("moscow").store(wd)
    assert store.versions() == list(range(1, 13))


def test_two_kernels_saving_forms_at_once_merge(wd):
    _run(_save_form, [(wd, "author", "Group B"), (wd, "text", "Words from the other kernel")])
    assert get_spec("reflection").load(wd).data == {"author": "Group B", "text": "Words from the other kernel"}
