"""The risk register as code uses it: add, deduplicate, validate, map, compare, export."""

import csv
import io

import pytest
from matplotlib.figure import Figure

from helpers.core.config import TEMPLATES_DIR
from helpers.core.errors import BadInputError
from helpers.worksheets import CurveballNotes, MoscowBoard, RiskRegister


@pytest.fixture
def wd(tmp_path):
    return tmp_path / "work"


def test_add_risk_saves_and_numbers(wd):
    register = RiskRegister(wd)
    first = register.add_risk("Training data under-represents Fitzpatrick V–VI", "Data", 4, 5)
    second = register.add_risk("Endpoint left running overspends the sandbox budget", "budget", 4, 3)
    assert (first, second) == ("R1", "R2")
    again = RiskRegister(wd)
    assert [r["id"] for r in again.risks] == ["R1", "R2"]
    assert again.risks[1]["category"] == "Budget"  # canonical spelling
    assert again.version == 2


def test_same_description_twice_is_not_duplicated(wd):
    register = RiskRegister(wd)
    rid = register.add_risk("GP over-trusts a confident output", "User", 3, 5)
    assert register.add_risk("  gp over-trusts a confident  output. ", "User", 2, 2) == rid
    assert len(RiskRegister(wd)) == 1
    assert RiskRegister(wd).risks[0]["likelihood"] == 3  # the first one is left as it was


@pytest.mark.parametrize("kwargs, words", [
    (dict(description="x", category="Data", likelihood=7, impact=3), "Likelihood"),
    (dict(description="x", category="Weather", likelihood=2, impact=3), "Category"),
    (dict(description="", category="Data", likelihood=2, impact=3), "description"),
    (dict(description="x", category="Data", likelihood=2, impact=3, status="Done"), "Status"),
])
def test_bad_values_are_one_line_errors_and_nothing_is_saved(wd, kwargs, words):
    register = RiskRegister(wd)
    register.add_risk("A valid risk", "Data", 2, 2)
    with pytest.raises(BadInputError) as info:
        register.add_risk(**kwargs)
    assert words in str(info.value) and "\n" not in str(info.value)
    assert len(RiskRegister(wd)) == 1 and RiskRegister(wd).version == 1


def test_heatmap_places_ids_in_their_cells(wd):
    register = RiskRegister(wd)
    register.add_risk("Under-represents dark skin", "Data", 4, 5)
    register.add_risk("Overspend", "Budget", 4, 5)
    register.add_risk("Labels confuse GPs", "User", 1, 2)
    fig = register.heatmap()
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    texts = {t.get_text(): t.get_position() for t in ax.texts}
    assert texts["R1, R2"] == pytest.approx((4, 4.95))
    assert "R3" in texts
    assert len(ax.patches) == 25


def test_heatmap_draws_on_a_given_axis(wd):
    fig = Figure()
    ax = fig.add_subplot()
    assert RiskRegister(wd).heatmap(ax=ax) is fig


def test_diff_shows_added_changed_and_removed(wd):
    register = RiskRegister(wd)
    register.add_risk("Under-represents dark skin", "Data", 4, 5)
    register.add_risk("Overspend", "Budget", 4, 3)
    register.risks[1] = dict(register.risks[1], likelihood=2, status="Mitigated")
    register.save()
    changes = register.diff()
    assert set(changes["ID"]) == {"R2"}
    assert set(changes["Field"]) == {"Likelihood", "Status", "Score"}
    register.risks = register.risks[1:]
    register.save()
    removed = register.diff()
    assert removed.iloc[0].to_dict()["Change"] == "removed"
    since_first = register.diff(since=1)
    assert "removed" in set(since_first["Change"]) and "added" in set(since_first["Change"])


