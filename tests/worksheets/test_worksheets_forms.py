"""Forms and show(): pre-filled from saved work, drafts, validation in the status, conflicts,
and the no-overwrite rule, including a simulated re-run of a whole notebook over saved work."""

import json

import ipywidgets as widgets
import pytest

from helpers.worksheets import NAMES, RiskRegister, show
from helpers.worksheets.forms import WorksheetForm
from helpers.worksheets.registry import get_spec


@pytest.fixture
def wd(tmp_path):
    return tmp_path / "work"


def _snapshot(wd):
    """Every file under worksheets/ except the derived exports, with its bytes."""
    root = wd / "worksheets"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
            if p.is_file() and "exports" not in p.parts}


@pytest.mark.parametrize("name", NAMES)
def test_every_worksheet_renders_saves_reloads_and_exports(wd, name):
    data = show(name, wd, interactive=False)  # from the example data
    spec = get_spec(name)
    assert f"## {spec.title}" in data._repr_markdown_()  # a notebook shows the summary, not a dict
    assert spec.load(wd).data == data
    exports = wd / "worksheets" / "exports"
    assert (exports / f"{name}.md").read_text(encoding="utf-8").startswith(f"# {spec.title}")
    if spec.frame is not None:
        assert (exports / f"{name}.csv").is_file()
    form = show(name, wd)
    assert isinstance(form, WorksheetForm) and isinstance(form, widgets.VBox)
    assert spec.validate(form.value())[0] == data  # the form shows exactly the saved record
    assert "Saved" in form.status.value


@pytest.mark.parametrize("name", NAMES)
def test_blank_form_starts_from_the_template_and_says_not_saved(wd, name):
    form = show(name, wd)
    assert "Not saved yet" in form.status.value
    assert get_spec(name).load(wd) is None  # opening a form writes nothing


def test_non_interactive_never_touches_a_saved_record(wd):
    form = show("reflection", wd)
    form._fields["text"].value = "My own words about the workshop."
    assert form.save()
    before = _snapshot(wd)
    data = show("reflection", wd, interactive=False)
    assert data["text"] == "My own words about the workshop."
    assert _snapshot(wd) == before


def test_rerunning_a_whole_notebook_over_learner_work_changes_nothing(wd):
    """A learner fills every worksheet; then every cell of every notebook runs again, both ways."""
    for name in NAMES:
        show(name, wd, interactive=False)
    typed = show("risk_register", wd)
    typed._rows["risks"][0]["mitigation"].value = "Typed by the learner"
    assert typed.save()
    register = RiskRegister(wd)
    register.add_risk("Learner's own risk", "User", 2, 4)
    before = _snapshot(wd)

    for name in NAMES:                       # "Run all" with the front end ...
        form = show(name, wd)
        assert "Saved" in form.status.value
    for name in NAMES:                       # ... and under papermill
        show(name, wd, interactive=False)
    # Code cells that add items and risks are re-run too: they must not duplicate or overwrite.
    register.add_risk("Learner's own risk", "User", 5, 5)
    from helpers.worksheets import MoscowBoard
    board = MoscowBoard(wd)
    board.add_item("Must", board.items[0]["text"], "a different rationale from a re-run")

    assert _snapshot(wd) == before
    assert RiskRegister(wd).risks[0]["mitigation"] == "Typed by the learner"


def test_unsaved_typing_survives_a_rerun_as_a_draft(wd):
    form = show("dpia", wd)
    form._fields["purpose"].value = "Half-typed purpose"
    rerun = show("dpia", wd)  # the learner re-runs the cell before pressing Save
    assert rerun._fields["purpose"].value == "Half-typed purpose"
    assert "Restored unsaved changes" in rerun.status.value
    assert rerun.save()
    assert get_spec("dpia").load(wd).data["purpose"] == "Half-typed purpose"
    assert get_spec("dpia").store(wd).drafts() == []


