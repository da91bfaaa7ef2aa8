"""The one-file HTML portfolio, and the paper templates staying in step with the forms."""

import re

import pytest

from helpers.core.config import TEMPLATES_DIR
from helpers.worksheets import NAMES, build_portfolio, show
from helpers.worksheets.ai_act import AREAS
from helpers.worksheets.curveball_notes import ENTRY_FIELDS
from helpers.worksheets.dpia import SECTIONS
from helpers.worksheets.reflection import SCHEMA as REFLECTION
from helpers.worksheets.registry import get_spec
from helpers.worksheets.screening import QUESTIONS

PNG_1x1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360f8cfc0f01f0005000201e2217bc30000000049454e44ae426082"
)


@pytest.fixture
def wd(tmp_path):
    return tmp_path / "work"


def test_empty_work_folder_gives_not_started_sections(wd):
    page = build_portfolio(wd).read_text(encoding="utf-8")
    assert page.count("Not started.") == len(NAMES)
    assert "No figures yet" in page


def test_full_portfolio_is_self_contained_and_accessible(wd, tmp_path):
    for name in NAMES:
        show(name, wd, interactive=False)
    figures = wd / "figures"
    figures.mkdir()
    (figures / "03_confidence_by_tone.png").write_bytes(PNG_1x1)
    (figures / "03_confidence_by_tone.txt").write_text("Mean confidence by Fitzpatrick type, I to VI")
    (figures / "02_fun_images.png").write_bytes(PNG_1x1)
    record = get_spec("ai_act").load(wd).data
    record["requirements"][1]["evidence"] = "Notebook 03: figures/03_confidence_by_tone.png"
    get_spec("ai_act").save(record, wd)

    out = build_portfolio(wd, tmp_path / "portfolio.html")
    page = out.read_text(encoding="utf-8")
    assert out == tmp_path / "portfolio.html"
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    # self-contained: no external resources
    assert not re.search(r"""(src|href)=["'](?!data:|#)""", page)
    assert "<link" not in page and "<script" not in page
    # every worksheet, the heat map and both demo figures, with alt text
    for name in NAMES:
        assert f'id="ws-{name}"' in page and "Not started." not in page
    assert page.count("data:image/png;base64,") == 3
    assert 'alt="Mean confidence by Fitzpatrick type, I to VI"' in page
    assert 'alt="Figure 02 fun images (no description provided)"' in page
    assert 'alt="Risk heat map (5 by 5, likelihood by impact): R1 at likelihood 4, impact 5' in page
    assert "<figcaption>02_fun_images.png</figcaption>" in page
    # evidence links to the figure it names
    assert '<a href="#fig-03-confidence-by-tone-png">figures/03_confidence_by_tone.png</a>' in page
    assert "Changes since version" in page  # the register is a living document
    assert "355 words" in page


def test_learner_text_is_escaped(wd):
    spec = get_spec("reflection")
    spec.save({"author": "<b>me</b>", "text": "<script>alert(1)</script> [x](javascript:alert(1))"}, wd)
    page = build_portfolio(wd).read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert 'href="javascript' not in page
    assert "<b>me</b>" not in page


def _template(name):
    return (TEMPLATES_DIR / name).read_text(encoding="utf-8")


def test_templates_exist_and_print_every_question():
    for name in NAMES:
        spec = get_spec(name)
        assert (TEMPLATES_DIR / spec.template).is_file()
        assert (TEMPLATES_DIR / "examples" / f"{name}.json").is_file()
    dpia = _template("dpia.md")
    assert all(question in dpia for question in QUESTIONS.values())
    assert all(f"## {field.label}" in dpia for field in SECTIONS if field.kind == "textarea" and
               not field.label.startswith("Why") and field.label != "DPO advice")
    ai_act = _template("eu_ai_act_checklist.md")
    assert all(f"| {area} | {evidence} |" in ai_act for area, evidence in AREAS.items())
    curveball = _template("curveball_notes.md")
    assert all(field.label in curveball for field in ENTRY_FIELDS)
    reflection = _template("reflection.md")
    assert all(field.label in reflection for field in REFLECTION)
    moscow = _template("moscow.md")
    assert all(f"## {label}" in moscow for label in ("Item", "Rationale", "User story", "Definition of done",
                                                     "Must", "Should", "Could", "Won't (this time)"))


def test_form_help_comes_from_the_template():
    assert "special category" in get_spec("dpia").help_texts()["Data categories"]
    assert "As a" in get_spec("moscow").help_texts()["User story"]
