"""Build or buy: the learner's criteria, every option kept in order, advice until it is filled in."""

from helpers.worksheets import get_spec
from helpers.worksheets.build_or_buy import OPTIONS


def test_options_are_kept_in_order_and_the_criteria_are_the_learners():
    spec = get_spec("build_or_buy")
    blank = spec.blank()
    assert [r["option"] for r in blank["options"]] == list(OPTIONS)
    assert any("JumpStart" in o for o in OPTIONS) and any("Custom Vision" in o for o in OPTIONS)
    assert any("Google Cloud Vision" in o for o in OPTIONS) and any("built-in" in o for o in OPTIONS)
    data, problems = spec.validate({"criteria": ["a", "b", "c"], "options": [{"option": list(OPTIONS)[2], "fit": "ok", "score": "4"}]})
    assert not problems
    assert [r["option"] for r in data["options"]] == list(OPTIONS)  # the missing ones come back empty
    assert data["options"][2]["score"] == "4" and data["options"][0]["fit"] == ""
    tips = spec.advice(data)
    assert any("4 of 5 options have no overall fit" in t for t in tips) and any("decision" in t for t in tips)
    assert not any("three criteria" in t for t in tips)
    assert "Our decision" in spec.body(spec.example())