def test_bad_values_show_in_the_status_and_keep_the_typing(wd):
    form = show("risk_register", wd)
    cells = form._rows["risks"][0]
    cells["description"].value = "GP over-trusts a confident output"
    cells["likelihood"].value = 7
    assert form.save() is False
    assert "Likelihood must be from 1 to 5 (got 7)" in form.status.value
    assert "Traceback" not in form.status.value
    assert cells["likelihood"].value == 7 and cells["description"].value.startswith("GP")
    assert get_spec("risk_register").load(wd) is None
    cells["likelihood"].value = 3
    assert form.save()
    assert form._rows["risks"][0]["id"].value == "R1"  # the saved ID is shown


def test_empty_description_with_other_text_is_an_error(wd):
    form = show("risk_register", wd)
    form._rows["risks"][0]["mitigation"].value = "Some mitigation"
    assert not form.save()
    assert "Description is empty" in form.status.value


def test_save_keeps_previous_versions(wd):
    form = show("reflection", wd)
    form._fields["text"].value = "first"
    form.save()
    form._fields["text"].value = "second"
    form.save()
    store = get_spec("reflection").store(wd)
    assert [store.version(v).data["text"] for v in store.versions()] == ["first", "second"]
    assert "version 2" in form.status.value


def test_register_form_keeps_risks_added_by_code_while_open(wd):
    show("risk_register", wd, interactive=False)
    form = show("risk_register", wd)
    new_id = RiskRegister(wd).add_risk("Cold starts frustrate GPs", "User", 3, 3)  # e.g. the curveball notebook
    form._rows["risks"][0]["owner"].value = "Data lead (Aisha)"
    assert form.save()
    saved = RiskRegister(wd).risks
    assert new_id in [r["id"] for r in saved]
    assert saved[0]["owner"] == "Data lead (Aisha)"
    assert f"Kept {new_id}" in form.status.value


def test_two_open_forms_merge_field_by_field(wd):
    old = show("reflection", wd)
    newer = show("reflection", wd)
    newer._fields["text"].value = "saved elsewhere"
    assert newer.save()
    old._fields["author"].value = "Group B"
    assert old.save()  # no second press, no lost text: each form changed a different field
    saved = get_spec("reflection").load(wd).data
    assert saved == {"author": "Group B", "text": "saved elsewhere"}
    assert old._fields["text"].value == "saved elsewhere"  # the form now shows the merged record


def test_reflection_form_counts_words_live(wd):
    form = show("reflection", wd)
    assert form._fields["text"].continuous_update is True
    form._fields["text"].value = "one two three"
    counts = [out.value for field, out, _t, _i in form._computed if field.key == "count"]
    assert counts == ["3 words (target 300–400): 297 to go"]


def test_a_half_typed_value_shows_a_dash_but_a_bug_is_not_hidden(wd):
    from types import SimpleNamespace

    form = show("reflection", wd)
    _item, output, table, index = form._computed[0]

    def half_typed(_data):
        return int("3 o")  # ValueError, as a number being typed

    form._computed[0] = (SimpleNamespace(compute=half_typed), output, table, index)
    form._refresh()
    assert output.value == "—"
    form._computed[0] = (SimpleNamespace(compute=lambda data: data["no such key"]), output, table, index)
    with pytest.raises(KeyError):
        form._refresh()


def test_dpia_form_shows_the_screening_result(wd):
    form = show("dpia", wd)
    form._fields["screening.sensitive_data"].value = True
    form._fields["screening.large_scale"].value = True
    result = [out.value for field, out, _t, _i in form._computed if field.key == "screening_result"][0]
    assert result.startswith("Full DPIA required") and "35(3)(b)" in result


def test_register_form_shows_score_heat_map_and_changes(wd):
    show("risk_register", wd, interactive=False)
    form = show("risk_register", wd)
    scores = [out.value for field, out, table, _i in form._computed if field.key == "score"]
    assert scores[0] == "Score 20 · Red"
    images = [w for w in form.children if isinstance(w, widgets.Image)]
    assert images and bytes(images[0].value).startswith(b"\x89PNG")
    form._rows["risks"][0]["status"].value = "Mitigated"
    form.save()
    assert "Changes in version 2" in form.children[-2].value and "Mitigated" in form.children[-2].value