def test_diff_since_version_0_lists_every_risk_added_since_the_empty_register(wd):
    """Version 0 is "nothing saved yet": a register saved four times shows all four risks as added."""
    register = RiskRegister(wd)
    for description in ("Cold starts", "Overspend", "Forgotten endpoint", "Safety case not updated"):
        register.add_risk(description, "Budget", 3, 3)
    changes = register.diff(since=0)
    assert list(changes["ID"]) == ["R1", "R2", "R3", "R4"]
    assert set(changes["Change"]) == {"added"}


def test_diff_of_unknown_version_is_bad_input(wd):
    with pytest.raises(BadInputError):
        RiskRegister(wd).diff(since=9)


def test_csv_export_matches_the_paper_template(wd, tmp_path):
    register = RiskRegister(wd)
    register.add_risk("Overspend", "Budget", 4, 3, mitigation="Cleanup, tags", owner="Tech lead")
    with open(TEMPLATES_DIR / "risk_register.csv", newline="", encoding="utf-8") as handle:
        template_header = next(csv.reader(handle))
    rows = list(csv.reader(io.StringIO(register.to_csv())))
    assert rows[0] == template_header
    assert rows[1][:7] == ["R1", "Overspend", "Budget", "4", "3", "12", "Amber"]
    path = register.to_csv(tmp_path / "out.csv")
    assert path.read_text(encoding="utf-8").startswith("ID,")
    exported = wd / "worksheets" / "exports"
    assert (exported / "risk_register.csv").is_file() and (exported / "risk_heatmap.png").is_file()


def test_markdown_export_is_readable(wd):
    register = RiskRegister(wd)
    register.add_risk("Overspend | with a pipe", "Budget", 4, 3)
    text = register.to_markdown()
    assert "# Risk register" in text and "Overspend \\| with a pipe" in text and "Amber" in text


def test_curveball_adds_risks_through_the_register_and_moves_items(wd):
    MoscowBoard(wd).add_item("Could", "Show accuracy by Fitzpatrick type", "useful")
    notes = CurveballNotes(wd)
    entry = notes.record(
        "data_bias", "Recall is half on type VI", "Moved the breakdown up", "Aisha",
        new_risks=[{"description": "Unequal recall across skin types", "category": "Data",
                    "likelihood": 4, "impact": 5}],
        reflection_answers={"surprise": "How large the gap was"},
        moscow_changes=[{"text": "Show accuracy by Fitzpatrick type", "to": "Must", "rationale": "Safety"},
                        "Dropped the colour theme"],
    )
    register = RiskRegister(wd)
    assert register.risks[0]["source"] == "curveball: data-bias"  # the card's one spelling
    assert entry["new_risks"] == ["R1 — Unequal recall across skin types"]
    assert MoscowBoard(wd).find("Show accuracy by Fitzpatrick type")["priority"] == "Must"
    assert "Dropped the colour theme" in entry["moscow_changes"]
    # Re-running the same cell changes nothing: no duplicate risk, no new version of the notes.
    version = notes.version
    notes.record("data_bias", "Recall is half on type VI", "Moved the breakdown up", "Aisha",
                 new_risks=[{"description": "Unequal recall across skin types", "category": "Data",
                             "likelihood": 4, "impact": 5}],
                 reflection_answers={"surprise": "How large the gap was"})
    assert len(RiskRegister(wd)) == 1 and notes.version == version


def test_curveball_record_never_overwrites_typed_answers(wd):
    notes = CurveballNotes(wd)
    notes.record("budget_cut", "Half the budget", "", "Priya")
    entry = notes.record("budget_cut", "Something else", "Serverless", "Sam")
    assert entry["what_changed"] == "Half the budget"  # kept
    assert entry["how_adapted"] == "Serverless"        # blank filled
    replaced = notes.record("budget_cut", "Something else", "Serverless", "Sam", replace=True)
    assert replaced["what_changed"] == "Something else"
    assert len(notes._store.versions()) == 3


