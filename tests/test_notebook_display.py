"""What the notebooks show a learner: the banner once, alt text as readable prose, whole table cells."""

import html

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from helpers import modelcards, models, notebook
from helpers.core import aws
from helpers.core.display import plural


@pytest.fixture
def frontend(monkeypatch):
    """Pretend to be a kernel with a front end; collect what is displayed."""
    shown = []
    monkeypatch.setattr("helpers.core.display._shell", lambda: object())
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append(obj))
    return shown


@pytest.fixture
def ctx(tmp_path):
    return notebook.Context(tmp_path / "work", interactive=True, mock=True)


def test_banner_is_shown_once_with_a_plain_text_twin(frontend, ctx, capsys):
    notebook.banner(ctx)
    assert capsys.readouterr().out == ""  # not a printed copy under the box
    (bundle,) = frontend
    assert "<strong>MOCK</strong>" in bundle["text/html"] and bundle["text/plain"] == "[MOCK] " + aws.banner()


def test_banner_without_a_front_end_is_one_line(ctx, capsys, monkeypatch):
    monkeypatch.setattr("helpers.core.display._shell", lambda: None)
    notebook.banner(ctx)
    assert capsys.readouterr().out == "[MOCK] " + aws.banner() + "\n"


def test_alt_text_is_a_wrapping_paragraph_not_a_monospace_block(frontend, ctx, capsys):
    fig, ax = plt.subplots()
    ax.bar([0, 1], [1, 2])
    alt = "Bar chart of the top 2 predictions for dog.jpg: German shepherd, 97 per cent; Malinois, 2 per cent."
    notebook.show_figure(ctx, fig, "test_figure", alt)
    assert capsys.readouterr().out == ""
    text = next(o for o in frontend if isinstance(o, dict))
    assert text["text/plain"] == f"Alt text: {alt}"
    assert text["text/html"].startswith("<p ") and "<pre" not in text["text/html"]
    assert "white-space:normal" in text["text/html"] and "break-all" not in text["text/html"]
    assert (ctx.figures / "test_figure.txt").read_text().strip() == alt


def test_tables_show_whole_cells_after_start(tmp_path, monkeypatch):
    monkeypatch.setattr(notebook, "banner", lambda ctx: None)
    with pd.option_context("display.max_colwidth", 50):  # pandas' default
        notebook.start(tmp_path / "work", interactive_requested=False)
        table = modelcards.compare(models.MOBILENET_V2.id, models.SKIN.id)
        long_text = max((str(v) for v in table.to_numpy().ravel()), key=len)
        assert len(long_text) > 50
        shown = html.unescape(table._repr_html_())
        assert long_text in shown and "..." not in shown


def test_plurals():
    assert [plural(n, "assessment") for n in (0, 1, 2)] == ["0 assessments", "1 assessment", "2 assessments"]
