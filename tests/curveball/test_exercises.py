"""Each card's hands-on exercise, run against the local mock, and the registry that finds it."""

import json

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest

from helpers import accessibility, endpoint, models, notebook, state, triage
from helpers.core.config import DEFAULT_SERVERLESS_CONCURRENCY, NOTEBOOKS_DIR, SKIN_PROXIES_DIR
from helpers.core.errors import BadInputError
from helpers.curveball import cost, exercises, explain, get_card, list_cards
from helpers.curveball.exercises import Figure, Text
from helpers.images import FITZPATRICK_TYPES, list_images, load_image

SETTINGS = exercises.Settings(threshold=0.5, requests_per_day=500, clinic_hours=10, clinic_days=5, seed=2026)


@pytest.fixture
def skin_endpoint(mock_aws):
    info = endpoint.deploy(models.SKIN.id, progress=False)
    state.remember_endpoint(info.name, models.SKIN.id)
    return info


@pytest.fixture
def default_palette():
    yield
    accessibility.set_palette("default")


def kinds(result):
    return [type(o).__name__ for o in result.outputs]


# --- the registry --------------------------------------------------------------------------------------


def test_every_card_has_exactly_one_exercise_and_every_exercise_a_card():
    ids = [card.id for card in list_cards()]
    assert sorted(exercises.registered()) == sorted(ids)
    assert len(exercises.registered()) == len(set(exercises.registered())) == len(ids)
    for card in list_cards():
        found = exercises.exercise_for(card)
        assert found.card_id == card.id and exercises.exercise_for(card.id) is found
        assert found.intro.startswith("## Card:") and found._repr_markdown_() == found.intro


def test_a_second_exercise_or_one_for_an_unknown_card_is_refused_at_import():
    def again(settings):
        yield Text("again")
        return exercises.Finding("again")

    before = exercises.registered()
    with pytest.raises(LookupError, match="already has an exercise"):
        exercises.exercise("budget-cut", intro="again")(again)
    with pytest.raises(LookupError, match="cards.py"):
        exercises.exercise("alien-invasion", intro="?")
    with pytest.raises(LookupError, match="cards.py"):
        exercises.exercise("budget_cut", intro="?")  # registered under the card's one spelling only
    with pytest.raises(TypeError, match="yield"):
        exercises.exercise("accessibility", intro="?")(lambda settings: exercises.Finding("not a generator"))
    assert exercises.registered() == before


def test_a_card_without_an_exercise_is_one_clear_line(monkeypatch):
    monkeypatch.delitem(exercises._EXERCISES, "accessibility")
    with pytest.raises(BadInputError, match="no hands-on exercise"):
        exercises.exercise_for(get_card("accessibility"))


def test_notebook_05_runs_the_dealt_cards_exercise_with_no_exercise_code_of_its_own():
    nb = json.loads((NOTEBOOKS_DIR / "05_curveball.ipynb").read_text(encoding="utf-8"))
    code = "\n".join("".join(c["source"]) for c in nb["cells"]
                     if c["cell_type"] == "code" and "parameters" not in c["metadata"].get("tags", []))
    assert "exercises.exercise_for(card)" in code and "exercises.record(card, result" in code
    assert "card.id ==" not in code and "Finding(" not in code
    for card in list_cards():
        assert card.id not in code  # nothing in the notebook is specific to one card
    assert sum("parameters" in c["metadata"].get("tags", []) for c in nb["cells"]) == 1


# --- what an exercise returns, shown and recorded --------------------------------------------------------


def test_run_shows_each_output_as_soon_as_it_is_ready_and_returns_them_all(tmp_path, capsys):
    import matplotlib.pyplot as plt

    def steps(settings):
        yield Text("first")
        print("a long redeploy runs here")
        fig, ax = plt.subplots()
        ax.plot([1, 2], [3, 4])
        yield Figure("05_test", fig, "A line.")
        yield exercises.Table(pd.DataFrame({"seed": [settings.seed]}))
        return exercises.Finding("summary", {"seed": settings.seed})

    ctx = notebook.Context(tmp_path, interactive=False, mock=True)
    result = exercises.Exercise("test", "intro", steps).run(SETTINGS, ctx)
    out = capsys.readouterr().out
    assert out.index("first") < out.index("a long redeploy") < out.index("Alt text: A line.") < out.index("seed")
    assert (ctx.figures / "05_test.png").is_file()
    assert (ctx.figures / "05_test.txt").read_text().strip() == "A line."
    assert (result.summary, result.measured) == ("summary", {"seed": 2026}) and kinds(result) == ["Text", "Figure", "Table"]
    exercises.Exercise("test", "intro", steps).run(SETTINGS)  # without a notebook nothing is shown
    assert capsys.readouterr().out == "a long redeploy runs here\n"


def test_record_lists_every_risk_the_card_added_then_no_changes_on_a_rerun(tmp_path, capsys):
    card = get_card("data-bias")
    result = exercises.ExerciseResult("Referral gap 10%.")
    first = exercises.record(card, result, tmp_path)
    assert (first.since, first.version) == (0, len(card.risks))
    assert list(first.register_changes["Change"]) == ["added"] * len(card.risks)
    assert list(first.register_changes["After"]) == [r["description"] for r in card.risks]
    assert first.notes["card_id"] == "data-bias" and first.notes["how_adapted"] == "Referral gap 10%."
    first.show()
    assert f"(version 0 -> {len(card.risks)}):" in capsys.readouterr().out

    again = exercises.record(card, result, tmp_path)
    assert again.since == again.version == first.version and again.register_changes.empty
    again.show()
    out = capsys.readouterr().out
    assert out.strip() == (f"What this card changed in the risk register (version {again.version} -> "
                           f"{again.version}): no changes.")


