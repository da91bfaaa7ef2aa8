"""Palettes, WCAG contrast, alt text and the plain-text result."""

import pytest

from helpers import accessibility as acc
from helpers.core.errors import BadInputError


@pytest.fixture(autouse=True)
def reset_palette():
    yield
    acc.set_palette("default")


def test_black_on_white_is_21_and_order_does_not_matter():
    assert acc.contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert acc.contrast_ratio("white", "black") == pytest.approx(21.0)
    assert acc.contrast_ratio((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert acc.contrast_ratio("#fff", (1.0, 1.0, 1.0)) == pytest.approx(1.0)


def test_grey_777_fails_aa_normal_but_passes_large():
    ratio = acc.contrast_ratio("#777777", "#ffffff")
    assert ratio == pytest.approx(4.48, abs=0.01)
    row = acc.check_contrast([("#777777", "#ffffff")]).iloc[0]
    assert not row["aa_normal"] and row["aa_large"]
    assert acc.check_contrast([("#767676", "#ffffff")]).iloc[0]["aa_normal"]  # the classic darkest passing grey


def test_relative_luminance_matches_wcag():
    assert acc.relative_luminance("#000") == 0
    assert acc.relative_luminance("#ffffff") == pytest.approx(1.0)
    assert acc.relative_luminance("#808080") == pytest.approx(0.2159, abs=1e-4)


def test_check_contrast_covers_every_palette_by_default():
    table = acc.check_contrast()
    assert list(table.columns) == ["use", "foreground", "background", "ratio", "aa_normal", "aa_large"]
    for name in acc.palette_names():
        body = table[table["use"] == f"{name}: body text"].iloc[0]
        assert body["aa_normal"], name
    # The check is honest: some role colours are not fit for small text.
    assert not table["aa_normal"].all()


def test_check_contrast_accepts_named_pairs_and_rejects_junk():
    table = acc.check_contrast({"heading": ("#000000", "#ffffff")})
    assert table.iloc[0]["use"] == "heading" and table.iloc[0]["ratio"] == 21.0
    with pytest.raises(BadInputError, match="Not a colour"):
        acc.contrast_ratio("not-a-colour", "#fff")
    with pytest.raises(BadInputError):
        acc.contrast_ratio((300, 0, 0), "#fff")


def test_best_text_colour_picks_the_higher_contrast():
    assert acc.best_text_colour("#E69F00") == "#000000"
    assert acc.best_text_colour("#0072B2") == "#ffffff"


def test_palette_switch_is_module_wide_and_validated():
    assert acc.get_palette().name == "default"
    chosen = acc.set_palette("colour-blind-safe")
    assert chosen.name == "okabe-ito" and acc.get_palette() is chosen
    assert chosen.benign == "#0072B2" and chosen.concerning == "#D55E00"
    assert len(set(chosen.series)) == len(chosen.series) >= 7
    assert set(acc.palette_names()) == {"default", "okabe-ito"}
    with pytest.raises(BadInputError, match="okabe-ito"):
        acc.set_palette("rainbow")
    assert acc.get_palette().name == "okabe-ito"  # a bad name changes nothing


def test_outcome_colour_maps_triage_outcomes():
    palette = acc.get_palette("okabe-ito")
    assert palette.outcome_colour("Benign") == palette.benign
    assert palette.outcome_colour("Potentially Concerning") == palette.concerning
    assert palette.outcome_colour("Uncertain — refer for specialist review") == palette.uncertain


def test_outcome_colour_is_chosen_by_the_outcome_constant_not_by_its_wording():
    from helpers import triage

    palette = acc.get_palette()
    assert [palette.outcome_colour(o) for o in triage.OUTCOMES] == [palette.benign, palette.concerning, palette.uncertain]
    for lookalike in ("benign", "Benign-looking", "Concerning", ""):
        with pytest.raises(BadInputError):
            palette.outcome_colour(lookalike)


def test_one_disclaimer_for_screen_readers_and_the_result_card():
    from helpers import triage

    text = acc.plain_text_result(outcome=triage.BENIGN, confidence=0.9)
    assert text.splitlines()[-1] == triage.DISCLAIMER and not hasattr(acc, "DISCLAIMER")


PREDICTIONS = [
    {"label": "German shepherd, German shepherd dog, German police dog, alsatian", "score": 0.968},
    {"label": "malinois", "score": 0.012},
    {"label": "kelpie", "score": 0.004},
]


def test_describe_predictions_reads_like_alt_text():
    text = acc.describe_predictions(PREDICTIONS, title="dog.jpg")
    assert text == ("Bar chart of the top 3 predictions for dog.jpg. Highest: German shepherd, 97%. "
                    "Then: malinois, 1%; kelpie, less than 1%.")


def test_describe_predictions_sorts_and_handles_edge_cases():
    text = acc.describe_predictions(list(reversed(PREDICTIONS)))
    assert text.startswith("Bar chart of the top 3 predictions. Highest: German shepherd")
    assert "no predictions" in acc.describe_predictions([])
    assert acc.describe_predictions([{"label": "melanoma", "score": 0.5}]) == (
        "Bar chart of the top prediction. Highest: melanoma, 50%.")
    with pytest.raises(BadInputError, match="label"):
        acc.describe_predictions([{"name": "x"}])


def test_spoken_labels_and_percentages():
    assert acc.spoken_label("melanocytic_Nevi") == "melanocytic nevi"
    assert acc.spoken_label("benign_keratosis-like_lesions") == "benign keratosis-like lesions"
    assert acc.percent(0.999) == "more than 99%"
    assert acc.percent(1.0) == "100%"
    assert acc.percent(0.0) == "0%"
    assert acc.confidence_words(0.92) == "high confidence (92%)"
    assert acc.confidence_words(0.65) == "moderate confidence (65%)"
    assert acc.confidence_words(0.3) == "low confidence (30%)"


def test_plain_text_result_from_keywords_and_from_a_dict():
    preds = [{"label": "melanoma", "score": 0.71}, {"label": "melanocytic_Nevi", "score": 0.2},
             {"label": "dermatofibroma", "score": 0.05}, {"label": "vascular_lesions", "score": 0.04}]
    text = acc.plain_text_result(outcome="Potentially Concerning", predictions=preds, image_name="lesion.png")
    lines = text.splitlines()
    assert lines[0] == "Result for lesion.png: Potentially Concerning."
    assert lines[1] == "The model reports moderate confidence (71%)."
    assert lines[2] == "Top classes: melanoma, 71%; melanocytic nevi, 20%; dermatofibroma, 5%."
    assert lines[-1].startswith("Decision support, not a diagnosis.")
    same = acc.plain_text_result({"outcome": "Potentially Concerning", "predictions": preds,
                                  "image_name": "lesion.png"})
    assert same == text
    assert "_" not in text and "0.71" not in text


def test_plain_text_result_needs_an_outcome():
    with pytest.raises(BadInputError, match="outcome"):
        acc.plain_text_result(confidence=0.5)


def test_prediction_objects_are_accepted():
    class Prediction:
        def __init__(self, label, score):
            self.label, self.score = label, score

    text = acc.describe_predictions([Prediction("melanoma", 0.8), Prediction("dermatofibroma", 0.1)])
    assert text == "Bar chart of the top 2 predictions. Highest: melanoma, 80%. Then: dermatofibroma, 10%."
