"""The rules: risk scoring and RAG bands, ICO DPIA screening, word count, the brief, validation."""

import pytest

from helpers.core.errors import BadInputError
from helpers.worksheets import dpia_screening, rag_rating, risk_score, word_count
from helpers.worksheets.moscow import SPEC as MOSCOW
from helpers.worksheets.moscow import check_brief, is_story
from helpers.worksheets.registry import get_spec
from helpers.worksheets.screening import QUESTIONS


# -- scoring ------------------------------------------------------------------------------------
@pytest.mark.parametrize("l, i, score", [(1, 1, 1), (2, 3, 6), (4, 5, 20), (5, 5, 25), (3, 4, 12)])
def test_risk_score_is_likelihood_times_impact(l, i, score):
    assert risk_score(l, i) == score


@pytest.mark.parametrize("score, rating", [(1, "Green"), (6, "Green"), (8, "Amber"), (12, "Amber"),
                                           (15, "Red"), (25, "Red")])
def test_rag_band_edges(score, rating):
    assert rag_rating(score) == rating


def test_every_cell_of_the_matrix_has_a_rating_and_bands_do_not_overlap():
    ratings = {l * i: rag_rating(l * i) for l in range(1, 6) for i in range(1, 6)}
    assert max(s for s, r in ratings.items() if r == "Green") < min(s for s, r in ratings.items() if r == "Amber")
    assert max(s for s, r in ratings.items() if r == "Amber") < min(s for s, r in ratings.items() if r == "Red")


@pytest.mark.parametrize("l, i", [(7, 1), (0, 3), (3, 6), ("3", 2), (2.5, 2), (True, 2)])
def test_risk_score_rejects_bad_levels(l, i):
    with pytest.raises(BadInputError):
        risk_score(l, i)


@pytest.mark.parametrize("score", [0, 26, -1, "10"])
def test_rag_rating_rejects_bad_scores(score):
    with pytest.raises(BadInputError):
        rag_rating(score)


# -- DPIA screening -----------------------------------------------------------------------------
def test_no_criteria_means_no_dpia_but_a_reason():
    result = dpia_screening({key: False for key in QUESTIONS})
    assert result.required is False
    assert any("not required" in r for r in result.reasons)


def test_one_edpb_criterion_alone_is_good_practice_only():
    result = dpia_screening({"vulnerable_subjects": True})
    assert not result.required
    assert any("good practice" in r for r in result.reasons)


def test_two_edpb_criteria_require_a_dpia():
    result = dpia_screening({"sensitive_data": True, "vulnerable_subjects": True})
    assert result.required
    assert any("two or more" in r for r in result.reasons)
    assert result.criteria_met == ["sensitive_data", "vulnerable_subjects"]


def test_large_scale_health_data_is_article_35_3_b():
    result = dpia_screening({"sensitive_data": True, "large_scale": True})
    assert result.required and any("35(3)(b)" in r for r in result.reasons)


def test_ico_list_item_on_its_own_requires_a_dpia():
    assert dpia_screening({"physical_harm": True}).required
    assert dpia_screening({"public_monitoring": True}).required


def test_innovative_technology_needs_another_criterion():
    assert not dpia_screening({"innovative_technology": True}).required
    combined = dpia_screening({"innovative_technology": True, "sensitive_data": True})
    assert combined.required and any("innovative technology" in r for r in combined.reasons)


def test_derm_assist_example_requires_a_full_dpia():
    example = get_spec("dpia").example()
    assert dpia_screening(example["screening"]).required


@pytest.mark.parametrize("answers", [{"made_up": True}, {"large_scale": "yes"}, ["large_scale"]])
def test_screening_rejects_bad_answers(answers):
    with pytest.raises(BadInputError):
        dpia_screening(answers)


def test_unanswered_questions_are_reported():
    result = dpia_screening({"sensitive_data": True})
    assert any("not answered" in r for r in result.reasons)


# -- word count ---------------------------------------------------------------------------------
@pytest.mark.parametrize("text, n", [("", 0), (None, 0), ("one two  three", 3), ("GP's decision-support tool", 3),
                                     ("# Heading\n\n- a point — here.", 4), ("Fitzpatrick V–VI, 97 %", 4)])
def test_word_count(text, n):
    assert word_count(text) == n


# -- MoSCoW brief check -------------------------------------------------------------------------
def test_example_board_matches_the_brief():
    assert check_brief(MOSCOW.example()) == []


def test_empty_board_gets_advice_not_an_error():
    tips = check_brief({"items": []})
    assert any("Must" in t for t in tips) and any("DPIA" in t for t in tips)


def test_brief_check_spots_missing_story_and_too_many_musts():
    items = [{"priority": "Must", "text": f"Item {n}", "rationale": "r", "story": "", "done": ""} for n in range(5)]
    tips = check_brief({"items": items})
    assert any("5 Must" in t for t in tips)
    assert any("needs a user story" in t for t in tips)


@pytest.mark.parametrize("story, ok", [
    ("As a GP, I want a result, so that I can refer", True),
    ("As the DPO, I want a DPIA draft so that I can advise", True),
    ("GP wants a result", False),
    ("As a GP, I want a result", False),
])
def test_story_form(story, ok):
    assert is_story(story) is ok


# -- validation ---------------------------------------------------------------------------------
def test_choices_are_forgiving_about_case_and_apostrophes():
    data = MOSCOW.validated({"items": [{"priority": "won’t", "text": "Diagnose", "rationale": "r"}]})
    assert data["items"][0]["priority"] == "Won't"


def test_unknown_priority_is_one_line_bad_input():
    with pytest.raises(BadInputError) as info:
        MOSCOW.validated({"items": [{"priority": "Maybe", "text": "x"}]})
    assert "\n" not in str(info.value) and "Must" in str(info.value)


def test_blank_rows_are_dropped_not_errors():
    data = MOSCOW.validated({"items": [{"priority": "Must", "text": "", "rationale": ""}]})
    assert data["items"] == []


def test_examples_are_valid_for_every_worksheet():
    for name in ("moscow", "risk_register", "dpia", "ai_act", "reflection"):
        get_spec(name).example()


def test_unknown_worksheet_name():
    with pytest.raises(BadInputError):
        get_spec("swot")