def test_add_and_remove_rows(wd):
    form = show("moscow", wd)
    form.add_row("items")
    assert len(form._rows["items"]) == 2
    form._rows["items"][1]["text"].value = "Second"
    form.remove_row("items", form._rows["items"][0])
    assert [c["text"].value for c in form._rows["items"]] == ["Second"]


def test_curveball_form_adds_a_risk_without_retyping(wd):
    form = show("curveball_notes", wd)
    cells = form._rows["entries"][0]
    cells["card_id"].value = "accessibility"
    box = form.children[2:-1]
    description = next(w for w in box if isinstance(w, widgets.Textarea))
    description.value = "Colour-only flag is missed by colour-blind GPs"
    button = next(w for b in box if isinstance(b, widgets.HBox) for w in b.children if isinstance(w, widgets.Button))
    button.click()
    assert RiskRegister(wd).risks[0]["source"] == "curveball: accessibility"
    assert cells["new_risks"].value == "R1 — Colour-only flag is missed by colour-blind GPs"
    cells["what_changed"].value = "An accessibility audit"
    assert form.save()
    assert get_spec("curveball_notes").load(wd).data["entries"][0]["new_risks"] == [cells["new_risks"].value]


def test_saved_record_is_plain_json(wd):
    show("moscow", wd, interactive=False)
    raw = json.loads((wd / "worksheets" / "moscow" / "record.json").read_text(encoding="utf-8"))
    assert raw["version"] == 1 and raw["data"]["items"][0]["priority"] == "Must"


def test_blank_dpia_says_not_answered_yet_until_something_is_ticked(wd):
    form = show("dpia", wd)

    def result():
        return [out.value for field, out, _t, _i in form._computed if field.key == "screening_result"][0]

    assert result().startswith("Not answered yet") and "not required" not in result()
    assert "not answered yet" in get_spec("dpia").to_markdown(get_spec("dpia").blank()).lower()
    form._fields["screening_answered"].value = True  # none applies, and the learner says so
    assert result().startswith("Full DPIA not required")
    form._fields["screening_answered"].value = False
    form._fields["screening.innovative_technology"].value = True
    assert result().startswith("Full DPIA not required: Only one EDPB criterion")


def test_moscow_item_box_is_wide_and_buttons_fit_their_labels(wd):
    form = show("moscow", wd)
    text = form._rows["items"][0]["text"]
    assert text.layout.width == "100%"
    row = next(box for box in form._row_parts["items"][0][0].children if isinstance(box, widgets.HBox)
               and any(text in getattr(child, "children", ()) for child in box.children))
    holder = next(child for child in row.children if text in getattr(child, "children", ()))
    assert holder.layout.flex.startswith("1 1") and row.layout.width == "100%"
    notes = show("curveball_notes", wd)
    buttons = [w for box in notes.children if isinstance(box, widgets.HBox) for w in box.children
               if isinstance(w, widgets.Button)]
    assert [b.layout.width for b in buttons if b.description == "Add to risk register"] == ["auto"]


def test_portfolio_built_before_the_reflection_says_how_to_rebuild(wd):
    from helpers.worksheets import build_portfolio, describe_portfolio

    for name in NAMES[:-1]:
        show(name, wd, interactive=False)
    form = show("reflection", wd)                    # Run All: the form is shown, nothing saved yet
    form._fields["text"].value = "My reflection, typed but not saved"
    path = build_portfolio(wd)
    line = describe_portfolio(path, wd)
    assert "Reflection journal" in line and "re-run this cell" in line and "\n" not in line
    assert "Typed but not saved" in path.read_text()
    assert form.save()
    assert "portfolio" in form.status.value and "re-run" in form.status.value  # the saved form says how
    assert "Every worksheet is in it" in describe_portfolio(build_portfolio(wd), wd)