# --- one test per card's exercise ----------------------------------------------------------------------


def test_budget_cut_costs_every_option_then_moves_to_serverless_and_times_it(skin_endpoint):
    result = exercises.exercise_for("budget-cut").run(SETTINGS)
    assert kinds(result) == ["Figure", "Table", "Text", "Table", "Text"]
    monthly = result.measured["monthly_usd"]
    assert set(monthly) == set(cost.OPTIONS)
    assert result.measured["cheapest"] == min(monthly, key=monthly.get)
    assert f"{result.measured['cheapest']} is cheapest" in result.summary and "500 requests/day" in result.summary
    assert result.figures()[0].alt.endswith(cost.load_prices().caption())
    now = endpoint.describe(state.current_endpoint())
    assert now.serverless and now.name == result.measured["serverless_endpoint"] != skin_endpoint.name
    assert (now.serverless.memory_mb, now.serverless.max_concurrency) == (
        models.SKIN.serverless_memory_mb, DEFAULT_SERVERLESS_CONCURRENCY)
    step = get_card("budget-cut").exercise[3]  # the card tells the learner what the exercise deploys
    assert f"{models.SKIN.serverless_memory_mb} MB" in step and f"concurrency {DEFAULT_SERVERLESS_CONCURRENCY}" in step
    latency = result.tables()[1]
    assert list(latency["call"]) == [1, 2, 3, 4, 5]
    assert result.texts()[-1].startswith(f"{now.name}: first call")


def test_data_bias_audits_every_fitzpatrick_type_at_the_learners_threshold(skin_endpoint):
    result = exercises.exercise_for("data-bias").run(SETTINGS)
    assert kinds(result) == ["Figure", "Table", "Text"]
    groups = result.tables()[0]
    assert list(groups.index) == list(FITZPATRICK_TYPES)
    assert groups["n"].sum() == len(list_images(SKIN_PROXIES_DIR))
    assert 0 <= result.measured["referral_gap"] <= 1 and "at threshold 50%" in result.summary
    # At a threshold of 100% nothing is confident enough: every image is referred, so there is no gap.
    strict = exercises.exercise_for("data-bias").run(
        exercises.Settings(threshold=1.0, requests_per_day=1, clinic_hours=1, clinic_days=1, seed=0))
    assert set(strict.measured["referral_rate"].values()) == {1.0} and strict.measured["referral_gap"] == 0


def test_regulatory_scrutiny_maps_occlusion_with_the_median_skin_colour(skin_endpoint, mock_aws):
    before = mock_aws.state.invocations
    result = exercises.exercise_for("regulatory-scrutiny").run(SETTINGS)
    assert kinds(result) == ["Figure", "Text", "Text"]
    image = load_image(exercises.example_image("irregular"))
    assert result.measured["invocations"] == explain.estimate_invocations(image.size)
    assert mock_aws.state.invocations - before == result.measured["invocations"]
    assert result.measured["fill"] == explain.median_colour(image)
    assert result.texts()[-1] == explain.WHAT_IT_EXPLAINS


def test_the_regulatory_card_says_what_the_exercise_does_median_colour_not_grey():
    card = get_card("regulatory-scrutiny")
    shown = card.to_markdown() + explain.WHAT_IT_EXPLAINS
    assert "grey patch" not in shown
    assert "median" in card.hints[0] and "median" in explain.WHAT_IT_EXPLAINS
    assert "median skin colour" in exercises.exercise_for(card).intro


def test_accessibility_switches_the_palette_reads_a_result_aloud_and_checks_contrast(skin_endpoint, default_palette):
    result = exercises.exercise_for("accessibility").run(SETTINGS)
    assert kinds(result) == ["Text", "Table", "Text"]
    assert accessibility.get_palette().name == result.measured["palette"] == "okabe-ito"
    spoken = result.texts()[0]
    assert spoken.startswith("Result for ") and spoken.rstrip().endswith(triage.DISCLAIMER)
    assert any(outcome in spoken for outcome in triage.OUTCOMES)
    contrast = result.tables()[0]
    assert result.measured["failing_pairs"] == int((~contrast.aa_normal).sum())
    assert f"{result.measured['failing_pairs']} of {len(contrast)} colour pairs" in result.summary


def test_gdpr_marketing_screens_the_request_and_shows_a_defensible_extract():
    result = exercises.exercise_for("gdpr-marketing").run(SETTINGS)  # no endpoint needed
    assert kinds(result) == ["Text", "Text", "Table"]
    assert result.measured["dpia_required"] is True
    assert result.texts()[0].startswith("Full DPIA required: True\n- ")
    assert result.measured["raw_k"] < result.measured["generalised_k"]
    assert f"only {result.measured['raw_k']}-anonymous" in result.summary
    extract = result.tables()[0]
    assert len(extract) <= 12 and "skin_tone" not in extract.columns
    published = extract.loc[~extract["suppressed"], "users"]
    assert extract["suppressed"].any() and (published >= 5).all()  # no published cell under 5 people
