"""A learner's workshop day in JupyterLab 4 in Chromium: every notebook from the Run menu, in order, in one tab.

The tests run in file order and share one page and one work folder (each builds on the notebooks before it,
as in class): 00 → 01 → 02 → 03 → 04 (and the MVP app) → 05 (the budget card) → 06 → back to 04 → 99.
"""

from __future__ import annotations

import re
import shutil

import pandas as pd
import pytest
from labdriver import BROWSER, Form

from helpers import modelcards, models
from helpers.core.config import SKIN_PROXIES_DIR
from helpers.worksheets.store import Store

CARD = "budget-cut"  # redeploys serverless: 04's app must follow the endpoint afterwards

pytestmark = BROWSER


@pytest.fixture(scope="module")
def day(lab):
    lab.server.shutdown_kernels()
    work = lab.scenario("day", parameters={"05": {"CURVEBALL": CARD}})
    page = lab.new_page()
    state = {"work": work, "page": page, "open": {}}

    def notebook(stem: str):
        if stem not in state["open"]:
            name = next(p.name for p in (lab.root / "day").glob(f"{stem}_*.ipynb"))
            state["open"][stem] = lab.open(page, f"day/{name}")
        return state["open"][stem].activate()

    state["notebook"] = notebook
    yield state
    page.close()
    lab.server.shutdown_kernels()


def record(work, name: str) -> dict:
    saved = Store(name, work).load()
    assert saved is not None, f"the {name} worksheet was never saved"
    return saved.data


def run_clean(day, stem: str):
    notebook = day["notebook"](stem).run_all()
    assert notebook.problems() == []
    return notebook


def test_00_preflight_renders_and_its_worksheets_save(day):
    notebook = run_clean(day, "00")
    assert "✗" not in notebook.output("preflight.run_all").inner_text()
    board = Form(notebook, 'worksheets.show("moscow"')
    board.fill("Item", "Flag low-confidence results for specialist review", row=0)
    board.fill("Rationale", "Patient safety: the GP brief asks for decision support, not diagnosis.", row=0)
    assert "version 1" in board.save()
    register = Form(notebook, 'worksheets.show("risk_register"')
    register.fill("Description", "Model misses melanoma on darker skin", row=0)
    register.fill("Mitigation", "Audit by Fitzpatrick type before each release", row=0)
    assert "version 1" in register.save()
    assert [i["text"] for i in record(day["work"], "moscow")["items"]] == ["Flag low-confidence results for specialist review"]
    assert record(day["work"], "risk_register")["risks"][0]["description"] == "Model misses melanoma on darker skin"


def test_00_moscow_item_box_is_wide_enough(day):
    board = Form(day["notebook"]("00"), 'worksheets.show("moscow"')
    width = board.field("Item", row=0).bounding_box()["width"]
    assert width >= 320, f"the MoSCoW item box is {width:.0f} px wide: too narrow to read an item"


def test_00_rerun_whole_notebook_keeps_the_saved_work(day):
    notebook = run_clean(day, "00")
    board = Form(notebook, 'worksheets.show("moscow"')
    assert "Flag low-confidence results for specialist review" in board.values()
    assert "Restored unsaved changes" not in board.text()
    assert "Model misses melanoma on darker skin" in Form(notebook, 'worksheets.show("risk_register"').values()


def test_01_deploy(day):
    notebook = run_clean(day, "01")
    assert "InService" in notebook.output("state.remember_endpoint").inner_text()


def test_02_fun_images_show_their_figure(day):
    notebook = run_clean(day, "02")
    assert notebook.output("plots.gallery").locator("img").count() >= 1
    assert "German shepherd" in notebook.output("NBVAL_CHECK_OUTPUT").inner_text()


def test_02_alt_text_reads_as_prose(day):
    notebook = day["notebook"]("02")
    alt = notebook.output("plots.gallery").locator(".jp-OutputArea-output", has_text="Alt text").last
    style = alt.evaluate("e => { const s = getComputedStyle(e.querySelector('pre') || e); "
                         "return {font: s.fontFamily, breaks: s.wordBreak, wrap: s.overflowWrap}; }")
    assert "mono" not in style["font"].lower(), f"the alt text is a monospace block: {style}"
    assert style["breaks"] != "break-all", f"the alt text breaks words: {style}"


def test_03_skin_proxies_and_the_register_saved_in_00(day):
    notebook = run_clean(day, "03")
    assert "Model misses melanoma on darker skin" in Form(notebook, 'worksheets.show("risk_register"').values()


def test_04_runs_and_the_model_cards_are_not_cut(day):
    notebook = run_clean(day, "04")
    table = notebook.output("modelcards.compare")
    shown = " ".join(table.inner_text().split())
    cards = modelcards.load_cards()
    for model_id in (models.DEFAULT.id, models.SKIN.id):
        for field in modelcards.FIELDS:
            full = " ".join(str(cards[model_id].get(field, "—")).split())
            assert full in shown, f"model card {model_id} {field!r} is cut in the table: {full[:60]}…"
    widths = table.locator("table").first.evaluate("t => [t.scrollWidth, t.parentElement.clientWidth]")
    assert widths[0] <= widths[1] + 2, f"the model-card table is wider than the page ({widths}): long text does not wrap"