def _save_old_notes(wd, entries, draft=None):
    """Curveball notes as the pack saved them when card ids were spelled budget_cut."""
    import json

    folder = wd / "worksheets" / "curveball_notes"
    (folder / "history").mkdir(parents=True)
    payload = {"worksheet": "curveball_notes", "version": 1, "saved_at": "2025-06-01T10:00:00+00:00",
               "data": {"entries": entries}}
    for path in (folder / "record.json", folder / "history" / "v0001.json"):
        path.write_text(json.dumps(payload), encoding="utf-8")
    if draft is not None:
        (folder / "draft.json").write_text(json.dumps({"worksheet": "curveball_notes", "base_version": 1,
                                                       "saved_at": "", "data": {"entries": draft}}))


def _old_entry(card_id, **answers):
    entry = {"card_id": card_id, "what_changed": "", "how_adapted": "", "who_led": "", "new_risks": [],
             "moscow_changes": [], "reflection": {"surprise": "", "trade_off": "", "evidence": "", "next_time": ""}}
    for key, value in answers.items():
        if key in entry["reflection"]:
            entry["reflection"][key] = value
        else:
            entry[key] = value
    return entry


def test_notes_saved_with_the_old_card_spelling_load_and_are_filled_not_duplicated(wd):
    from helpers.worksheets.curveball_notes import SPEC

    _save_old_notes(wd, [_old_entry("budget_cut", what_changed="Half the budget", who_led="Priya",
                                    surprise="How fast it went")],
                    draft=[_old_entry("data_bias", what_changed="typed, not saved yet")])
    notes = CurveballNotes(wd)
    assert [e["card_id"] for e in notes.entries] == ["budget-cut"]
    assert SPEC.store(wd).load_draft().data["entries"][0]["card_id"] == "data-bias"
    assert SPEC.store(wd).version(1).data["entries"][0]["card_id"] == "budget-cut"
    assert "## Curveball: budget-cut" in notes.to_markdown() and "budget_cut" not in notes.to_markdown()
    entry = notes.record("budget-cut", "Something else", "Serverless", "Sam")
    assert len(CurveballNotes(wd).entries) == 1
    assert (entry["what_changed"], entry["how_adapted"], entry["who_led"]) == ("Half the budget", "Serverless", "Priya")
    assert entry["reflection"]["surprise"] == "How fast it went"


def test_notes_saved_under_both_spellings_become_one_entry_keeping_every_answer(wd):
    _save_old_notes(wd, [_old_entry("budget_cut", what_changed="Half the budget", moscow_changes=["A"]),
                         _old_entry("budget-cut", what_changed="Serverless now", who_led="Sam",
                                    moscow_changes=["A", "B"], evidence="The plot")])
    [entry] = CurveballNotes(wd).entries
    assert entry["card_id"] == "budget-cut" and entry["who_led"] == "Sam"
    assert entry["what_changed"] == "Half the budget\n\nServerless now"
    assert entry["moscow_changes"] == ["A", "B"] and entry["reflection"]["evidence"] == "The plot"


def test_curveball_bad_risk_fails_before_anything_is_written(wd):
    with pytest.raises(BadInputError):
        CurveballNotes(wd).record("x", "a", "b", "c", new_risks=[
            {"description": "ok", "category": "Data", "likelihood": 2, "impact": 2},
            {"description": "bad", "category": "Data", "likelihood": 9, "impact": 2}])
    assert len(RiskRegister(wd)) == 0 and CurveballNotes(wd).entries == []


def test_curveball_rejects_unknown_reflection_question(wd):
    with pytest.raises(BadInputError):
        CurveballNotes(wd).record("x", "a", "b", "c", reflection_answers={"mood": "fine"})


def test_moscow_add_item_is_rerun_safe(wd):
    board = MoscowBoard(wd)
    board.add_item("Must", "Upload and classify", "Core job", "As a GP, I want x, so that y", "Works")
    board.add_item("Must", "Upload and classify", "Changed in code later")
    assert len(MoscowBoard(wd).items) == 1
    assert MoscowBoard(wd).items[0]["rationale"] == "Core job"
    with pytest.raises(BadInputError):
        board.add_item("Maybe", "Other", "r")
