"""The five curveball cards and the reproducible deal."""

import re

import pytest

from helpers.core.config import TEMPLATES_DIR
from helpers.core.errors import BadInputError
from helpers.curveball import cards
from helpers.curveball.cards import PRIORITIES, RISK_CATEGORIES, SCALE, deal, deal_groups, get_card, list_cards

IDS = ("budget-cut", "data-bias", "regulatory-scrutiny", "accessibility", "gdpr-marketing")


def test_the_five_cards_in_order():
    assert cards.card_ids() == IDS
    assert [c.id for c in list_cards()] == list(IDS)


@pytest.mark.parametrize("card", list_cards(), ids=lambda c: c.id)
def test_every_card_is_complete(card):
    assert card.title and card.headline and len(card.scenario) > 100
    assert len(card.hints) >= 3 and len(card.exercise) >= 4 and len(card.reflection) >= 2
    assert len(card.risks) >= 3 and card.moscow_changes and card.tools
    for risk in card.risks:
        assert set(risk) == {"description", "category", "likelihood", "impact", "mitigation"}
        assert risk["category"] in RISK_CATEGORIES
        assert risk["likelihood"] in SCALE and risk["impact"] in SCALE
        assert risk["description"] and risk["mitigation"]
    for change in card.moscow_changes:
        assert set(change) == {"text", "from", "to", "rationale"}
        assert change["to"] in PRIORITIES and change["from"] != change["to"]
    assert "curveball notes" in card.exercise[-1] and "risk" in card.exercise[-1]  # every card ends there
    markdown = card.to_markdown()
    assert card.title in markdown and "| Risk |" in markdown and card.hints[0] in markdown


def test_risk_categories_span_the_register():
    used = {risk["category"] for card in list_cards() for risk in card.risks}
    assert used == set(RISK_CATEGORIES)


def test_tools_named_on_cards_exist():
    import importlib

    for card in list_cards():
        for dotted in card.tools:
            module, name = dotted.rsplit(".", 1)
            assert hasattr(importlib.import_module(module), name), dotted


def test_deal_by_id_is_forgiving_about_spelling():
    assert deal("budget-cut").id == "budget-cut"
    assert deal("GDPR_marketing").id == "gdpr-marketing"
    assert get_card(" Data Bias ").id == "data-bias"


def test_canonical_id_gives_the_one_spelling_and_leaves_other_text_alone():
    assert [cards.canonical_id(i.replace("-", "_")) for i in IDS] == list(IDS)
    assert cards.canonical_id(" Regulatory Scrutiny ") == "regulatory-scrutiny"
    assert cards.canonical_id("  our own curveball ") == "our own curveball"
    assert cards.canonical_id("") == ""


def test_unknown_id_lists_the_valid_ones():
    with pytest.raises(BadInputError) as info:
        deal("alien-invasion")
    message = str(info.value)
    assert "\n" not in message and all(card_id in message for card_id in IDS)


def test_same_seed_same_card():
    for seed in range(20):
        assert deal("random", seed=seed) == deal(seed=seed)
        assert deal(seed=seed, group=3) == deal(seed=seed, group=3)
    assert len({deal(seed=s).id for s in range(50)}) == 5  # every card can come up


def test_groups_get_different_cards_until_the_deck_runs_out():
    for seed in (0, 1, 42):
        dealt = deal_groups(5, seed=seed)
        assert sorted(c.id for c in dealt) == sorted(IDS)
        assert dealt[0] == deal(seed=seed) == deal(seed=seed, group=0)
        assert deal_groups(7, seed=seed)[5] == dealt[0]  # the deck wraps round


def test_unseeded_random_deal_returns_a_card_and_bad_groups_are_refused():
    assert deal().id in IDS
    with pytest.raises(BadInputError):
        deal(seed=1, group=-1)
    with pytest.raises(BadInputError):
        deal_groups(0, seed=1)


def test_cards_fit_the_worksheets():
    """Risks and MoSCoW changes go straight into the curveball notes, the register and the board."""
    register = pytest.importorskip("helpers.worksheets.risk_register")
    moscow = pytest.importorskip("helpers.worksheets.moscow")
    notes = pytest.importorskip("helpers.worksheets.curveball_notes")
    assert set(RISK_CATEGORIES) == set(register.CATEGORIES)
    assert set(PRIORITIES) == set(moscow.PRIORITIES)
    assert [card.id for card in list_cards()] == list(notes.CARDS)  # one spelling, in the notes too
    assert get_card("budget_cut").id == "budget-cut"  # the notes' old spelling still finds the card
    paper = (TEMPLATES_DIR / notes.SPEC.template).read_text(encoding="utf-8")
    named = re.findall(r"e\.g\. ([a-z_-]+)", paper)
    assert named and all(name in IDS for name in named)  # the paper template spells ids as the cards do
    for card in list_cards():
        for risk in card.risks:
            register.SPEC.validated({"risks": [{"id": "R0", **risk}]})