def test_04_blank_dpia_screening_is_not_answered_yet(day):
    notebook = day["notebook"]("04")
    dpia = Form(notebook, 'worksheets.show("dpia"')
    text = dpia.text().lower()
    assert "not required" not in text, "a blank DPIA form already says a DPIA is not required"
    assert "not answered" in text


def test_04_dpia_and_ai_act_save(day):
    notebook = day["notebook"]("04")
    dpia = Form(notebook, 'worksheets.show("dpia"')
    dpia.fill("Purpose of the processing", "Triage support for GPs: benign vs potentially concerning.")
    assert "version 1" in dpia.save()
    ai_act = Form(notebook, 'worksheets.show("ai_act"')
    ai_act.fill("System", "Derm-Assist MVP 0.1, decision support for GP skin-lesion triage")
    assert "version 1" in ai_act.save()
    assert record(day["work"], "dpia")["purpose"].startswith("Triage support for GPs")
    assert record(day["work"], "ai_act")["system"].startswith("Derm-Assist MVP 0.1")


@pytest.fixture(scope="module")
def uploads(tmp_path_factory):
    folder = tmp_path_factory.mktemp("uploads")
    photo = folder / "learner_photo_of_a_mole.png"
    shutil.copy(sorted(SKIN_PROXIES_DIR.glob("*.png"))[0], photo)
    not_an_image = folder / "holiday_notes.png"
    not_an_image.write_text("these are my notes, not a picture\n")
    empty = folder / "empty.jpg"
    empty.write_bytes(b"")
    return {"photo": photo, "bad": not_an_image, "empty": empty}


def upload(app: Form, path) -> None:
    """Click "Upload photo" and choose ``path`` in the file chooser, as a learner does."""
    with app.page.expect_file_chooser() as chooser:
        app.area.locator(".widget-upload").first.click()
    chooser.value.set_files(str(path))
    app.page.wait_for_timeout(600)


def app_form(notebook) -> Form:
    return Form(notebook, "app.widget()")


def assess(app: Form) -> str:
    """Press Assess and return what the app shows once the new result (or a one-line problem) is there."""
    app.area.locator(".widget-output").first.evaluate("o => o.setAttribute('data-before', o.innerText)")
    app.button("Assess").click()
    app.page.wait_for_function("o => o.innerText.trim() && o.innerText !== o.getAttribute('data-before')",
                               arg=app.area.locator(".widget-output").first.element_handle(), timeout=30_000)
    app.page.wait_for_timeout(300)
    return app.area.locator(".widget-output").first.text_content()


def test_04_mvp_first_assessment_wording(day):
    app = app_form(day["notebook"]("04"))
    app.area.locator("select").first.select_option(index=1)
    shown = assess(app)
    assert not re.search(r"\b1 assessments\b", shown), f"'1 assessments': {shown}"
    assert "note was kept" not in shown, f"says a note was kept when there was none: {shown}"


def test_04_mvp_upload_is_named_assessed_and_cleared(day, uploads):
    notebook = day["notebook"]("04")
    app = app_form(notebook)
    upload(app, uploads["photo"])
    assert uploads["photo"].name in app.text(), "the app does not show which file was uploaded"
    shown = assess(app)
    assert uploads["photo"].name in shown, "the result does not name the file it assessed"
    assert re.search("Potentially Concerning|Benign|Uncertain", shown)
    clear = app.area.locator("button.jupyter-button", has_text=re.compile("clear", re.IGNORECASE))
    assert clear.count() >= 1, "the app has no way to clear an upload"
    clear.first.click()
    app.page.wait_for_timeout(500)
    assert uploads["photo"].name not in " ".join(app.area.locator(".widget-upload, .widget-html, .widget-label").all_inner_texts())
    shown = assess(app)
    assert uploads["photo"].name not in shown, "after Clear the app still assesses the old upload"


def test_04_mvp_pick_an_example_after_an_upload(day, uploads):
    notebook = day["notebook"]("04")
    app = app_form(notebook)
    upload(app, uploads["photo"])
    example = sorted(SKIN_PROXIES_DIR.glob("*.png"))[-1].name
    app.area.locator("select").first.select_option(label=example)
    app.page.wait_for_timeout(300)
    shown = assess(app)
    assert example in shown, "the learner picked an example but the app assessed the earlier upload"
    assert uploads["photo"].name not in shown


def test_04_mvp_bad_files_get_one_line(day, uploads):
    notebook = day["notebook"]("04")
    app = app_form(notebook)
    for bad in (uploads["bad"], uploads["empty"]):
        upload(app, bad)
        app.area.locator("select").first.select_option(index=0)
        shown = assess(app).strip()
        assert "Traceback" not in shown
        assert len(shown.splitlines()) == 1 and "⚠" in shown, f"{bad.name}: {shown!r}"
    assert notebook.problems() == []


