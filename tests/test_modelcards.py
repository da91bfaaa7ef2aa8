from helpers import modelcards
from helpers.models import MOBILENET_V2_ID, SKIN_VIT, SKIN_VIT_ID


def test_both_cards_load_with_every_field():
    cards = modelcards.load_cards()
    assert {MOBILENET_V2_ID, SKIN_VIT_ID} <= set(cards)
    for card in cards.values():
        for field in modelcards.FIELDS:
            assert str(card.get(field, "")).strip(), f"{card['name']} lacks {field}"


def test_skin_card_names_its_labels_and_gaps():
    card = modelcards.load_cards()[SKIN_VIT_ID]
    for label in SKIN_VIT.labels:
        assert label in card["label_space"]
    assert "Fitzpatrick" in card["known_gaps"] and "recall" in card["reported_metrics"]


def test_compare_is_side_by_side():
    table = modelcards.compare(MOBILENET_V2_ID, SKIN_VIT_ID)
    assert list(table.columns) == ["MobileNetV2 (1.0, 224)", "Skin Cancer Image Classification (ViT)"]
    assert "training data" in table.index
