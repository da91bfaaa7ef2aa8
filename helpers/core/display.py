"""How the pack puts text in front of a learner: once, readable, and with a plain-text twin.

In a notebook, :func:`show_html` sends one output that carries both HTML (what JupyterLab shows) and
plain text (what logs, papermill and text-only viewers show), instead of an HTML copy plus a printed
copy. Outside IPython it prints the text. :class:`RestartHint` puts a line under a widget saying
what to do when the widget cannot be shown (after a kernel restart, or in a saved notebook).
"""

from __future__ import annotations

import html
from functools import cache

# What brings a widget back after a kernel restart: its cell needs what the cells above defined (``ctx``, ...).
RERUN_UP_TO_HERE = ("re-run the notebook up to here: click this cell, choose Run All Above Selected Cell in the Run menu, "
                    "then run this cell")
NOTE_STYLE = "color:#333333;font-size:90%;margin:2px 0;white-space:normal;overflow-wrap:break-word;max-width:60em"


def _shell():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def show_html(markup: str, text: str) -> None:
    """Show ``markup`` in a notebook (with ``text`` as its plain-text form); print ``text`` elsewhere."""
    if _shell() is None:
        print(text)
        return
    from IPython.display import display

    display({"text/html": markup, "text/plain": text}, raw=True)


def show_note(text: str, label: str = "") -> None:
    """A short paragraph in the page's own font that wraps between words (not a monospace block)."""
    lead = f"<strong>{html.escape(label)}</strong> " if label else ""
    show_html(f'<p style="{NOTE_STYLE}">{lead}{html.escape(text)}</p>', f"{label} {text}".strip())


def plural(count: int, word: str, many: str | None = None) -> str:
    """``"1 assessment"``, ``"2 assessments"`` (``many`` for irregular plurals)."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def readable_tables() -> None:
    """Tables show whole cells (pandas cuts text at 50 characters by default); the browser wraps them."""
    import pandas as pd

    pd.set_option("display.max_colwidth", None)


class RestartHint:
    """Mixin for an ipywidget shown as a cell's result: a line under it says to re-run the cell.

    After a kernel restart, or when a saved notebook is reopened, JupyterLab can only show
    "Error displaying widget: model not found" where the widget was; the line under it (a separate,
    ordinary output) still tells the learner what to do. ``restart_hint`` is that line;
    ``plain_name`` names the widget in plain-text views instead of a raw widget repr.
    """

    restart_hint = f"If the widget is missing here (after a kernel restart or reopening the notebook), {RERUN_UP_TO_HERE}."
    plain_name = "An interactive widget"

    def __repr__(self) -> str:
        return f"{self.plain_name} (open the notebook in JupyterLab and run this cell to use it)."

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self._repr_mimebundle_(), raw=True)
        show_html(f'<p style="{NOTE_STYLE}">{html.escape(self.restart_hint)}</p>', self.restart_hint)


@cache
def _hinted_vbox():
    import ipywidgets as widgets

    class HintedVBox(RestartHint, widgets.VBox):
        """A VBox shown with a restart hint under it."""

    return HintedVBox


def hinted_vbox(children, *, name: str, hint: str, **kwargs):
    """An ipywidgets VBox of ``children`` with a :class:`RestartHint` line and a plain-text name."""
    box = _hinted_vbox()(children, **kwargs)
    box.plain_name, box.restart_hint = name, hint
    return box