def test_04_review_log_shows_the_assessments_made_in_the_app(day):
    """Without re-running anything: the review log a learner reads under the app is the one on disk."""
    notebook = day["notebook"]("04")
    log = pd.read_csv(day["work"] / "review_log.csv", dtype=str)
    assert len(log) >= 1
    shown = notebook.output("app.review_log(").inner_text()
    assert log.timestamp.iloc[-1] in shown, "the review-log cell still shows the log from before the app's assessments"


def test_05_curveball_card_renders_and_changes_the_board(day):
    notebook = run_clean(day, "05")
    assert "Budget cut" in notebook.output("deal(CURVEBALL").inner_text()
    board = Form(notebook, 'worksheets.show("moscow"')
    values = board.values()
    assert "Flag low-confidence results for specialist review" in values  # 00's item survives the card
    assert len(record(day["work"], "moscow")["items"]) > 1


def test_05_rerun_register_diff_is_never_an_empty_table(day):
    notebook = day["notebook"]("05").run_all()
    changes = notebook.output("recorded.show()").inner_text()
    numbers = re.search(r"version (\d+) -> (\d+)", changes)
    if numbers and numbers.group(1) == numbers.group(2):
        assert notebook.output("recorded.show()").locator("table").count() == 0, f"an empty diff table: {changes}"


def test_05_add_to_risk_register_button_is_not_cut(day):
    notebook = day["notebook"]("05")
    button = notebook.output('worksheets.show("curveball_notes"').locator("button", has_text="Add to risk")
    assert button.evaluate("b => b.scrollWidth <= b.clientWidth"), f"the button is cut: {button.inner_text()!r}"


def test_05_curveball_notes_save(day):
    notebook = day["notebook"]("05")
    notes = Form(notebook, 'worksheets.show("curveball_notes"')
    notes.fill("Who led", "Priya", row=0)
    assert "Saved" in notes.save()
    assert record(day["work"], "curveball_notes")["entries"][0]["who_led"] == "Priya"


def test_06_production_path_renders_and_shows_the_saved_worksheets(day):
    notebook = run_clean(day, "06")
    assert "Model misses melanoma on darker skin" in Form(notebook, 'worksheets.show("risk_register"').values()
    assert any("Triage support for GPs" in value for value in Form(notebook, 'worksheets.show("dpia"').values())


def test_mock_banner_shows_once(day):
    for stem in ("00", "01", "05", "06"):
        text = day["notebook"](stem).output("notebook.start(").inner_text()
        assert text.count("LOCAL MOCK at") == 1, f"{stem}: the MOCK banner shows {text.count('LOCAL MOCK at')} times:\n{text}"


def test_04_app_follows_the_endpoint_after_the_budget_card(day):
    notebook = day["notebook"]("04")
    notebook.run_cell("app.widget()")
    app = app_form(notebook)
    app.area.locator("select").first.select_option(index=1)
    shown = assess(app)
    assert "⚠" not in shown, f"04's app after the budget card: {shown}"
    assert notebook.problems() == []


def test_99_cleanup_leaves_nothing_running(day):
    notebook = run_clean(day, "99")
    shown = notebook.output("endpoint_report(").inner_text()
    assert "0 endpoint(s) of yours (browser) still running." in shown, shown


def test_99_portfolio_built_by_run_all_says_how_to_rebuild(day):
    portfolio_line = day["notebook"]("99").output("build_portfolio").inner_text()
    if "Not started" in (day["work"] / "portfolio.html").read_text():
        assert re.search(r"re-?run|rebuild", portfolio_line, re.IGNORECASE), \
            f"the portfolio was built before the reflection was saved and nothing says how to rebuild it: {portfolio_line}"


def test_99_reflection_then_the_portfolio_holds_everything(day, lab):
    notebook = day["notebook"]("99")
    reflection = Form(notebook, 'worksheets.show("reflection"')
    reflection.fill("Name or group", "Group 1")
    words = "The mock taught us that a confident model can still be wrong on skin it never saw. " * 4
    reflection.fill("Reflection", words.strip())
    assert "Saved" in reflection.save()
    notebook.run_cell("build_portfolio")
    path = re.search(r"Portfolio: (\S+\.html)", notebook.output("build_portfolio").inner_text()).group(1)
    page = day["page"].context.new_page()
    lab.pages.append(page)
    page.goto(f"file://{path}")
    text = page.inner_text("body")
    for expected in ("Group 1", "a confident model can still be wrong", "Flag low-confidence results for specialist review",
                     "Model misses melanoma on darker skin", "Triage support for GPs", "Priya"):
        assert expected in text, f"the portfolio lacks {expected!r}"
    assert page.locator("img").count() >= 4
    page.close()
