"""The MVP as a learner clicks through it: upload or pick, see what will be assessed, clear, the
review log that refreshes, and an app that follows the endpoint the state file remembers."""

import datetime as dt
import json
import re
from types import SimpleNamespace

import ipywidgets as w
import pytest

from helpers import models, mvp
from helpers.core.config import NOTEBOOKS_DIR

SKIN_MODEL_ID = models.SKIN.id


@pytest.fixture
def app(tmp_path, monkeypatch):
    """The app with assessment replaced by a recorder (the triage path has its own tests)."""
    app = mvp.DermAssistApp(threshold=0.5, work_dir=tmp_path / "work")
    app.calls = []

    def assess(image, name=None, note="", threshold=None):
        app.calls.append(image)
        app.log.append({"image_sha256": "x", "triage_outcome": "Benign", "reviewer_note": note})
        return SimpleNamespace(image_name=name, outcome="Benign")

    monkeypatch.setattr(app, "_assess", assess)
    monkeypatch.setattr(app, "result_html", lambda r: f"<p>{r.image_name}: {r.outcome}</p>")
    return app


def _controls(box):
    upload, pick, clear = next(c for c in box.children if isinstance(c, w.HBox)).children
    chosen = next(c for c in box.children if isinstance(c, w.HTML) and "Derm-Assist" not in c.value)
    note = next(c for c in box.children if isinstance(c, w.Textarea))
    assess = next(c for c in box.children if isinstance(c, w.Button))
    out = next(c for c in box.children if isinstance(c, w.Output))
    return SimpleNamespace(upload=upload, pick=pick, clear=clear, chosen=chosen, note=note, assess=assess, out=out)


def _upload(control, name, content=b"\x89PNG fake"):
    control.value = ({"name": name, "type": "image/png", "size": len(content), "content": memoryview(content),
                      "last_modified": dt.datetime.now(dt.UTC)},)


def _printed(capsys) -> str:
    """What the app printed (into its Output area in JupyterLab; to stdout without a kernel)."""
    return capsys.readouterr().out


def test_picking_an_example_after_an_upload_assesses_the_example(app):
    ui = _controls(app.widget())
    _upload(ui.upload, "my_mole.png")
    assert "my_mole.png" in ui.chosen.value and "uploaded" in ui.chosen.value
    example = app.examples[0]
    ui.pick.value = example
    assert example.name in ui.chosen.value and "my_mole.png" not in ui.chosen.value
    assert ui.upload.value == ()
    ui.assess.click()
    assert app.calls == [example]


def test_an_upload_after_a_pick_assesses_the_upload_by_name(app):
    ui = _controls(app.widget())
    ui.pick.value = app.examples[0]
    _upload(ui.upload, "rash.png", b"png bytes")
    assert ui.pick.value is None and "rash.png" in ui.chosen.value
    ui.assess.click()
    assert app.calls == [b"png bytes"]


def test_clear_forgets_the_photo_and_the_result(app, capsys):
    ui = _controls(app.widget())
    _upload(ui.upload, "rash.png")
    ui.assess.click()
    ui.clear.click()
    assert ui.upload.value == () and ui.pick.value is None and "No photo chosen" in ui.chosen.value
    assert ui.out.outputs == ()
    _printed(capsys)
    ui.assess.click()
    assert len(app.calls) == 1 and "Upload a photo or pick an example first." in _printed(capsys)


def test_the_log_line_counts_properly_and_mentions_a_note_only_when_there_is_one(app, capsys):
    ui = _controls(app.widget())
    ui.pick.value = app.examples[0]
    ui.assess.click()
    line = _printed(capsys)
    assert "(1 assessment so far)" in line and "note" not in line
    ui.note.value = "Looks regular; recheck in 4 weeks"
    ui.assess.click()
    line = _printed(capsys)
    assert "(2 assessments so far)" in line and "note was saved" in line


def test_review_log_view_refreshes_after_each_assessment(app):
    view = app.review_log(10)
    table = view.children[0]
    assert "No assessments yet" in table.value
    ui = _controls(app.widget())
    ui.pick.value = app.examples[0]
    ui.assess.click()
    assert "Benign" in table.value
    assert len(app.review_log(10, live=False)) == 1  # without a front end: the table itself


def test_app_widgets_have_a_restart_hint_and_a_readable_plain_text(app):
    box = app.widget()
    assert "Run All Above Selected Cell" in box.restart_hint and "then run this cell" in box.restart_hint
    assert "VBox(" not in repr(box) and "Derm-Assist" in repr(box)


def test_notebook_04_app_follows_a_redeploy(mock_aws, tmp_path):
    """The budget card replaces the endpoint with a serverless one; the MVP built before must follow."""
    from helpers import endpoint, state
    from helpers.curveball import exercises

    info = endpoint.deploy(SKIN_MODEL_ID, progress=False)
    state.remember_endpoint(info.name, SKIN_MODEL_ID)
    cells = json.loads((NOTEBOOKS_DIR / "04_derm_assist_mvp.ipynb").read_text())["cells"]
    line = next(re.search(r"^app = mvp\.DermAssistApp\(.*$", "".join(c["source"]), re.M)
                for c in cells if "mvp.DermAssistApp(" in "".join(c["source"])).group(0)
    scope = {"mvp": mvp, "info": info, "skin_model": models.get(SKIN_MODEL_ID), "SKIN_MODEL_ID": SKIN_MODEL_ID,
             "THRESHOLD": 0.5}
    exec(line, scope)  # the notebook's own line builds the app
    app = scope["app"]
    moved = exercises.redeploy_serverless(memory_mb=2048, progress=False)
    assert moved.name != info.name
    app.show_without_front_end(app.examples[:1])
    assert app.log.read().endpoint.iloc[-1] == moved.name
