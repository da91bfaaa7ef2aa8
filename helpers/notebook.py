"""What every notebook does in its first cell and when it shows a figure or a table.

Keeps the notebooks to the story: ``ctx = notebook.start(WORK_DIR, INTERACTIVE)`` prints where requests
go (AWS or the local mock), fixes the work folder, and says whether widgets can be used.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .core import aws
from .core.config import work_dir as resolve_work_dir
from .core.display import readable_tables, show_html, show_note
from .core.errors import DermAssistError

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Context:
    work_dir: Path
    interactive: bool
    mock: bool

    @property
    def figures(self) -> Path:
        folder = self.work_dir / "figures"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    @property
    def results(self) -> Path:
        folder = self.work_dir / "results"
        folder.mkdir(parents=True, exist_ok=True)
        return folder


def interactive(requested: bool | None = True) -> bool:
    """Widgets need a front end; papermill, nbval and CI have none (they set DERM_ASSIST_NONINTERACTIVE=1)."""
    if os.environ.get("DERM_ASSIST_NONINTERACTIVE") == "1":
        return False
    return bool(requested)


def start(work_dir=None, interactive_requested: bool | None = True, *, show_banner: bool = True) -> Context:
    """Resolve the work folder, say where requests go, and return the notebook's context."""
    if work_dir:
        os.environ["DERM_ASSIST_WORK_DIR"] = str(work_dir)
    ctx = Context(resolve_work_dir(work_dir), interactive(interactive_requested), aws.is_mock())
    one_line_errors()
    readable_tables()
    if show_banner:
        banner(ctx)
    return ctx


def one_line_errors() -> None:
    """In a notebook, show the pack's own errors as the one line that says what to do, not a traceback.

    The cell still fails (papermill and nbval notice); other exceptions keep their full traceback.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return

    def handler(self, etype, value, tb, tb_offset=None):
        line = f"\x1b[1;31m{etype.__name__}:\x1b[0m {value}"
        self._showtraceback(etype, value, [line])
        return None

    shell.set_custom_exc((DermAssistError,), handler)


def banner(ctx: Context) -> None:
    """Where requests go, once: a coloured box in a notebook (plain text for logs), a line elsewhere."""
    text = aws.banner()
    colour, border = ("#fff4ce", "#8a6d00") if ctx.mock else ("#e7f0fb", "#1f4e8c")
    show_html(
        f'<div style="background:{colour};border-left:5px solid {border};padding:6px 12px;color:#1a1a1a">'
        f"<strong>{'MOCK' if ctx.mock else 'AWS'}</strong> — {html.escape(text)}<br>"
        f"<small>Work folder: {html.escape(str(ctx.work_dir))}</small></div>",
        ("[MOCK] " if ctx.mock else "[AWS] ") + text,
    )


def show_figure(ctx: Context, fig, name: str, alt: str) -> None:
    """Save the figure (PNG + alt text sidecar, for the portfolio), show it, print its alt text."""
    path = ctx.figures / f"{name}.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    path.with_suffix(".txt").write_text(alt + "\n", encoding="utf-8")
    try:
        from IPython.display import display

        display(fig)
    except ImportError:
        pass
    import matplotlib.pyplot as plt

    plt.close(fig)
    show_note(alt, "Alt text:")  # a wrapping paragraph, not a monospace block that breaks words


def save_table(ctx: Context, table, name: str) -> None:
    """Keep a results table in the work folder so later notebooks (and the coach) can compare."""
    table.to_csv(ctx.results / f"{name}.csv", index=False)


def load_table(ctx: Context, name: str):
    import pandas as pd

    path = ctx.results / f"{name}.csv"
    if not path.exists():
        raise DermAssistError(f"No saved results {name!r} in {ctx.results}. Run the notebook that makes them first.")
    return pd.read_csv(path, keep_default_na=False)


def tables_by_set(batches: dict) -> pd.DataFrame:
    """One table of results from several image sets, with a ``set`` column (failures are reported, not hidden)."""
    import pandas as pd

    frames = []
    for name, batch in batches.items():
        if batch.failures:
            print(batch.report_failures())
        frames.append(batch.table().assign(set=name))
    return pd.concat(frames, ignore_index=True)


def load_tables_by_set(ctx: Context, names: dict[str, str]) -> pd.DataFrame:
    """The saved tables ``{set name: table name}`` as one table with a ``set`` column."""
    import pandas as pd

    return pd.concat([load_table(ctx, table).assign(set=name) for name, table in names.items()], ignore_index=True)
